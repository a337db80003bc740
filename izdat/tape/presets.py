"""Deck presets: the published figures of real machines and the physical settings that meet them.

Published figures and their sources are listed in docs/tape.md (where a figure is not known the
entry says so and the assumption is stated there and in ``notes``). The model settings below the
published block are physical dimensions of heads, amplifiers and transports (typical of the deck
class: playback-head spacing 0.6–1.2 µm, gap 1–4.2 µm, reproduce-amplifier bandwidth) plus three
calibration constants per deck — the record EQ's treble boost (the factory alignment of the record
equaliser), hiss level and flutter scale — fitted with ``python -m izdat.tape.calibrate`` so that
:func:`izdat.tape.meter.measure` meets the published figures. The meter never reads these numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["DeckPreset", "PRESETS", "preset_names"]

_UM = 1e-6
_MM = 1e-3


@dataclass(frozen=True)
class DeckPreset:
    """One tape-deck model: published specification, sources, and physical model settings."""

    name: str                      # CLI name
    title: str                     # model name as sold
    made: str                      # maker, country, year
    kind: str                      # "reel" or "cassette"
    speed_cm_s: float              # the speed used (cm/s)
    # --- published figures (docs/tape.md gives the sources) ---
    lower_hz: float
    upper_hz: float
    snr_db: float
    wow_flutter_pct: float
    sources: tuple[str, ...]
    notes: str = ""
    # --- physical settings ---
    eq: str = "IEC"                # equalisation standard: "IEC" or "NAB"
    track_width_m: float = 1.0 * _MM
    gap_m: float = 2.0 * _UM       # playback-head gap length
    depth_m: float = 1.5 * _UM     # effective recorded depth at short wavelengths
    spacing_m: float = 0.8 * _UM   # playback head-to-tape spacing
    playback_bw_hz: float = 15000.0  # reproduce amplifier's upper −3 dB bandwidth (4th order)
    boost_hz: float = 8000.0       # record treble-boost peak frequency
    boost_db: float = 6.0          # record treble-boost peak gain (calibrated)
    boost_q: float = 0.55          # record treble-boost Q (broad: flat pass band, see docs)
    record_zone_m: float = 1.2 * _UM  # recording zone past the record gap at optimum bias (SOL; fitted)
    bump_hz: float = 60.0          # playback head bump (contour effect) frequency
    bump_db: float = 1.5
    headroom_db: float = 3.0       # 315 Hz 3 % H3 point above the reference level (input, rms, dB)
    hiss_db: float = -60.0         # tape particle noise, rms re saturation magnetisation (calibrated)
    hum_db: float = -90.0          # 50 Hz mains hum at the output, dB re full scale
    dropouts_per_min: float = 1.0
    capstan_diameter_m: float = 8 * _MM
    roller_diameter_m: float = 25 * _MM
    reel_radius_m: float = 50 * _MM
    motor_hz: float = 25.0
    flutter_shares: dict = field(default_factory=lambda: {
        "capstan": 1.0, "roller": 0.4, "reel": 0.6, "motor": 0.25, "scrape": 0.15, "drift": 0.2})
    flutter_scale_pct: float = 0.1  # calibrated
    speed_tolerance_pct: float = 1.5
    azimuth_tolerance_arcmin: float = 4.0
    ja_k: float = 0.1              # Jiles–Atherton pinning k/a, unbiased
    ja_c: float = 0.7              # reversible fraction
    tape: str = "svema-type-6"     # the tape it is aligned for (izdat.tape.formulations.TAPES)
    chrome_switch: bool = False    # a CrO2 position: plays IEC II tape with 70 µs at 4.76 cm/s

    @property
    def formulation(self) -> str:
        """The coating of its usual tape (``"Fe2O3"``, ``"CrO2"``)."""
        from izdat.tape.formulations import TAPES
        return TAPES[self.tape].coating

    @property
    def speed_m_s(self) -> float:
        return self.speed_cm_s / 100.0

    def published(self) -> dict:
        """Published figures with unit-carrying keys (what ``izdat decks --json`` prints)."""
        return {"name": self.name, "title": self.title, "made": self.made, "kind": self.kind,
                "speed_cm_s": self.speed_cm_s, "tape": self.tape, "lower_hz": self.lower_hz, "upper_hz": self.upper_hz,
                "snr_db": self.snr_db, "wow_flutter_pct": self.wow_flutter_pct,
                "sources": list(self.sources), "notes": self.notes}


_GOST = "GOST 12392-71 (household tape recorders: classes and parameters), as summarised in docs/tape.md"

PRESETS: dict[str, DeckPreset] = {p.name: p for p in [
    DeckPreset(
        name="dnepr-11", title="Dnepr-11", made="Kiev Tape Recorder Plant, USSR, 1960",
        boost_db=3.31, flutter_scale_pct=0.1536, hiss_db=-47.98, record_zone_m=2.14 * _UM,  # calibrated
        kind="reel", speed_cm_s=9.53, lower_hz=100.0, upper_hz=6000.0, snr_db=40.0,
        wow_flutter_pct=0.4,
        sources=("no published Dnepr-11 figure found in this project's sources; the range is the "
                 "period's figure at 9.53 cm/s: the MG-56, Astra (1960) and Vesna (1963) all give "
                 "100-6000 Hz at 9.53 cm/s (issue 16; Vesna: Wikipedia (ru) 'Весна (магнитофон)'); "
                 "S/N and W&F are assumptions, see docs/tape.md",),
        notes="valve machine modelled at 9.53 cm/s; range assumed 100-6000 Hz as the period's "
              "machines give at that speed (the earlier 10 kHz was about 4 kHz optimistic: a "
              "19.05 cm/s figure); S/N and W&F unknown: assumed 40 dB, 0.4 %",
        track_width_m=2.0 * _MM, spacing_m=1.0 * _UM, gap_m=3.0 * _UM, depth_m=1.25 * _UM,
        boost_hz=6000, playback_bw_hz=7000,
        headroom_db=3.0, hum_db=-52.0, dropouts_per_min=2.0, capstan_diameter_m=10 * _MM,
        reel_radius_m=55 * _MM, motor_hz=23.3, speed_tolerance_pct=2.0, azimuth_tolerance_arcmin=6),
    DeckPreset(
        name="yauza-5", title="Yauza-5", made="Moscow Electromechanical Plant No. 1, USSR, 1960",
        boost_db=5.14, flutter_scale_pct=0.1139, hiss_db=-54.61, record_zone_m=5.46 * _UM,  # calibrated
        kind="reel", speed_cm_s=19.05, lower_hz=40.0, upper_hz=12000.0, snr_db=42.0,
        wow_flutter_pct=0.3,
        sources=("no published figure found in this project's sources (production 1960-1965 at "
                 "Moscow Electromechanical Plant No. 1 per kinoafisha.info); all three figures are "
                 "assumptions, see docs/tape.md",),
        notes="range, S/N and W&F unknown: assumed 40-12000 Hz, 42 dB, 0.3 % at 19.05 cm/s "
              "(typical valve deck of the class)",
        track_width_m=2.0 * _MM, spacing_m=1.2 * _UM, gap_m=3.6 * _UM, depth_m=1.5 * _UM,
        boost_hz=12000, playback_bw_hz=14000,
        headroom_db=3.0, hum_db=-55.0, dropouts_per_min=1.5, capstan_diameter_m=12 * _MM,
        reel_radius_m=60 * _MM, motor_hz=23.3, speed_tolerance_pct=2.0, azimuth_tolerance_arcmin=6),
    DeckPreset(
        name="vesna", title="Vesna (portable)",
        made="Kommunist plant, Kiev, and Zaporozhye mobile power-station plant (later Iskra), USSR, 1963",
        boost_db=4.78, flutter_scale_pct=0.1807, hiss_db=-42.01, record_zone_m=2.14 * _UM,  # calibrated
        kind="reel", speed_cm_s=9.53, lower_hz=100.0, upper_hz=6000.0, snr_db=38.0,
        wow_flutter_pct=0.5,
        sources=("Wikipedia (ru), 'Весна (магнитофон)': 9.53 cm/s, 100-6000 Hz "
                 "(https://ru.wikipedia-on-ipfs.org/wiki/Весна_(магнитофон))",),
        notes="S/N and W&F not found: assumed 38 dB and 0.5 % (battery portable, class 4)",
        track_width_m=2.0 * _MM, spacing_m=1.2 * _UM, gap_m=4.2 * _UM, depth_m=1.5 * _UM,
        boost_hz=6000, playback_bw_hz=7000,
        bump_hz=120, headroom_db=2.5, hum_db=-57.0, dropouts_per_min=3.0,
        capstan_diameter_m=6 * _MM, roller_diameter_m=16 * _MM, reel_radius_m=35 * _MM,
        motor_hz=40.0, speed_tolerance_pct=3.0, azimuth_tolerance_arcmin=8),
    DeckPreset(
        name="mayak-203", title="Mayak-203", made="Mayak plant, Kiev, USSR, 1974",
        boost_db=9.04, flutter_scale_pct=0.1027, hiss_db=-58.36, record_zone_m=3.96 * _UM,  # calibrated
        kind="reel", speed_cm_s=9.53, lower_hz=40.0, upper_hz=14000.0, snr_db=46.0,
        wow_flutter_pct=0.25,
        sources=("no published figure found in this project's sources; all three figures are "
                 "assumptions, see docs/tape.md",),
        notes="class-2 transistor deck; quarter-track; range, S/N and W&F at 9.53 cm/s unknown: "
              "assumed 40-14000 Hz, 46 dB, 0.25 %",
        track_width_m=1.0 * _MM, spacing_m=0.8 * _UM, gap_m=2.0 * _UM, depth_m=0.75 * _UM,
        boost_hz=14000, playback_bw_hz=16000,
        headroom_db=3.0, hum_db=-70.0, dropouts_per_min=1.0, capstan_diameter_m=10 * _MM,
        motor_hz=25.0, speed_tolerance_pct=1.5, azimuth_tolerance_arcmin=4),
    DeckPreset(
        name="elektronika-302", title="Elektronika-302", made="Tochmash, Moscow, USSR, 1974",
        boost_db=10.45, flutter_scale_pct=0.1792, hiss_db=-50.61, record_zone_m=1.33 * _UM,  # calibrated
        kind="cassette", speed_cm_s=4.76, lower_hz=63.0, upper_hz=10000.0, snr_db=42.0,
        wow_flutter_pct=0.4,
        sources=("no published figure found in this project's sources (viws.ru history page gives "
                 "maker and years only); all three figures are assumptions, see docs/tape.md",),
        notes="mono portable cassette; range, S/N and W&F unknown: assumed 63-10000 Hz, 42 dB, "
              "0.4 % (class-3 cassette)",
        track_width_m=1.5 * _MM, spacing_m=0.8 * _UM, gap_m=1.5 * _UM, depth_m=0.5 * _UM,
        boost_hz=10000, playback_bw_hz=11500,
        bump_hz=70, headroom_db=3.0, hum_db=-62.0, dropouts_per_min=3.0, tape="a4409-6b",
        capstan_diameter_m=2.0 * _MM, roller_diameter_m=10 * _MM,
        reel_radius_m=18 * _MM, motor_hz=40.0, speed_tolerance_pct=2.0, azimuth_tolerance_arcmin=5),
    DeckPreset(
        name="rus-205", title="Rus'-205", made="USSR, 1981",
        boost_db=11.86, flutter_scale_pct=0.1145, hiss_db=-55.52, record_zone_m=2.07 * _UM,  # calibrated
        kind="cassette", speed_cm_s=4.76, lower_hz=63.0, upper_hz=12500.0, snr_db=45.0,
        wow_flutter_pct=0.3,
        sources=("'Русь 205 - там Русский Дух, там Маховик виднеется!!!', Dzen channel Dobryi "
                 "Audiofil (https://dzen.ru/a/YfPmZzcB9Rq73sZG): 63-12500 Hz, W&F 0.3 % "
                 "(a review quoting the maker's figures, not the manual itself)",),
        notes="S/N not found: assumed 45 dB (class-2 cassette deck without noise reduction)",
        track_width_m=1.5 * _MM, spacing_m=0.7 * _UM, gap_m=1.2 * _UM, depth_m=0.45 * _UM,
        boost_hz=12500, playback_bw_hz=14500,
        bump_hz=70, headroom_db=3.0, hum_db=-70.0, dropouts_per_min=2.0, tape="a4409-6b",
        capstan_diameter_m=2.4 * _MM, roller_diameter_m=10 * _MM,
        reel_radius_m=18 * _MM, motor_hz=33.0, speed_tolerance_pct=1.5, azimuth_tolerance_arcmin=4),
    DeckPreset(
        name="sony-tc-260", title="Sony TC-260", made="Sony, Japan, 1967",
        boost_db=6.25, flutter_scale_pct=0.0801, hiss_db=-60.98, record_zone_m=4.58 * _UM,  # calibrated
        kind="reel", speed_cm_s=19.05, lower_hz=50.0, upper_hz=15000.0, snr_db=50.0,
        wow_flutter_pct=0.19, eq="NAB",
        sources=("Analog Soundware, 'Sony TC-260' (https://www.analogsoundware.com/rr/sony-tc-260): "
                 "W&F 0.19 % at 7½ ips, S/N 50 dB, 50 Hz-15 kHz, NAB",),
        notes="smuggled by sailors; quarter-track stereo, used here one track",
        track_width_m=1.0 * _MM, spacing_m=1.0 * _UM, gap_m=2.0 * _UM, depth_m=1 * _UM,
        boost_hz=15000, playback_bw_hz=17000,
        headroom_db=3.5, hum_db=-80.0, dropouts_per_min=0.5, capstan_diameter_m=9 * _MM,
        motor_hz=25.0, speed_tolerance_pct=0.8, azimuth_tolerance_arcmin=2),
    DeckPreset(
        name="sony-tc-129", title="Sony TC-129", made="Sony, Japan, 1975",
        boost_db=10.71, flutter_scale_pct=0.0704, hiss_db=-59.99, record_zone_m=3.02 * _UM,  # calibrated
        kind="cassette", speed_cm_s=4.76, lower_hz=40.0, upper_hz=13000.0, snr_db=48.0,
        wow_flutter_pct=0.15,
        sources=("no published figure found in this project's sources; all three figures are "
                 "assumptions, see docs/tape.md",),
        notes="1970s Japanese cassette deck; range, S/N and W&F unknown: assumed 40-13000 Hz, "
              "48 dB, 0.15 % (normal tape, no Dolby)",
        track_width_m=0.6 * _MM, spacing_m=0.6 * _UM, gap_m=1.0 * _UM, depth_m=0.4 * _UM,
        boost_hz=13000, playback_bw_hz=15000,
        bump_hz=60, headroom_db=3.0, hum_db=-85.0, dropouts_per_min=1.0, tape="tdk-ad",
        chrome_switch=True, capstan_diameter_m=2.5 * _MM, roller_diameter_m=11 * _MM,
        reel_radius_m=18 * _MM, motor_hz=40.0, speed_tolerance_pct=1.0, azimuth_tolerance_arcmin=2),
    DeckPreset(
        name="elfa-6", title="EL'fa-6 (Эльфа-6)", made="ELFA plant, Vilnius, USSR, about 1956",
        boost_db=2.69, flutter_scale_pct=0.4749, hiss_db=-40.93, record_zone_m=5.0 * _UM,  # calibrated
        kind="reel", speed_cm_s=19.05, lower_hz=100.0, upper_hz=7000.0, snr_db=35.0,
        wow_flutter_pct=1.0,
        sources=("issue 16 (public sources, as the issue quotes them): one of the first Soviet "
                 "recorders; tape driven from a gramophone turntable at about 19 cm/s, its speed "
                 "drifting as the take-up reel fills; range, S/N and W&F not found: assumptions, "
                 "see docs/tape.md",),
        notes="turntable-driven (no capstan of its own): the reel-filling speed drift is the "
              "transport's reel term (once a reel turn, its frequency gliding as the radius "
              "changes) and its slow drift term, both given large shares, and a wide speed "
              "tolerance; range assumed 100-7000 Hz (the Dnepr of 1949 gives 90-7000 Hz at "
              "18 cm/s), S/N 35 dB and W&F 1.0 % assumed",
        track_width_m=2.5 * _MM, spacing_m=1.5 * _UM, gap_m=5.0 * _UM, depth_m=1.5 * _UM,
        boost_hz=7000, playback_bw_hz=8000,
        headroom_db=2.5, hum_db=-52.0, dropouts_per_min=3.0, capstan_diameter_m=20 * _MM,
        roller_diameter_m=30 * _MM, reel_radius_m=45 * _MM, motor_hz=12.5,
        flutter_shares={"capstan": 0.4, "roller": 0.2, "reel": 1.5, "motor": 0.3, "scrape": 0.1,
                        "drift": 1.2},
        speed_tolerance_pct=4.0, azimuth_tolerance_arcmin=10),
    DeckPreset(
        name="dnepr-3", title="Dnepr-3", made="Kiev, USSR, 1950s",
        boost_db=1.96, flutter_scale_pct=0.2239, hiss_db=-44.78, record_zone_m=5.0 * _UM,  # calibrated
        kind="reel", speed_cm_s=19.05, lower_hz=100.0, upper_hz=7000.0, snr_db=38.0,
        wow_flutter_pct=0.5,
        sources=("issue 16 (public sources): 19.05 cm/s, 44 minutes a reel; range, S/N and W&F "
                 "not found: assumptions, see docs/tape.md",),
        notes="valve reel deck; 44 min a reel at 19.05 cm/s is about 500 m of tape; range "
              "assumed 100-7000 Hz (the Dnepr of 1949: 90-7000 Hz at 18 cm/s), S/N 38 dB, W&F "
              "0.5 % assumed",
        track_width_m=2.5 * _MM, spacing_m=1.2 * _UM, gap_m=4.2 * _UM, depth_m=1.5 * _UM,
        boost_hz=7000, playback_bw_hz=8000,
        headroom_db=2.5, hum_db=-54.0, dropouts_per_min=2.5, capstan_diameter_m=12 * _MM,
        reel_radius_m=60 * _MM, motor_hz=23.3, speed_tolerance_pct=2.5, azimuth_tolerance_arcmin=8),
    DeckPreset(
        name="spalis", title="Spalis (ELFA-10)", made="ELFA plant, Vilnius, USSR, 1959",
        boost_db=2.59, flutter_scale_pct=0.1546, hiss_db=-47.53, record_zone_m=5.0 * _UM,  # calibrated
        kind="reel", speed_cm_s=19.05, lower_hz=100.0, upper_hz=8000.0, snr_db=40.0,
        wow_flutter_pct=0.4,
        sources=("issue 16 (public sources, as the issue quotes them; 'Spais' in its seed text): ELFA-10, 1959, "
                 "valve mono, 19.05 cm/s, No. 18 reels, a 6E5S tuning-eye record meter; range, S/N "
                 "and W&F not found: assumptions, see docs/tape.md",),
        notes="valve mono reel deck; range assumed 100-8000 Hz (a little above the Dnepr of "
              "1949 at 18 cm/s), S/N 40 dB, W&F 0.4 % assumed",
        track_width_m=2.5 * _MM, spacing_m=1.2 * _UM, gap_m=4.0 * _UM, depth_m=1.5 * _UM,
        boost_hz=8000, playback_bw_hz=9000,
        headroom_db=3.0, hum_db=-56.0, dropouts_per_min=2.0, capstan_diameter_m=12 * _MM,
        reel_radius_m=55 * _MM, motor_hz=23.3, speed_tolerance_pct=2.0, azimuth_tolerance_arcmin=6),
    DeckPreset(
        name="mag-59m", title="MAG-59M 'Voice' (home-built)",
        made="home-built by the engineer M. B. Krizhanovsky, USSR, 1959 (assumed)",
        boost_db=2.34, flutter_scale_pct=0.5078, hiss_db=-39.38, record_zone_m=5.0 * _UM,  # calibrated
        kind="reel", speed_cm_s=19.05, lower_hz=120.0, upper_hz=6000.0, snr_db=34.0,
        wow_flutter_pct=1.2,
        sources=("issue 16 and ../shared/seeds/: a home-made 'Voice' unit, the MAG-59M of the "
                 "engineer M. B. Krizhanovsky, known for underground recordings; no figure of it is "
                 "published: every figure here is an assumption, see docs/tape.md",),
        notes="ALL FIGURES ARE ASSUMPTIONS: valve, hand-wound heads (wide gap, poor contact), "
              "generous wow; assumed 19.05 cm/s, 120-6000 Hz, S/N 34 dB, W&F 1.2 %",
        track_width_m=2.5 * _MM, spacing_m=1.8 * _UM, gap_m=6.0 * _UM, depth_m=1.5 * _UM,
        boost_hz=6000, playback_bw_hz=7000,
        headroom_db=2.5, hum_db=-50.0, dropouts_per_min=4.0, capstan_diameter_m=10 * _MM,
        roller_diameter_m=20 * _MM, reel_radius_m=50 * _MM, motor_hz=23.3,
        flutter_shares={"capstan": 1.0, "roller": 0.6, "reel": 1.0, "motor": 0.5, "scrape": 0.2,
                        "drift": 0.6},
        speed_tolerance_pct=4.0, azimuth_tolerance_arcmin=15),
]}


def preset_names() -> list[str]:
    """The CLI names of all presets, in order."""
    return list(PRESETS)
