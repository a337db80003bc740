"""Hear any copy of the underground: a song run through every machine on the copy's lineage.

``listen(db, copy_id, song)`` walks the copy's chain in ``lineage.sqlite`` from the original down
to the copy and applies, at each step, the machine that made it:

============================  =====================================================================
step                          machine
============================  =====================================================================
LP original                   the song itself, clean (a pressed LP is the best source there was)
radio original                :func:`jammed_radio`: short-wave AM band (150 Hz - 4.5 kHz), fading
                              and a warbling jammer (noise), then recorded on the maker's machine
bard original                 :func:`izdat.tape.concert.apartment_concert`, taped on the maker's deck
state fake ("surprise")       :func:`izdat.gramophone.surprise` (built-in voice) cut on a press lathe
bone record                   :class:`izdat.lathe.Lathe` (home-built or Telefunken settings) cuts
                              what the parent sounds like; a :class:`~izdat.gramophone.Gramophone`
                              plays it with the wear of the plays it had by then
reel / cassette               the parent tape played on a deck of its own model (the parent
                              owner's), recorded on the maker's deck (``copies.deck``), both
                              :class:`izdat.tape.TapeDeck`; a disc parent is recorded as heard
erased at customs             :func:`izdat.tape.erase.erase` at :data:`CUSTOMS_FIELD_KA_M`: a faint,
                              distorted remnant
============================  =====================================================================

Everything is a pure function of the song, the database and a seed: the run's seed (``run.seed``)
and the ids of the copies and people on the chain. A person's tape deck or gramophone is one
machine with one serial number (:func:`machine_seed`), so it keeps its speed error and azimuth
from copy to copy; each copy's own noise (hiss, dust, the jammer) is seeded by the copy id.

Wear: a bone record is heard after ``PLAYS_PER_DAY`` plays a day since it was cut (at most
:data:`MAX_PLAYS`): an ancestor as it sounded when the next copy was made from it, the copy itself
as its owner last heard it (the day it was worn out, confiscated or erased, or the run's end).
Tapes do not wear here (the tape model has no wear); LPs are clean.
"""

from __future__ import annotations

import sqlite3
import zlib
from pathlib import Path

import numpy as np
from scipy import signal

from izdat.audio import Audio
from izdat.errors import AudioError
from izdat.underground.errors import LineageError
from izdat._check import _typed, check_int
from izdat.underground.lineage import chain, open_lineage, run_info, title_source
from izdat.underground.limits import LIMITS
from izdat.underground.society import DAYS_PER_YEAR, EPOCH

__all__ = ["listen", "jammed_radio", "deck_preset", "machine_seed", "DECK_ALIASES", "CUSTOMS_FIELD_KA_M",
           "PLAYS_PER_DAY", "MAX_PLAYS"]

#: Names older lineage databases stored for decks, mapped onto the tape presets of ``izdat decks``.
DECK_ALIASES = {"vesna-2": "vesna", "japanese-cassette": "sony-tc-129"}
#: Peak field of the customs demagnetiser (kA/m): 1.7x the coercivity of Fe2O3 tape leaves about
#: 4 % of the recording (−27 dB) with crossover distortion, "faint but audible" (Frumkin, seed 000).
CUSTOMS_FIELD_KA_M = 40.0
#: Plays a day of a bone record in use: a mean life of a year ("a few dozen plays at most").
PLAYS_PER_DAY = 36.0 / DAYS_PER_YEAR
#: Most plays counted (by then the groove is worn flat).
MAX_PLAYS = 80
#: Working sample rate (Hz): every machine runs at it; the song is resampled to it once.
RATE_HZ = 44_100.0

# lathe settings by ``copies.lathe``: a home-built lathe cuts a wider, shallower-toned groove more
# cautiously (records "sounded through sand"); a Telefunken or a state press cuts the 78 standard.
_LATHES = {
    "home-built": dict(groove_width_um=140.0, pitch_um=280.0, level_db=-3.0),
    "telefunken": dict(),
    "state-press": dict(),
}


def machine_seed(run_seed: int, *key) -> int:
    """A 63-bit seed for one machine or one event, from the run's seed and integer ``key``."""
    words = [int(run_seed) & 0xFFFFFFFF] + [int(k) & 0xFFFFFFFF for k in key]
    state = np.random.SeedSequence(words).generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & (2**63 - 1)


def deck_preset(name: str) -> str:
    """The :mod:`izdat.tape` preset for a deck name stored in a lineage database."""
    from izdat.tape.presets import PRESETS
    key = DECK_ALIASES.get(name, name)
    if key not in PRESETS:
        raise LineageError(f"the database names a tape deck {name!r} that izdat does not model "
                           f"(known decks: {', '.join(PRESETS)}).")
    return key


