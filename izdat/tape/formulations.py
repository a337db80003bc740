"""Tape formulations: what a deck records on (``TAPES``), and what storage does to a tape (``store``).

A :class:`TapeFormulation` is one tape stock: its coating's hysteresis (coercivity, switching-field
spread, interaction-field width), its data-sheet figures — sensitivity, MOL (315 Hz, 3 % H3),
SOL (10 kHz) and bias noise, in dB against a reference tape — and its print-through and modulation
noise. Each figure carries its unit and its source or the assumption it rests on (``sources``,
``notes`` and docs/tape.md, "Tape formulations").

How the figures act (izdat.tape.deck): a deck is aligned for its usual tape (``DeckPreset.tape``):
its record level, playback gain and hiss were set with it. A deck loaded with another tape (``TapeDeck(tape=…)``,
``izdat dub --tape``) keeps that alignment, as a real one does, except the bias, which is trimmed to
the loaded tape's optimum (a tape selector or the bias trimmer of a service alignment; ``bias`` is a
ratio to that optimum). So another tape plays louder or softer by the difference of sensitivities,
saturates earlier or later by the difference of MOLs and SOLs, and hisses by the difference of noises.

Print-through grows with the logarithm of storage time: the level after ``t`` of storage is
``print_through_db + print_growth_db_per_decade · log10(t / 1 day)`` (the data-sheet figure is read
after 24 h at 20 °C; the growth as ln t follows from thermal activation of the smallest particles,
Bertram, Stafford & Mills, "The print-through phenomenon", *J. Audio Eng. Soc.* 28 (1980) 690).
A freshly recorded :class:`~izdat.tape.deck.Tape` carries the 24-hour print; :func:`store` adds what
more years on the shelf print.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import scipy.signal as sps

from izdat._check import check_number
from izdat.errors import IzdatError

__all__ = ["TapeError", "TapeFormulation", "TAPES", "tape_names", "known_tape", "store", "print_through_db",
           "STORED_YEARS_MAX", "MOD_NOISE_WAVELENGTH_M"]

#: The most storage :func:`store` and ``izdat dub --stored-years`` take, years.
STORED_YEARS_MAX = 100.0
#: Corner wavelength of modulation noise along the tape, m (its spectrum falls as a first-order
#: low-pass above v/λ: 480 Hz from the carrier at 4.76 cm/s, 1.9 kHz at 19.05 cm/s; assumption, of
#: the order of coating-thickness and particle-clump variations seen in modulation-noise spectra).
MOD_NOISE_WAVELENGTH_M = 100e-6
_DAY_YEARS = 1.0 / 365.25


class TapeError(IzdatError, ValueError):
    """A deck setting out of range, an unknown deck or tape, or a tape a deck cannot play or store."""


#: Each numeric field's range (lo, hi, unit); ``print_through_db`` and ``modulation_noise_db`` go
#: down to −400 dB, which switches them off (what the service measurements do).
LIMITS: dict[str, tuple[float, float, str]] = {
    "coercivity_ka_m": (5.0, 200.0, "kA/m"),
    "switching_spread": (0.05, 1.0, "(σ of ln hk)"),
    "interaction_spread": (0.05, 1.0, "(units of the median hk)"),
    "sensitivity_db": (-20.0, 20.0, "dB"),
    "mol_db": (-20.0, 20.0, "dB"),
    "sol_db": (-20.0, 20.0, "dB"),
    "noise_db": (-20.0, 20.0, "dB"),
    "thickness_um": (5.0, 100.0, "µm"),
    "print_through_db": (-400.0, -20.0, "dB"),
    "print_growth_db_per_decade": (0.0, 10.0, "dB per decade"),
    "modulation_noise_db": (-400.0, -10.0, "dB"),
    "zone_scale": (0.1, 10.0, ""),
}


@dataclass(frozen=True)
class TapeFormulation:
    """One tape stock: coating, data-sheet figures, print-through and modulation noise.

    The dB figures are against a reference tape (the IEC I reference for cassette tapes, close to
    TDK AD here; for reel tape the same class of reference, see docs/tape.md) and are what a service
    bench reads at the optimum bias: only their differences between two tapes act in the model.
    """

    name: str                        # CLI name
    title: str                       # as sold
    made: str                        # maker, country, years
    kind: str                        # "reel" or "cassette" (which decks it fits)
    coating: str                     # "Fe2O3" or "CrO2" (what izdat.tape.erase reads)
    iec_type: str                    # "I" (ferric, 120 µs at 4.76 cm/s) or "II" (chrome, 70 µs)
    # --- coating (hysteresis) ---
    coercivity_ka_m: float           # Hc, kA/m
    switching_spread: float          # σ of ln hk (switching-field distribution), dimensionless
    interaction_spread: float        # width of the interaction fields, units of the median hk
    # --- data-sheet figures, dB re the reference tape, at the tape's optimum bias ---
    sensitivity_db: float            # 315 Hz output at a small level
    mol_db: float                    # 315 Hz output at 3 % H3
    sol_db: float                    # largest 10 kHz output
    noise_db: float                  # bias noise (erased tape), unweighted, in flux (before the EQ)
    # --- storage and modulation noise ---
    thickness_um: float              # total tape thickness (base + coating), µm: one layer of the pack
    print_through_db: float          # print-through after 24 h at 20 °C, dB re the signal (at its worst wavelength)
    print_growth_db_per_decade: float  # dB per tenfold storage time
    modulation_noise_db: float       # rms of the signal's noise modulation, dB re the signal (all sidebands)
    # --- model realisation ---
    zone_scale: float = 1.0          # recording zone re the deck's fitted one (fitted: the SOL difference)
    sources: tuple[str, ...] = ()
    notes: str = ""

    def __post_init__(self):
        if self.kind not in ("reel", "cassette"):
            raise TapeError(f"a tape's kind must be 'reel' or 'cassette', not {self.kind!r}")
        if self.iec_type not in ("I", "II"):
            raise TapeError(f"a tape's iec_type must be 'I' or 'II', not {self.iec_type!r}")
        for key, (lo, hi, unit) in LIMITS.items():
            object.__setattr__(self, key, check_number(key, getattr(self, key), lo, hi, unit, error=TapeError))

    @property
    def coating_key(self) -> tuple[float, float]:
        """``(switching_spread, interaction_spread)``: what izdat.tape.preisach tabulates."""
        return (float(self.switching_spread), float(self.interaction_spread))

    def published(self) -> dict:
        """Its figures with unit-carrying keys (``izdat tapes --json``)."""
        d = dataclasses.asdict(self)
        d["sources"] = list(self.sources)
        return d


_AUDIOCHROME = ("audiochrome (Nakamichi BX-300E measurements), 'Cassette tape measurements: TDK OD, "
                "AD, AD-X, AR', http://audiochrome.blogspot.com/2018/ : TDK AD (1979) against Maxell UR "
                "(1994, close to the IEC I reference): relative sensitivity 0 dB, MOL400 (3 %) +5.3 dB "
                "(UR +5.3), SOL10k -0.8 dB (UR -1.3), bias noise -49.7 dB (UR -49.5)")
_COERCIVITY = ("coercivity of gamma-Fe2O3 audio tape about 24 kA/m (300 Oe), CrO2 about 40 kA/m "
               "(500 Oe): Mee & Daniel, Magnetic Recording Technology (1996), as izdat.tape.erase")
_PRINT = ("print-through worst at a wavelength of 2 pi times the tape's thickness (3M, 'Print-through', "
          "AES historical committee, http://www.aes.org/aeshc/docs/3mtape/printthrough.pdf, as quoted "
          "on ARSCLIST 2013-10); grows as ln t (Bertram, Stafford & Mills, JAES 28, 1980)")

TAPES: dict[str, TapeFormulation] = {t.name: t for t in [
    TapeFormulation(
        name="svema-type-6", title="Svema type 6 (тип 6) reel tape", made="Svema, Shostka, USSR, 1960s-70s",
        kind="reel", coating="Fe2O3", iec_type="I",
        coercivity_ka_m=22.0, switching_spread=0.34, interaction_spread=0.32,
        sensitivity_db=-1.0, mol_db=+1.0, sol_db=-4.0, noise_db=+2.0,
        thickness_um=35.0, print_through_db=-56.0, print_growth_db_per_decade=2.0,
        modulation_noise_db=-40.0,
        sources=(_COERCIVITY, _PRINT, "no data sheet of type 6 was found in this project's sources: "
                 "every dB figure is an assumption (docs/tape.md [T3])"),
        notes="ASSUMED: coarse gamma-Fe2O3 on a thick base; a thick coating gives a high 315 Hz MOL "
              "(+1 dB) but poor short-wavelength output (SOL -4 dB), more hiss (+2 dB), broad "
              "switching fields (sigma 0.34) and strong modulation noise (-40 dB)"),
    TapeFormulation(
        name="a4409-6b", title="A4409-6B (А4409-6Б) cassette tape (Svema MK-60 class)",
        made="Svema, Shostka, USSR, 1970s-80s", kind="cassette", coating="Fe2O3", iec_type="I",
        coercivity_ka_m=23.0, switching_spread=0.36, interaction_spread=0.32,
        sensitivity_db=-1.5, mol_db=-2.5, sol_db=-3.5, noise_db=+2.5,
        thickness_um=18.0, print_through_db=-52.0, print_growth_db_per_decade=2.0,
        modulation_noise_db=-40.0, zone_scale=1.373,  # zone_scale fitted (calibrate.fit_zone_scale)
        sources=(_COERCIVITY, _PRINT, "no data sheet of A4409-6B was found in this project's sources "
                 "(magnetofon.ru lists Svema MK60-1, 1979-80, tape A4203-3, 16+2 um thick, without its "
                 "magnetic figures in the part retrieved): every dB figure is an assumption "
                 "(docs/tape.md [T2])"),
        notes="ASSUMED: the Soviet cassette ferric below the Japanese low-noise class in every figure: "
              "sensitivity -1.5, MOL -2.5, SOL10k -3.5, noise +2.5 dB re the reference; 18 um thick "
              "(C-60); the broadest switching fields of the four (sigma 0.36)"),
    TapeFormulation(
        name="tdk-ad", title="TDK AD (TDK D / AD class low-noise ferric) cassette tape",
        made="TDK, Japan, 1979", kind="cassette", coating="Fe2O3", iec_type="I",
        coercivity_ka_m=28.0, switching_spread=0.30, interaction_spread=0.30,
        sensitivity_db=0.0, mol_db=0.0, sol_db=+0.5, noise_db=-0.2,
        thickness_um=18.0, print_through_db=-54.0, print_growth_db_per_decade=2.0,
        modulation_noise_db=-46.0,
        sources=(_AUDIOCHROME, _COERCIVITY, _PRINT,
                 "coercivity 28 kA/m (350 Oe, a low-noise ferric), print-through and modulation noise "
                 "are assumptions (docs/tape.md [T1])"),
        notes="sensitivity, MOL, SOL10k and noise are audiochrome's measurements against Maxell UR "
              "(the reference here): 0, 0, +0.5, -0.2 dB; the coating is the model's default one"),
    TapeFormulation(
        name="chrome", title="Chromium dioxide (CrO2, BASF Chromdioxid class) cassette tape",
        made="BASF / TDK / Agfa class, West Germany and Japan, 1970s", kind="cassette",
        coating="CrO2", iec_type="II",
        coercivity_ka_m=40.0, switching_spread=0.24, interaction_spread=0.28,
        sensitivity_db=0.0, mol_db=-1.5, sol_db=+4.5, noise_db=-1.0,
        thickness_um=18.0, print_through_db=-58.0, print_growth_db_per_decade=2.0,
        modulation_noise_db=-48.0, zone_scale=0.445,  # zone_scale fitted (calibrate.fit_zone_scale)
        sources=(_COERCIVITY, _PRINT, "no data sheet figure against the IEC I reference was found here: "
                 "the dB figures are assumptions from the class's known behaviour (docs/tape.md [T4])"),
        notes="ASSUMED, in flux (the same 120 us reading as the ferrics): sensitivity 0, MOL315 -1.5 dB "
              "(chrome's weaker bass headroom), SOL10k +4.5 dB (its short-wavelength headroom), "
              "noise -1 dB (finer particles); narrow switching fields (sigma 0.24), smooth surface "
              "(modulation noise -48 dB), stable particles (print-through -58 dB). A deck with a "
              "chrome switch (DeckPreset.chrome_switch) plays it with 70 us: 4.4 dB less hiss at 10 kHz"),
]}


def tape_names() -> list[str]:
    """The CLI names of all tape formulations, in order."""
    return list(TAPES)


def known_tape(name, error=None) -> TapeFormulation:
    """The formulation called ``name`` (a :class:`TapeFormulation` passes through); else ``error``
    (default :class:`~izdat.tape.deck.TapeError`) listing the known ones."""
    if isinstance(name, TapeFormulation):
        return name
    error = TapeError if error is None else error
    if not isinstance(name, str):
        raise error(f"tape must be a formulation's name or a TapeFormulation, not {name!r}; "
                    f"known tapes: {', '.join(TAPES)}")
    key = name.strip().lower()
    if key not in TAPES:
        raise error(f"unknown tape {name!r}; known tapes: {', '.join(TAPES)}")
    return TAPES[key]


def print_through_db(formulation: TapeFormulation, stored_years: float) -> float:
    """Print-through level (dB re the signal) after ``stored_years`` on the shelf plus the first day:
    ``print_through_db + growth · log10((1 day + stored) / 1 day)``."""
    t = known_tape(formulation)
    days = 1.0 + float(stored_years) / _DAY_YEARS
    return t.print_through_db + t.print_growth_db_per_decade * np.log10(days)


def print_echo(m: np.ndarray, fs: float, speed_m_s: float, turn_m: float, thickness_um: float,
               level: float) -> np.ndarray:
    """The print of ``m`` on its neighbours, amplitude ``level`` (linear): pre-echo one turn
    (``turn_m`` of tape) ahead from the next layer out, post-echo one turn behind at 0.6 of it
    (assumption: the outer print is the stronger), band-limited around the worst wavelength
    2π·thickness (first-order band-pass 1/2.5 … 2.5 times it). Returns the echo alone."""
    echo = np.zeros_like(m)
    lag = int(round(turn_m / speed_m_s * fs))
    if level <= 0 or m.size < 16 or not 0 < lag < m.size:
        return echo
    f_peak = speed_m_s / (2 * np.pi * thickness_um * 1e-6)
    sos = sps.butter(1, [f_peak / 2.5, min(f_peak * 2.5, 0.45 * fs)], btype="bandpass", fs=fs, output="sos")
    band = (sps.sosfilt(sos, np.asarray(m, dtype=np.float64)) * level).astype(np.float32)
    echo[:-lag] += band[lag:]
    echo[lag:] += band[:-lag] * np.float32(0.6)
    return echo


def store(tape, years: float):
    """``tape`` after ``years`` more on the shelf (0 … STORED_YEARS_MAX, wound as it was recorded):
    its print-through grows from the level of its age so far to the level of its new age
    (:func:`print_through_db`), coherently (the print is a copy of the neighbouring layers).

    Returns a new :class:`~izdat.tape.deck.Tape`; raises :class:`~izdat.tape.deck.TapeError` for a
    bad ``years`` or a tape that does not say what stock it is or how it was wound."""
    from izdat.tape.deck import Tape
    if not isinstance(tape, Tape):
        raise TapeError(f"store needs a Tape, not {type(tape).__name__}")
    years = check_number("stored years", years, 0.0, STORED_YEARS_MAX, "years", error=TapeError)
    if years == 0:
        return tape
    if tape.stock not in TAPES or tape.turn_m <= 0:
        raise TapeError("this tape does not say which stock it is or how it was wound "
                        "(record it on a TapeDeck), so its print-through cannot grow")
    t = TAPES[tape.stock]
    old = 10 ** (print_through_db(t, tape.stored_years) / 20)
    new = 10 ** (print_through_db(t, tape.stored_years + years) / 20)
    m = tape.magnetisation
    mono = m if m.ndim == 1 else m.mean(axis=1)
    echo = print_echo(mono, tape.sample_rate, tape.speed_cm_s / 100.0, tape.turn_m, t.thickness_um,
                      new - old)
    out = m + (echo if m.ndim == 1 else echo[:, None])
    return tape.replace(magnetisation=out, stored_years=tape.stored_years + years,
                        history=tape.history + (f"stored {years:g} years",))
