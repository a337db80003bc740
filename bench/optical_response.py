"""What the optical reader keeps of the treble (issue 14, item 3): izdat's default record (250 mm,
78 rpm, 1200 DPI, blumlein) of a bright plucked melody and of examples/song.flac, read back from the
picture with its record.json, against the ideal pickup on the exact groove (``record.playback()``).

Each is read twice from the same picture: by the reader as shipped (the smooth and the fine fit
blended by the data's Wiener gain, ``--denoise`` 0.5) and by its smooth fit alone (the reader before
the blend). Scores: SI-SNR (60 Hz–5 kHz), the noise-and-distortion SNR no linear filter changes, and
the best linear fit's response at 1–5 kHz (dB re 1 kHz). Writes docs/optical-response.png and the
table in docs/benchmarks.md.

    python bench/optical_response.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._report import table, write_section  # noqa: E402
from izdat.audio import Audio  # noqa: E402
from izdat.lathe import Lathe  # noqa: E402
from izdat.optical import _wiener, play_picture  # noqa: E402
from izdat.optical.metrics import linear_fit, response_db, si_snr_db  # noqa: E402
from izdat.outputs import write_record  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FS = 44_100
FREQS = (1000, 2000, 3000, 4000, 5000)


def bright_melody(seconds: float, seed: int = 7) -> np.ndarray:
    """Plucked notes (330–880 Hz, eleven partials falling as 1/√k, 6/s decay) four a second."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * FS)) / FS
    x = np.zeros_like(t)
    for t0 in np.arange(0, seconds - 0.3, 0.25):
        f = (330, 392, 440, 523, 587, 659, 784, 880)[rng.integers(8)]
        tau = t[t >= t0] - t0
        x[t >= t0] += sum(np.sin(2 * np.pi * f * k * tau) / k ** 0.5 for k in range(1, 12)) * np.exp(-6 * tau)
    return (0.5 * x / np.abs(x).max()).astype(np.float32)


def song(seconds: float) -> np.ndarray:
    x, fs = sf.read(ROOT / "examples" / "song.flac", dtype="float32")
    assert fs == FS
    return (x.mean(1) if x.ndim > 1 else x)[: int(seconds * FS)]


def read(picture: Path, smooth_only: bool):
    blend = _wiener.blend
    if smooth_only:
        _wiener.blend = lambda smooth, diff, denoise, **kw: smooth
    try:
        t0 = time.perf_counter()
        audio, _ = play_picture(picture)
        return audio.samples, time.perf_counter() - t0
    finally:
        _wiener.blend = blend


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    args = ap.parse_args()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows, fits = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, x in (("bright melody", bright_melody(args.seconds)), ("examples/song.flac", song(args.seconds))):
            record = Lathe().cut(Audio(x, FS))
            folder = Path(tmp) / name.replace("/", "_")
            write_record(record, folder, formats=("png", "json"), dpi=1200, seed=1)
            ref = record.playback().samples
            for label, smooth_only in (("smooth fit alone (before)", True), ("as shipped", False)):
                est, took = read(folder / "record.png", smooth_only)
                fit = linear_fit(est, ref, FS)
                fits[name, label] = fit
                r = response_db(est, ref, FS, FREQS)
                rows.append([name, label, f"{si_snr_db(est, ref, FS):.1f}", f"{fit.snr_db:.1f}"]
                            + [f"{v:+.1f}" for v in r[1:]] + [f"{took:.1f}"])
    header = ["record (1200 DPI, 250 mm, 78 rpm)", "reader", "SI-SNR dB", "n+d SNR dB"] + \
             [f"{f // 1000} kHz dB" for f in FREQS[1:]] + ["read s"]
    body = table(header, rows) + (f"\n\n{args.seconds:g} s of each; response of the best linear fit re 1 kHz; "
                                  "plot: docs/optical-response.png")
    fig, axes = plt.subplots(2, 2, figsize=(11, 6.5), sharex=True)
    for col, name in enumerate(("bright melody", "examples/song.flac")):
        for label, colour in (("smooth fit alone (before)", "tab:grey"), ("as shipped", "tab:red")):
            fit = fits[name, label]
            axes[0, col].semilogx(fit.freqs_hz, fit.response_db, color=colour, label=label)
            axes[1, col].semilogx(fit.freqs_hz, fit.snr_per_freq_db, color=colour, label=label)
        axes[0, col].set_title(f"{name}: response re the ideal groove")
        axes[0, col].set_ylim(-30, 6)
        axes[0, col].axhspan(-3, 3, color="tab:green", alpha=0.1)
        axes[1, col].set_title("noise and distortion: SNR per frequency")
        axes[1, col].set_xlabel("frequency (Hz)")
        axes[0, col].set_ylabel("dB re 1 kHz")
        axes[1, col].set_ylabel("dB")
        for ax in axes[:, col]:
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(ROOT / "docs" / "optical-response.png", dpi=100)
    write_section("optical_response", "Optical reader: the treble kept (issue 14)", body)


if __name__ == "__main__":
    main()
