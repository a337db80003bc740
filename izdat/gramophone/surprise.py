"""The authorities' fake bone records: a few seconds of the song, a mocking voice, then silence.

"Let's say, a few seconds of American rock'n'roll, then a mocking voice in Russian asking: 'So,
thought you'd take a listen to the latest sounds, eh?' followed by a few choice epithets addressed
to fans of stylish rhythms, then silence." — A. Troitsky, *Back in the USSR* (1987), quoted in
seeds/002.

The voice comes from espeak-ng (run as a program) when it is on the PATH, else from a small
built-in formant synthesiser: a glottal pulse train through three formant resonators per vowel
(a cascade formant synthesiser after Klatt 1980, with vowel formants of an adult male Russian
speaker, Fant 1960), hiss for fricatives and a gap and burst for stops. It is speech-like, not
intelligible speech: a voice, a tone of mockery, words you can almost make out.

References
----------
- D. H. Klatt, "Software for a cascade/parallel formant synthesizer", J. Acoust. Soc. Am. 67,
  971–995 (1980).
- G. Fant, *Acoustic Theory of Speech Production* (Mouton, 1960): Russian vowel formants.
"""

from __future__ import annotations

import io
import math
import shutil
import subprocess

import numpy as np
import soundfile
from scipy import signal

from izdat.audio import Audio
from izdat.errors import AudioError

__all__ = ["surprise", "MOCKERY", "speak"]

#: What the voice says (Russian, after Troitsky's account): "So, thought you'd listen to the
#: latest sounds, eh? Stilyaga! Fan of stylish rhythms! Better listen to Soviet music."
MOCKERY = ("Ну что, решил послушать новенькое, а? Стиляга несчастный! Любитель модных ритмов! "
           "Слушай лучше советскую музыку.")
#: Sample rate of the built-in voice (Hz): speech needs nothing above 8 kHz.
VOICE_RATE_HZ = 16_000.0

# Vowel formants F1, F2, F3 (Hz), adult male, after Fant (1960).
_VOWELS = {"а": (700, 1220, 2600), "о": (535, 840, 2450), "у": (320, 700, 2300), "э": (490, 1700, 2500),
           "е": (460, 1850, 2550), "и": (270, 2250, 3000), "ы": (300, 1500, 2400), "я": (680, 1400, 2600),
           "ё": (520, 900, 2450), "ю": (330, 1200, 2300),
           "a": (700, 1220, 2600), "o": (535, 840, 2450), "u": (320, 700, 2300), "e": (490, 1700, 2500),
           "i": (270, 2250, 3000), "y": (300, 1500, 2400)}
_SONORANTS = {"м": (250, 1100, 2300), "н": (250, 1450, 2400), "л": (350, 1000, 2400), "р": (450, 1300, 2300),
              "в": (300, 1100, 2300), "й": (280, 2100, 2900), "з": (300, 1600, 2500), "ж": (300, 1500, 2400),
              "m": (250, 1100, 2300), "n": (250, 1450, 2400), "l": (350, 1000, 2400), "r": (450, 1300, 2300),
              "v": (300, 1100, 2300), "w": (300, 800, 2300), "j": (280, 2100, 2900), "z": (300, 1600, 2500)}
# Fricatives: noise band (Hz).
_FRICATIVES = {"с": (4000, 7500), "ш": (2000, 6000), "щ": (2500, 6500), "ч": (2500, 6500), "ф": (1200, 7000),
               "х": (900, 3000), "ц": (3500, 7500), "s": (4000, 7500), "f": (1200, 7000), "h": (900, 3000),
               "x": (900, 3000), "c": (3500, 7500)}
_STOPS = set("пткбдгpbtdkgq")
_PAUSES = {" ": 0.05, ",": 0.18, "-": 0.12, "—": 0.15, ".": 0.4, "!": 0.4, "?": 0.4}


