"""The studio in a real headless Chromium (Debian's chromium, driven by Playwright).

Upload the example song, cut it, see the picture, play it back, download the SVG and parse it; then
play, dub, underground and the shelf. Screenshots of every page land in ``test-artifacts/studio/``.
"""

import socket
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
SONG = ROOT / "examples" / "song.flac"
SHOTS = ROOT / "test-artifacts" / "studio"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
        "--autoplay-policy=no-user-gesture-required"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium "
                                                              "(make test installs it: apt-get install chromium)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def studio(tmp_path_factory):
    """The studio served by uvicorn on a free localhost port, in a thread."""
    import uvicorn

    from izdat.studio import create_app
    port = _free_port()
    app = create_app(tmp_path_factory.mktemp("studio-data"), workers=2,
                     allowed_hosts=["127.0.0.1", "localhost"], port=port)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def _until(page, expression: str, timeout_s: float = 30.0) -> None:
    """Wait until a JavaScript expression is true, polling from Python: the studio's Content Security
    Policy forbids the eval that Playwright's own ``wait_for_function`` relies on."""
    end = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > end:
            raise AssertionError(f"still false after {timeout_s:g} s: {expression}")
        time.sleep(0.1)


@pytest.fixture
def page(studio):
    from playwright.sync_api import sync_playwright
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        pg = context.new_page()
        errors = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
        pg.errors = errors
        yield pg
        context.close()
        browser.close()


def _cut_see_play_download(page, studio, tmp_path):
    """Upload the example song, cut it small, see the record, play both players, download the SVG."""
    page.goto(f"{studio}/#cut")
    page.wait_for_selector("#cut-xrays .chip")
    page.screenshot(path=str(SHOTS / "cut-empty.png"))
    page.set_input_files("#cut-song-file", str(SONG))
    _until(page, "document.querySelector('#cut-song-name').textContent.includes('song.flac')")
    page.fill("#cut-form input[name=diameter_mm]", "120")
    page.select_option("#cut-form select[name=dpi]", "800")   # coarser pictures may be refused by the optical needle
    page.fill("#cut-form input[name=trim_s]", "4")
    # the X-ray: "your own", a chest film uploaded as a PNG
    from PIL import Image

    from izdat.xray import radiograph
    film = tmp_path / "my-chest.png"
    Image.fromarray((radiograph("chest", 512, seed=3) * 255).astype("uint8")).save(film)
    page.click("#cut-xrays .chip:has-text('your own')")
    page.set_input_files("#cut-xray-file", str(film))
    _until(page, "document.querySelector('#cut-xray-name').textContent.includes('my-chest.png')")
    page.click("#cut-go")
    page.wait_for_selector("#cut-job .fill")
    page.reload()                                        # a running job survives a reload
    page.wait_for_selector("#cut-job:not(.hidden)")
    page.wait_for_selector("#cut-result .viewer img", timeout=90_000)
    assert not page.is_visible("#cut-job.failed"), page.inner_text("#cut-job")
    width = page.eval_on_selector("#cut-result .viewer img", "img => img.decode().then(() => img.naturalWidth)")
    assert width > 500
    # play back the song, the groove as cut, the gramophone and the optical read-back, each with its sonogram
    players = page.query_selector_all("#cut-result .players audio")
    assert len(players) == 4, page.inner_text("#cut-result .players")
    _until(page, "[...document.querySelectorAll('#cut-result .players img.sono')].filter(i => i.complete && i.naturalWidth > 800).length === 4")
    for audio in players:
        played = audio.evaluate("""a => new Promise(done => {
            a.muted = true;
            a.addEventListener('timeupdate', () => { if (a.currentTime > 0.2) done(a.currentTime); });
            a.play().catch(e => done('refused: ' + e));
            setTimeout(() => done(a.readyState >= 2 ? 'loaded ' + a.duration : 'not loaded'), 8000);
        })""")
        assert played, played
        assert not str(played).startswith(("refused", "not loaded")), played
        audio.evaluate("a => a.pause()")
        assert abs(audio.evaluate("a => a.duration") - 4.0) < 0.3
    # zoom in: the full picture replaces the preview
    for _ in range(3):
        page.click("#cut-result .zoom-in")
    _until(page, "document.querySelector('#cut-result .viewer img').src.endsWith('record.png')")
    page.click("#cut-result .zoom-tools button:has-text('fit')")
    page.screenshot(path=str(SHOTS / "cut.png"), full_page=True)
    with page.expect_download() as info:
        page.click("#cut-result .dl-svg")
    svg = tmp_path / "record.svg"
    info.value.save_as(svg)
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    assert root.get("width", "").endswith("mm")
    assert "my-chest.png" in page.inner_text("#cut-result .facts")
    assert len(root.findall(".//{http://www.w3.org/2000/svg}path")) >= 1
    assert not page.errors, page.errors


