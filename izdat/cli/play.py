"""``izdat play``: a record's picture into audio; ``izdat age``: make a picture look scanned."""

from __future__ import annotations

import inspect
import math
import os
from contextlib import nullcontext
from pathlib import Path
from typing import List, Optional

import numpy as np

import typer
from PIL import Image

from izdat.age import PRESETS, age as age_pixels
from izdat.audio import Audio, save
from izdat.cli._app import app
from izdat.errors import PictureError
from izdat.errors import OutputError
from izdat.files import atomic_path, check_output_file
from izdat.gramophone import Gramophone, GroovePath
from izdat.groove import equalisation, parse_rpm
from izdat.optical import MAX_PIXELS, OpticalReader, load_picture, read_meta
from izdat.optical._combine import combine_reads
from izdat.optical._load import pillow_guard
from izdat.optical._programme import (HIGH_PASS_HZ, SUBSONIC_EDGE_HZ, SUBSONIC_SHARE, chosen_curve, guess_curve,
                                      high_pass, subsonic_share, trim_to_programme)
from izdat.optical._read import output_rate
from izdat.optical._vector import NoVectorGroove, draw_vector_report, is_svg, read_vectors
from izdat._check import check_number
from izdat.progress import console, progress, stage


def read_groove(picture: Path, *, meta: Optional[Path], rpm: str, dpi: Optional[float], max_pixels: int,
                dark_groove: bool, passes: int = 2, denoise: Optional[float] = None, on_progress=None):
    """The groove read from ``picture`` and the record.json found for it (the needle-independent part
    of ``play``: another needle can play the same groove). ``on_progress`` (fraction 0–1) is handed
    to the reader where it takes one."""
    if meta is None and (picture.parent / "record.json").is_file():
        meta = picture.parent / "record.json"
    m = read_meta(meta) if meta is not None else None
    reader = OpticalReader(rpm=m.rpm if m else parse_rpm(rpm), dpi=dpi, light_groove=not dark_groove, passes=passes,
                           **({} if denoise is None else {"denoise": denoise}))
    scan = load_picture(picture, dpi=dpi, max_pixels=max_pixels or None)     # settings checked first: it may be big
    extra = {"progress": on_progress} if on_progress is not None and _takes(reader.read, "progress") else {}
    return reader.read(scan, m, release=True, **extra), m    # the picture is ours: its rows go as the groove passes


def _takes(function, name: str) -> bool:
    """Whether ``function`` has a parameter ``name`` (the reader's progress callback, where it has one)."""
    try:
        return name in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