def surprise(audio: Audio, *, song_s: float = 6.0, text: str = MOCKERY, voice: str = "auto", pause_s: float = 0.5,
             total_s: float | None = None, seed: int = 0) -> Audio:
    """A fake record's programme: ``song_s`` seconds of ``audio``, a mocking voice, then silence.

    Parameters
    ----------
    audio : Audio
        The song (any rate; summed to mono).
    song_s : float
        Seconds of the song to keep (0.5–60); default 6.
    text : str
        What the voice says; default :data:`MOCKERY`.
    voice : {"auto", "espeak", "builtin"}
        ``"auto"`` uses espeak-ng if it is on the PATH, else the built-in synthesiser.
    pause_s : float
        Silence between the song and the voice (s, 0–5); default 0.5.
    total_s : float, optional
        Length of the whole programme (s): the silence runs until then. Default: the song's own
        length, so the fake fills the side the real record would (at least the voice plus 1 s).
    seed : int
        Seeds the built-in voice's jitter and breath.

    Returns
    -------
    Audio
        Mono, at ``audio``'s sample rate.
    """
    audio = audio.checked().mono()
    if not 0.5 <= song_s <= 60:
        raise AudioError(f"song_s must be between 0.5 and 60 s, not {song_s!r}")
    if not 0 <= pause_s <= 5:
        raise AudioError(f"pause_s must be between 0 and 5 s, not {pause_s!r}")
    fs = audio.sample_rate
    head = audio.samples[: int(round(song_s * fs))].astype(np.float64)
    fade = min(len(head), int(0.03 * fs))            # the needle lifted: a 30 ms fade, not a click
    head[len(head) - fade:] *= np.linspace(1, 0, fade)
    spoken = speak(text, voice=voice, seed=seed).resample(fs).samples.astype(np.float64)
    rms = float(np.sqrt(np.mean(head ** 2))) or 0.1
    spoken *= rms / max(float(np.sqrt(np.mean(spoken ** 2))), 1e-12) * 1.4   # a shade louder than the music
    peak = max(float(np.max(np.abs(spoken))), 1e-12)
    if peak > 0.95:
        spoken *= 0.95 / peak
    gap = np.zeros(int(round(pause_s * fs)))
    body = np.concatenate([head, gap, spoken])
    total = audio.duration_s if total_s is None else float(total_s)
    n_total = max(int(round(total * fs)), len(body) + int(fs))
    out = np.zeros(n_total)
    out[:len(body)] = body
    return Audio(out.astype(np.float32), fs)


def speak(text: str, *, voice: str = "auto", seed: int = 0) -> Audio:
    """``text`` spoken by espeak-ng (Russian voice) or by the built-in formant synthesiser."""
    if voice not in ("auto", "espeak", "builtin"):
        raise AudioError(f"voice must be 'auto', 'espeak' or 'builtin', not {voice!r}")
    if not text.strip():
        raise AudioError("the mocking voice needs something to say: text is empty")
    if voice in ("auto", "espeak"):
        exe = shutil.which("espeak-ng")
        if exe is not None:
            spoken = _espeak(exe, text)
            if spoken is not None:
                return spoken
        if voice == "espeak":
            raise AudioError("espeak-ng is not on the PATH or failed; install it or use voice='builtin'")
    return _builtin(text, seed)


def _espeak(exe: str, text: str) -> Audio | None:
    try:
        run = subprocess.run([exe, "-v", "ru", "-s", "140", "-p", "35", "--stdout", text],
                             capture_output=True, timeout=60, check=True)
        data, rate = soundfile.read(io.BytesIO(run.stdout), dtype="float32", always_2d=False)
    except (OSError, subprocess.SubprocessError, RuntimeError, ValueError, soundfile.LibsndfileError):
        return None
    if data.ndim != 1 or len(data) == 0 or not np.any(data):
        return None
    return Audio(data, float(rate))


