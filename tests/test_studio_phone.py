"""The studio on a phone (390 px wide) and from the keyboard, in Debian's Chromium (issue 17).

One user's session: the header fits, the hidden file input takes no tab stop, a too-coarse DPI is
warned of with a button, Cut waits for the song that is still uploading, a song too long for the side
is offered fixes as buttons (no CLI flags) and one of them cuts it, the record's turns are programme
turns, the zoom viewer answers keys, the Shelf shows thumbnails, figures and sizes, a copy row opens
on Enter, and the Dub players keep their controls. Screenshots land in ``test-artifacts/studio/``.
"""

import re

import numpy as np
import pytest
import soundfile

from test_studio_e2e import ARGS, CHROMIUM, SHOTS, _until, studio  # noqa: F401 - the server fixture

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium")
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(studio):  # noqa: F811 - the fixture imported above
    from playwright.sync_api import sync_playwright
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
        pg = context.new_page()
        errors = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.errors = errors
        yield pg
        context.close()
        browser.close()


def _fits(page, where: str) -> None:
    """Nothing sticks out of the phone's 390 px: the page does not scroll sideways."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{where}: the page is {width} px wide on a {PHONE['width']} px phone"


def _long_song(path) -> None:
    t = np.arange(60 * 8000) / 8000
    soundfile.write(path, (0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32), 8000, subtype="PCM_16")


def test_the_studio_on_a_phone_and_from_the_keyboard(phone, studio, tmp_path):  # noqa: F811
    page = phone
    page.goto(f"{studio}/#cut")
    page.wait_for_selector("#cut-xrays .chip")
    header = page.eval_on_selector(".top", "e => e.getBoundingClientRect().height")
    assert header < 100, f"the header takes {header:.0f} px of the phone's 844"
    _fits(page, "cut")

    # the drop zone is one tab stop: the next one is the example-song button, not the hidden input
    page.focus(".drop[data-target=cut-song]")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "cut-example"

    # a picture too coarse to read back is said before cutting, with the fix as a button
    page.select_option("#cut-form select[name=dpi]", "300")
    note = page.inner_text("#cut-dpi-note")
    assert "At 300 dpi the optical needle may not read this record back" in note and "726 dpi" in note, note
    page.click("#cut-dpi-note .fix")
    assert page.eval_on_selector("#cut-form select[name=dpi]", "s => s.value") == "800"
    assert not page.is_visible("#cut-dpi-note")

    # while long.wav uploads, Cut waits (it would cut the song chosen before)
    song = tmp_path / "long.wav"
    _long_song(song)
    held = []
    page.route("**/api/uploads/audio", lambda route: held.append(route))
    page.set_input_files("#cut-song-file", str(song))
    _until(page, "document.querySelector('#cut-go').disabled")
    assert page.inner_text("#cut-go").startswith("Wait: uploading long.wav"), page.inner_text("#cut-go")
    page.screenshot(path=str(SHOTS / "phone-cut-uploading.png"))
    _until(page, "true")                      # lets Playwright hand the held request over
    assert held, "the upload never reached the page's route"
    held[0].continue_()
    _until(page, "!document.querySelector('#cut-go').disabled")
    assert page.inner_text("#cut-go") == "Cut the record"
    assert "long.wav · WAV" in page.inner_text("#cut-song-name")

    # a minute on a 50 mm side: refused in words, the fixes as buttons; the trim cuts it
    _until(page, "document.querySelector('#cut-side').textContent.includes('The song (1:00)')")
    assert "about 44 min" in page.inner_text("#cut-side") or "to cut at 600 mm/min" in page.inner_text("#cut-side")
    page.fill("#cut-form input[name=diameter_mm]", "50")
    _until(page, "document.querySelector('#cut-side').textContent.includes('does not fit')")
    assert page.inner_text("#cut-side").startswith("This side holds 0:14 of music.")
    page.click("#cut-go")
    page.wait_for_selector("#cut-job .fix")
    said = page.inner_text("#cut-job .msg")
    assert said == "The song lasts 1:00 but a 50 mm side at 78 rpm holds 0:14.", said
    labels = [b.inner_text() for b in page.query_selector_all("#cut-job .fix")]
    assert labels[0] == "Cut only the first 14 s" and not any("--" in x or "≤" in x for x in labels), labels
    page.screenshot(path=str(SHOTS / "phone-cut-fixes.png"), full_page=True)
    page.click("#cut-job .fix >> nth=0")
    # the bar says how far, in per cent, as the CLI's bars do
    _until(page, "/\\d+ %/.test((document.querySelector('#cut-job .msg') || {}).textContent || '')", 60)
    page.wait_for_selector("#cut-result .viewer img", timeout=120_000)
    assert page.input_value("#cut-form input[name=trim_s]") == "14"
    result = page.inner_text("#cut-result")
    assert "null" not in result and "the rest coasted" not in result, result
    m = re.search(r"([\d.]+) s in ([\d.]+) programme turns", page.inner_text("#cut-result .facts"))
    assert m and abs(float(m.group(2)) - float(m.group(1)) * 78 / 60) < 0.1, page.inner_text("#cut-result .facts")
    for audio in page.query_selector_all("#cut-result .players audio"):
        assert audio.bounding_box()["width"] > 250
        assert abs(audio.evaluate("a => new Promise(ok => a.readyState >= 1 ? ok(a.duration) : "
                                  "a.addEventListener('loadedmetadata', () => ok(a.duration)))") - 14) < 0.3
    _fits(page, "cut result")
    # one playhead: the song sought to 5 s, then the gramophone started, takes up at 5 s
    heard = page.evaluate("""() => new Promise(done => {
        const [song, , gramophone] = document.querySelectorAll('#cut-result .players audio');
        song.muted = gramophone.muted = true;
        song.addEventListener('seeked', () => gramophone.play()
            .then(() => setTimeout(() => { const t = gramophone.currentTime; gramophone.pause(); done(t); }, 300))
            .catch((e) => done('refused: ' + e)), { once: true });
        song.currentTime = 5;
    })""")
    assert isinstance(heard, float) and 5 <= heard < 6.5, heard

    # the zoom viewer from the keyboard: + goes onto the music band, arrows move, 0 fits
    page.focus("#cut-result .stage")
    page.keyboard.press("+")
    assert int(page.inner_text("#cut-result .zoom-level").rstrip(" %")) >= 400
    before = page.eval_on_selector("#cut-result .stage img", "i => i.style.transform")
    page.keyboard.press("ArrowRight")
    assert page.eval_on_selector("#cut-result .stage img", "i => i.style.transform") != before
    page.keyboard.press("0")
    assert page.inner_text("#cut-result .zoom-level") == "100 %"
    page.screenshot(path=str(SHOTS / "phone-cut.png"), full_page=True)

    # the same cut once more: the Shelf tells the two apart, with thumbnails, figures and sizes
    page.evaluate("""() => fetch('/api/jobs/cut', {method: 'POST', headers: {'Content-Type': 'application/json',
        'X-Izdat-Token': document.querySelector('meta[name=izdat-token]').content},
        body: JSON.stringify({song: 'example', diameter_mm: 90, dpi: 150, trim_s: 1})})""")
    page.goto(f"{studio}/#shelf")
    page.wait_for_selector("#shelf-rows tr")
    _until(page, "[...document.querySelectorAll('#shelf-rows img')].every(i => i.complete && i.naturalWidth > 0)")
    rows = page.query_selector_all("#shelf-rows tr")
    cut = next(r for r in rows if "long.wav" in r.inner_text())
    text = cut.inner_text()
    assert "long.wav (first 14 s) at 78 rpm, 50 mm, 800 dpi" in text, text
    assert re.search(r"14 s in [\d.]+ programme turns", text) and re.search(r"\d+(\.\d)? MiB", text), text
    assert cut.query_selector("img").evaluate("i => i.naturalWidth") > 0
    _fits(page, "shelf")
    page.screenshot(path=str(SHOTS / "phone-shelf.png"), full_page=True)

    # the underground: years as years, cards that fit, a copy opened with Enter
    page.goto(f"{studio}/#underground")
    assert page.inner_text("#ug-ban_year-out") == "1958" and page.inner_text("#ug-start_year-out") == "1946"
    page.eval_on_selector("#ug-form input[name=people]", "r => { r.value = 500; r.dispatchEvent(new Event('input')); }")
    page.eval_on_selector("#ug-form input[name=end_year]", "r => { r.value = 1975; r.dispatchEvent(new Event('input')); }")
    page.click("#ug-go")
    page.wait_for_selector("#ug-result .copy-table tbody tr", timeout=90_000)
    right = page.evaluate("Math.max(...[...document.querySelectorAll('#ug-result .numbers > div')].map(d => d.getBoundingClientRect().right))")
    assert right <= PHONE["width"], f"a number card ends at {right:.0f} px"
    # the run to watch: a line per medium, the state's dates marked, Step walks the years
    assert page.query_selector_all("#ug-result svg.timeline polyline")
    assert "1958 bone records banned" in page.eval_on_selector("#ug-result svg.timeline", "s => s.textContent")
    page.click("#ug-result .scrubber button:has-text('Step')")
    assert page.inner_text("#ug-result .readout").startswith("1946: alive LP")
    page.click("#ug-result .scrubber button:has-text('Step')")
    assert page.inner_text("#ug-result .readout").startswith("1947: ")
    # the copy finder: the deepest first
    page.click("#ug-result .finder button")
    _until(page, "/copies? found/.test(document.querySelector('#ug-result .find-said').textContent)")
    page.focus("#ug-result .copy-table tbody tr")
    page.keyboard.press("Enter")
    page.wait_for_selector("#ug-result .lineage li")
    page.wait_for_selector("#ug-result .tree li.chosen")
    _fits(page, "underground")
    page.screenshot(path=str(SHOTS / "phone-underground.png"), full_page=True)

    # Dub: every generation's player keeps its play button on the phone
    page.goto(f"{studio}/#dub")
    page.click("#dub-example")
    page.click("#dub-chain li:last-child .x")
    page.click("#dub-chain li:last-child .x")
    page.fill("#dub-form input[name=trim_s]", "1")
    # the machine's panel: its knobs start at what its serial number draws; one set by hand
    page.click("#dub-chain li .gear")
    _until(page, "(document.querySelector('#dub-chain [data-knob=speed_error_pct]') || {}).placeholder")
    page.fill("#dub-chain [data-knob=speed_error_pct]", "2")
    page.click("#dub-go")
    page.wait_for_selector("#dub-result .gen", timeout=90_000)
    for audio in page.query_selector_all("#dub-result .gen audio"):
        assert audio.bounding_box()["width"] > 250
        assert 0.9 < audio.evaluate("a => new Promise(ok => a.readyState >= 1 ? ok(a.duration) : "
                                    "a.addEventListener('loadedmetadata', () => ok(a.duration)))") < 1.1
    assert re.search(r"upper \d+ Hz · S/N [\d.]+ dB · W&F [\d.]+ %", page.inner_text("#dub-result .gen-head .meter"))
    assert "speed +2 %" in page.inner_text("#dub-result .gen-head .machine")
    _until(page, "document.querySelector('#dub-result .meter-chart img').naturalWidth === 960")
    _fits(page, "dub")
    page.screenshot(path=str(SHOTS / "phone-dub.png"), full_page=True)
    assert not page.errors, page.errors
