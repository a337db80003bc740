"""The apartment concert: a bard in a flat, one microphone across the room, the audience around.

Everything is synthesised from a seed (no samples): a small furnished room's reverberation and the
sounds Ryback lists (seed 000): chairs scraping across the floor, a bottle knocking against glasses,
muted laughter or quiet applause, a tram rattling in the street below.
"""

from __future__ import annotations

import numpy as np
import scipy.signal as sps

from izdat.audio import Audio

__all__ = ["apartment_concert", "room_impulse_response"]

#: Reverberation time of a furnished Soviet living room (~40 m³), s (typical 0.4–0.6 s).
ROOM_RT60_S = 0.5
#: Level of the loudest audience sounds relative to the singer's rms, dB (heard across the room).
AUDIENCE_DB = -14.0


def room_impulse_response(fs: float, rng: np.random.Generator, rt60_s: float = ROOM_RT60_S) -> np.ndarray:
    """Direct sound, six early wall reflections (1.5–5 m paths) and an exponentially decaying,
    treble-damped diffuse tail (−60 dB at ``rt60_s``)."""
    n = int(rt60_s * 1.2 * fs)
    h = np.zeros(n, dtype=np.float64)
    h[0] = 1.0
    for dist_m in rng.uniform(1.5, 5.0, 6):
        i = int(dist_m / 343.0 * fs)
        h[i] += rng.choice([-1, 1]) * 0.6 / dist_m
    t = np.arange(n) / fs
    tail = rng.standard_normal(n) * np.exp(-6.91 * t / rt60_s) * 0.06
    tail = sps.sosfilt(sps.butter(1, 4000.0, fs=fs, output="sos"), tail)
    tail[: int(0.005 * fs)] = 0
    return (h + tail).astype(np.float32)


def _env(n, attack, fs):
    a = max(int(attack * fs), 1)
    e = np.ones(n)
    e[:a] = np.linspace(0, 1, a)
    return e


def _chair(fs, rng):
    """Stick-slip chatter: 30–80 clicks/s of band-passed noise for 0.3–1 s."""
    dur = rng.uniform(0.3, 1.0)
    n = int(dur * fs)
    rate = rng.uniform(30, 80)
    pulses = np.zeros(n)
    idx = np.cumsum(rng.exponential(fs / rate, int(dur * rate * 2) + 2)).astype(int)
    pulses[idx[idx < n]] = rng.uniform(0.5, 1, (idx < n).sum())
    body = sps.sosfilt(sps.butter(2, [300, 2500], btype="bandpass", fs=fs, output="sos"),
                       pulses + 0.2 * rng.standard_normal(n))
    return body * np.sin(np.linspace(0, np.pi, n))


def _clink(fs, rng):
    """Glass struck by a bottle: 2–3 strikes of inharmonic decaying partials (2–7 kHz)."""
    out = np.zeros(int(1.2 * fs))
    t = np.arange(int(0.5 * fs)) / fs
    partials = rng.uniform(2200, 2800) * np.array([1.0, 1.62, 2.71])
    ring = sum(np.exp(-t * d) * np.sin(2 * np.pi * f * t) / (k + 1)
               for k, (f, d) in enumerate(zip(partials, (9, 14, 20))))
    for start in np.cumsum(rng.uniform(0.1, 0.3, rng.integers(2, 4))):
        i = int(start * fs)
        out[i:i + t.size] += ring[: out.size - i]
    return out


def _laughter(fs, rng):
    """A few people laughing quietly: voiced 'ha' pulses (pitch 150–300 Hz) at ~5 per second."""
    dur = rng.uniform(1.0, 2.5)
    n = int(dur * fs)
    out = np.zeros(n)
    t = np.arange(n) / fs
    for _ in range(rng.integers(2, 5)):
        f0 = rng.uniform(150, 300)
        glottal = sps.sawtooth(2 * np.pi * f0 * t + rng.uniform(0, 6))
        syll = np.clip(np.sin(2 * np.pi * rng.uniform(4, 6) * t + rng.uniform(0, 6)), 0, None) ** 2
        voice = sps.sosfilt(sps.butter(2, [500, 1500], btype="bandpass", fs=fs, output="sos"), glottal)
        out += voice * syll * np.exp(-t / dur) * rng.uniform(0.5, 1)
    return out