def _builtin(text: str, seed: int) -> Audio:
    """Formant synthesis: one segment per letter, overlap-added with 15 ms cross-fades."""
    fs = VOICE_RATE_HZ
    rng = np.random.default_rng([seed, 0x5EC])
    segments = []                   # (kind, params, duration_s)
    phrase_start = [0]
    for ch in text.lower():
        if ch in _VOWELS:
            segments.append(("voiced", _VOWELS[ch], 0.075 * rng.uniform(0.8, 1.5), 1.0))
        elif ch in _SONORANTS:
            segments.append(("voiced", _SONORANTS[ch], 0.05 * rng.uniform(0.8, 1.2), 0.35))
        elif ch in _FRICATIVES:
            segments.append(("noise", _FRICATIVES[ch], 0.07 * rng.uniform(0.8, 1.2), 0.25))
        elif ch in _STOPS:
            segments.append(("stop", (1500, 5000), 0.05, 0.4))
        elif ch in _PAUSES:
            segments.append(("pause", ch, _PAUSES[ch], 0.0))
            if ch in ".!?,":
                phrase_start.append(len(segments))
    durations = np.array([s[2] for s in segments])
    starts = np.concatenate([[0.0], np.cumsum(durations)])
    n = int(math.ceil(starts[-1] * fs)) + int(0.05 * fs)
    f0 = _intonation(text, segments, starts, n, fs, rng)
    phase = np.cumsum(f0) / fs
    pulses = np.diff(np.floor(phase), prepend=0.0)
    pulses *= 1.0 + 0.08 * rng.standard_normal(n)                                   # shimmer
    glottal = signal.lfilter([1.0], [1.0, -1.94, 0.9409], pulses)                  # two poles at r = 0.97
    glottal = np.diff(glottal, prepend=0.0)                                         # lip radiation
    hiss = rng.standard_normal(n)
    out = np.zeros(n)
    xf = int(0.015 * fs)
    for (kind, params, dur, gain), a in zip(segments, starts[:-1]):
        if kind == "pause":
            continue
        i0 = max(0, int(a * fs) - xf)
        i1 = min(n, int((a + dur) * fs) + xf)
        if kind == "voiced":
            seg = glottal[i0:i1]
            for f, bw in zip(params, (90.0, 110.0, 160.0)):
                seg = signal.lfilter(*_resonator(f, bw, fs), seg)
        elif kind == "noise":
            seg = signal.sosfilt(signal.butter(2, params, "bandpass", fs=fs, output="sos"), hiss[i0:i1])
        else:  # stop: closure (silence) then a short burst
            seg = np.zeros(i1 - i0)
            b0 = (i1 - i0) * 2 // 3
            seg[b0:] = signal.sosfilt(signal.butter(2, params, "bandpass", fs=fs, output="sos"), hiss[i0 + b0:i1])
        w = np.ones(i1 - i0)
        ramp = np.sin(np.linspace(0, math.pi / 2, min(xf, (i1 - i0) // 2))) ** 2
        w[:len(ramp)] = ramp
        w[len(w) - len(ramp):] = ramp[::-1]
        out[i0:i1] += gain * seg / max(float(np.std(seg)), 1e-12) * w
    out *= 0.5 / max(float(np.max(np.abs(out))), 1e-12)
    return Audio(out.astype(np.float32), fs)


def _intonation(text, segments, starts, n, fs, rng):
    """F0 (Hz) per sample: a falling declarative line, a rise at every question, a sneering
    rise-fall on exclamations (after the Russian intonation constructions IK-1, IK-3, IK-2)."""
    f0 = np.full(n, 110.0)
    marks = [(starts[i], starts[i + 1], seg[1]) for i, seg in enumerate(segments) if seg[0] == "pause" and seg[1] in ".!?,"]
    prev = 0.0
    for a, b, mark in marks + [(starts[-1], starts[-1], ".")]:
        i0, i1 = int(prev * fs), int(a * fs)
        if i1 > i0:
            u = np.linspace(0, 1, i1 - i0)
            if mark == "?":
                contour = 105 - 15 * u + 70 * np.clip((u - 0.75) / 0.25, 0, 1) ** 2
            elif mark == "!":
                contour = 150 + 40 * np.sin(math.pi * u) - 60 * u
            else:
                contour = 125 - 30 * u
            f0[i0:i1] = contour
        prev = b
    f0 *= 1 + 0.01 * signal.lfilter([0.02], [1, -0.98], rng.standard_normal(n))     # jitter, slow
    return f0


def _resonator(freq_hz, bandwidth_hz, fs):
    """Klatt's digital resonator: unit gain at DC, a pole pair at ``freq_hz`` of ``bandwidth_hz``."""
    r = math.exp(-math.pi * bandwidth_hz / fs)
    c = -r * r
    b = 2 * r * math.cos(2 * math.pi * freq_hz / fs)
    a = 1 - b - c
    return [a], [1.0, -b, -c]
