"""The whole story on one page: a song cut into a bone record, read back, played, dubbed and spread.

``izdat demo SONG -o out/demo`` (what ``make demo`` runs) takes one song through every machine izdat
has, in the order history did, and writes ``index.html``: one self-contained page (every picture
and sound inside it, no server, no network) with, for every stage, a waveform over a spectrogram,
a player and the stage's figures; then the spread's plots and the lineage of the deepest copy.

1. **cut**: the :class:`~izdat.lathe.Lathe` cuts the song into a 78 rpm bone record on an X-ray;
2. **read**: the optical reader plays the record from its picture, with no needle;
3. **gramophone**: the record played with a steel needle after a few dozen plays;
4. **dub**: the gramophone's sound recorded on tape and copied machine to machine over three decades;
5. **spread**: a small society passes copies on from 1946 to 1990;
6. **listen**: the deepest copy that society made, heard through every machine of its lineage.
"""

from __future__ import annotations

import base64
import html
import io
import json
import sqlite3
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile

from izdat.audio import Audio, load, save
from izdat.files import staged_folder
from izdat.sonogram import sonogram_png

__all__ = ["DEMO_DECKS", "Stage", "run_demo"]

#: The dubbing chain of the demo: three machines of three decades (see ``izdat decks``).
DEMO_DECKS = ("dnepr-11", "mayak-203", "rus-205")
#: Plays the demo's gramophone has given the record before we hear it (a few dozen at most, DESIGN.md).
DEMO_PLAYS = 20


@dataclass
class Stage:
    """One step of the story: what made it, its sound and the figures worth reading."""

    key: str
    title: str
    text: str
    audio: Audio | None = None
    wav: str = ""                                    # the file its sound is kept in, beside the page
    figures: dict = field(default_factory=dict)
    images: list = field(default_factory=list)       # (caption, PNG bytes)
    html: str = ""


def run_demo(song: str | Path, outdir: str | Path, *, trim_s: float | None = None, dpi: float = 1200,
             people: int = 20_000, seed: int = 1, log=print) -> Path:
    """Take ``song`` through every machine and write ``outdir/index.html`` (and the record's files).

    ``trim_s`` cuts only the song's first seconds; ``dpi`` is the record picture's resolution;
    ``people`` the size of the society (20,000 is the least in which both bone records and tapes
    appear in most seeds). Returns the page's path.
    """
    from izdat.lathe import Lathe
    from izdat.outputs import write_record

    outdir = Path(outdir)
    started = time.perf_counter()
    source = load(song)
    if trim_s is not None:
        source = source.trim(trim_s)
    stages = [Stage("source", "The song", f"{Path(song).name}, as it came: the master a stilyaga would have "
                    "found on a smuggled LP or taped off a foreign radio station.", audio=source.mono(),
                    figures={"duration": f"{source.duration_s:.1f} s",
                             "sample rate": f"{source.sample_rate:g} Hz", "channels": source.channels})]
    with staged_folder(outdir) as folder:
        t = time.perf_counter()
        record = Lathe().cut(source)
        written = write_record(record, folder, dpi=dpi, seed=seed)
        info = record.info()
        stages.append(_cut_stage(record, info, folder, written, dpi, time.perf_counter() - t))
        log(f"cut {record.program_s:.1f} s into {record.programme_turns:.1f} programme turns ({time.perf_counter() - t:.1f} s)")

        t = time.perf_counter()
        stages.append(_read_stage(folder / "record.png"))
        log(f"read it back from its picture ({time.perf_counter() - t:.1f} s)")

        t = time.perf_counter()
        stages.append(_gramophone_stage(record, seed))
        log(f"played it on a gramophone ({time.perf_counter() - t:.1f} s)")

        t = time.perf_counter()
        stages.extend(_dub_stages(stages[-1].audio, seed))
        log(f"dubbed it on {', '.join(DEMO_DECKS)} ({time.perf_counter() - t:.1f} s)")

        t = time.perf_counter()
        spread, deepest = _spread_stage(folder, people, seed)
        stages.append(spread)
        log(f"spread copies through {people:,} people ({time.perf_counter() - t:.1f} s)")

        t = time.perf_counter()
        stages.append(_listen_stage(folder / "lineage.sqlite", deepest, source))
        log(f"listened to the deepest copy, #{deepest} ({time.perf_counter() - t:.1f} s)")

        for s in stages:
            if s.wav:
                save(s.audio, folder / s.wav)
        (folder / "index.html").write_text(_page(stages, Path(song).name, time.perf_counter() - started),
                                           encoding="utf-8")
    return outdir / "index.html"