def jammed_radio(audio: Audio, *, seed: int = 0, jam_db: float = -14.0) -> Audio:
    """``audio`` as heard on short-wave Western radio behind Soviet jamming, 1950s-1980s.

    A simple channel, not an antenna simulation: AM broadcast audio band-limited to 150 Hz - 4.5 kHz
    (4th-order Butterworth; short-wave channels are 9 kHz apart), slow ionospheric fading
    (0.05-0.3 Hz, ±6 dB), and a jammer: noise in the same band, amplitude-warbled at 5-8 Hz
    (the "howling" of the sky-wave jammers), ``jam_db`` dB below the programme's rms.

    Parameters
    ----------
    audio : Audio
        The broadcast (summed to mono).
    seed : int
        Seeds the fading, the warble and the noise.
    jam_db : float
        Jammer level against the programme (dB); default −14.
    """
    audio = audio.mono()
    fs = float(audio.sample_rate)
    rng = np.random.default_rng([int(seed) & (2**63 - 1), 0x7AD10])
    x = audio.samples.astype(np.float64)
    band = signal.butter(4, [150.0, min(4500.0, 0.45 * fs)], btype="bandpass", fs=fs, output="sos")
    y = signal.sosfilt(band, x)
    t = np.arange(x.size) / fs
    fade_db = 6.0 * np.sin(2 * np.pi * rng.uniform(0.05, 0.3) * t + rng.uniform(0, 2 * np.pi))
    y *= 10 ** (fade_db / 20)
    rms = float(np.sqrt(np.mean(y ** 2))) or 1e-3
    warble = 0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(5.0, 8.0) * t + rng.uniform(0, 2 * np.pi))
    jam = signal.sosfilt(band, rng.standard_normal(x.size)) * warble
    jam *= rms * 10 ** (jam_db / 20) / (float(np.sqrt(np.mean(jam ** 2))) or 1.0)
    return Audio((y + jam).astype(np.float32), fs)


def _day(iso: str | None) -> float | None:
    if iso is None:
        return None
    return float((np.datetime64(iso) - EPOCH) / np.timedelta64(1, "D"))


def _plays(made: str, heard_day: float) -> int:
    return int(min(max(round((heard_day - _day(made)) * PLAYS_PER_DAY), 0), MAX_PLAYS))


def _gramophone(run_seed: int, row: dict, plays: int):
    """The bone record's owner's gramophone, with this record's own hole, warp and dust."""
    from izdat.gramophone import Gramophone
    rng = np.random.default_rng(machine_seed(run_seed, 3, row["id"]))
    return Gramophone(stylus_um="78", pickup="electric", plays=plays, material="xray",
                      speed_error_pct=float(rng.uniform(-1.5, 1.5)), hole_offset_mm=float(rng.uniform(0.5, 4.0)),
                      warp_mm=float(rng.uniform(0.5, 2.5)), scratches=int(min(rng.poisson(2), 50)),
                      seed=machine_seed(run_seed, 4, row["id"]), sample_rate=RATE_HZ)


def _cut(sound: Audio, lathe_name: str | None):
    from izdat.lathe import Lathe
    lathe = Lathe(**_LATHES.get(lathe_name or "home-built", {}))
    cap = 0.97 * lathe.capacity_s()
    trim = cap if sound.duration_s > cap else None     # a side holds what it holds: the rest is cut off
    return lathe.cut(sound, trim_s=trim)


def _deck(run_seed: int, model: str, person: int | None, copy_id: int):
    """``person``'s deck of ``model`` (one serial per person and model); hiss seeded by the copy."""
    from izdat.tape import TapeDeck
    who = -1 if person is None else int(person)
    deck = TapeDeck(model, seed=machine_seed(run_seed, 1, who, zlib.crc32(model.encode())))
    deck._rng = np.random.default_rng([machine_seed(run_seed, 2, copy_id), 0x5EED])  # noqa: SLF001
    return deck


def _originate(row: dict, source: str, song: Audio, run_seed: int) -> Audio:
    """What the maker of an original heard: the LP, the jammed radio or the bard in the flat."""
    if source == "radio":
        return jammed_radio(song, seed=machine_seed(run_seed, 5, row["id"]))
    if source == "bard":
        from izdat.tape.concert import apartment_concert
        return apartment_concert(song, seed=machine_seed(run_seed, 6, row["id"]) & 0x7FFFFFFF)
    return song


