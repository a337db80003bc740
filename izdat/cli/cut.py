"""``izdat cut``: a song into a bone record."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from izdat.audio import load
from izdat.cli._app import app
from izdat.errors import GrooveError
from izdat.gramophone.surprise import surprise as make_surprise
from izdat.groove import equalisation, lpi_to_um, parse_rpm, um_to_lpi
from izdat.lathe import Lathe
from izdat.fabricate.plan import describe
from izdat.files import check_output_folder
from izdat.outputs import FORMATS, backdrop, check_record_settings, write_record
from izdat.progress import console, progress, stage
from izdat.render import check_memory

#: The options of ``izdat cut`` by the parameter they set, for messages.
OPTION_NAMES = {"dpi": "--dpi", "bits": "--bits", "seed": "--seed", "hole_offset_mm": "--hole-offset",
                "feed_mm_min": "--feed", "depth_mm": "--depth",
                "tolerance_um": "--tolerance-um"}


#: The Lathe's parameters as this command's flags: its messages name the flag a person typed.
LATHE_FLAGS = {"rpm": "--rpm", "diameter_mm": "--diameter", "inner_radius_mm": "--inner-radius",
               "outer_margin_mm": "--outer-margin", "groove_width_um": "--groove-width", "land_um": "--land",
               "level_db": "--level", "max_slope": "--max-slope", "trim_s": "--trim"}


def _in_flags(error: GrooveError) -> GrooveError:
    """The same error, its leading library parameter name replaced by the command's flag."""
    text = str(error)
    for name, flag in LATHE_FLAGS.items():
        if text == name or text.startswith(name + " "):
            return GrooveError(flag + text[len(name):])
    return error


