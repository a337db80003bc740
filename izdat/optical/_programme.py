"""A record read without its record.json: where its programme lies and which curve it was cut with.

Without izdat's record.json the reader has followed the whole groove, lead-in to locked groove,
and knows nothing of the recording curve. Two things are told from the groove itself:

* **the programme** (:func:`find_programme`): the turns that lie the programme's fine pitch apart.
  A lead-in and a lead-out are fast spirals (izdat's lathe: 1.5 and 3 mm a turn against the
  programme's 0.1–0.3 mm), the locked groove a closed circle (no pitch at all); the programme is
  the longest run of turns at the finest pitch that is not a circle, its ends placed where the
  track's slope changes (a fit of a line that bends there, the bend allowed to grow as izdat's
  lead-out widens over a turn).
* **the curve** (:func:`guess_curve`): a constant-amplitude cut (laser generators: displacement ∝
  audio) leaves the displacement with the programme's own spectral tilt; a velocity cut (izdat's
  lathe, blumlein / riaa, every 78-era curve) divides it by the frequency above its turnover, 6 dB an
  octave steeper. The tilt of the displacement's spectrum over 250–4000 Hz tells them apart.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import ndimage, signal

from izdat.groove import Equalisation, equalisation

__all__ = ["find_programme", "trim_to_programme", "guess_curve", "CurveGuess", "subsonic_share",
           "high_pass"]

#: Closest turns (µm apart) counted as a spiral, not the locked groove's circle: the lathe's
#: narrowest groove with no land (izdat.optical._read's _CLOSEST_TURNS_UM).
LOCKED_PITCH_UM = 10.0
#: A turn belongs to the programme while its pitch stays below this many times the finest pitch
#: found (izdat's variable pitch law stays within about 2× in a song; its lead-in is 8× and its
#: lead-out 16× the programme's 180 µm on the default record: measured, /tmp experiment of H3).
PROGRAMME_PITCH_RATIO = 4.0
#: Half-width of the band (fraction of the pitch) whose samples count towards the finest pitch's
#: mode (a steady programme's turn-to-turn pitch, smoothed over 1/8 turn, stays within ±5 %).
PITCH_BAND = 0.15
#: Octave bands (Hz) over which the displacement's tilt is measured: above blumlein's 250 Hz
#: turnover, below where a 1200 DPI reader's noise floor shows on a quiet inner turn.
TILT_BANDS_HZ = (250.0, 500.0, 1000.0, 2000.0, 4000.0)
#: Tilt (dB per octave) of the displacement below which the cut is taken for a velocity cut. Music
#: and speech fall about 2–8 dB an octave over 250–4000 Hz (measured on the displacement of the four
#: sndcut records in tests/data/peer-records, constant amplitude: −1.7, −1.7, −3.1 and −5.9; izdat's
#: boogie cut with eq none: −7.5); a velocity cut makes it 6 steeper (the boogie cut blumlein: −19).
VELOCITY_TILT_DB_OCT = -10.0
#: Edge (Hz) of the high-pass that keeps a record without record.json from playing as subsonic
#: rumble: the cutters' own subsonic filter (izdat.groove.SUBSONIC_HZ, 20 Hz), 2nd order.
HIGH_PASS_HZ = 20.0
#: A file is said to be "mostly subsonic" when more than this share of its energy lies below
#: SUBSONIC_EDGE_HZ (the issue's −38 dBFS file had 99 % below 32 Hz).
SUBSONIC_SHARE = 0.5
SUBSONIC_EDGE_HZ = 32.0


def _smoothed_pitch(radius_m: np.ndarray, spr: int) -> np.ndarray:
    """Turn-to-turn pitch (m) at each sample, ``r[i] − r[i + spr]``, averaged over an eighth of a
    turn (the modulation's swing averages out, the spiral's run stays)."""
    r = np.asarray(radius_m, np.float64)
    return ndimage.uniform_filter1d(r[:-spr] - r[spr:], max(1, spr // 8), mode="nearest")


def _finest_pitch(ps: np.ndarray, spr: int) -> float | None:
    """The finest pitch (m) that at least half a turn of samples (or a quarter of them all) keeps
    within ±PITCH_BAND: the programme's, below a lead-in's and lead-out's and the ramps between."""
    v = np.sort(ps[ps > LOCKED_PITCH_UM * 1e-6])
    if v.size == 0:
        return None
    need = min(spr // 2, v.size // 4)
    cand = v[:: max(1, v.size // 2000)]
    count = np.searchsorted(v, cand * (1 + PITCH_BAND)) - np.searchsorted(v, cand * (1 - PITCH_BAND))
    ok = np.flatnonzero(count >= max(1, need))
    return float(cand[ok[0]]) if ok.size else None


def find_programme(radius_m: np.ndarray, samples_per_rev: int) -> tuple[int, int, float] | None:
    """(start, end, pitch) of the programme in a groove read lead-in to locked groove: the sample
    range (end exclusive) and its typical pitch (m a turn); None when no run of steady fine pitch a
    turn long is there (the whole groove is then the programme)."""
    spr = int(samples_per_rev)
    n = len(radius_m)
    if n < 3 * spr:
        return None
    ps = _smoothed_pitch(radius_m, spr)
    finest = _finest_pitch(ps, spr)
    if finest is None:
        return None
    ok = (ps > LOCKED_PITCH_UM * 1e-6) & (ps < PROGRAMME_PITCH_RATIO * finest)
    idx = np.flatnonzero(ok)
    breaks = np.flatnonzero(np.diff(idx) > spr // 4)       # a blemish's dip of a quarter turn is bridged
    starts, ends = np.r_[idx[0], idx[breaks + 1]], np.r_[idx[breaks], idx[-1]]
    j = int(np.argmax(ends - starts))
    a, b = int(starts[j]), int(ends[j]) + spr               # ps[i] spans the turn from i to i + spr
    if b - a < spr:
        return None
    pitch = float(np.median(ps[a:b - spr])) if b - a > spr else finest
    a = 0 if a <= spr // 8 else _bend(radius_m, a, spr, before=True)
    b = n if b >= n - spr // 8 else _bend(radius_m, b, spr, before=False)
    return a, min(n, b), pitch


#: Samples averaged into one point of the bend fit (0.7 ms at 44.1 kHz: the trim's resolution).
_BLOCK = 32


def _bend(radius_m: np.ndarray, guess: int, spr: int, *, before: bool) -> int:
    """:func:`_bend_near` over a turn either side of ``guess``, then again over a turn of programme
    and half a turn past the bend found (izdat's lead-out widens over one turn: within it the
    polynomial past the bend is exact)."""
    first = _bend_near(radius_m, guess, spr, before, spr, spr)
    return _bend_near(radius_m, first, spr, before, *((spr // 2, spr) if before else (spr, spr // 2)))


def _bend_near(radius_m: np.ndarray, guess: int, spr: int, before: bool, back: int, ahead: int) -> int:
    """Where the programme's straight run ends and a lead-in or lead-out begins, near ``guess``.

    The track's block means (_BLOCK samples) from ``back`` before ``guess`` to ``ahead`` after it
    are fitted by least squares with ``α + β·x`` and, past the bend, an added ``γ·u + δ·u² + ε·u³``
    (u the distance past it), and past a lead-out's bend a step ``σ``: an abrupt change of pitch
    (izdat's lead-in) and one that grows over a turn and then holds (its lead-out, which izdat's
    lathe starts a peak displacement inward) all fit; the bend is tried every block, the least
    residual kept (normal equations, a batch of bends at a time). Without the step a 1 kHz tone's
    end was found 3450 samples early, on the lathe's own radius as on its read picture; with it,
    within 50 (tests/test_play_programme.py)."""
    lo, hi = max(0, guess - back), min(len(radius_m), guess + ahead)
    m = (hi - lo) // _BLOCK
    if m < 16:
        return guess
    y = np.asarray(radius_m[lo:lo + m * _BLOCK], np.float64).reshape(m, _BLOCK).mean(axis=1)
    x = (np.arange(m) + 0.5) / (spr / _BLOCK)                # turns
    y = (y - y.mean()) / max(float(np.std(y)), 1e-300)
    ks = np.arange(4, m - 4)
    errs = np.empty(len(ks))
    for c in range(0, len(ks), 128):
        k = ks[c:c + 128]
        u = np.maximum((x[k, None] - x[None]) if before else (x[None] - x[k, None]), 0.0)
        # a lead-out may also start with a step (izdat's lathe joins it ~ one peak displacement inward:
        # 20 µm on a −6 dB tone); a lead-in's is not fitted, where it would take the music's onset
        step = np.zeros_like(u) if before else ((x[None] - x[k, None]) > 0).astype(float)
        basis = np.stack([np.ones_like(u), np.broadcast_to(x, u.shape), step, u, u * u, u * u * u], axis=2)
        bt = basis.transpose(0, 2, 1)
        gram = bt @ basis + 1e-9 * np.eye(6)
        rhs = bt @ y
        coef = np.linalg.solve(gram, rhs[..., None])[..., 0]
        errs[c:c + 128] = float(y @ y) - (coef * rhs).sum(axis=1)
    return int(lo + ks[int(np.argmin(errs))] * _BLOCK)


def trim_to_programme(groove):
    """``groove`` with its programme set to the run :func:`find_programme` finds, and the finding
    ((start, end, pitch) or None, in which case ``groove`` comes back as it was)."""
    found = find_programme(groove.radius_m, groove.samples_per_rev)
    if found is None:
        return groove, None
    a, b, _ = found
    return dataclasses.replace(groove, program_start=a, program_end=b), found


@dataclasses.dataclass(frozen=True)
class CurveGuess:
    """What the groove's displacement spectrum says of the recording curve.

    ``tilt_db_per_octave``: the slope of the displacement's power spectrum over TILT_BANDS_HZ;
    ``likely``: ``"none"`` (constant amplitude) or ``"blumlein"`` (a velocity cut; riaa and the other
    78-era curves share its tilt over these bands and are not told apart).
    """

    tilt_db_per_octave: float
    likely: str

    @property
    def velocity(self) -> bool:
        return self.likely != "none"

    def describe(self) -> str:
        kind = "a velocity cut (blumlein, riaa or another 78-era curve)" if self.velocity else \
            "a constant-amplitude cut (displacement follows the audio, as laser generators cut)"
        return (f"the groove's displacement falls {-self.tilt_db_per_octave:.1f} dB an octave over "
                f"{TILT_BANDS_HZ[0]:g}–{TILT_BANDS_HZ[-1]:g} Hz, like {kind}")


def displacement_tilt_db(x: np.ndarray, sample_rate: float) -> float | None:
    """Slope (dB per octave) of ``x``'s Welch power spectrum over the octave bands TILT_BANDS_HZ;
    None if ``x`` is too short or too slow for them."""
    x = np.asarray(x, np.float64)
    nper = 4096
    if len(x) < 2 * nper or sample_rate < 2.2 * TILT_BANDS_HZ[-1]:
        return None
    f, p = signal.welch(signal.detrend(x), sample_rate, nperseg=nper)
    edges = np.asarray(TILT_BANDS_HZ)
    levels = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        band = p[(f >= lo) & (f < hi)]
        if band.size == 0 or not band.mean() > 0:
            return None
        levels.append(10 * math.log10(band.mean()))
    centres = np.log2(np.sqrt(edges[:-1] * edges[1:]))
    return float(np.polyfit(centres, levels, 1)[0])


def guess_curve(groove) -> CurveGuess | None:
    """The likely recording curve of ``groove``'s programme, from its displacement's tilt; None when
    the programme is too short (under about 0.2 s) to tell."""
    tilt = displacement_tilt_db(groove.displacement_m(), groove.sample_rate)
    if tilt is None:
        return None
    return CurveGuess(tilt, "blumlein" if tilt < VELOCITY_TILT_DB_OCT else "none")


def subsonic_share(samples: np.ndarray, sample_rate: float, edge_hz: float = SUBSONIC_EDGE_HZ) -> float:
    """Share (0–1) of ``samples``' energy below ``edge_hz`` (Hz), from its whole spectrum."""
    x = np.asarray(samples, np.float64)
    if x.size == 0:
        return 0.0
    spec = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1 / sample_rate)
    total = float(spec.sum())
    return float(spec[f < edge_hz].sum()) / total if total > 0 else 0.0


def high_pass(samples: np.ndarray, sample_rate: float, edge_hz: float = HIGH_PASS_HZ) -> np.ndarray:
    """``samples`` through a 2nd-order Butterworth high-pass at ``edge_hz`` (Hz), zero phase (float32)."""
    sos = signal.butter(2, edge_hz, "highpass", fs=sample_rate, output="sos")
    return signal.sosfiltfilt(sos, np.asarray(samples, np.float64)).astype(np.float32)


def chosen_curve(eq_name: str | None, meta_eq: Equalisation | None, guess: CurveGuess | None):
    """(curve, sentence or None): the curve to play with and what to tell the user about it.

    The user's ``--eq`` wins, and a guess that disagrees is said; then record.json's; without
    either, the guess is taken (``none`` when there is none) and said."""
    if eq_name:
        curve = equalisation(eq_name)
        if guess is not None and meta_eq is None and guess.velocity != (not curve.displacement):
            return curve, (f"read with eq {curve.name}; {guess.describe()}: try --eq {guess.likely}")
        return curve, None
    if meta_eq is not None:
        return meta_eq, None
    if guess is None:
        return equalisation("none"), ("no record.json and no --eq: read with eq none (constant amplitude); "
                                      "the programme is too short to tell the cut from its spectrum")
    other = "none" if guess.velocity else "blumlein"
    return equalisation(guess.likely), (f"no record.json and no --eq: read with eq {guess.likely}, as "
                                        f"{guess.describe()}; give --eq {other} to hear it otherwise")