@app.command(no_args_is_help=True)
def play(
    pictures: List[Path] = typer.Argument(..., help="Picture of the record: PNG, TIFF, JPEG (grey or colour) or SVG; "
                                                     "several scans of one record are registered and combined."),
    out: Path = typer.Option(..., "-o", "--out", help="Audio file to write (WAV, FLAC …)."),
    meta: Optional[Path] = typer.Option(None, help="izdat record.json (default: the one beside the picture)."),
    rpm: str = typer.Option("78", help="Speed the record was cut at (rev/min), without record.json."),
    dpi: Optional[float] = typer.Option(None, help="Picture resolution (dots per inch) (default: from the picture); an SVG drawn with --raster is drawn at it (default 1200)."),
    raster: Optional[float] = typer.Option(None, help="Read an SVG as a picture drawn at this DPI instead of following its groove's path (an SVG whose groove is a picture is drawn at --dpi)."),
    eq: Optional[str] = typer.Option(None, help="Playback curve: none, riaa, blumlein, columbia, aes, nab (default: record.json's, else the one the groove's spectrum points to, said)."),
    rate: float = typer.Option(44_100.0, help="Output sample rate (Hz)."),
    report: Optional[Path] = typer.Option(None, help="PNG to draw the tracked groove on, for a person to check (of the first picture)."),
    max_pixels: int = typer.Option(MAX_PIXELS, help="Refuse larger pictures (0: no limit)."),
    dark_groove: bool = typer.Option(False, help="The groove shows darker than the film (lit from behind)."),
    passes: int = typer.Option(2, help="Passes of the fine fit, 2–4: 3 reads a sharp picture finer (+1–4 dB), a third slower."),
    denoise: Optional[float] = typer.Option(None, help="Noise against bandwidth, 0–1: 0 plays the groove as measured (flat, all the picture's noise), 1 smooths hardest where the noise outweighs the groove (default: the reader's)."),
    needle: str = typer.Option("optical", help="optical: the clean groove as read; stylus: as a gramophone played it (izdat.gramophone)."),
    plays: int = typer.Option(0, help="With --needle stylus: times the record was played before (wear)."),
    seed: int = typer.Option(0, help="With --needle stylus: seed for the surface and the turntable."),
):
    """Play the record in PICTURES: find its spiral, follow the groove, write the audio to OUT.

    Without record.json the programme is found from the groove (lead-in, lead-out and locked groove are not played), the curve is the one the groove's spectrum points to unless --eq says, and the audio is high-passed at 20 Hz; each choice is said. Several scans of one record are read each, registered in time and averaged by their noise."""
    if needle not in ("optical", "stylus"):
        raise PictureError(f"--needle must be 'optical' or 'stylus', not {needle!r}")
    if needle == "stylus" and len(pictures) > 1:
        raise PictureError(f"--needle stylus plays one picture, not {len(pictures)}; combine the scans with the "
                           f"optical needle")
    output_rate(rate, "--rate")                     # before the picture is read
    if denoise is not None:
        if not _takes(OpticalReader, "denoise"):
            raise PictureError("--denoise needs a reader that takes it; this izdat's does not")
        denoise = check_number("--denoise", denoise, 0.0, 1.0, error=PictureError)
    if len(set(map(os.path.abspath, pictures))) < len(pictures):
        raise PictureError("the same picture is given twice; several scans must be different pictures of one record")
    for picture in pictures:
        _check_outputs(picture, out, AUDIO_SUFFIXES, "-o")          # every output checked before the work
    if report is not None:
        for picture in pictures:
            _check_outputs(picture, report, (".png",), "--report")
        if _same(out, report):
            raise OutputError(f"-o and --report are the same file ({out}); give the report another name")
    if raster is not None:
        raster = check_number("--raster", raster, 50.0, 20_000.0, "dots per inch", error=PictureError)
        for picture in pictures:
            if not is_svg(picture):
                raise PictureError(f"--raster draws an SVG at a resolution; {picture.name} is not an SVG (.svg, .svgz)")
    several = len(pictures) > 1
    reads = []
    with progress() as bar:
        for k, picture in enumerate(pictures):
            label = f"reading the groove of {picture.name}" if several else "reading the groove"
            moved = stage(bar, label)
            try:
                groove, m = _read_one(picture, meta=meta, rpm=rpm, dpi=dpi, raster=raster, rate=rate,
                                      max_pixels=max_pixels, dark_groove=dark_groove, passes=passes,
                                      denoise=denoise, on_progress=moved)
            except PictureError as exc:
                if not several:
                    raise
                raise PictureError(f"{_printable_name(picture)}: {exc}") from None
            moved(1.0)
            trimmed = None
            if m is None and "vertex_snr_db" not in groove.notes:
                groove, trimmed = trim_to_programme(groove)
            reads.append((picture, groove, m, trimmed))
        picture, groove, m, trimmed = reads[0]
        guess = guess_curve(groove) if m is None else None
        curve, said = chosen_curve(eq, m.eq if m else None, guess)
        playing = stage(bar, "playing the groove" + (f"s of {len(reads)} scans" if several else ""))
        audios = []
        for k, (_, g, gm, _) in enumerate(reads):
            if needle == "stylus":
                path = GroovePath.from_groove(g, eq=curve, gain_m_s=gm.gain_m if gm else None)
                audios.append(Gramophone(plays=plays, seed=seed, sample_rate=rate)(path))
            else:
                audios.append(g.playback(eq=curve, gain_m=gm.gain_m if gm else None, sample_rate=rate))
            playing((k + 1) / len(reads))
    for picture_k, g, gm, trimmed_k in reads:
        if several:
            console.print(f"{picture_k.name}:", markup=False)
        if trimmed_k is not None:
            _print_trim(g, trimmed_k)
        if "vertex_snr_db" in g.notes:
            _print_vector(g, curve)
        else:
            _print_raster(g, curve)
    if said:
        console.print(said, markup=False)
    samples = audios[0].samples
    if several:
        combined = combine_reads([a.samples for a in audios], rate, names=[p.name for p, *_ in reads])
        samples = combined.samples
        _print_combined(reads, combined)
    if m is None:
        # no record.json, no level: what is below the cutters' own subsonic filter is not programme
        samples = high_pass(samples, rate)
        peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
        samples = samples * (10 ** (-1 / 20) / peak if peak > 0 else 0.0)
        console.print(f"no record.json: the audio is high-passed at {HIGH_PASS_HZ:g} Hz (2nd order, the "
                      f"cutters' subsonic filter) and normalised to a −1 dBFS peak", markup=False)
    audio = Audio(np.asarray(samples, np.float32), rate)
    share = subsonic_share(audio.samples, rate)
    if share > SUBSONIC_SHARE:
        console.print(f"warning: {share:.0%} of the audio's energy lies below {SUBSONIC_EDGE_HZ:g} Hz, rumble "
                      f"rather than programme: the groove's track may be off (check it with --report)", markup=False)
    # the audio and the report together or neither: both are written beside their places first
    picture, groove = reads[0][0], reads[0][1]
    with atomic_path(out) as wav, (atomic_path(report) if report is not None else nullcontext()) as drawn:
        save(audio, wav)
        if report is not None:
            if "vertex_snr_db" in groove.notes:
                draw_vector_report(groove, drawn)
            else:
                _report(picture, groove, drawn, max_pixels)
    typer.echo(str(out))
    if report is not None:
        typer.echo(str(report))