# --- the stages -----------------------------------------------------------------------------

def _cut_stage(record, info, folder: Path, written: dict, dpi: float, seconds: float) -> Stage:
    overview, loupe = _record_views(folder / "record.png", folder / "record.json")
    sizes = {p.name: f"{p.stat().st_size / 1e6:.1f} MB" for p in written.values()}
    preview = load(folder / "preview.wav")
    stage = Stage("cut", "Cut into an X-ray", "The lathe cuts a lateral spiral groove into used X-ray film at "
                  f"78 rpm, with the {record.eq.name} recording curve: the picture below is the record as "
                  "the renderer draws it (the rib cage is the film's old patient). Click the loupe to "
                  "see the groove at full resolution.", audio=preview,
                  figures={"programme": f"{record.program_s:.1f} s", "programme turns": f"{record.programme_turns:.1f}",
                           "radii": f"{info['program_start_radius_mm']:.1f} → {info['program_end_radius_mm']:.1f} mm",
                           "pitch": f"{info['pitch']['mean_um']:.0f} µm mean",
                           "picture": f"{dpi:g} DPI", "cut in": f"{seconds:.1f} s",
                           **sizes})
    stage.images = [("the whole record", overview), ("loupe: the groove band at full resolution", loupe)]
    stage.text += " The player is izdat's preview of the new record on a gramophone."
    return stage


def _record_views(png: Path, meta_json: Path) -> tuple[bytes, bytes]:
    """A 1000 px overview of the record picture (the loupe's place marked) and a full-resolution crop."""
    from PIL import Image, ImageDraw

    meta = json.loads(meta_json.read_text())
    pic = meta["picture"]
    cx, cy = pic["spiral_centre_px"]
    px_per_mm = pic["dpi"] / 25.4
    r_mm = 0.5 * (meta["program_start_radius_mm"] + meta["program_end_radius_mm"])
    side = 700
    x0, y0 = int(cx + r_mm * px_per_mm - side / 2), int(cy - side / 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)   # izdat's own picture, just written
        im = Image.open(png)
    with im:
        im.draft("L", (1000, 1000))
        loupe = im.crop((x0, y0, x0 + side, y0 + side))
        loupe.load()
        scale = 1000 / max(im.size)
        small = im.reduce(max(1, int(1 / scale))) if scale < 1 else im.copy()
    small = small.convert("RGB")
    s = small.size[0] / pic["width_px"]
    ImageDraw.Draw(small).rectangle([x0 * s, y0 * s, (x0 + side) * s, (y0 + side) * s], outline=(255, 80, 40), width=3)
    return _png(small), _png(loupe)


