"""The groove between two fits of the same pixels: a smooth one and a fine one.

The fine stage solves its last pass's groove twice from the same pixels: with the smoothness prior
at its weight (clean, but it cuts the treble: −3.4 dB at 2 kHz, −19 dB at 4 kHz on a bright melody
cut with the lathe's defaults and read at 1200 DPI) and at a thousandth of it (a hundredth on a
blurred picture; flat within 0.6 dB to 4 kHz there, and noisier). Their difference ``D`` holds the
treble the prior took and the fine fit's extra noise. :func:`blend` keeps as much of ``D`` as the
data says is signal, frame by frame and bin by bin, by a Wiener gain ``S / (S + 2·denoise·N)``:
``N`` the noise's power, estimated from ``D`` itself (the least power each bin shows within
±``FLOOR_FRAMES`` frames, then the median over groups of ``FLOOR_BINS`` bins, interpolated between
the groups, so that a held tone, narrow in frequency, is not taken for noise), and ``S`` what ``D``
holds above (1 + 4·denoise)·N. Nothing here assumes how the picture was made: a tone whose treble
is only noise gets the smooth fit, music with treble above the noise the fine one.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter

#: Samples a frame (46 ms at 44.1 kHz), half-overlapping, √Hann in and out.
FRAME = 2048
#: The power's smoothing before the gain (frames, bins either side).
SMOOTH_FRAMES, SMOOTH_BINS = 1, 2
#: The noise floor's search: frames either side (±0.5 s) for the least power, and bins a group
#: (690 Hz at 44.1 kHz) for the median of those least powers.
FLOOR_FRAMES, FLOOR_BINS = 21, 32
#: The least of a smoothed power over 43 frames lies about this far under its mean (measured on
#: 2 M samples of white noise through these frames and filters: 2.20; rounded down, so that the
#: floor errs low).
FLOOR_BIAS = 2.0
#: Most the blur's correction lifts a frequency (dB): beyond, it would lift only the picture's noise.
MAX_LIFT_DB = 12.0
#: Frames processed at a time (memory: a chunk's spectra, not the side's).
CHUNK_FRAMES = 96


def blend(smooth: np.ndarray, diff: np.ndarray, denoise: float, *, blur_px: float = 0.0,
          samples_per_rev: int = 1) -> np.ndarray:
    """``smooth`` (float32, px, in place) moved by as much of ``diff`` (the fine fit less the smooth
    one, px; float16 will do: its step is 2.4·10⁻⁴ px at a quarter pixel, where the radius's own in
    float32 at 6000 px is 4.9·10⁻⁴) as rises above its own noise floor; ``denoise`` 0 adds all of
    it (the fine fit itself), 1 the least. ``blur_px`` (σ, px) is the picture's blur: along the
    groove it low-passes the displacement by exp(−2π²σ²f²), f in cycles per pixel (``smooth``
    radius px pass in a turn of ``samples_per_rev`` samples); what is kept of the difference is
    lifted by its inverse, at most ``MAX_LIFT_DB`` (the smooth fit holds the groove below ~2 kHz,
    where the blur takes under 1 dB)."""
    n = len(smooth)
    if denoise <= 0.0 and blur_px <= 0.0:
        smooth += diff
        return smooth
    hop = FRAME // 2
    win = np.sqrt(np.hanning(FRAME + 1)[:-1])              # periodic: the squares add to 1 at half overlap
    margin = FLOOR_FRAMES + SMOOTH_FRAMES + 2
    n_frames = -(-n // hop) + 1                            # frame k covers [k·hop − hop, k·hop + hop)
    for k0 in range(0, n_frames, CHUNK_FRAMES):
        k1 = min(n_frames, k0 + CHUNK_FRAMES)
        lo_k, hi_k = max(0, k0 - margin), min(n_frames, k1 + margin)
        start = lo_k * hop - hop
        seg = np.zeros((hi_k - lo_k - 1) * hop + FRAME)
        a, b = max(start, 0), min(start + len(seg), n)
        seg[a - start:b - start] = diff[a:b]
        spec = np.fft.rfft(np.lib.stride_tricks.sliding_window_view(seg, FRAME)[::hop] * win, axis=1)
        if denoise > 0.0:
            power = uniform_filter(np.abs(spec) ** 2, size=(2 * SMOOTH_FRAMES + 1, 2 * SMOOTH_BINS + 1), mode="nearest")
            floor = minimum_filter1d(power, 2 * FLOOR_FRAMES + 1, axis=0, mode="nearest")
            noise = FLOOR_BIAS * _median_across(floor, FLOOR_BINS)
            # over-subtracted as ``denoise`` grows (3 × the floor at the default 0.5, 5 × at 1)
            signal = np.maximum(power - (1.0 + 4.0 * denoise) * noise, 0.0)
            spec *= signal / np.maximum(signal + 2.0 * denoise * noise, 1e-300)
        if blur_px > 0.0:
            mids = np.clip(np.arange(lo_k, hi_k) * hop, 0, n - 1)
            px_per_sample = 2 * np.pi * np.maximum(smooth[mids].astype(np.float64), 1.0) / samples_per_rev
            f_px = np.fft.rfftfreq(FRAME)[None, :] / px_per_sample[:, None]
            spec *= np.exp(np.minimum(2 * (np.pi * blur_px * f_px) ** 2, MAX_LIFT_DB / 20 * np.log(10)))
        frames = np.fft.irfft(spec, FRAME, axis=1) * win
        # overlap-add, then only the samples both of whose frames lie in this chunk's own range
        out = np.zeros(len(seg))
        for j in range(len(frames)):
            out[j * hop:j * hop + FRAME] += frames[j]
        s0, s1 = max(k0 * hop, 0), min(k1 * hop, n) if k1 < n_frames else n
        if s1 > s0:
            smooth[s0:s1] += out[s0 - start:s1 - start].astype(smooth.dtype)
    return smooth


def _median_across(p: np.ndarray, group: int) -> np.ndarray:
    """Each row's median over groups of ``group`` columns, linear between the groups' centres."""
    rows, cols = p.shape
    n_groups = -(-cols // group)
    padded = np.pad(p, ((0, 0), (0, n_groups * group - cols)), mode="edge")
    med = np.median(padded.reshape(rows, n_groups, group), axis=2)
    at = (np.arange(cols) - (group - 1) / 2) / group                 # position in groups
    i0 = np.clip(np.floor(at).astype(np.int64), 0, n_groups - 1)
    i1 = np.minimum(i0 + 1, n_groups - 1)
    w = np.clip(at - i0, 0.0, 1.0)
    return med[:, i0] * (1.0 - w) + med[:, i1] * w
