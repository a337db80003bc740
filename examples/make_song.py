"""Synthesise the bundled example song, a short twelve-bar boogie (no copyrighted music).

    python examples/make_song.py      # writes examples/song.flac (stereo, 44.1 kHz, ~24 s)
"""

from pathlib import Path

import numpy as np
import soundfile

RATE = 44100
BPM = 168
BEAT = 60 / BPM
A4 = 440.0


def note_hz(semitones_from_a4: float) -> float:
    return A4 * 2 ** (semitones_from_a4 / 12)


def tone(freq, dur, *, harmonics=(1, 0.5, 0.33, 0.25), decay=3.0, rng=None):
    t = np.arange(int(dur * RATE)) / RATE
    wave = sum(a * np.sin(2 * np.pi * freq * (k + 1) * t) for k, a in enumerate(harmonics))
    env = np.exp(-decay * t) * np.minimum(1, t / 0.005) * np.minimum(1, (dur - t) / 0.01)
    return wave * env


def drum(kind, rng):
    t = np.arange(int(0.25 * RATE)) / RATE
    if kind == "kick":
        return np.sin(2 * np.pi * (50 + 80 * np.exp(-30 * t)) * t) * np.exp(-12 * t)
    noise = rng.standard_normal(t.size)
    if kind == "snare":
        return 0.6 * noise * np.exp(-18 * t) + 0.3 * np.sin(2 * np.pi * 190 * t) * np.exp(-20 * t)
    hat = np.diff(noise, prepend=0)
    return 0.25 * hat * np.exp(-60 * t)


def song(seed: int = 1946) -> np.ndarray:
    rng = np.random.default_rng(seed)
    bars = [0, 0, 0, 0, 5, 5, 0, 0, 7, 5, 0, 7]  # twelve-bar blues in A
    n = int(len(bars) * 4 * BEAT * RATE) + RATE
    left, right = np.zeros(n), np.zeros(n)

    def put(sig, at_s, gain, pan):
        i = int(at_s * RATE)
        sig = sig[: n - i]
        left[i:i + sig.size] += gain * (1 - pan) * sig
        right[i:i + sig.size] += gain * pan * sig

    boogie = [0, 4, 7, 9, 10, 9, 7, 4]  # the walking left hand
    riff = [12, 15, 16, 19, 16, 15, 12, 10]
    for b, root in enumerate(bars):
        for e in range(8):
            at = (b * 4 + e / 2) * BEAT
            swing = 0.08 * BEAT if e % 2 else 0
            put(tone(note_hz(root - 24 + boogie[e]), BEAT * 0.5, decay=4), at + swing, 0.35, 0.4)
            if b % 4 != 3 or e < 4:
                put(tone(note_hz(root + riff[(e + b) % 8] - 12), BEAT * 0.45,
                         harmonics=(1, 0.6, 0.4, 0.3, 0.2), decay=5), at + swing, 0.18, 0.65)
        for beat in range(4):
            at = (b * 4 + beat) * BEAT
            put(drum("kick" if beat % 2 == 0 else "snare", rng), at, 0.45, 0.5)
            put(drum("hat", rng), at + 0.5 * BEAT + 0.08 * BEAT, 0.5, 0.7)
    mix = np.stack([left, right], axis=1)
    return (0.9 * mix / np.max(np.abs(mix))).astype(np.float32)


if __name__ == "__main__":
    out = Path(__file__).with_name("song.flac")
    soundfile.write(out, song(), RATE, subtype="PCM_16")
    print(f"wrote {out}")
