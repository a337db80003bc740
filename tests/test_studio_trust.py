"""What the studio tells its user, through its HTTP API (issue 17's trust-breakers).

* a song that does not fit the side is refused (or fails) in words, with fixes the page offers as
  buttons, each one a setting that fits (no CLI flags, no speed the page cannot set);
* a job asked for while an upload it could take is still arriving is refused (409): a cut started
  then took the song chosen before;
* the studio counts a record's turns as cut and play do: programme turns, record.json's own;
* the Shelf tells results apart: distinct titles, a thumbnail, the figures and the size.
"""

import asyncio
import io
import json
import re
import time

import numpy as np
import pytest
import soundfile
from PIL import Image

from izdat.lathe import Lathe
from izdat.studio import create_app

httpx = pytest.importorskip("httpx")
BASE = "http://127.0.0.1:8350"


def _wav(seconds: float, rate: int = 8000, noise: bool = False) -> bytes:
    n = int(seconds * rate)
    if noise:
        x = 0.5 * np.random.default_rng(0).standard_normal(n)
    else:
        x = 0.4 * np.sin(2 * np.pi * 440 * np.arange(n) / rate)
    buf = io.BytesIO()
    soundfile.write(buf, x.astype(np.float32), rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


class Page:
    """The studio's own page, as an async client: its token and Origin on every change."""

    def __init__(self, app):
        self.app = app
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, timeout=60)

    async def __aenter__(self):
        page = (await self.client.get("/")).text
        token = re.search(r'<meta name="izdat-token" content="([^"]+)">', page).group(1)
        self.client.headers.update({"X-Izdat-Token": token, "Origin": BASE})
        return self.client

    async def __aexit__(self, *exc):
        await self.client.aclose()
        self.app.state.studio.jobs.close()


async def _upload(client, body, name="song.wav", kind="audio"):
    r = await client.post(f"/api/uploads/{kind}", content=body,
                          headers={"Content-Type": "application/octet-stream", "X-Filename": name})
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _wait(client, job_id, timeout=90):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        job = (await client.get(f"/api/jobs/{job_id}")).json()
        if job["state"] not in ("queued", "running"):
            return job
        await asyncio.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def _holds(settings: dict, seconds: float) -> bool:
    """Whether the lathe of these Cut-page settings holds ``seconds`` at its nominal pitch."""
    d = settings["diameter_mm"]
    lathe = Lathe(rpm=settings["rpm"], diameter_mm=d, inner_radius_mm=settings.get("inner_radius_mm") or round(min(52.0, 0.2 * d), 1))
    return lathe.capacity_s() >= min(seconds, settings.get("trim_s") or seconds)


def _no_cli_words(text: str) -> None:
    assert "--" not in text and "≤" not in text and "Traceback" not in text, text


def test_a_song_too_long_is_refused_with_fixes_that_each_fit(tmp_path):
    """A 60 s song on a 70 mm side at 78 rpm (32.6 s): refused before any job; the fixes are the first
    32 s, 33⅓ rpm (45 holds only 56 s) and a 110 mm disc; each, sent as the page sends it, is taken (202)."""
    async def go():
        async with Page(create_app(tmp_path, workers=1)) as c:
            song = await _upload(c, _wav(60.0), "long.wav")
            base = {"song": song, "rpm": 78, "diameter_mm": 70, "dpi": 150}
            r = await c.post("/api/jobs/cut", json=base)
            assert r.status_code == 400, r.text
            body = r.json()
            assert body["error"] == "the song lasts 1:00 but a 70 mm side at 78 rpm holds 0:32"
            _no_cli_words(body["error"])
            labels = [f["label"] for f in body["fixes"]]
            assert labels == ["Cut only the first 32 s", "Cut at 33⅓ rpm", "Use a 110 mm disc"], labels
            assert (await c.get("/api/jobs")).json() == []
            for fix in body["fixes"]:
                settings = {**base, **fix["set"]}
                assert _holds(settings, 60.0), settings
                taken = await c.post("/api/jobs/cut", json=settings)
                assert taken.status_code == 202, (fix, taken.text)
                await c.delete(f"/api/jobs/{taken.json()['id']}")
    asyncio.run(go())


