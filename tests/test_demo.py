"""``izdat demo``: the whole story on one self-contained page, checked in Debian's headless Chromium.

The page must open from ``file://`` with no server, every player must hold playable audio of the
stage's length, every picture must have loaded; a screenshot lands in ``test-artifacts/demo/``.
"""

import json
import re
import sqlite3
from pathlib import Path

import pytest
import soundfile

from izdat.demo import DEMO_DECKS, run_demo

ROOT = Path(__file__).resolve().parents[1]
SONG = ROOT / "examples" / "song.flac"
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "test-artifacts" / "demo"
TRIM_S = 4.0


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    page = run_demo(SONG, out, trim_s=TRIM_S, people=20_000, seed=1, log=lambda text: None)
    return out, page


def test_the_demo_writes_every_stage_s_files(demo):
    out, page = demo
    names = {p.name for p in out.iterdir()}
    for name in ("record.png", "record.svg", "record.gcode", "record.dxf", "record.json", "preview.wav",
                 "read-back.wav", "gramophone.wav", "lineage.sqlite", "index.html", "alive_by_medium.png"):
        assert name in names, name
    for g, deck in enumerate(DEMO_DECKS, 1):
        assert f"generation-{g:02d}-on-{deck}.wav" in names
    assert not [n for n in names if n.startswith(".izdat-")]
    # the society is big enough for bone records and tapes both, and the deepest copy is heard
    con = sqlite3.connect(out / "lineage.sqlite")
    media = dict(con.execute("SELECT medium, COUNT(*) FROM copies GROUP BY medium").fetchall())
    deepest, depth = con.execute("SELECT id, generation FROM copies WHERE fake = 0 "
                                 "ORDER BY generation DESC, id LIMIT 1").fetchone()
    con.close()
    assert media.get("bone", 0) > 0 and media.get("reel", 0) + media.get("cassette", 0) > 0, media
    assert depth >= 3
    info = soundfile.info(out / f"copy-{deepest}.wav")
    assert info.duration >= TRIM_S * 0.9
    read = soundfile.info(out / "read-back.wav")
    assert abs(read.duration - json.loads((out / "record.json").read_text())["program_s"]) < 0.2


def test_the_page_holds_everything_it_shows(demo):
    out, page = demo
    text = page.read_text(encoding="utf-8")
    assert not re.search(r'(src|href)="(https?:)?//', text), "the page reaches outside itself"
    assert text.count("<audio") == 5 + len(DEMO_DECKS)      # song, cut preview, read, gramophone, tapes, deepest
    assert text.count('src="data:audio/ogg;base64,') == text.count("<audio")
    assert text.count('<li><span class="node') == int(re.search(r"<dt>steps</dt><dd>(\d+)</dd>", text).group(1))


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium "
                                                  "(make test installs it: apt-get install chromium)")
def test_the_page_plays_in_chromium_from_the_file_system(demo):
    from playwright.sync_api import sync_playwright

    out, page_path = demo
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_path.resolve().as_uri())
        page.wait_for_load_state("load")
        for _ in range(100):                      # every player has decoded its audio's length
            durations = page.evaluate("[...document.querySelectorAll('audio')].map(a => a.duration)")
            if durations and all(d == d and d > 0 for d in durations):
                break
            page.wait_for_timeout(100)
        assert len(durations) == 5 + len(DEMO_DECKS)
        assert all(d >= TRIM_S * 0.9 for d in durations), durations
        images = page.evaluate("[...document.images].map(i => [i.alt, i.complete && i.naturalWidth > 0])")
        assert len(images) >= 8 + 2 + 5
        assert all(ok for _, ok in images), [alt for alt, ok in images if not ok]
        assert all(u.startswith(("file:", "data:")) for u in requests), requests
        # the loupe zooms onto the groove at full resolution, and back
        loupe = page.locator("img.loupe")
        shown = loupe.evaluate("i => i.getBoundingClientRect().width")
        loupe.click()
        assert loupe.evaluate("i => i.classList.contains('zoomed')")
        assert loupe.evaluate("i => i.getBoundingClientRect().width") > 2 * shown
        loupe.press("Enter")
        assert not loupe.evaluate("i => i.classList.contains('zoomed')")
        page.screenshot(path=str(SHOTS / "demo.png"), full_page=True)
        browser.close()
