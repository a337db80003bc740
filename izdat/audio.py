"""Audio: samples with their sample rate, and the few things every machine needs from them.

Samples are float32, shape ``(n,)`` for mono or ``(n, channels)``, full scale ±1.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile
import soxr

from izdat.errors import AudioError, OutputError, first_line
from izdat.files import atomic_path, not_a_file

__all__ = ["Audio", "load", "save"]

#: Below this peak (−120 dBFS) a signal is treated as silence.
SILENCE_PEAK = 1e-6


@dataclass(frozen=True, eq=False)
class Audio:
    """Samples (float32, ``(n,)`` or ``(n, channels)``, ±1 full scale) and their sample rate in Hz."""

    samples: np.ndarray
    sample_rate: float

    def __post_init__(self):
        s = np.asarray(self.samples, dtype=np.float32)
        if s.ndim not in (1, 2):
            raise AudioError(f"audio must be 1-D (mono) or 2-D (samples, channels), not {s.ndim}-D")
        if not np.isfinite(self.sample_rate) or not 100 <= self.sample_rate <= 10_000_000:
            raise AudioError(f"sample_rate must be between 100 Hz and 10 MHz, not {self.sample_rate!r}")
        object.__setattr__(self, "samples", s)

    def __repr__(self):
        return f"Audio({self.duration_s:.3f} s, {self.channels} ch, {self.sample_rate:g} Hz)"

    def __len__(self):
        return self.samples.shape[0]

    @property
    def channels(self) -> int:
        return 1 if self.samples.ndim == 1 else self.samples.shape[1]

    @property
    def duration_s(self) -> float:
        return len(self) / self.sample_rate

    def mono(self) -> "Audio":
        """The channels summed to one (averaged, so a full-scale stereo signal stays full scale)."""
        if self.samples.ndim == 1:
            return self
        return Audio(self.samples.mean(axis=1), self.sample_rate)

    def resample(self, sample_rate: float) -> "Audio":
        """Band-limited resampling (soxr, very high quality) to ``sample_rate`` Hz."""
        if sample_rate == self.sample_rate:
            return self
        out = soxr.resample(self.samples, self.sample_rate, sample_rate, quality="VHQ")
        return Audio(out.astype(np.float32, copy=False), sample_rate)

    def trim(self, seconds: float) -> "Audio":
        """The first ``seconds`` of the audio."""
        return Audio(self.samples[: int(round(seconds * self.sample_rate))], self.sample_rate)

    def checked(self, what: str = "audio") -> "Audio":
        """Itself, after checking it is non-empty, finite and not silent (raises :class:`AudioError`)."""
        if len(self) == 0:
            raise AudioError(f"the {what} is empty: it holds no samples")
        if not np.all(np.isfinite(self.samples)):
            raise AudioError(f"the {what} holds NaN or infinite samples")
        if float(np.max(np.abs(self.samples))) < SILENCE_PEAK:
            raise AudioError(f"the {what} is silent (peak below −120 dBFS): there is nothing to cut")
        return self

    def sha256(self) -> str:
        """A hash of the samples and sample rate, to tie outputs to their source."""
        h = hashlib.sha256(np.ascontiguousarray(self.samples).tobytes())
        h.update(repr(float(self.sample_rate)).encode())
        return h.hexdigest()


def load(path: str | Path) -> Audio:
    """Read an audio file (WAV, FLAC, OGG, MP3, … anything libsndfile reads) as float32 :class:`Audio`.

    Raises
    ------
    AudioError
        If the file is missing, unreadable or not audio, or is a directory, a pipe or a device
        (a pipe is never opened, so nothing blocks waiting for a writer).
    """
    path = Path(path)
    try:
        kind = not_a_file(path)
    except FileNotFoundError:
        raise AudioError(f"cannot read {path}: no such file") from None
    except OSError as exc:
        raise AudioError(f"cannot read {path}: {exc.strerror or exc}") from None
    if kind is not None:
        raise AudioError(f"cannot read {path}: it is {kind}, not an audio file")
    try:
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=False)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioError(f"cannot read {path} as audio ({first_line(exc)})") from None
    return Audio(data, float(rate))


def save(audio: Audio, path: str | Path, *, subtype: str = "PCM_16") -> Path:
    """Write ``audio`` to ``path`` atomically; the format follows the suffix (``.wav``, ``.flac``, …).

    Samples beyond ±1 are clipped by the PCM subtype; use ``subtype="FLOAT"`` to keep them.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        try:
            soundfile.write(str(tmp), np.clip(audio.samples, -1, 1) if subtype.startswith("PCM") else audio.samples,
                            int(round(audio.sample_rate)), subtype=subtype, format=path.suffix[1:].upper() or "WAV")
        except soundfile.LibsndfileError as exc:   # a full disk, among others
            raise OutputError(f"cannot write {path} ({first_line(exc)})") from None
    return path