def _play_the_cut_record(page, studio):
    """Play the record just cut from its picture; the tracking report shows."""
    page.goto(f"{studio}/#play")
    _until(page, "document.querySelector('#play-cut').options.length > 1")
    page.select_option("#play-cut", index=1)
    page.click("#play-go")
    page.wait_for_selector("#play-result .viewer img", timeout=60_000)
    assert page.is_visible("#play-result audio")
    assert "tracked" in page.inner_text("#play-result .badge")
    page.screenshot(path=str(SHOTS / "play.png"), full_page=True)


def _dub_two_generations(page, studio):
    """Dub the example song through two decks: a player and a spectrogram per generation."""
    page.goto(f"{studio}/#dub")
    page.click("#dub-example")
    page.click("#dub-chain li:last-child .x")
    page.fill("#dub-form input[name=trim_s]", "3")
    page.click("#dub-go")
    page.wait_for_selector("#dub-result .gen", timeout=60_000)
    assert len(page.query_selector_all("#dub-result .gen")) == 3        # source + 2 generations
    _until(page, "[...document.querySelectorAll('#dub-result img.spec')].every(i => i.complete && i.naturalWidth > 0)")
    page.screenshot(path=str(SHOTS / "dub.png"), full_page=True)


def _underground_and_shelf(page, studio):
    """Run a small society, click a copy to see its lineage; then the shelf lists every result."""
    page.goto(f"{studio}/#underground")
    page.eval_on_selector("#ug-form input[name=people]", "r => { r.value = 1500; r.dispatchEvent(new Event('input')); }")
    page.click("#ug-go")
    page.wait_for_selector("#ug-result .copy-table tbody tr", timeout=60_000)
    _until(page, "[...document.querySelectorAll('#ug-result .plots img')].every(i => i.complete && i.naturalWidth > 0)")
    page.click("#ug-result .copy-table tbody tr")
    page.wait_for_selector("#ug-result .lineage li")
    if page.is_enabled("#ug-result .chain-box button.go"):       # izdat.underground.listen is there
        page.click("#ug-result .chain-box button.go")
        page.wait_for_selector("#ug-listen audio", timeout=60_000)
        assert page.eval_on_selector("#ug-listen audio", "a => new Promise(ok => a.readyState >= 1 ? ok(a.duration) : a.addEventListener('loadedmetadata', () => ok(a.duration)))") > 1
    page.screenshot(path=str(SHOTS / "underground.png"), full_page=True)
    page.goto(f"{studio}/#shelf")
    page.wait_for_selector("#shelf-rows tr")
    assert len(page.query_selector_all("#shelf-rows tr")) >= 4
    page.screenshot(path=str(SHOTS / "shelf.png"), full_page=True)
    assert not page.errors, page.errors


def test_the_studio_in_a_browser(page, studio, tmp_path):
    """One user's session, in order (one test, so that parallel runners keep it on one server)."""
    _cut_see_play_download(page, studio, tmp_path)
    _play_the_cut_record(page, studio)
    _dub_two_generations(page, studio)
    _underground_and_shelf(page, studio)