def _applause(fs, rng, dur=None):
    """Quiet applause: 6–12 people clapping ~4 times a second, 5 ms band-passed noise bursts."""
    dur = dur or rng.uniform(2.0, 4.0)
    n = int(dur * fs)
    imp = np.zeros(n)
    for _ in range(rng.integers(6, 13)):
        times = np.cumsum(rng.normal(0.25, 0.03, int(dur * 5)))
        idx = (times * fs).astype(int)
        imp[idx[idx < n]] += rng.uniform(0.5, 1.0, (idx < n).sum())
    burst = rng.standard_normal(int(0.005 * fs)) * np.exp(-np.arange(int(0.005 * fs)) / (0.0015 * fs))
    claps = sps.fftconvolve(imp, burst)[:n]
    claps = sps.sosfilt(sps.butter(2, [800, 4000], btype="bandpass", fs=fs, output="sos"), claps)
    return claps * np.minimum(1, np.linspace(dur, 0, n) / 0.8)


def _tram(fs, rng):
    """A tram in the street below: low rumble swelling and fading over 6–10 s, wheel clacks at rail
    joints every ~1 s, heard through a window (low-passed at 800 Hz)."""
    dur = rng.uniform(6, 10)
    n = int(dur * fs)
    t = np.arange(n) / fs
    rumble = sps.sosfilt(sps.butter(2, [30, 200], btype="bandpass", fs=fs, output="sos"), rng.standard_normal(n))
    clacks = np.zeros(n)
    for tc in np.arange(rng.uniform(0, 1), dur, rng.uniform(0.8, 1.2)):
        for dt in (0.0, 0.12):
            i = int((tc + dt) * fs)
            if i < n:
                clacks[i] = 3.0
    clacks = sps.sosfilt(sps.butter(2, [100, 800], btype="bandpass", fs=fs, output="sos"), clacks)
    swell = np.sin(np.pi * t / dur) ** 2
    return sps.sosfilt(sps.butter(2, 800, fs=fs, output="sos"), (rumble + clacks) * swell)


def apartment_concert(audio: Audio, *, seed: int = 0) -> Audio:
    """``audio`` as a bard sang it in a flat, recorded by one mic across the room with the audience.

    Events fall at random plausible times from ``seed``: chairs and clinks anywhere, laughter in
    the quieter moments, a tram every few minutes, applause at the end.
    """
    rng = np.random.default_rng([int(seed), 0xC0C])
    mono = audio.mono()
    fs = mono.sample_rate
    x = mono.samples.astype(np.float64)
    rms = float(np.sqrt(np.mean(x ** 2))) or 1e-3
    tail = int(4.5 * fs)
    crowd = np.zeros(x.size + tail)
    dur = x.size / fs
    events = [(_chair, 1 / 40.0), (_clink, 1 / 90.0), (_laughter, 1 / 60.0), (_tram, 1 / 150.0)]
    for make, rate in events:
        for when in rng.uniform(0, dur, rng.poisson(rate * dur) + (1 if make is _chair else 0)):
            s = make(fs, rng)
            i = int(when * fs)
            s = s[: crowd.size - i]
            peak = np.sqrt(np.mean(s ** 2)) or 1.0
            crowd[i:i + s.size] += s / peak * rms * 10 ** ((AUDIENCE_DB + rng.uniform(-8, 0)) / 20)
    clap = _applause(fs, rng)
    clap = clap[: tail]
    crowd[x.size: x.size + clap.size] += clap / (np.sqrt(np.mean(clap ** 2)) or 1) * rms * 10 ** (AUDIENCE_DB / 20)
    dry = np.concatenate([x, np.zeros(tail)])
    ir = room_impulse_response(fs, rng)
    # mic 2 m from the bard: direct sound at 1/2, the room as is
    wet = sps.oaconvolve(0.5 * dry + crowd, ir)[: dry.size]
    wet *= (np.max(np.abs(x)) or 1.0) / (np.max(np.abs(wet)) or 1.0)
    return Audio(wet.astype(np.float32), fs)