def _read_one(picture: Path, *, meta, rpm, dpi, raster, rate, max_pixels, dark_groove, passes, denoise,
              on_progress):
    """One picture's groove and record.json: an SVG's path followed, else the picture read."""
    if is_svg(picture) and raster is None:
        try:
            return _read_vectors(picture, meta=meta, rpm=rpm, rate=rate)
        except NoVectorGroove as exc:
            if not exc.images:
                raise
    return read_groove(picture, meta=meta, rpm=rpm, dpi=raster or dpi, max_pixels=max_pixels,
                       dark_groove=dark_groove, passes=passes, denoise=denoise, on_progress=on_progress)


def _printable_name(path: Path) -> str:
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in path.name)


def _pitch_text(groove) -> str:
    """The programme's pitch in words: the range of its whole turns' pitches (µm), or under two
    whole turns the median turn-to-turn distance, or that there is no turn to measure."""
    pitch = groove.pitch_um()
    if pitch.size:
        return f"{pitch.min():.0f}–{pitch.max():.0f} µm"
    n = groove.samples_per_rev
    r = groove.radius_m[groove.program_start:groove.program_end]
    if len(r) > n:
        return f"{np.median(r[:-n] - r[n:]) * 1e6:.0f} µm"
    return "not measured (under one turn)"


def _print_raster(groove, curve) -> None:
    r = groove.radius_m[groove.program_start:groove.program_end] * 1e3
    console.print(
        f"spiral centre ({groove.centre_px[0]:.1f}, {groove.centre_px[1]:.1f}) px, groove from "
        f"{r[:groove.samples_per_rev].mean():.1f} to {r[-groove.samples_per_rev:].mean():.1f} mm in "
        f"{(groove.program_end - groove.program_start) / groove.samples_per_rev:.1f} turns, pitch "
        f"{_pitch_text(groove)}, {groove.direction}, "
        f"starting at {groove.start_angle_deg:.1f}°; {groove.duration_s:.2f} s at {groove.rpm:.4g} rpm, "
        f"eq {curve.name}; picture blur {groove.notes.get('blur_px', 0.0):.2f} px; "
        f"tracking confidence {groove.confidence * 100:.1f} %", markup=False)


def _print_trim(groove, found) -> None:
    a, b, pitch = found
    n = groove.samples_per_rev
    console.print(
        f"no record.json: the programme found from the groove's pitch, {pitch * 1e6:.0f} µm a turn, "
        f"{(b - a) / n:.2f} turns ({(b - a) / groove.sample_rate:.2f} s); not played: {a / n:.2f} turns of "
        f"lead-in before it and {(len(groove.radius_m) - b) / n:.2f} turns of lead-out and locked groove "
        f"after it", markup=False)


def _print_combined(reads, combined) -> None:
    n = len(reads)
    parts = ", ".join(f"{p.name} {d:+.2f} samples, level {lv:.3f}, noise {nd:+.1f} dB, weight {w:.2f}"
                      for (p, *_), d, lv, nd, w in zip(reads, combined.delays_samples, combined.levels,
                                                       combined.noise_db, combined.weights))
    console.print(f"{n} scans registered on the first and averaged by their noise ({parts}); "
                  f"equal noise would fall {10 * math.log10(n):.1f} dB", markup=False)


def _read_vectors(picture: Path, *, meta: Optional[Path], rpm: str, rate: float):
    """The groove followed along the SVG's path, with the record.json found for it (izdat's own
    record.svg: its speed, samples a turn, programme and curve)."""
    if meta is None and (picture.parent / "record.json").is_file():
        meta = picture.parent / "record.json"
    m = read_meta(meta) if meta is not None else None
    return read_vectors(picture, rpm=m.rpm if m else parse_rpm(rpm), meta=m, sample_rate=rate), m


