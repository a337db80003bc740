"""Upper bound on what any optical reader can get back from a rendered groove (issue 3).

    .venv/bin/python bench/optical_bound.py

Analytic, on the Record alone (no picture is rendered). Model, per the renderer (izdat/render.py):
a pixel whose radial 1-px box holds a wall changes by c = 0.45·(255 − L) grey levels per px the wall
moves (dp/dR = c), other pixels not at all. A wall of length ℓ px crosses ℓ such pixels (the annulus
of width 1 px around it), so with white pixel noise σ (grey) each px of track gives, per wall,
Fisher information c²·J(s)/σ², J(s) = ∫ [Φ((u+½)/s) − Φ((u−½)/s)]² du (the squared slope of the
box edge blurred by a Gaussian of s px; J(0) = 1, J(s) ≈ 1/(2√π·s) for s ≫ 1). Two walls: I = 2c²J/σ².
The track passes at v = 2π·r·rpm/60·dpi/0.0254 px/s, so the read radius carries white noise of
one-sided PSD S_n = 2/(I·v) px²/Hz up to v/2 (none of the groove above it is in the picture), divided
by G(f)² = exp(−(2π f s/v)²) where blur also smooths the groove along the track.

Audio: S_s(t, f) of the displacement (px) by STFT; signal and error weighted by the playback curve
|H|² (eq.to_audio: derivative + Blumlein de-emphasis) and the 60 Hz–5 kHz Butterworth si_snr_db runs
forwards and backwards (|B|⁴). SI-SNR depends only on the correlation of estimate and reference, so
the MMSE estimate maximises it: SI-SNR = Σ W·S_s / Σ W·E − 1, E = S_s·S_n/(S_s + S_n). Columns:
"unbiased" (no prior: E = S_n below the best single cut-off, the signal lost above it), "Wiener"
(the 8 s's mean PSD known), "oracle" (E per 93 ms frame: the short-time spectrum known; loose);
bands: Wiener, hard edges. A 16-bit render (σ = 1/(256·√12)) lifts the clean bound to ~74 dB.
Tone (3 s, 1 kHz, −6 dB, 120 mm): no prior, no deblurring, tone_snr_db's 20 Hz–20 kHz, zero-phase
8th-order low-pass at 0.45·v (as izdat/optical/_read.py) or 3 kHz. A tone barely tests the floor:
noise through H ∝ f grows as f_c³, so a reader that narrows its band gains on a tone and loses music.
Checked instead per frequency against the reader (tone, 1200 DPI, plain film; the reader as of this
writing): its noise PSD at
20–800 Hz is ~10× this floor clean and ~4× degraded, and it falls off above ~3 kHz (|T| 0.15 at 3–5 kHz).

Film: the default plain film; the bench's radiograph (seed 1, "hand") on the ring the music lies on,
c_eff² = 1/mean(1/c²) (error power averages 1/c²); the lightest film. The radiograph's grain (0.018 of
the film range per 2048-grid cell, ~2.8 px at 1200 DPI, bilinear) is taken as known (~6 non-wall
pixels per cell over-determine it); "grain as noise" adds its ~1.2 grey at the wall pixel instead.
Degraded: sensor 2 + JPEG q85 ~1 + rounding (grey), blur 1.0 px + cubic rotation ≈ 1.2 px; "kind":
no JPEG term, 1.0 px, and the light gradient's best contrast (×1.25). 8-bit rounding is taken as
white (σ² = 1/12): a set-membership reader on a plain film could beat it; no reader beats real noise.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
from scipy import signal, special

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "examples")]
from izdat.audio import Audio  # noqa: E402
from izdat.lathe import Lathe  # noqa: E402
from izdat.render import FILM_DARK, FILM_LIGHT, GROOVE_LIGHTEN  # noqa: E402

FS, NFFT = 44_100, 4096
BANDS = [(60, 200), (200, 1000), (1000, 3000), (3000, 5000)]
PLAIN_L = 255 * (FILM_DARK + (FILM_LIGHT - FILM_DARK) * 0.2)      # the plain film the renderer defaults to
Q = 1 / math.sqrt(12)                                               # 8-bit rounding, taken as white noise
C_PLAIN = GROOVE_LIGHTEN * (255 - PLAIN_L)
GRAIN = 0.018 * (FILM_LIGHT - FILM_DARK) * 255 * 2 / 3 * (1 - GROOVE_LIGHTEN / 2)   # grey at a wall pixel
# name, sigma (grey), blur (px), contrast c (grey per px; None: the bench's radiograph on the ring)
CASES = [("clean plain", Q, 0.0, C_PLAIN),
         ("clean radiograph", Q, 0.0, None),
         ("clean radiograph, grain as noise", math.hypot(Q, GRAIN), 0.0, None),
         ("clean lightest film", Q, 0.0, GROOVE_LIGHTEN * 255 * (1 - FILM_LIGHT)),
         ("degraded", math.sqrt(2.0**2 + 1.0**2 + Q**2), 1.2, None),
         ("degraded, kind", math.hypot(2.0, Q), 1.0, "x1.25")]


def wall_info(s):
    """J(s): squared edge slope per unit wall length (px⁻¹ per c²), box pixel blurred by s px."""
    if s == 0:
        return 1.0
    u = np.linspace(-0.5 - 8 * s, 0.5 + 8 * s, 20001)
    g = 0.5 * (special.erf((u + 0.5) / (s * math.sqrt(2))) - special.erf((u - 0.5) / (s * math.sqrt(2))))
    return float(np.sum(g**2) * (u[1] - u[0]))


def cut(x, **lathe):
    record = Lathe(level_db=-6, **lathe).cut(Audio(x.astype(np.float32), FS))
    return record, record.radius_m[record.program_start:record.program_end]


def stft_psd(x):
    """One-sided PSD (units²/Hz) per frame (rows) and bin, Hann window, hop NFFT/2."""
    f, _, z = signal.stft(x, FS, "hann", NFFT, NFFT // 2, boundary=None, padded=False, scaling="psd")
    p = np.abs(z.T) ** 2 * 2
    p[:, 0] /= 2
    return f, p


def playback_gain(record, f):
    """|H(f)|² of the playback (displacement m → audio), from an impulse through eq.to_audio."""
    imp = np.zeros(1 << 17)
    imp[1 << 10] = 1.0
    h = np.fft.rfft(record.eq.to_audio(imp, record.sample_rate))
    return np.interp(f, np.fft.rfftfreq(len(imp), 1 / record.sample_rate), np.abs(h) ** 2)


def film_contrast(record, rad):
    """c_eff (grey per px) of the bench's radiograph (write_record's seed 1) on the ring the music lies on."""
    from izdat.outputs import backdrop
    from scipy import ndimage
    film, _ = backdrop(None, 1)
    n, rho = film.shape[0], rad.mean() / (record.diameter_m / 2)
    th = np.linspace(0, 2 * np.pi, 20000, endpoint=False)
    b = ndimage.map_coordinates(film, [(n - 1) / 2 * (1 - rho * np.sin(th)), (n - 1) / 2 * (1 + rho * np.cos(th))], order=1)
    c = GROOVE_LIGHTEN * 255 * (1 - FILM_DARK - (FILM_LIGHT - FILM_DARK) * np.clip(b, 0, 1))
    return float(1 / np.sqrt(np.mean(1 / c**2)))


def noise_psd(f, v, sigma, blur, c):
    """S_n (px²/Hz) of the read radius per frequency; inf where the picture holds nothing."""
    info = 2 * c**2 * wall_info(blur) / sigma**2              # Fisher information per px of track
    g2 = np.exp(-(2 * np.pi * f * blur / v) ** 2)             # along-track blur, squared
    return np.where(f < v / 2, 2 / (info * v) / np.maximum(g2, 1e-300), np.inf)


def wiener(S, N):
    """Least mean-square error per bin; all of S where the picture holds nothing (N infinite)."""
    finite = np.where(np.isinf(N), 1.0, N)
    return np.where(np.isinf(N), S, S * finite / (S + finite))


def music_bound(record, rad, dpi, sigma, blur, c):
    f, s = stft_psd(record.displacement_m * dpi / 0.0254)
    hop = NFFT // 2
    r = np.array([rad[i * hop:i * hop + NFFT].mean() for i in range(len(s))])
    v = 2 * np.pi * r * record.rpm / 60 * dpi / 0.0254
    n = np.array([noise_psd(f, vi, sigma, blur, c) for vi in v])
    w = playback_gain(record, f) * np.abs(signal.sosfreqz(
        signal.butter(4, (60, 5000), "bandpass", fs=FS, output="sos"), f, fs=FS)[1]) ** 4
    w = np.broadcast_to(w, s.shape)
    out = {"unbiased": max(np.sum(w * s) / np.sum(w * np.where((f < fc) & np.isfinite(n), n, s))
                           for fc in np.arange(1000, 20_000, 250)),

           "Wiener": np.sum(w * s) / (len(s) * np.sum(w[0] * wiener(s.mean(0), n.mean(0)))) - 1,
           "oracle": np.sum(w * s) / np.sum(w * wiener(s, n)) - 1}
    hp = playback_gain(record, f)
    for lo, hi in BANDS:
        m = (f >= lo) & (f < hi)
        out[f"{lo}-{hi}"] = np.sum((hp * s.mean(0))[m]) / np.sum((hp * wiener(s.mean(0), n.mean(0)))[m]) - 1
    return {k: 10 * np.log10(v) for k, v in out.items()} | {"v": v.mean()}


def tone_bound(dpi, sigma, blur, c, fc=None):
    """tone_snr_db of a reader with no prior: white radius noise through H and a low-pass at fc (Hz)."""
    t = np.arange(3 * FS) / FS
    record, rad = cut(np.sin(2 * np.pi * 1000 * t), diameter_mm=120.0, inner_radius_mm=30.0)
    v = 2 * np.pi * rad.mean() * record.rpm / 60 * dpi / 0.0254
    f = np.arange(20.0, 20_000.0, 1.0)
    h2 = playback_gain(record, f)
    lp = np.abs(signal.sosfreqz(signal.butter(8, min(fc or 0.45 * v, 0.45 * FS), fs=FS, output="sos"), f, fs=FS)[1]) ** 4
    n = noise_psd(f, v, sigma, blur, c) * np.exp(-(2 * np.pi * f * blur / v) ** 2)   # as read: not deblurred
    keep = (np.abs(f - 1000) > 20) & np.isfinite(n)
    a2 = np.abs(record.displacement_m[FS // 2:-FS // 2]).max() ** 2 / 2 * np.exp(-(2 * np.pi * 1000 * blur / v) ** 2)
    return 10 * np.log10(a2 * (dpi / 0.0254) ** 2 * np.interp(1000, f, h2) / np.sum((h2 * lp * n)[keep]))


def main():
    from make_song import song
    x = song()[: 8 * FS]
    x = x.mean(axis=1) if x.ndim == 2 else x
    discs = {"120 mm": cut(x, diameter_mm=120.0, inner_radius_mm=30.0), "250 mm": cut(x)}
    films = {}
    for name, (rec, rad) in discs.items():
        films[name] = film_contrast(rec, rad)
        print(f"{name}: the 8 s lie at r = {rad[0] * 1e3:.1f}…{rad[-1] * 1e3:.1f} mm; displacement rms "
              f"{rec.displacement_m.std() * 1e6:.1f} µm, peak {np.abs(rec.displacement_m).max() * 1e6:.1f} µm; "
              f"radiograph c_eff {films[name]:.1f} grey/px")
    print(f"plain film L = {PLAIN_L:.1f}, c = {C_PLAIN:.1f} grey/px; J(1.0) = {wall_info(1.0):.3f}, "
          f"J(1.2) = {wall_info(1.2):.3f}; grain at a wall pixel {GRAIN:.2f} grey\n")
    head = ["case", "DPI", "disc", "v kpx/s", "unbiased", "Wiener", "oracle"] + [f"{a}-{b}" for a, b in BANDS]
    print(" | ".join(head + ["tone@0.45v", "tone@3k"]))
    for case, sigma, blur, c in CASES:
        for dpi in (1200, 2400):
            for disc, (rec, rad) in discs.items():
                cc = films[disc] * 1.25 if c == "x1.25" else films[disc] if c is None else c
                b = music_bound(rec, rad, dpi, sigma, blur, cc)
                tones = [f"{tone_bound(dpi, sigma, blur, cc, fc):.1f}" if disc == "120 mm" else "—" for fc in (None, 3000)]
                print(" | ".join([case, str(dpi), disc, f"{b['v'] / 1e3:.1f}"] + [f"{b[k]:.1f}" for k in head[4:]] + tones))


if __name__ == "__main__":
    main()
