"""The tape deck and the tape: ``TapeDeck(...).record(audio) -> Tape``, ``.play(tape) -> Audio``.

Signal path of one deck (all SI inside; the tape signal is the normalised magnetisation M/Ms):

record: audio → record EQ (standard flux curve × treble boost; the bias's treble change) → head
        field → biased recording on the loaded tape's coating (Preisach remanence, 2× oversampled)
        → time base of this transport (speed error + wow/flutter) → the tape's modulation noise,
        its first day's print-through, oxide dropouts, particle hiss → :class:`Tape`
play:   tape → time base of this transport → playback-head losses (spacing, depth, gap, azimuth
        against the recording head) → playback EQ, head bump, bass roll-off, reproduce
        amplifier bandwidth → 50 Hz hum → audio

The record level is set so that a 315 Hz tone at the deck's reference level (0 dB on its meter,
``REFERENCE_DBFS`` rms) lies ``headroom_db`` below the 3 % third-harmonic point (both rms, at the
optimum bias); playback gain, calibrated once at the optimum bias, makes a small 1 kHz tone come
back at the level it went in, so a deck set to another bias plays louder or softer as a real one.
Both are aligned with the deck's usual tape (``DeckPreset.tape``); another tape (``tape=``) keeps
that alignment, so it plays louder or softer, saturates sooner or later and hisses more or less by
the differences of its data-sheet figures (:mod:`izdat.tape.formulations`); the bias is trimmed to
the loaded tape's optimum.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import scipy.signal as sps

from izdat._check import _typed, check_int, check_number
from izdat.audio import Audio
import functools

from izdat.tape import heads, preisach
from izdat.tape.formulations import (MOD_NOISE_WAVELENGTH_M, TAPES, TapeError, TapeFormulation,
                                     known_tape, print_echo, print_through_db)
from izdat.tape.preisach import BiasedRecording
from izdat.tape.presets import PRESETS, DeckPreset
from izdat.tape.transport import CONTROL_RATE_HZ, Transport, warp

__all__ = ["Tape", "TapeDeck", "TapeError", "REFERENCE_DBFS", "MAINS_HZ"]

#: The deck's reference level (0 dB on its record meter) in dBFS on the digital side (convention).
REFERENCE_DBFS = -12.0
#: Soviet mains frequency, Hz (GOST 13109).
MAINS_HZ = 50.0
#: The tone the record level is aligned with (the MOL tone of a service manual), Hz.
_ALIGN_HZ = 315.0
#: Sample-rate limits for the decks, Hz.
_MIN_RATE_HZ, _MAX_RATE_HZ = 8000.0, 192000.0
_ARCMIN = np.pi / (180 * 60)


@dataclass(frozen=True, eq=False)
class Tape:
    """A recorded tape: magnetisation along it and what recorded it.

    Attributes
    ----------
    magnetisation : numpy.ndarray
        Normalised magnetisation M/Ms (float32, ``(n,)`` or ``(n, tracks)``), sampled every
        ``speed_m_s / sample_rate`` metres of tape.
    sample_rate : float
        Samples per nominal second of tape, Hz.
    speed_cm_s : float
        Nominal tape speed it was recorded at, cm/s.
    kind : str
        ``"reel"`` or ``"cassette"``.
    formulation : str
        Coating, e.g. ``"Fe2O3"``.
    azimuth_rad : float
        Azimuth of the head that recorded it, radians.
    history : tuple of str
        What happened to it, oldest first (``"recorded on dnepr-11"``, ``"erased at 12 kA/m"``).
    stock : str
        The tape formulation (a name in :data:`izdat.tape.formulations.TAPES`; ``""``: unknown).
    turn_m : float
        Length of one turn of the pack it is wound in, m (0: unknown): the print-through's lag.
    stored_years : float
        Years on the shelf since its first day (:func:`izdat.tape.formulations.store`).
    """

    magnetisation: np.ndarray
    sample_rate: float
    speed_cm_s: float
    kind: str
    formulation: str = "Fe2O3"
    azimuth_rad: float = 0.0
    history: tuple = ()
    stock: str = ""
    turn_m: float = 0.0
    stored_years: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "magnetisation", np.asarray(self.magnetisation, dtype=np.float32))

    def __repr__(self):
        return (f"Tape({self.duration_s:.3f} s at {self.speed_cm_s:g} cm/s, {self.kind}, "
                f"{self.stock or self.formulation}, history={list(self.history)})")

    def __len__(self):
        return self.magnetisation.shape[0]

    @property
    def duration_s(self) -> float:
        """Playing time at the nominal speed, s."""
        return len(self) / self.sample_rate

    @property
    def length_m(self) -> float:
        """Length of tape recorded, m."""
        return self.duration_s * self.speed_cm_s / 100.0

    def replace(self, **changes) -> "Tape":
        return dataclasses.replace(self, **changes)


def _check(name, value) -> float:
    """``value`` as a float if it lies in :attr:`TapeDeck.LIMITS` ``[name]``, else a :class:`TapeError`."""
    lo, hi, unit = TapeDeck.LIMITS[name]
    return check_number(name, value, lo, hi, unit, error=TapeError)


def _check_seed(seed) -> int:
    lo, hi, _ = TapeDeck.LIMITS["seed"]
    return check_int("seed", seed, lo, hi, error=TapeError)


def _check_bias(bias) -> float:
    """The bias (0 … 5); ``True``/``False`` are the bias switch (on: the optimum 1.0, off: 0.0), as
    decks had one and as the first check (``float(bias)``) let them through."""
    return _check("bias", float(bias) if isinstance(bias, (bool, np.bool_)) else bias)


def _check_switch(name, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise _typed(TapeError)(f"{name} must be True or False, not {value!r}")
    return bool(value)


def _known_preset(model) -> DeckPreset:
    if isinstance(model, DeckPreset):
        return model
    if not isinstance(model, str):
        raise _typed(TapeError)(f"model must be a deck's name or a DeckPreset, not {model!r}")
    return known_deck(model)


#: The coating every preset was calibrated with before tapes differed (issue 16 item 5): the
#: formulations' dB figures are realised against it (``_coating_scales``).
_REFERENCE_COATING = (preisach.SWITCHING_SPREAD, preisach.SPREAD_I)


@functools.lru_cache(maxsize=64)
def _coating_response(coating: tuple) -> tuple[float, float, float]:
    """(field at 3 % H3, fundamental there, small-signal gain) of a coating at its optimum bias,
    in its own units (median switching field; M/Ms)."""
    rec = BiasedRecording(bias=1.0, sigma=coating[0], spread_i=coating[1])
    h3 = rec.field_at(0.03)
    return h3, rec.fundamental(h3), rec.small_signal_gain


def _coating_scales(t: TapeFormulation) -> tuple[float, float]:
    """(ρ, κ): the tape's remanence scale and field scale against the reference coating, so that
    m_T(H) = ρ·table_T(κ·H) gives its data-sheet MOL (fundamental at 3 % H3, ``mol_db``) and
    small-signal sensitivity (``sensitivity_db``) in the units of the reference coating."""
    _, c_ref, s_ref = _coating_response(_REFERENCE_COATING)
    _, c_t, s_t = _coating_response(t.coating_key)
    rho = 10 ** (t.mol_db / 20) * c_ref / c_t
    kappa = 10 ** (t.sensitivity_db / 20) * s_ref / (rho * s_t)
    return rho, kappa


def _known_tape(tape, preset: DeckPreset) -> TapeFormulation:
    """The formulation ``tape`` (None: the preset's usual one), checked to fit ``preset``."""
    t = known_tape(preset.tape if tape is None else tape, TapeError)
    if t.kind != preset.kind:
        fits = [n for n, f in TAPES.items() if f.kind == preset.kind]
        raise TapeError(f"{t.name} is {t.kind} tape and does not fit the {preset.kind} deck "
                        f"{preset.name}; its tapes: {', '.join(fits)}")
    return t


def known_deck(name: str) -> DeckPreset:
    """The preset called ``name`` (raises :class:`TapeError` listing the known ones)."""
    key = str(name).strip().lower()
    if key not in PRESETS:
        raise TapeError(f"unknown deck {name!r}; known decks: {', '.join(PRESETS)}")
    return PRESETS[key]


class TapeDeck:
    """One tape recorder of a preset model, with its own speed error and head azimuth.

    Parameters
    ----------
    model : str or DeckPreset
        Preset name (``izdat decks`` lists them) or a :class:`DeckPreset`.
    seed : int, default 0
        Serial number of this machine: draws its speed error and azimuth within the model's
        tolerances, and seeds its wow, hiss, hum and dropouts.
    speed_error_pct : float, optional
        Steady speed error in per cent (−5 … 5); drawn from ``seed`` when omitted.
    azimuth_arcmin : float, optional
        Head azimuth error in arc minutes (−60 … 60); drawn from ``seed`` when omitted.
    bias : float or bool, default 1.0
        AC bias relative to the loaded tape's optimum (0 … 5); ``True``/``False`` is the bias switch (1.0 / 0.0).
    record_level_db : float, default 0.0
        Record-level knob in dB (−30 … 20): + records hotter.
    tape : str or TapeFormulation, optional
        The tape loaded (``izdat tapes`` lists them; it must fit the deck's kind); the preset's
        usual tape (``preset.tape``) when omitted. The deck stays aligned for its usual tape.
    bias_trim : bool, default True
        True: the bias is trimmed to the loaded tape (``bias`` is a ratio to its optimum, as a tape
        selector or a service alignment sets it). False: the bias current stays where the usual
        tape wants it (a deck with no tape selector), so the loaded tape sees
        ``effective_bias = bias · Hc_usual / Hc_tape`` (the optimum bias field taken as
        proportional to the coercivity): chrome on a ferric deck is under-biased, brighter and dirtier.

    Every setting may be changed later (``deck.record_level_db = 10``): it is checked at once
    (:class:`TapeError`) and the deck then records and plays as a new one built with it.
    :attr:`LIMITS` holds the ranges.

    Examples
    --------
    >>> from izdat.tape import TapeDeck
    >>> deck = TapeDeck("elektronika-302", seed=1)
    >>> deck.preset.speed_cm_s
    4.76
    >>> deck.tape.name, TapeDeck("elektronika-302", tape="chrome").tape.coercivity_ka_m
    ('a4409-6b', 40.0)
    """

    #: Each numeric setting's range: name -> (lowest, highest, unit); the CLI and the studio take
    #: theirs from it. ``seed`` is a whole number.
    LIMITS: dict[str, tuple[float, float, str]] = {
        "seed": (0, 2**63 - 1, ""),
        "speed_error_pct": (-5.0, 5.0, "%"),
        "azimuth_arcmin": (-60.0, 60.0, "arc minutes"),
        "bias": (0.0, 5.0, "(1 = optimum)"),
        "record_level_db": (-30.0, 20.0, "dB"),
    }

    def __init__(self, model: str | DeckPreset = "elektronika-302", *, seed: int = 0,
                 speed_error_pct: float | None = None, azimuth_arcmin: float | None = None,
                 bias: float = 1.0, record_level_db: float = 0.0,
                 tape: str | TapeFormulation | None = None, bias_trim: bool = True):
        self._preset = _known_preset(model)
        self._bias_trim = _check_switch("bias_trim", bias_trim)
        self._tape_set = None if tape is None else _known_tape(tape, self._preset)
        self._seed = _check_seed(seed)
        self._speed_set = None if speed_error_pct is None else _check("speed_error_pct", speed_error_pct)
        self._azimuth_set = None if azimuth_arcmin is None else _check("azimuth_arcmin", azimuth_arcmin)
        self._bias = _check_bias(bias)
        self._record_level_db = _check("record_level_db", record_level_db)
        self._build()
        self.reset()

    # Settings are properties checked when set. The parts that follow from them (the transport, the
    # hysteresis, the drawn speed error and azimuth, the playback gain) are rebuilt at once, so a deck
    # changed after use plays and records what a new deck with those settings would; its random
    # streams go on where they were (``reset()`` restarts them), except that a new seed restarts them.
    @property
    def preset(self) -> DeckPreset:
        """The model (a :class:`DeckPreset`; set it by name or preset)."""
        return self._preset

    @preset.setter
    def preset(self, model):
        preset = _known_preset(model)
        if self._tape_set is not None:
            _known_tape(self._tape_set, preset)
        self._preset = preset
        self._build()

    @property
    def tape(self) -> TapeFormulation:
        """The tape loaded (a :class:`TapeFormulation`; set it by name, or ``None`` for the usual one)."""
        return self._tape

    @tape.setter
    def tape(self, value):
        self._tape_set = None if value is None else _known_tape(value, self._preset)
        self._build()

    @property
    def seed(self) -> int:
        """Serial number of this machine (0 … 2⁶³ − 1): draws the speed error and azimuth not given."""
        return self._seed

    @seed.setter
    def seed(self, value):
        self._seed = _check_seed(value)
        self._build()
        self.reset()

    @property
    def speed_error_pct(self) -> float:
        """Steady speed error (%), −5 … 5; set ``None`` to draw it from the seed again."""
        return self._speed_error_pct

    @speed_error_pct.setter
    def speed_error_pct(self, value):
        self._speed_set = None if value is None else _check("speed_error_pct", value)
        self._build()

    @property
    def azimuth_arcmin(self) -> float:
        """Head azimuth error (arc minutes), −60 … 60; set ``None`` to draw it from the seed again."""
        return self._azimuth_arcmin

    @azimuth_arcmin.setter
    def azimuth_arcmin(self, value):
        self._azimuth_set = None if value is None else _check("azimuth_arcmin", value)
        self._build()

    @property
    def bias(self) -> float:
        """AC bias relative to the loaded tape's optimum, 0 … 5 (``True``/``False``: the bias switch, 1 or 0)."""
        return self._bias

    @bias.setter
    def bias(self, value):
        self._bias = _check_bias(value)
        self._build()

    @property
    def bias_trim(self) -> bool:
        """Whether the bias is trimmed to the loaded tape (True) or left for the usual tape (False)."""
        return self._bias_trim

    @bias_trim.setter
    def bias_trim(self, value):
        self._bias_trim = _check_switch("bias_trim", value)
        self._build()

    @property
    def effective_bias(self) -> float:
        """The bias the loaded tape sees, re its own optimum (``bias``, or with ``bias_trim`` off
        ``bias · Hc_usual / Hc_tape``, at most 5)."""
        if self._bias_trim:
            return self._bias
        return min(self._bias * self._usual.coercivity_ka_m / self._tape.coercivity_ka_m,
                   TapeDeck.LIMITS["bias"][1])

    @property
    def record_level_db(self) -> float:
        """Record-level knob (dB), −30 … 20."""
        return self._record_level_db

    @record_level_db.setter
    def record_level_db(self, value):
        self._record_level_db = _check("record_level_db", value)
        self._build()

    def _build(self) -> None:
        """The parts that follow from the settings: drawn errors, transport, hysteresis; no stale gain."""
        p = self._preset
        serial = np.random.default_rng([self._seed, 0x7A9E])
        drawn_speed = serial.uniform(-1, 1) * p.speed_tolerance_pct
        drawn_az = serial.uniform(-1, 1) * p.azimuth_tolerance_arcmin
        self._speed_error_pct = _check("speed_error_pct", drawn_speed) if self._speed_set is None else self._speed_set
        self._azimuth_arcmin = _check("azimuth_arcmin", drawn_az) if self._azimuth_set is None else self._azimuth_set
        self._transport = Transport(
            speed_m_s=p.speed_m_s, capstan_diameter_m=p.capstan_diameter_m,
            roller_diameter_m=p.roller_diameter_m, reel_radius_m=p.reel_radius_m,
            motor_hz=p.motor_hz, shares=p.flutter_shares, flutter_scale_pct=p.flutter_scale_pct)
        self._tape = self._tape_set if self._tape_set is not None else _known_tape(None, p)
        self._usual = TAPES[p.tape]
        t, u = self._tape, self._usual
        self._hysteresis = BiasedRecording(bias=self.effective_bias, sigma=t.switching_spread,
                                           spread_i=t.interaction_spread)
        # what the deck's levels were aligned with: its usual tape at the optimum bias
        self._optimum = BiasedRecording(bias=1.0, sigma=u.switching_spread, spread_i=u.interaction_spread)
        self._rho, self._kappa = _coating_scales(t)
        self._rho_u, self._kappa_u = _coating_scales(u)
        self._zone_m = p.record_zone_m * t.zone_scale / u.zone_scale
        h3_ref, _, s_ref = _coating_response(_REFERENCE_COATING)
        h3_u, _, s_u = _coating_response(u.coating_key)
        # hiss in M/Ms: the preset's (calibrated on the reference coating) kept at the output for
        # the usual tape, and the loaded tape's noise against the usual one's
        self._hiss = (10 ** (p.hiss_db / 20) * 10 ** ((t.noise_db - u.noise_db) / 20)
                      * self._rho_u * s_u * h3_u / (s_ref * h3_ref))
        self._gains: dict[float, float] = {}

    @property
    def transport(self) -> Transport:
        """The capstan, roller, reels and motor of this model (follows :attr:`preset`)."""
        return self._transport

    @property
    def hysteresis(self) -> BiasedRecording:
        """The coating's recording under this deck's bias (follows :attr:`preset` and :attr:`bias`)."""
        return self._hysteresis

    def __repr__(self):
        return (f"TapeDeck({self.preset.name!r}, seed={self.seed}, speed_error_pct="
                f"{self.speed_error_pct:+.2f}, azimuth_arcmin={self.azimuth_arcmin:+.1f}, "
                f"bias={self.bias:g}, record_level_db={self.record_level_db:g}, tape={self.tape.name!r}"
                + ("" if self.bias_trim else ", bias_trim=False") + ")")

    @property
    def name(self) -> str:
        return self.preset.name

    @property
    def azimuth_rad(self) -> float:
        return self.azimuth_arcmin * _ARCMIN

    def reset(self) -> None:
        """Back to the state just after switching on: the random streams restart from the seed."""
        self._rng = np.random.default_rng([self.seed, 0x5EED])
        # the tape's own randomness (modulation noise) has a stream of its own, so that the
        # transport's, hiss's and hum's draws stay those the presets were calibrated with
        self._tape_rng = np.random.default_rng([self.seed, 0x7A9E5])

    # ------------------------------------------------------------------ chains
    def _t1_t2(self):
        """The EQ time constants (µs): the preset's standard, or 3180 + 70 µs for chrome (IEC II)
        tape on a cassette deck with a chrome switch (IEC 60094-7)."""
        p = self.preset
        if p.kind == "cassette" and p.chrome_switch and self.tape.iec_type == "II":
            return (3180.0, 70.0)
        return heads.EQ_TIME_CONSTANTS_US[(p.eq, p.speed_cm_s)]

    def record_chain(self, fs_hz: float, bias: float | None = None) -> heads.LinearChain:
        """The record equaliser, with the treble change of ``bias`` (default: the deck's) against the
        optimum it was aligned at: a record-side change, so it shapes the signal written here, not the
        tape's hiss nor tapes recorded elsewhere."""
        p = self.preset
        t1, t2 = self._t1_t2()
        return heads.record_chain(float(fs_hz), t1, t2, min(p.boost_hz, 0.42 * fs_hz), p.boost_db,
                                  p.boost_q, p.speed_m_s, self.effective_bias if bias is None else float(bias),
                                  p.depth_m, p.record_zone_m, self.tape.coating_key, self._zone_m)

    def playback_chain(self, fs_hz: float, azimuth_error_rad: float) -> heads.LinearChain:
        p = self.preset
        t1, t2 = self._t1_t2()
        return heads.playback_chain(float(fs_hz), p.speed_m_s, t1, t2, p.spacing_m,
                                    p.depth_m, p.gap_m, p.track_width_m, float(azimuth_error_rad),
                                    p.bump_hz, p.bump_db, p.lower_hz, p.playback_bw_hz)

    def _field_gain(self, fs_hz: float = 48000.0) -> float:
        """Head field (units of the median switching field) per unit of audio.

        A 315 Hz sine at the reference level has the rms ``REFERENCE_DBFS`` and the peak √2 times it;
        its peak field after the record EQ is put ``headroom_db`` below the peak field of the 3 %
        point at the optimum bias (both peaks of one sine, so the 3 % point lies ``headroom_db``
        above the reference level in rms too). Issue 16: the 3 % field was once applied to the rms
        level, which put every deck's 3 % point 3 dB lower than its preset said.

        The third harmonic is read at the output, after the record-zone loss and the playback chain,
        which lift it by ρ = |P(3f)/P(f)| over the remanence's own (the playback EQ's treble rise: 1.5 dB at 4.76 cm/s),
        so the tape's remanence is taken to 3 %/ρ.
        """
        p = self.preset
        f = np.array([_ALIGN_HZ, 3 * _ALIGN_HZ])
        eq = abs(self.record_chain(fs_hz, bias=1.0).response(f[:1])[0])
        play = (np.abs(self.playback_chain(fs_hz, 0.0).response(f))
                * np.abs(heads.after_zone_chain(fs_hz, p.speed_m_s, p.record_zone_m).response(f)))
        peak_at_ref = np.sqrt(2.0) * 10 ** (REFERENCE_DBFS / 20) * eq
        h_ref = (self._optimum.field_at(round(0.03 * play[0] / play[1], 6)) / self._kappa_u
                 / 10 ** (p.headroom_db / 20))
        return h_ref / peak_at_ref * 10 ** (self.record_level_db / 20)

    def _playback_gain(self, fs_hz: float) -> float:
        """Playback gain that returns a small 1 kHz tone at its recorded level on a deck aligned at the
        optimum bias (calibrated once there: another bias changes the level, as on a real deck); kept
        per rate until a setting changes."""
        fs_hz = float(fs_hz)
        if fs_hz not in self._gains:
            f = np.array([1000.0])
            lin = (abs(self.record_chain(fs_hz, bias=1.0).response(f)[0])
                   * abs(heads.after_zone_chain(fs_hz, self.preset.speed_m_s, self.preset.record_zone_m).response(f)[0])
                   * abs(self.playback_chain(fs_hz, 0.0).response(f)[0]))
            self._gains[fs_hz] = 1.0 / (lin * self._field_gain(fs_hz) * self._rho_u * self._kappa_u
                                        * self._optimum.small_signal_gain)
        return self._gains[fs_hz]

    # ------------------------------------------------------------------ verbs
    def _check_audio(self, audio) -> Audio:
        if not isinstance(audio, Audio):
            raise TapeError(f"a deck records Audio, not {type(audio).__name__}")
        if len(audio) == 0:
            raise TapeError("the audio to record is empty: it holds no samples")
        if not np.all(np.isfinite(audio.samples)):
            raise TapeError("the audio to record holds NaN or infinite samples")
        if not _MIN_RATE_HZ <= audio.sample_rate <= _MAX_RATE_HZ:
            raise TapeError(f"the deck records audio at {_MIN_RATE_HZ:g} to {_MAX_RATE_HZ:g} Hz, "
                            f"not {audio.sample_rate:g} Hz")
        return audio

    def record(self, audio: Audio) -> Tape:
        """Record ``audio`` onto a fresh (bulk-erased) tape.

        Stereo audio is recorded on two tracks by stereo-capable models; all presets here are
        used on one track, so stereo is mixed to mono first.

        Returns
        -------
        Tape
        """
        audio = self._check_audio(audio).mono()
        fs = float(audio.sample_rate)
        p = self.preset
        rng = self._rng
        x = audio.samples
        # record EQ and the head field
        h = self.record_chain(fs)(x) * np.float32(self._field_gain(fs))
        m = self._record_field(h, fs)
        # time base: tape position j holds the signal of real time (j − dev)/(1 + ε)
        ratio = 1.0 + self.speed_error_pct / 100.0
        n_tape = int(np.floor(m.size * ratio))
        w = self.transport.speed_variation(m.size / fs + 1.0, rng)
        dev = self.transport.position_deviation(w, fs)
        m = warp(m, ratio=1.0 / ratio, deviation=dev / ratio, control_rate_hz=CONTROL_RATE_HZ * ratio,
                 sample_rate=fs, sign=-1.0, n_out=n_tape)
        m = self._modulation_noise(m, fs, self._tape_rng)
        m = self._print_through(m, fs)
        m = self._dropouts(m, fs, rng)
        # tape particle noise (hiss): white in magnetisation, shaped later by the playback chain
        m += rng.standard_normal(m.size, dtype=np.float32) * np.float32(self._hiss)
        return Tape(m, fs, p.speed_cm_s, p.kind, self.tape.coating, self.azimuth_rad,
                    (f"recorded on {p.name}",), stock=self.tape.name, turn_m=self._turn_m)

    def _record_field(self, h: np.ndarray, fs: float) -> np.ndarray:
        """The remanence written by the head field ``h``: the coating's biased recording, with the
        self-bias of loud treble (:func:`preisach.self_bias`: the sensitivity falls as b/b_eff), then
        the record-zone loss (:func:`heads.zone_loss`) that the record EQ's treble current made up.
        With no bias (under 0.05) the recording is the bare remanence curve."""
        p = self.preset
        after = heads.after_zone_chain(fs, p.speed_m_s, self._zone_m)
        x = h * np.float32(self._kappa)   # the field in the loaded coating's own units
        rho = np.float32(self._rho)
        bias = self.effective_bias
        if bias < 0.05:
            return after(self.hysteresis.magnetise(x)) * rho
        gain = preisach.self_bias(x, fs, p.speed_m_s, self._zone_m, bias)
        return after(self.hysteresis.magnetise(x, gain)) * rho

    def play(self, tape: Tape) -> Audio:
        """Play ``tape`` on this deck and return the line output as :class:`Audio`."""
        if not isinstance(tape, Tape):
            raise TapeError(f"a deck plays a Tape, not {type(tape).__name__}")
        p = self.preset
        if tape.kind != p.kind:
            raise TapeError(f"a {tape.kind} tape does not fit the {p.kind} deck {p.name}")
        if abs(tape.speed_cm_s - p.speed_cm_s) > 0.05:
            raise TapeError(f"the tape was recorded at {tape.speed_cm_s:g} cm/s but {p.name} "
                            f"plays at {p.speed_cm_s:g} cm/s")
        if len(tape) < 8:
            raise TapeError("the tape holds too little to play (fewer than 8 samples)")
        fs = float(tape.sample_rate)
        rng = self._rng
        m = tape.magnetisation if tape.magnetisation.ndim == 1 else tape.magnetisation.mean(axis=1)
        ratio = 1.0 + self.speed_error_pct / 100.0
        n_out = int(np.floor((m.size - 3) / ratio))
        w = self.transport.speed_variation(n_out / fs + 1.0, rng)
        dev = self.transport.position_deviation(w, fs)
        y = warp(m, ratio=ratio, deviation=dev, control_rate_hz=CONTROL_RATE_HZ, sample_rate=fs,
                 sign=1.0, n_out=n_out)
        chain = self.playback_chain(fs, self.azimuth_rad - tape.azimuth_rad)
        y = chain(y) * np.float32(self._playback_gain(fs))
        y = self._hum(y, fs, rng)
        return Audio(y, fs)

    def dub(self, tape: Tape, *, onto: "TapeDeck | None" = None) -> Tape:
        """Play ``tape`` on this deck and record it on ``onto`` (this deck when omitted)."""
        target = self if onto is None else onto
        if not isinstance(target, TapeDeck):
            raise TapeError(f"onto must be a TapeDeck, not {type(onto).__name__}")
        copy = target.record(self.play(tape))
        return copy.replace(history=tape.history + (f"played on {self.name}",) + copy.history)

    # ------------------------------------------------------------------ defects
    @property
    def _turn_m(self) -> float:
        """Length of one turn of the pack, m (the reel's or cassette hub pack's radius)."""
        return 2 * np.pi * self.preset.reel_radius_m

    def _print_through(self, m: np.ndarray, fs: float) -> np.ndarray:
        """The first day's print (:func:`izdat.tape.formulations.print_echo` at the tape's 24-hour
        figure): pre-echo one turn ahead, post-echo one turn behind, about the worst wavelength
        2π·thickness; :func:`izdat.tape.formulations.store` grows it with the years."""
        level_db = print_through_db(self.tape, 0.0)
        if level_db <= -120:
            return m
        return m + print_echo(m, fs, self.preset.speed_m_s, self._turn_m, self.tape.thickness_um,
                              10 ** (level_db / 20))

    def _modulation_noise(self, m: np.ndarray, fs: float, rng: np.random.Generator) -> np.ndarray:
        """Noise that follows the signal: the written magnetisation times 1 + μ(x), μ a random
        variation of the coating along the tape (particle density, thickness, surface), Gaussian,
        rms ``modulation_noise_db`` re 1, first-order low-pass in wavelength above
        MOD_NOISE_WAVELENGTH_M (so its sidebands sit within about v/λ of each tone and scale
        with it). Drawn from this deck's stream for the tape (``reset`` restarts it)."""
        level = 10 ** (self.tape.modulation_noise_db / 20)
        if level < 1e-6 or m.size < 2:
            return m
        fc = min(self.preset.speed_m_s / MOD_NOISE_WAVELENGTH_M, 0.45 * fs)
        a = float(np.exp(-2 * np.pi * fc / fs))
        gain = level / np.sqrt((1.0 - a) / (1.0 + a))   # over the rms of a one-pole low-pass of unit white noise
        mu = sps.lfilter(np.array([(1.0 - a) * gain], np.float32), np.array([1.0, -a], np.float32),
                         rng.standard_normal(m.size, dtype=np.float32))
        return m * (np.float32(1.0) + mu.astype(np.float32))

    def _dropouts(self, m: np.ndarray, fs: float, rng: np.random.Generator) -> np.ndarray:
        """Oxide flaws: short stretches where the head is lifted by extra spacing Δd."""
        p = self.preset
        count = rng.poisson(p.dropouts_per_min * m.size / fs / 60.0)
        if count == 0:
            return m
        out = m.copy()
        for _ in range(count):  # a handful per minute: Python here is per dropout, not per sample
            length = int(rng.uniform(0.003, 0.03) * fs)
            start = int(rng.integers(0, max(m.size - length, 1)))
            extra_m = rng.uniform(0.3e-6, 2e-6)
            # extra spacing: e^(−kΔd) ≈ a one-pole low-pass with its −8.7 dB point at kΔd = 1
            fc = min(p.speed_m_s / (2 * np.pi * extra_m), 0.45 * fs)
            seg = out[start:start + length]
            b, a = sps.butter(1, fc, fs=fs)
            low = sps.lfilter(b, a, seg).astype(np.float32)
            env = np.sin(np.linspace(0, np.pi, seg.size, dtype=np.float32)) ** 2
            out[start:start + length] = seg + env * (low - seg)
        return out

    def _hum(self, y: np.ndarray, fs: float, rng: np.random.Generator) -> np.ndarray:
        """50 Hz mains hum with 100 and 150 Hz, random phase per playing."""
        level = 10 ** (self.preset.hum_db / 20)
        if level < 1e-6:
            return y
        phase = rng.uniform(0, 2 * np.pi, 3)
        period = fs / MAINS_HZ
        n = int(round(period)) if abs(period - round(period)) < 1e-9 else y.size
        t = np.arange(n) / fs
        wave = sum(a * np.sin(2 * np.pi * MAINS_HZ * (i + 1) * t + ph)
                   for i, (a, ph) in enumerate(zip((1.0, 0.3, 0.5), phase)))
        wave = (np.sqrt(2) * level / np.sqrt(1 + 0.09 + 0.25) * wave).astype(np.float32)
        return y + (np.resize(wave, y.size) if n != y.size else wave)