def _print_vector(groove, curve) -> None:
    n = groove.notes
    a, b = groove.program_start, groove.program_end
    r = groove.radius_m[a:b] * 1e3
    spr = groove.sample_rate * 60 / groove.rpm
    grid = "on the vertices' own grid" if n["on_vertex_grid"] else "at the output rate"
    console.print(
        f"vector groove: {n['vertices']} points ({n['unit']}), spiral centre ({groove.centre_m[0] * 1e3:.4f}, "
        f"{groove.centre_m[1] * 1e3:.4f}) mm, programme from {r[:groove.samples_per_rev].mean():.2f} to "
        f"{r[-groove.samples_per_rev:].mean():.2f} mm in {(b - a) / spr:.2f} turns, pitch "
        f"{n['pitch_m'] * 1e6:.0f} µm, {groove.direction}, starting at {n['programme_start_angle_deg']:.1f}°; "
        f"{groove.duration_s:.3f} s at {groove.rpm:.4g} rpm, eq {curve.name}; sampled "
        f"{grid}, {spr:.2f} a turn "
        f"({groove.sample_rate:.1f} Hz); against the vertices' own radius: {n['vertex_snr_db']:.1f} dB SNR "
        f"over {n['vertices_in_programme']} points of the programme", markup=False)


#: Audio files ``izdat play`` writes (16-bit PCM).
AUDIO_SUFFIXES = (".wav", ".flac", ".aiff")
#: Pictures ``izdat age`` writes, by suffix.
PICTURE_FORMATS = {".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF", ".jpg": "JPEG", ".jpeg": "JPEG"}


def _check_outputs(picture: Path, out: Path, suffixes, option: str) -> None:
    """One sentence, before any work, for an output izdat cannot write or must not: the wrong kind
    of file, a name it cannot take, or the input picture itself."""
    if out.suffix.lower() not in suffixes:
        raise OutputError(f"{option} must end in {', '.join(suffixes[:-1])} or {suffixes[-1]}, not {out.name!r}"
                          if len(suffixes) > 1 else f"{option} must end in {suffixes[0]}, not {out.name!r}")
    check_output_file(out)
    if _same(picture, out):
        raise OutputError(f"{option} {out} is the picture being read; izdat does not write over its input")


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _report(picture, groove, path, max_pixels):
    import numpy as np
    scan = load_picture(picture, dpi=groove.dpi, max_pixels=max_pixels or None)
    h, w = scan.pixels.shape
    scale = min(1.0, 4000 / max(h, w))
    small = Image.fromarray(scan.pixels).resize((max(1, int(w * scale)), max(1, int(h * scale)))).convert("RGB")
    px = np.asarray(small).copy()
    n = len(groove.radius_m)
    sign = 1 if groove.direction == "counterclockwise" else -1
    i = np.arange(0, n, 7)
    th = np.radians(groove.start_angle_deg) + sign * 2 * np.pi * i / groove.samples_per_rev
    r = groove.radius_m[i] * groove.dpi / 0.0254
    x = ((groove.centre_px[0] + r * np.cos(th)) * scale).astype(int)
    y = ((groove.centre_px[1] - r * np.sin(th)) * scale).astype(int)
    ok = (x >= 0) & (y >= 0) & (x < px.shape[1]) & (y < px.shape[0])
    colour = np.where(groove.trusted[i][ok, None], [[40, 220, 60]], [[240, 40, 40]])
    px[y[ok], x[ok]] = colour
    Image.fromarray(px).save(path, format="PNG")      # path: the caller's temporary file, moved in with the audio


@app.command(no_args_is_help=True)
def age(
    picture: Path = typer.Argument(..., help="Picture of a record (PNG, TIFF, JPEG; not SVG)."),
    out: Path = typer.Option(..., "-o", "--out", help="Aged picture to write (PNG, TIFF or JPEG)."),
    look: str = typer.Option("photographed", help=f"How it was taken: {', '.join(PRESETS)}."),
    dpi: Optional[float] = typer.Option(None, help="Picture resolution (dots per inch) (default: from the picture)."),
    seed: int = typer.Option(0, help="Seed for every random blemish."),
    max_pixels: int = typer.Option(MAX_PIXELS, help="Refuse larger pictures (0: no limit)."),
):
    """Make PICTURE look scanned, photographed or dusty (deterministic from --seed)."""
    if look not in PRESETS:
        raise PictureError(f"unknown look {look!r}; choose one of {', '.join(PRESETS)}")
    _check_outputs(picture, out, tuple(PICTURE_FORMATS), "-o")     # before the picture is read
    scan = load_picture(picture, dpi=dpi, max_pixels=max_pixels or None)
    if scan.dpi is None:
        raise PictureError("the picture does not say its resolution; give it with --dpi")
    with pillow_guard(max_pixels or None):     # izdat's own big picture, already checked: no Pillow bomb warning
        aged = age_pixels(scan.pixels, dpi=scan.dpi, ageing=PRESETS[look], seed=seed)
    fmt = PICTURE_FORMATS[out.suffix.lower()]
    with atomic_path(out) as tmp:
        Image.fromarray(aged).save(tmp, format=fmt, dpi=(scan.dpi, scan.dpi))
    typer.echo(str(out))