def _png(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _read_stage(png: Path) -> Stage:
    from izdat.optical import play_picture

    t = time.perf_counter()
    audio, groove = play_picture(png)
    took = time.perf_counter() - t
    turns = (groove.program_end - groove.program_start) / groove.samples_per_rev
    return Stage("read", "Read from its picture", "The optical reader finds the spiral in the picture, follows "
                 "the groove's walls turn by turn and plays what they hold: the record heard with no needle, "
                 "as an archivist would from a scan.", audio=audio, wav="read-back.wav",
                 figures={"tracking confidence": f"{100 * groove.confidence:.1f} %",
                          "programme turns read": f"{turns:.1f}", "read in": f"{took:.1f} s"})


def _gramophone_stage(record, seed: int) -> Stage:
    from izdat.gramophone import Gramophone

    gramophone = Gramophone(stylus_um="78", plays=DEMO_PLAYS, seed=seed)
    audio = gramophone.play(record)
    return Stage("gramophone", "On a gramophone", f"The record on a wind-up's steel needle after {DEMO_PLAYS} "
                 "plays: the needle's size, the worn groove, the film's dust and scratches, the burnt hole's "
                 "wow. \"Music through sand.\"", audio=audio, wav="gramophone.wav",
                 figures={"stylus": "78 (steel)", "plays before": DEMO_PLAYS, "seed": seed})


def _dub_stages(audio: Audio, seed: int) -> list[Stage]:
    """Generation 1 recorded on the first deck; each next generation played on one deck, recorded on the next."""
    from izdat.tape import TapeDeck
    from izdat.tape.presets import PRESETS

    decks = [TapeDeck(name, seed=seed + i) for i, name in enumerate(DEMO_DECKS)]
    stages = []
    tape = decks[0].record(audio)
    for g, deck in enumerate(decks):
        if g:
            tape = decks[g - 1].dub(tape, onto=deck)
        p = PRESETS[deck.name]
        how = ("The gramophone's sound recorded on" if g == 0 else
               f"Generation {g} played on the {PRESETS[decks[g - 1].name].title} and copied onto")
        stages.append(Stage(f"tape-{g + 1}", f"Tape, generation {g + 1}: {p.title}",
                            f"{how} a {p.title} ({p.made}), {p.kind} at {p.speed_cm_s:g} cm/s.",
                            audio=deck.play(tape), wav=f"generation-{g + 1:02d}-on-{deck.name}.wav",
                            figures={"machine": p.title, "made": p.made, "speed": f"{p.speed_cm_s:g} cm/s",
                                     "published response": f"{p.lower_hz:g}–{p.upper_hz:g} Hz",
                                     "published S/N": f"{p.snr_db:g} dB",
                                     "published wow & flutter": f"{p.wow_flutter_pct:g} %"}))
    return stages


def _spread_stage(folder: Path, people: int, seed: int) -> tuple[Stage, int]:
    from izdat import __version__
    from izdat.underground import build_society, load_scenario, simulate
    from izdat.underground.lineage import write_lineage
    from izdat.underground.plots import write_plots
    from izdat.underground.summary import summarize

    scenario = load_scenario(None)
    society = build_society(people, scenario, seed)
    history = simulate(society, scenario, seed=seed)
    write_lineage(folder / "lineage.sqlite", history, society, scenario_text=scenario.text, version=__version__)
    summary = summarize(history, society, scenario)
    plots = write_plots(summary, folder, wage_rub=(scenario["money"]["wage_low_rub"], scenario["money"]["wage_high_rub"]))
    con = sqlite3.connect(folder / "lineage.sqlite")
    try:
        media = dict(con.execute("SELECT medium, COUNT(*) FROM copies GROUP BY medium").fetchall())
        deepest, depth = con.execute("SELECT id, generation FROM copies WHERE fake = 0 "
                                     "ORDER BY generation DESC, id LIMIT 1").fetchone()
    finally:
        con.close()
    stage = Stage("spread", "Spread through a society", f"{people:,} people from 1946 to 1990: smugglers, "
                  "cutters, dealers, friends with tape recorders, Komsomol patrols and customs. Every copy "
                  "keeps its parent, so any copy can be traced to its original and heard.",
                  figures={"copies": f"{summary['copies']:,}", "recordings": summary["titles"],
                           "arrests": summary["arrests"], **{f"{m} copies": f"{n:,}" for m, n in sorted(media.items())},
                           "deepest copy": f"#{deepest}, generation {depth}"})
    stage.images = [(p.stem.replace("_", " "), p.read_bytes()) for p in plots]
    return stage, int(deepest)


def _listen_stage(db: Path, copy_id: int, song: Audio) -> Stage:
    from izdat.underground.lineage import chain, open_lineage
    from izdat.underground.listen import listen

    con = open_lineage(db)
    try:
        rows = chain(con, copy_id)
        heard = listen(con, copy_id, song)
        branches = {r["id"]: con.execute("SELECT COUNT(*) FROM copies WHERE parent = ?", (r["id"],)).fetchone()[0]
                    for r in rows}
    finally:
        con.close()
    stage = Stage("deepest", f"The deepest copy: #{copy_id}", f"The society's most-copied copy, generation "
                  f"{rows[0]['generation']}, heard through every lathe, gramophone and tape deck of its lineage "
                  "(the tree below, from the original down).", audio=heard, wav=f"copy-{copy_id}.wav",
                  figures={"generation": rows[0]["generation"], "medium": rows[0]["medium"],
                           "made": rows[0]["made"], "city": rows[0]["city"], "steps": len(rows)})
    stage.html = _lineage_tree(rows, branches)
    return stage


def _lineage_tree(rows: list[dict], branches: dict) -> str:
    """The chain from the original (top) to the copy, each node with its other offspring as a branch."""
    items = []
    path = list(reversed(rows))
    for i, r in enumerate(path):
        how = r.get("deck") or r.get("lathe") or ""
        maker = "abroad / the state" if r["maker"] is None else f"person {r['maker']}"
        others = branches.get(r["id"], 0) - (1 if i + 1 < len(path) else 0)
        items.append(
            f'<li><span class="node {html.escape(str(r["medium"]))}"><b>#{r["id"]}</b> gen {r["generation"]} · '
            f'{html.escape(str(r["medium"]))} · {html.escape(str(r["made"]))} · {html.escape(str(r["city"]))} · '
            f'{html.escape(maker)}{(" on " + html.escape(how)) if how else ""} · {html.escape(str(r["fate"]))}</span>'
            + (f'<ul><li class="other">+ {others} other cop{"y" if others == 1 else "ies"} made from it</li>'
               if others > 0 else "<ul>"))
    return '<ul class="tree">' + "".join(items) + "</ul></li>" * len(items) + "</ul>"


# --- the page -------------------------------------------------------------------------------

def _ogg(audio: Audio) -> str:
    """The audio as an Ogg Vorbis data URI (a tenth of a WAV's size; every browser plays it)."""
    buf = io.BytesIO()
    x = np.clip(audio.samples, -1, 1)
    soundfile.write(buf, x, int(round(audio.sample_rate)), format="OGG", subtype="VORBIS")
    return "data:audio/ogg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _img(data: bytes, alt: str, cls: str = "") -> str:
    return (f'<img class="{cls}" alt="{html.escape(alt)}" src="data:image/png;base64,'
            f'{base64.b64encode(data).decode("ascii")}">')


def _figures(figures: dict) -> str:
    cells = "".join(f"<div><dt>{html.escape(str(k))}</dt><dd>{html.escape(str(v))}</dd></div>"
                    for k, v in figures.items() if v != "")
    return f'<dl class="figures">{cells}</dl>'


def _page(stages: list[Stage], song_name: str, took_s: float) -> str:
    sections = []
    for n, s in enumerate(stages):
        parts = [f'<section id="{s.key}"><h2><span class="n">{n}</span> {html.escape(s.title)}</h2>',
                 f"<p>{html.escape(s.text)}</p>", _figures(s.figures)]
        if s.images and s.key == "cut":
            parts.append('<div class="record">' + _img(s.images[0][1], s.images[0][0], "overview")
                         + _img(s.images[1][1], s.images[1][0], "loupe zoomable") + "</div>"
                         + '<p class="caption">left: the whole record, the loupe\'s place boxed; right: the '
                           'loupe (click to zoom to full resolution)</p>')
        if s.audio is not None:
            parts.append(_img(sonogram_png(s.audio, s.title), f"waveform and spectrogram of {s.title}", "sono"))
            parts.append(f'<audio controls preload="auto" src="{_ogg(s.audio)}"></audio>')
        if s.images and s.key != "cut":
            parts.append('<div class="plots">' + "".join(
                f"<figure>{_img(b, c, 'zoomable')}<figcaption>{html.escape(c)}</figcaption></figure>"
                for c, b in s.images) + "</div>")
        parts.append(s.html)
        parts.append("</section>")
        sections.append("".join(parts))
    nav = "".join(f'<a href="#{s.key}">{html.escape(s.title.split(":")[0])}</a>' for s in stages)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>izdat demo: {html.escape(song_name)}</title>
<style>
body {{ font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d1d1f; background: #f4f1ea; }}
header {{ background: #20140e; color: #f4e9d8; padding: 18px 24px; }}
header h1 {{ margin: 0 0 4px; font-size: 22px; }}
nav {{ position: sticky; top: 0; background: #2e1f16; padding: 6px 24px; z-index: 2; overflow-x: auto; white-space: nowrap; }}
nav a {{ color: #f4d8b0; margin-right: 14px; text-decoration: none; font-size: 13px; }}
main {{ max-width: 1140px; margin: 0 auto; padding: 8px 16px 40px; }}
section {{ background: #fff; border-radius: 8px; padding: 14px 18px; margin: 16px 0; box-shadow: 0 1px 3px #0002; }}
h2 {{ margin: 0 0 6px; font-size: 18px; }} .n {{ color: #b5562c; }}
.figures {{ display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0; }}
.figures div {{ background: #f6efe4; border-radius: 6px; padding: 4px 10px; }}
dt {{ font-size: 11px; color: #6b5a4a; }} dd {{ margin: 0; font-weight: 600; }}
img {{ max-width: 100%; display: block; }} img.sono {{ margin: 8px 0; }}
audio {{ width: 100%; }}
.record {{ display: flex; gap: 10px; flex-wrap: wrap; }} .record img {{ max-width: calc(50% - 5px); }}
.zoomable {{ cursor: zoom-in; }} .zoomed {{ max-width: none !important; cursor: zoom-out; image-rendering: pixelated; width: 300%; }}
.zoombox {{ overflow: auto; max-height: 80vh; }}
.plots {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 10px; }}
figure {{ margin: 0; }} figcaption {{ font-size: 12px; color: #6b5a4a; }} .caption {{ font-size: 12px; color: #6b5a4a; }}
ul.tree, ul.tree ul {{ list-style: none; padding-left: 18px; border-left: 2px solid #d9c7b0; margin: 4px 0; }}
ul.tree {{ border: 0; padding-left: 0; }}
.node {{ display: inline-block; margin: 3px 0; padding: 3px 8px; border-radius: 5px; background: #f6efe4; font-size: 13px; }}
.node.bone {{ background: #e4ecf6; }} .node.reel {{ background: #eef6e4; }} .node.cassette {{ background: #f6e4ec; }}
.node.LP {{ background: #f6f0c8; }} li.other {{ font-size: 12px; color: #8a7563; }}
footer {{ text-align: center; font-size: 12px; color: #6b5a4a; padding-bottom: 24px; }}
</style></head><body>
<header><h1>izdat: {html.escape(song_name)}, from bone record to the deepest tape copy</h1>
<div>roentgenizdat and magnitizdat in software: one song through every machine izdat has</div></header>
<nav>{nav}</nav>
<main>{''.join(sections)}</main>
<footer>made by <code>izdat demo</code> in {took_s:.0f} s · every sound and picture is inside this page</footer>
<script>
document.querySelectorAll('img.zoomable').forEach(function (img) {{
  img.tabIndex = 0;
  function toggle() {{
    img.classList.toggle('zoomed');
    var box = img.parentElement;
    if (img.classList.contains('zoomed')) {{
      var wrap = document.createElement('div'); wrap.className = 'zoombox';
      box.insertBefore(wrap, img); wrap.appendChild(img);
      wrap.scrollLeft = (img.scrollWidth - wrap.clientWidth) / 2; wrap.scrollTop = (img.scrollHeight - wrap.clientHeight) / 2;
    }} else if (box.classList.contains('zoombox')) {{ box.parentElement.insertBefore(img, box); box.remove(); }}
  }}
  img.addEventListener('click', toggle);
  img.addEventListener('keydown', function (e) {{ if (e.key === 'Enter' || e.key === ' ') {{ e.preventDefault(); toggle(); }} }});
}});
</script>
</body></html>
"""