@app.command(no_args_is_help=True)
def cut(
    song: Path = typer.Argument(..., help="Audio file: WAV, FLAC, OGG, MP3 …, any sample rate."),
    out: Path = typer.Option(..., "-o", "--out", help="Folder for the record's files."),
    format: str = typer.Option(",".join(FORMATS), "--format", help=f"Files to write, comma-separated: {', '.join(FORMATS)}."),
    rpm: str = typer.Option("78", help="Turntable speed: 78, 45, 33⅓ or any value (rev/min)."),
    diameter: float = typer.Option(250.0, help="Disc diameter (mm)."),
    inner_radius: float = typer.Option(52.0, help="Smallest radius the music reaches (mm)."),
    outer_margin: float = typer.Option(8.0, help="Rim to lead-in start (mm)."),
    lpi: Optional[float] = typer.Option(None, help="Groove pitch in lines per inch (default 100)."),
    pitch_mm: Optional[float] = typer.Option(None, help="Groove pitch in mm per turn (instead of --lpi)."),
    pitch: str = typer.Option("variable", help="Pitch law: 'variable' (look-ahead, fits more) or 'fixed'."),
    groove_width: float = typer.Option(120.0, help="Groove width at the surface (µm)."),
    land: float = typer.Option(20.0, help="Least land between grooves (µm)."),
    eq: str = typer.Option("blumlein", help="Recording curve: blumlein, columbia, aes, nab, riaa, none, or 78 (custom)."),
    turnover: Optional[float] = typer.Option(None, help="Bass turnover of a 78-era curve (Hz)."),
    rolloff: Optional[float] = typer.Option(None, help="Treble roll-off of a 78-era curve at 10 kHz (dB, ≤ 0)."),
    level: float = typer.Option(0.0, help="Cut level relative to full modulation (dB); above 0 is limited."),
    max_slope: float = typer.Option(0.5, help="Steepest groove a stylus tracks (lateral/tangential velocity)."),
    trim: Optional[float] = typer.Option(None, help="Cut only the first SECONDS of the song."),
    dpi: float = typer.Option(1200.0, help="Resolution of record.png (dots per inch)."),
    bits: int = typer.Option(8, help="Grey depth of record.png: 8, or 16 as an archival scan keeps it."),
    xray: Optional[str] = typer.Option(None, help="Radiograph: skull, hand, chest, or a PNG/JPEG/TIFF/DICOM file (default: a built-in chosen by --seed)."),
    hole_offset: Optional[float] = typer.Option(None, help="How far the burnt hole misses the spiral centre (mm) (default 1–4 mm, by --seed)."),
    seed: int = typer.Option(0, help="Seed for the X-ray, the scissor cut and the hole."),
    feed: float = typer.Option(600.0, help="G-code feed rate (mm/min)."),
    depth: float = typer.Option(0.06, help="G-code groove depth (mm)."),
    tolerance_um: float = typer.Option(0.1, "--tolerance-um", help="How far the SVG's, G-code's and DXF's groove path may stray from the groove's samples (µm, 0–20; 0 keeps every sample)."),
    surprise: bool = typer.Option(False, "--surprise", help="Cut a fake the authorities' way: a few seconds of the song, a mocking voice, then silence."),
):
    """Cut SONG into a bone record: picture, laser SVG, G-code, DXF, playback JSON and a preview."""
    if lpi is not None and pitch_mm is not None:
        raise GrooveError("give the pitch once: --lpi or --pitch-mm, not both")
    if pitch not in ("variable", "fixed"):
        raise GrooveError(f"--pitch must be 'variable' or 'fixed', not {pitch!r}")
    if lpi is not None and not 5 <= lpi <= 1000:
        raise GrooveError(f"--lpi must be between 5 and 1000 lines per inch, not {lpi:g}")
    pitch_um = lpi_to_um(lpi) if lpi is not None else (pitch_mm * 1e3 if pitch_mm is not None else 254.0)
    # every setting, the output folder and the memory are checked before the song is read: a bad
    # one fails at once, and creates nothing
    settings = check_record_settings(formats=format.split(","), dpi=dpi, bits=bits, seed=seed, hole_offset_mm=hole_offset,
                                     feed_mm_min=feed, depth_mm=depth, tolerance_um=tolerance_um, names=OPTION_NAMES)
    formats = settings["formats"]
    try:
        lathe = Lathe(rpm=parse_rpm(rpm), diameter_mm=diameter, inner_radius_mm=inner_radius,
                      outer_margin_mm=outer_margin, pitch_um=pitch_um, groove_width_um=groove_width, land_um=land,
                      variable_pitch=pitch == "variable", eq=equalisation(eq, turnover_hz=turnover, rolloff_10khz_db=rolloff),
                      level_db=level, max_slope=max_slope)
    except GrooveError as e:
        raise _in_flags(e) from None
    check_output_folder(out, [FORMATS[f] for f in formats])
    if "png" in formats:
        check_memory(lathe.diameter_mm / 1e3, settings["dpi"], bits)
    audio = load(song)
    film = backdrop(xray, seed) if {"png", "json"} & set(formats) else None   # a bad X-ray fails before the cut
    if surprise:
        audio = make_surprise(audio, seed=seed)
    console.print(f"{song.name}: {audio.duration_s:.1f} s, {audio.channels} channel(s) at {audio.sample_rate:g} Hz; "
                  f"the side holds {lathe.capacity_s() / 60:.2f} min at {um_to_lpi(lathe.pitch_um):.0f} lines/inch "
                  f"({lathe.pitch_um:.0f} µm), {lathe.rpm:.4g} rpm", markup=False)
    if audio.channels > 1:
        has = "is stereo: its 2 channels are" if audio.channels == 2 else f"has {audio.channels} channels: they are"
        console.print(f"{song.name} {has} summed to mono (a bone record has one lateral groove)", markup=False)
    with progress() as bar:
        record = lathe.cut(audio, trim_s=trim, on_progress=stage(bar, "cutting the groove"))
        written = write_record(record, out, formats=formats, dpi=dpi, xray=film, seed=seed,
                               hole_offset_mm=hole_offset, feed_mm_min=feed, depth_mm=depth, bits=bits,
                               tolerance_um=tolerance_um, bar=bar,
                               on_plan=lambda plan, sizes: console.print(describe(plan, sizes, feed), markup=False))
    info = record.info()
    console.print(f"cut {record.program_s:.1f} s into {record.programme_turns:.1f} programme turns "
                  f"({record.turns:.1f} with the lead-in, lead-out and locked groove) from "
                  f"{info['program_start_radius_mm']:.1f} to {info['program_end_radius_mm']:.1f} mm, "
                  f"{info['pitch']['law']} pitch {info['pitch']['min_um']:.0f}–{info['pitch']['max_um']:.0f} µm "
                  f"(mean {info['pitch']['mean_um']:.0f}), eq {record.eq.name}", markup=False)
    console.print(f"level: {record.limiter.summary()}", markup=False)
    for fmt, path in written.items():
        typer.echo(str(path))