def test_a_song_the_variable_pitch_cannot_fit_fails_with_fixes(tmp_path):
    """20 s of loud noise on a 50 mm side: the pitch plan is what refuses it, inside the job; the job's
    failure says so in the page's words, with fixes (the trim under the 14 s the side holds)."""
    async def go():
        async with Page(create_app(tmp_path, workers=1)) as c:
            song = await _upload(c, _wav(20.0, noise=True), "noise.wav")
            r = await c.post("/api/jobs/cut", json={"song": song, "diameter_mm": 50, "dpi": 150})
            assert r.status_code == 202, r.text
            job = await _wait(c, r.json()["id"])
            assert job["state"] == "failed"
            assert job["error"] == "the song lasts 0:20 but a 50 mm side at 78 rpm holds 0:14", job["error"]
            _no_cli_words(job["error"])
            fixes = {k: v for f in job["fixes"] for k, v in f["set"].items()}
            assert fixes["trim_s"] == 14 and fixes["rpm"] == 33.333 or fixes["rpm"] == 45, fixes
            assert _holds({"rpm": 78, "diameter_mm": fixes["diameter_mm"]}, 20.0)
    asyncio.run(go())


def test_no_job_starts_while_an_upload_it_could_take_is_arriving(tmp_path):
    """The page had a song; a second one (long.wav) is half received when Cut is asked for: refused
    (409) naming it, and a dub too; once it has arrived, the cut of the new song is taken."""
    async def go():
        app = create_app(tmp_path, workers=1)
        async with Page(app) as c:
            old = await _upload(c, _wav(1.0), "short.wav")
            data = _wav(3.0)
            release = asyncio.Event()

            async def slow():
                yield data[: len(data) // 2]
                await release.wait()
                yield data[len(data) // 2:]
            task = asyncio.create_task(c.post("/api/uploads/audio", content=slow(), headers={
                "Content-Type": "application/octet-stream", "X-Filename": "long.wav", "Content-Length": str(len(data))}))
            for _ in range(500):
                await asyncio.sleep(0.01)
                if app.state.studio.uploads.arriving:
                    break
            r = await c.post("/api/jobs/cut", json={"song": old, "diameter_mm": 90, "dpi": 150})
            assert r.status_code == 409, r.text
            assert r.json()["error"] == ("long.wav is still uploading (23 of 47 KiB received), so the song or X-ray "
                                         "chosen before it would be used; start again once the upload has finished"), r.text
            dub = await c.post("/api/jobs/dub", json={"song": old, "chain": ["vesna"], "trim_s": 1})
            assert dub.status_code == 409 and "long.wav" in dub.json()["error"]
            assert (await c.get("/api/jobs")).json() == []          # nothing started
            release.set()
            up = await task
            assert up.status_code == 201, up.text
            taken = await c.post("/api/jobs/cut", json={"song": up.json()["id"], "diameter_mm": 90, "dpi": 150})
            assert taken.status_code == 202, taken.text
            assert taken.json()["params"]["song_name"] == "long.wav"
            await c.delete(f"/api/jobs/{taken.json()['id']}")
    asyncio.run(go())


def test_turns_are_programme_turns_and_the_shelf_tells_results_apart(tmp_path):
    """A 1.5 s cut at 78 rpm: 1.95 programme turns, record.json's own figure (cut prints it), and the
    optical needle's read-back counts the same turns (as play prints them); its tracking picture is
    drawn in play --report's colours. The Shelf's entry has the record's preview, the figures, the
    files' size and a title naming the trim and the dpi, so two cuts of one song differ."""
    from izdat.studio.work import TRACK_COLOURS

    async def go():
        async with Page(create_app(tmp_path, workers=1)) as c:
            said = (await c.get("/api/side", params={"song": "example", "rpm": 78, "diameter_mm": 60, "trim_s": 1.5})).json()
            bad = await c.get("/api/side", params={"diameter_mm": 900})
            assert bad.status_code == 400 and bad.json()["error"].startswith("diameter_mm must be between 50 and 420")
            r = await c.post("/api/jobs/cut", json={"song": "example", "diameter_mm": 60, "dpi": 800, "trim_s": 1.5})
            assert r.status_code == 202, r.text
            job = await _wait(c, r.json()["id"])
            assert job["state"] == "done", job
            rec = job["result"]["record"]
            meta = json.loads((await c.get(f"/api/jobs/{job['id']}/files/record.json")).content)
            assert rec["programme_turns"] == round(meta["programme_turns"], 1)
            assert abs(rec["programme_turns"] - 1.5 * 78 / 60) < 0.06
            assert "turns" not in rec
            # the loupe's aim: midway across the music band, right of the centre; the time to cut the groove
            band = rec["band"]
            assert band["programme_mm"] == [round(meta["program_start_radius_mm"], 2), round(meta["program_end_radius_mm"], 2)]
            assert 0.5 < band["aim"][0] < 1 and abs(band["aim"][1] - 0.5) < 0.01
            cutting = rec["cutting"]
            assert abs(cutting["seconds"] - cutting["groove_m"] * 1000 / cutting["feed_mm_min"] * 60) < 1
            # what the page said before cutting: the side's capacity, the turns, the groove and its time
            assert said["capacity_s"] == round(Lathe(rpm=78, diameter_mm=60, inner_radius_mm=12).capacity_s(), 1)
            assert said["fits"] and said["seconds"] == 1.5 and abs(said["programme_turns"] - 1.5 * 78 / 60) < 0.06
            assert abs(said["groove_m"] / (meta["fabrication"]["groove_length_mm"] / 1000) - 1) < 0.03, said
            assert abs(said["cutting_s"] / meta["fabrication"]["cutting_time_s"] - 1) < 0.03, said
            tracking = job["result"]["optical"]["tracking"]
            assert abs(tracking["programme_turns"] - rec["programme_turns"]) <= 0.1, tracking
            png = Image.open(io.BytesIO((await c.get(f"/api/jobs/{job['id']}/files/tracking.png")).content)).convert("RGB")
            colours = {tuple(c) for c in np.asarray(png).reshape(-1, 3)[::7]}
            assert TRACK_COLOURS["measured"] in colours and (90, 220, 255) not in colours
            entry = next(j for j in (await c.get("/api/jobs")).json() if j["id"] == job["id"])
            assert entry["title"] == "the example song (first 1.5 s) at 78 rpm, 60 mm, 800 dpi"
            assert entry["thumb"] == "record-preview.png"
            thumb = await c.get(f"/api/jobs/{job['id']}/files/{entry['thumb']}")
            assert thumb.content.startswith(b"\x89PNG")
            assert entry["summary"].startswith(f"1.5 s in {rec['programme_turns']:g} programme turns · blumlein · 800 dpi")
            files = tmp_path / "jobs" / job["id"] / "files"
            assert entry["bytes"] == sum(f.stat().st_size for f in files.iterdir())
            assert entry["bytes"] > 100_000
    asyncio.run(go())


def test_a_picture_too_coarse_to_read_back_is_offered_a_finer_one():
    """The reader's own sentence at 150 dpi asks for 500 DPI; the closest turns a variable pitch cuts
    (140 µm) need 726, so the button offers the page's 800."""
    from izdat.studio.work import _dpi_fixes, read_back_dpi
    said = ("the picture is too coarse to read the groove: at 150 DPI its 120 µm 0.7 px across, too few to tell "
            "the turns and their modulation apart (1% of it followed; scan it at 500 DPI or more)")
    assert read_back_dpi() == {"dpi": 726, "closest_turns_um": 140.0}
    assert _dpi_fixes(said, 150) == [{"label": "Cut again at 800 dpi", "set": {"dpi": 800}}]
    assert _dpi_fixes(said.replace("500 DPI", "1000 DPI"), 800) == [{"label": "Cut again at 1200 dpi", "set": {"dpi": 1200}}]
    assert _dpi_fixes("the picture holds no readable groove", 800) == []


def test_the_dub_pages_meter_reads_what_izdat_measure_reads():
    """Two copies on one Vesna through the studio's chain meter: the very figures `izdat measure
    --deck vesna -n 1` and `-n 2` print (upper limit, S/N, W&F), and copying loses treble and S/N."""
    from izdat.studio.work import chain_meter
    from izdat.tape import TapeDeck
    from izdat.tape.meter import measure
    rows = chain_meter(["vesna", "vesna"], 0)
    for row in rows:
        ref = measure(TapeDeck("vesna", seed=0), row["generation"])
        assert row["upper_hz"] == round(ref.upper_hz, 1) and row["snr_db"] == round(float(ref.snr_db), 2)
        assert row["wow_flutter_pct"] == ref.wow_flutter_pct and row["wow_flutter_qp_pct"] == ref.wow_flutter_qp_pct
    assert rows[1]["upper_hz"] < rows[0]["upper_hz"] - 300 and rows[1]["snr_db"] < rows[0]["snr_db"] - 1


def test_the_underground_page_finds_copies_and_draws_the_family_tree(tmp_path):
    """A 600-person run, 1946-1975: the state's dates for the markers, the years for the scrubber; the
    finder answers what `izdat copies` answers (find_copies) and refuses an unknown city in words;
    the tree runs from the original down to the deepest copy, each step a child of the one before."""
    from izdat.underground.lineage import find_copies

    async def go():
        async with Page(create_app(tmp_path, workers=1)) as c:
            r = await c.post("/api/jobs/underground", json={"people": 600, "start_year": 1946, "end_year": 1975, "seed": 2})
            job = await _wait(c, r.json()["id"])
            assert job["state"] == "done", job
            res = job["result"]
            assert {"year": 1958, "label": "bone records banned"} in res["events"]
            assert {"year": 1959, "label": "the ring broken"} in res["events"]
            assert all(e["year"] <= 1975 for e in res["events"])          # the easing of 1986 is after the run
            assert res["yearly"]["years"] == list(range(1946, 1976))
            assert len(res["yearly"]["alive"]["reel"]) == 30
            db = tmp_path / "jobs" / job["id"] / "files" / "lineage.sqlite"
            found = (await c.get(f"/api/jobs/{job['id']}/copies", params={"deepest": 1, "medium": "reel", "limit": 5})).json()
            assert found == find_copies(db, deepest=True, medium="reel", limit=5)
            assert found and all(f["medium"] == "reel" for f in found)
            assert [f["generation"] for f in found] == sorted((f["generation"] for f in found), reverse=True)
            bad = await c.get(f"/api/jobs/{job['id']}/copies", params={"city": "Paris"})
            assert bad.status_code == 400 and bad.json()["error"].startswith("there is no city 'Paris' in this database")
            deepest = found[0]["id"]
            tree = (await c.get(f"/api/jobs/{job['id']}/copies/{deepest}/tree")).json()
            assert tree["path"][-1] == deepest and len(tree["path"]) == found[0]["generation"] + 1
            for node, nxt in zip(tree["nodes"], tree["path"][1:]):
                assert nxt in [k["id"] for k in node["children"]]
                assert node["descendants"] >= len(tree["path"]) - 1 - tree["path"].index(node["id"])
            assert tree["nodes"][-1]["id"] == deepest
    asyncio.run(go())


def test_a_dub_chain_takes_each_machines_tape_and_knobs(tmp_path):
    """The Dub panel's settings reach the machines: a Mayak-203 set 3 % fast, then a Vesna as its
    serial number draws it, from an apartment concert; the title names the machines; the panel's
    starting values are TapeDeck's own; a knob out of TapeDeck.LIMITS or a tape that does not fit
    the deck is one sentence."""
    from izdat.tape import TapeDeck

    async def go():
        async with Page(create_app(tmp_path, workers=1)) as c:
            drawn = (await c.get("/api/decks/vesna", params={"seed": 1})).json()
            assert drawn["speed_error_pct"] == round(TapeDeck("vesna", seed=1).speed_error_pct, 3) and drawn["bias"] == 1.0
            for chain, words in [([{"deck": "vesna", "bias": 9}], "bias must be between 0 and 5"),
                                 ([{"deck": "elektronika-302", "tape": "svema-type-6"}], "tape must be one of"),
                                 ([{"deck": "vesna", "wow": 2}], "or of a deck's settings (deck, tape, speed_error_pct")]:
                r = await c.post("/api/jobs/dub", json={"song": "example", "chain": chain, "trim_s": 1})
                assert r.status_code == 400 and words in r.json()["error"], r.text
            r = await c.post("/api/jobs/dub", json={"song": "example", "trim_s": 1, "concert": True,
                                                     "chain": [{"deck": "mayak-203", "speed_error_pct": 3}, "vesna"]})
            assert r.status_code == 202, r.text
            assert r.json()["title"] == "the example song at an apartment concert: Mayak-203 → Vesna"
            params = r.json()["params"]
            assert params["concert"] is True and params["settings"] == [{"speed_error_pct": 3.0}, {}]
            job = await _wait(c, r.json()["id"])
            assert job["state"] == "done", job
            gens = job["result"]["generations"]
            assert gens[0]["machine"]["speed_error_pct"] == 3.0 and gens[0]["machine"]["tape"] == "svema-type-6"
            assert gens[1]["machine"]["speed_error_pct"] == drawn["speed_error_pct"]      # machine no. 1 of the run
            assert job["result"]["source"]["audio"]["seconds"] > 1.5          # the room's tail and the applause
    asyncio.run(go())


def test_an_underground_ensemble_gives_bands_over_its_runs(tmp_path):
    """Three seeds of a 500-person society, 1946-1970: each run's figures, and per medium and year the
    lowest, mean and highest copies alive, the first run's curve inside the band."""
    async def go():
        async with Page(create_app(tmp_path, workers=1)) as c:
            r = await c.post("/api/jobs/underground", json={"people": 500, "start_year": 1946, "end_year": 1970,
                                                              "seed": 4, "runs": 3})
            assert r.status_code == 202 and r.json()["title"] == "500 people, 1946–1970, seed 4, 3 runs", r.text
            assert (await c.post("/api/jobs/underground", json={"runs": 9})).status_code == 400
            job = await _wait(c, r.json()["id"])
            assert job["state"] == "done", job
            ens, first = job["result"]["ensemble"], job["result"]
            assert ens["runs"] == 3 and ens["seeds"] == [4, 5, 6]
            assert ens["copies"][0] == first["summary"]["copies"] and len(set(ens["copies"])) > 1
            for m, band in ens["alive"].items():
                one = first["yearly"]["alive"][m]
                assert all(lo <= v <= hi for lo, v, hi in zip(band["lo"], one, band["hi"]))
                assert all(lo <= mean <= hi for lo, mean, hi in zip(band["lo"], band["mean"], band["hi"]))
    asyncio.run(go())


def test_a_picture_without_its_record_json_is_played_as_izdat_play_plays_it(tmp_path):
    """A 1.5 s izdat cut's picture uploaded alone: the programme is found from the groove (its
    length within 0.1 s of record.json's, the lead-in and lead-out not played), the curve the groove's
    spectrum points to (guess_curve, as izdat play: on this 1.5 s side it is none) is said and the other offered as
    a button, the level normalised to -1 dBFS; with the other curve asked, the page says the spectrum
    disagrees and offers the guess."""
    async def go():
        async with Page(create_app(tmp_path, workers=1)) as c:
            r = await c.post("/api/jobs/cut", json={"song": "example", "diameter_mm": 60, "dpi": 800, "trim_s": 1.5})
            cut = await _wait(c, r.json()["id"])
            assert cut["state"] == "done", cut
            png = (await c.get(f"/api/jobs/{cut['id']}/files/record.png")).content
            picture = await _upload(c, png, "scan.png", kind="image")
            r = await c.post("/api/jobs/play", json={"picture": picture})
            job = await _wait(c, r.json()["id"])
            assert job["state"] == "done", job
            res = job["result"]
            likely = res["curve"]                 # guess_curve's answer on this short side (none or blumlein)
            assert likely in ("none", "blumlein")
            other = "none" if likely != "none" else "blumlein"
            assert abs(res["audio"]["seconds"] - cut["result"]["record"]["program_s"]) < 0.1, res["audio"]
            assert res["curve"] == likely and res["fixes"] == [{"label": f"Play with {other} instead", "set": {"eq": other}}]
            said = " ".join(res["notes"])
            assert "no record.json: the programme found from the groove's pitch" in said and "not played" in said
            assert f"played with the {likely} curve, as the groove's displacement falls" in said
            assert "normalised to a −1 dBFS peak" in said and "--" not in said
            wav, rate = soundfile.read(io.BytesIO((await c.get(f"/api/jobs/{job['id']}/files/optical.wav")).content))
            assert abs(20 * np.log10(np.max(np.abs(wav))) + 1) < 0.1
            r = await c.post("/api/jobs/play", json={"picture": picture, "eq": other})
            job = await _wait(c, r.json()["id"])
            assert job["result"]["curve"] == other
            assert job["result"]["fixes"] == [{"label": f"Play with {likely}", "set": {"eq": likely}}]
            assert any(n.startswith(f"played with the {other} curve as asked, but") for n in job["result"]["notes"])
    asyncio.run(go())