def _heard_day(row: dict, next_row: dict | None, end_day: float) -> float:
    if next_row is not None:
        return _day(next_row["made"])
    ended = _day(row["ended"])
    return end_day if ended is None else min(ended, end_day)


def listen(db_path: str | Path | sqlite3.Connection, copy_id: int, audio: Audio, *, seed: int | None = None,
           progress=None) -> Audio:
    """What copy ``copy_id`` of a lineage database sounds like with ``audio`` as its recording.

    Parameters
    ----------
    db_path : str, Path or sqlite3.Connection
        ``lineage.sqlite`` written by ``izdat spread``.
    copy_id : int
        Id of the copy (``copies.id``).
    audio : Audio
        The song the title stands for (any rate; summed to mono and resampled to 44.1 kHz).
    seed : int, optional
        Overrides the run's seed (``run.seed``), 0 to 2**63 - 1; the same seed gives the same samples.
    progress : callable, optional
        Called as ``progress(done, total, what)`` after each step of the chain.

    Returns
    -------
    Audio
        Mono float32 at 44.1 kHz, at the level the copy plays (an erased tape is much quieter).

    Raises
    ------
    LineageError
        A missing or corrupt database, an id it does not hold or out of range, a chain that loops,
        a NULL or wrongly typed field, or a seed out of range.
    AudioError
        Empty, silent or non-finite audio (also a ``TypeError`` for something that is not Audio).
    """
    if not isinstance(audio, Audio):
        raise _typed(AudioError)(f"listen needs Audio, not {type(audio).__name__}")
    if seed is not None:
        seed = check_int("seed", seed, *LIMITS["seed"], error=LineageError)
    if progress is not None and not callable(progress):
        raise _typed(LineageError)(f"progress must be a function or None, not {type(progress).__name__}")
    copy_id = check_int("copy_id", copy_id, *LIMITS["copy_id"], error=LineageError)
    con = db_path if isinstance(db_path, sqlite3.Connection) else open_lineage(db_path)
    try:
        rows = chain(con, copy_id)[::-1]                  # the original first
        run = run_info(con)
        source = title_source(con, rows[0]["title"])
    finally:
        if con is not db_path:
            con.close()
    song = audio.checked("song").mono().resample(RATE_HZ)
    run_seed = run["seed"] if seed is None else seed
    end_day = (run["end_year"] + 1 - 1946) * DAYS_PER_YEAR

    from izdat.tape.erase import erase

    sound = None      # what the last copy sounds like (Audio), for disc parents
    tape = None       # the last copy's Tape, for tape parents
    prev = None
    total = len(rows)
    for i, row in enumerate(rows):
        nxt = rows[i + 1] if i + 1 < total else None
        medium = row["medium"]
        if row["fake"]:
            from izdat.gramophone import surprise
            fake = surprise(song, voice="builtin", seed=machine_seed(run_seed, 7, row["id"]) & 0x7FFFFFFF)
            record = _cut(fake, "state-press")
            sound = _gramophone(run_seed, row, _plays(row["made"], _heard_day(row, nxt, end_day)))(record)
            tape = None
        elif medium == "LP":
            sound, tape = song, None
        elif medium == "bone":
            heard = _originate(row, source, song, run_seed) if prev is None else sound
            record = _cut(heard, row["lathe"])
            sound = _gramophone(run_seed, row, _plays(row["made"], _heard_day(row, nxt, end_day)))(record)
            tape = None
        elif medium in ("reel", "cassette"):
            if row["deck"] is None:
                raise LineageError(f"copy {row['id']} is a {medium} without a deck in the database.")
            model = deck_preset(row["deck"])
            recorder = _deck(run_seed, model, row["maker"], row["id"])
            if prev is not None and tape is not None:
                player = _deck(run_seed, deck_preset(prev["deck"]), prev["owner"], row["id"])
                tape = player.dub(tape, onto=recorder)
            else:
                heard = _originate(row, source, song, run_seed) if prev is None else sound
                tape = recorder.record(heard)
            if row["fate"] == "erased":
                tape = erase(tape, field_ka_m=CUSTOMS_FIELD_KA_M, seed=machine_seed(run_seed, 8, row["id"]))
            if nxt is None or nxt["medium"] not in ("reel", "cassette"):
                sound = _deck(run_seed, model, row["owner"], row["id"]).play(tape)
        else:
            raise LineageError(f"copy {row['id']} has an unknown medium {medium!r} in the database.")
        prev = row
        if progress is not None:
            progress(i + 1, total, f"{medium} gen {row['generation']}")
    return sound

