"""Pictures of sound: a waveform over a log-frequency spectrogram in dB, as a PNG.

What an engineer looks at first (Audacity shows both): the envelope says where the loud and quiet
passages are and whether anything clipped; the spectrogram says how much treble survived a machine
and where the hiss, the hum and the crackle sit.
"""

from __future__ import annotations

import io

import numpy as np
from scipy import signal

from izdat.audio import Audio

__all__ = ["sonogram_png"]

#: Analysis window (s): 46 ms at 44.1 kHz, fine enough in frequency to see a 50 Hz hum line.
WINDOW_S = 0.046
#: Lowest frequency drawn (Hz) and the dynamic range shown below the loudest bin (dB).
LOW_HZ = 30.0
RANGE_DB = 90.0


def sonogram_png(audio: Audio, title: str, *, width_px: int = 1100, dpi: int = 100) -> bytes:
    """Draw ``audio`` (mono-summed) as a waveform above a log-frequency spectrogram; return PNG bytes.

    The spectrogram is the short-time power (Hann window of :data:`WINDOW_S`, 75 % overlap) in dB
    relative to the loudest bin, shown over :data:`RANGE_DB` dB from :data:`LOW_HZ` to Nyquist.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.asarray(audio.mono().samples, dtype=np.float64).reshape(-1)
    rate = float(audio.sample_rate)
    t = np.arange(x.size) / rate
    n = max(256, int(2 ** round(np.log2(WINDOW_S * rate))))
    f, tt, p = signal.spectrogram(x, fs=rate, window="hann", nperseg=min(n, max(16, x.size)),
                                  noverlap=min(n, max(16, x.size)) * 3 // 4, scaling="spectrum")
    db = 10 * np.log10(np.maximum(p, 1e-30))
    db -= db.max() if np.isfinite(db.max()) else 0.0
    keep = f >= LOW_HZ

    fig, (wave, spec) = plt.subplots(2, 1, figsize=(width_px / dpi, 4.6), dpi=dpi, sharex=True,
                                     gridspec_kw={"height_ratios": [1, 2.2]}, constrained_layout=True)
    step = max(1, x.size // 4000)                  # the envelope per pixel column, not every sample
    if step > 1:
        m = x[: x.size // step * step].reshape(-1, step)
        tc = t[: m.shape[0] * step: step]
        wave.fill_between(tc, m.min(axis=1), m.max(axis=1), color="#1f4e79", linewidth=0)
    else:
        wave.plot(t, x, color="#1f4e79", linewidth=0.6)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    wave.set_ylim(-1.05, 1.05)
    wave.set_ylabel("amplitude (FS)")
    wave.set_title(f"{title}   (peak {20 * np.log10(max(peak, 1e-10)):.1f} dBFS)", fontsize=10, loc="left")
    wave.grid(alpha=0.25)
    mesh = spec.pcolormesh(tt, f[keep], db[keep], shading="auto", cmap="magma", vmin=-RANGE_DB, vmax=0,
                           rasterized=True)
    spec.set_yscale("log")
    spec.set_ylim(LOW_HZ, rate / 2)
    spec.set_yticks([50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000][: np.searchsorted(
        [50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000], rate / 2, side="right")])
    spec.set_yticklabels([("%g k" % (v / 1000)) if v >= 1000 else "%g" % v for v in spec.get_yticks()])
    spec.set_ylabel("frequency (Hz)")
    spec.set_xlabel("time (s)")
    spec.set_xlim(0, max(t[-1] if t.size else 0.0, 1e-3))
    bar = fig.colorbar(mesh, ax=spec, pad=0.01, aspect=25)
    bar.set_label("dB re loudest")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
