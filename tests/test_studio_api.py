"""The studio's HTTP API, every endpoint, through Starlette's TestClient (httpx).

Jobs run for real (each in its own process) on tiny settings; bad uploads must be refused with a
clear 4xx and leave nothing on disk; no request may reach outside the studio's folders.
"""

import io
import json
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import soundfile
from PIL import Image

from izdat.studio import create_app
from izdat.studio.jobs import JobStore, new_id, valid_id

from conftest import dicom

starlette_testclient = pytest.importorskip("starlette.testclient")
ROOT = Path(__file__).resolve().parents[1]
BASE = "http://127.0.0.1:8350"


class PageClient(starlette_testclient.TestClient):
    """A client that behaves like the studio's own page: it reads the token from the page it is
    served and sends it back, with the page's Origin, on every change; uploads go as
    application/octet-stream (as studio.js sends them)."""

    def __init__(self, app, base_url=BASE, **kw):
        super().__init__(app, base_url=base_url, **kw)

    def __enter__(self):
        super().__enter__()
        page = self.get("/")
        token = re.search(r'<meta name="izdat-token" content="([^"]+)">', page.text).group(1)
        self.headers.update({"X-Izdat-Token": token, "Origin": str(self.base_url).rstrip("/")})
        return self

    def request(self, method, url, *args, **kw):
        if method.upper() == "POST" and str(url).startswith("/api/uploads/"):
            headers = dict(kw.get("headers") or {})
            if not any(k.lower() == "content-type" for k in headers):
                headers["Content-Type"] = "application/octet-stream"
            kw["headers"] = headers
        return super().request(method, url, *args, **kw)


def _wav(seconds=1.0, rate=22050) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    buf = io.BytesIO()
    soundfile.write(buf, (0.4 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate, format="WAV")
    return buf.getvalue()


def _png(size=64) -> bytes:
    buf = io.BytesIO()
    Image.fromarray((np.add.outer(np.arange(size), np.arange(size)) % 256).astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return tmp_path_factory.mktemp("studio")


@pytest.fixture(scope="module")
def client(data):
    app = create_app(data, max_upload_mb=2, workers=2)
    with PageClient(app) as c:
        yield c


def _wait(client, job_id, timeout=90):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] not in ("queued", "running"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s: {job}")


def _leftovers(data: Path) -> list[str]:
    return sorted(p.name for p in (data / "uploads").iterdir())


# -- pages and info -------------------------------------------------------------------------------


def test_page_and_static_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "izdat studio" in page.text
    assert "http://" not in page.text.replace("http://www.w3.org", "") and "https://" not in page.text   # no CDN
    for name in ("studio.js", "studio.css", "favicon.svg"):
        assert client.get(f"/static/{name}").status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"


def test_info_lists_choices(client):
    info = client.get("/api/info").json()
    assert {"skull", "hand", "chest"} <= set(info["xray_kinds"])
    assert "riaa" in info["equalisations"] and "blumlein" in info["equalisations"]
    assert any(d["name"] == "elektronika-302" for d in info["decks"])
    assert info["example_song"] is True and info["max_upload_bytes"] == 2 * 2**20


# -- uploads --------------------------------------------------------------------------------------


def test_audio_upload_is_kept_listed_and_deleted(client, data):
    r = client.post("/api/uploads/audio", content=_wav(), headers={"X-Filename": "t%C3%B3ne.wav"})
    assert r.status_code == 201, r.text
    meta = r.json()
    assert meta["format"] == "wav" and meta["name"] == "tóne.wav" and valid_id(meta["id"])
    assert (data / "uploads" / meta["id"] / "data").read_bytes()[:4] == b"RIFF"
    assert meta["id"] in [u["id"] for u in client.get("/api/uploads").json()]
    assert client.delete(f"/api/uploads/{meta['id']}").status_code == 200
    assert client.delete(f"/api/uploads/{meta['id']}").status_code == 404
    assert not (data / "uploads" / meta["id"]).exists()


@pytest.mark.parametrize("kind, body, status, words", [
    ("audio", b"", 400, "empty"),
    ("image", b"", 400, "empty"),
    ("audio", b"just some text, not a song\n" * 20, 415, "not an audio file"),
    ("audio", _png(), 415, "not an audio file"),
    ("audio", b"RIFF\x00\x00\x00\x00WAVEgarbage" + bytes(300), 415, "cannot be decoded"),
    ("image", _wav(), 415, "not a picture"),
    ("image", b"\x89PNG\r\n\x1a\n" + bytes(400), 415, "cannot be decoded"),
    ("image", b"%PDF-1.4 not an image" + bytes(200), 415, "not a picture"),
    ("json", b"{\"not\": \"a record\"}", 415, "record.json"),
    ("video", _wav(), 400, "unknown upload kind"),
])
def test_bad_uploads_are_refused_and_leave_nothing(client, data, kind, body, status, words):
    before = _leftovers(data)
    r = client.post(f"/api/uploads/{kind}", content=body, headers={"X-Filename": "song.wav"})
    assert r.status_code == status, r.text
    assert words in r.json()["error"]
    assert _leftovers(data) == before


def test_huge_uploads_are_refused_and_leave_nothing(client, data):
    before = _leftovers(data)
    big = _wav(seconds=60, rate=22050)          # 2.6 MB against a 2 MiB limit
    r = client.post("/api/uploads/audio", content=big)
    assert r.status_code == 413 and "MiB" in r.json()["error"]

    def chunks():                               # no Content-Length: the limit holds while streaming
        for _ in range(40):
            yield bytes(100_000)
    r = client.post("/api/uploads/audio", content=chunks())
    assert r.status_code == 413
    assert _leftovers(data) == before


def _dicom(path, pixels=None) -> bytes:
    return dicom(path, pixels).read_bytes()


def test_dicom_xray_upload_is_recognised_by_content(client, data, tmp_path):
    """A DICOM radiograph is taken whatever its name; one without a picture is refused."""
    body = _dicom(tmp_path / "x.dcm", (np.arange(32 * 32).reshape(32, 32) * 3))
    r = client.post("/api/uploads/image", content=body, headers={"X-Filename": "scan.bin"})
    assert r.status_code == 201, r.text
    assert r.json()["format"] == "dicom"
    before = _leftovers(data)
    r = client.post("/api/uploads/image", content=_dicom(tmp_path / "empty.dcm"))
    assert r.status_code == 415 and "no picture" in r.json()["error"]
    assert _leftovers(data) == before


# -- ids and paths --------------------------------------------------------------------------------


def test_job_ids_are_unguessable():
    ids = {new_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", i) for i in ids)      # 16 random bytes = 128 bits
    sample = "".join(sorted(ids))
    assert len(set(sample)) > 60                                       # the whole URL-safe alphabet is used


@pytest.mark.parametrize("path", [
    "/api/jobs/..%2F..%2Fetc%2Fpasswd",
    "/api/jobs/../../etc/passwd",
    "/api/jobs/%2e%2e/files/job.json",
    "/static/../app.py",
    "/static/..%2Fapp.py",
    "/static/%2e%2e/jobs.py",
    "/api/jobs/AAAAAAAAAAAAAAAAAAAAAA",
    "/api/jobs/AAAAAAAAAAAAAAAAAAAAAA/files/record.png",
])
def test_paths_outside_are_refused(client, path):
    r = client.get(path)
    assert r.status_code == 404, (path, r.status_code, r.text[:200])


def test_settings_cannot_name_files(client):
    for song in ["../../../../etc/passwd", "/etc/passwd", "example/../../x", "AAAAAAAAAAAAAAAAAAAAAA"]:
        r = client.post("/api/jobs/cut", json={"song": song})
        assert r.status_code == 400 and "uploaded audio" in r.json()["error"]
    r = client.post("/api/jobs/cut", json={"song": "example", "xray": {"upload": "../../../etc/passwd"}})
    assert r.status_code == 400


@pytest.mark.parametrize("kind, body, words", [
    ("cut", {"song": "example", "rpm": 500}, "rpm must be between"),
    ("cut", {"song": "example", "diameter_mm": "big"}, "must be a number"),
    ("cut", {"song": "example", "eq": "loud"}, "eq must be one of"),
    ("cut", {"song": "example", "xray": {"kind": "foot"}}, "kind must be one of"),
    ("dub", {"song": "example", "chain": ["tesla-b4"]}, "unknown deck"),
    ("dub", {"song": "example", "chain": []}, "chain must be"),
    ("underground", {"people": 10**9}, "people must be between"),
    ("underground", {"start_year": 1980, "end_year": 1950}, "start_year"),
    ("play", {"picture": "nope"}, "uploaded image"),
    ("listen", {"run": "nope", "copy": 1}, "underground simulation"),
    ("bake", {}, "unknown job kind"),
])
def test_bad_settings_get_one_sentence(client, kind, body, words):
    r = client.post(f"/api/jobs/{kind}", json=body)
    assert 400 <= r.status_code < 500 and words in r.json()["error"], r.text


def test_job_body_must_be_json(client):
    r = client.post("/api/jobs/cut", content=b"not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "JSON" in r.json()["error"]


# -- jobs end to end ------------------------------------------------------------------------------


def test_cut_job_makes_every_file_then_play_reads_it(client, tmp_path):
    """Cut into an uploaded DICOM X-ray; every file is served; the picture plays back."""
    xray = client.post("/api/uploads/image", content=_dicom(tmp_path / "x.dcm", np.arange(64 * 64).reshape(64, 64)),
                       headers={"X-Filename": "chest.dcm"})
    r = client.post("/api/jobs/cut", json={"song": "example", "diameter_mm": 90, "dpi": 100, "trim_s": 1.5,
                                          "xray": {"upload": xray.json()["id"]}})
    assert r.status_code == 202, r.text
    job = _wait(client, r.json()["id"])
    assert job["state"] == "done", job
    res = job["result"]
    assert res["record"]["xray"] == {"file": "chest.dcm"}
    for name in ("record.png", "record-preview.png", "record.svg", "record.gcode", "record.dxf", "record.json",
                 "preview.wav", "gramophone.wav"):
        f = client.get(f"/api/jobs/{job['id']}/files/{name}")
        assert f.status_code == 200 and len(f.content) > 0, name
    svg = client.get(f"/api/jobs/{job['id']}/files/record.svg?download=1")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert "attachment" in svg.headers["content-disposition"]
    assert ET.fromstring(svg.content).tag.endswith("svg")
    wav, rate = soundfile.read(io.BytesIO(client.get(f"/api/jobs/{job['id']}/files/gramophone.wav").content))
    assert abs(len(wav) / rate - 1.5) < 0.1
    assert "error" in res["optical"] or res["optical"]["audio"]["file"] == "optical.wav"
    # files the job did not make, or names that reach out, are not served
    for name in ["job.json", "..%2Fjob.json", ".hidden", "RECORD.PNG", "nope.png"]:
        assert client.get(f"/api/jobs/{job['id']}/files/{name}").status_code == 404, name
    assert any(j["id"] == job["id"] for j in client.get("/api/jobs").json())

    # play it: once as a record cut here, once as an uploaded picture with its record.json
    png = client.post("/api/uploads/image", content=client.get(f"/api/jobs/{job['id']}/files/record.png").content)
    meta = client.post("/api/uploads/json", content=client.get(f"/api/jobs/{job['id']}/files/record.json").content)
    assert png.status_code == 201 and meta.status_code == 201, (png.text, meta.text)
    for settings in ({"cut_job": job["id"]}, {"picture": png.json()["id"], "meta": meta.json()["id"]}):
        played = client.post("/api/jobs/play", json=settings)
        assert played.status_code == 202, played.text
        p = _wait(client, played.json()["id"])
        if p["state"] == "done":
            assert p["result"]["tracking"]["file"] == "tracking.png"
            assert client.get(f"/api/jobs/{p['id']}/files/optical.wav").status_code == 200
            assert client.get(f"/api/jobs/{p['id']}/files/tracking.png").content.startswith(b"\x89PNG")
        else:                                   # the reader refused the picture: one clear sentence
            assert p["state"] == "failed" and p["error"] and "Traceback" not in p["error"]


def test_dub_job_gives_audio_and_spectrogram_per_generation(client):
    r = client.post("/api/jobs/dub", json={"song": "example", "chain": ["elektronika-302", "vesna"], "trim_s": 1})
    job = _wait(client, r.json()["id"])
    assert job["state"] == "done", job
    gens = job["result"]["generations"]
    assert [g["deck"] for g in gens] == ["elektronika-302", "vesna"]
    # each generation measured with izdat measure's meter, and charted
    assert gens[1]["meter"]["upper_hz"] < gens[0]["meter"]["upper_hz"] and gens[1]["meter"]["snr_db"] < gens[0]["meter"]["snr_db"]
    chart = client.get(f"/api/jobs/{job['id']}/files/{job['result']['meter']}").content
    assert Image.open(io.BytesIO(chart)).size == (960, 290)
    for g in gens:
        png = client.get(f"/api/jobs/{job['id']}/files/{g['spectrogram']}").content
        assert png.startswith(b"\x89PNG")
        assert Image.open(io.BytesIO(png)).size[0] > 300
        assert client.get(f"/api/jobs/{job['id']}/files/{g['audio']['file']}").status_code == 200


def test_underground_job_plots_copies_and_lineage(client):
    r = client.post("/api/jobs/underground", json={"people": 600, "start_year": 1946, "end_year": 1975, "seed": 2})
    job = _wait(client, r.json()["id"])
    assert job["state"] == "done", job
    res = job["result"]
    assert len(res["plots"]) >= 3 and res["copies"]
    for p in res["plots"]:
        assert client.get(f"/api/jobs/{job['id']}/files/{p}").content.startswith(b"\x89PNG")
    copy = res["copies"][0]
    chain = client.get(f"/api/jobs/{job['id']}/copies/{copy['id']}")
    assert chain.status_code == 200 and chain.json()[0]["id"] == copy["id"]
    assert len(chain.json()) == copy["generation"] + 1
    assert client.get(f"/api/jobs/{job['id']}/copies/99999999").status_code == 404
    assert client.get(f"/api/jobs/{job['id']}/copies/abc").status_code == 400
    listen = client.post("/api/jobs/listen", json={"run": job["id"], "copy": copy["id"], "song": "example", "trim_s": 1})
    assert listen.status_code == 202
    heard = _wait(client, listen.json()["id"])
    if client.get("/api/info").json()["listen"]:
        assert heard["state"] == "done", heard
        assert client.get(f"/api/jobs/{heard['id']}/files/copy.wav").status_code == 200
    else:
        assert heard["state"] == "failed" and "not available" in heard["error"]


def test_cancel_stops_a_running_job_and_delete_removes_it(client, data):
    r = client.post("/api/jobs/cut", json={"song": "example", "diameter_mm": 250, "dpi": 1200})
    job_id = r.json()["id"]
    for _ in range(100):
        if client.get(f"/api/jobs/{job_id}").json()["state"] == "running":
            break
        time.sleep(0.05)
    c = client.post(f"/api/jobs/{job_id}/cancel")
    assert c.status_code == 200 and c.json()["state"] == "cancelled"
    assert list((data / "jobs" / job_id / "files").iterdir()) == []
    assert client.delete(f"/api/jobs/{job_id}").status_code == 200
    assert not (data / "jobs" / job_id).exists()
    assert client.get(f"/api/jobs/{job_id}").status_code == 404
    assert client.post(f"/api/jobs/{job_id}/cancel").status_code == 404
    assert client.delete(f"/api/jobs/{job_id}").status_code == 404


def test_a_song_too_long_for_the_side_is_refused_before_any_job(client):
    """18 s on a 60 mm side with an 18 mm label: one sentence, no job (tests/test_studio_trust.py: its fixes)."""
    before = len(client.get("/api/jobs").json())
    r = client.post("/api/jobs/cut", json={"song": "example", "diameter_mm": 60, "inner_radius_mm": 18})
    assert r.status_code == 400 and r.json()["error"].startswith("the song lasts 0:18"), r.text
    assert "Traceback" not in r.text and len(client.get("/api/jobs").json()) == before


def test_a_job_running_when_the_studio_stopped_is_marked_interrupted(tmp_path):
    store = JobStore(tmp_path, workers=1)
    job_id = new_id()
    (tmp_path / "jobs" / job_id / "files").mkdir(parents=True)
    (tmp_path / "jobs" / job_id / "job.json").write_text(json.dumps(
        {"id": job_id, "kind": "cut", "title": "", "params": {}, "state": "running", "created": 0,
         "started": 0, "finished": None}))
    store.close()
    again = JobStore(tmp_path, workers=1)
    assert again.get(job_id)["state"] == "interrupted"
    again.close()


def test_host_header_is_checked(tmp_path):
    app = create_app(tmp_path, allowed_hosts=["127.0.0.1", "localhost"], port=8350)
    with starlette_testclient.TestClient(app, base_url="http://evil.example:8350") as c:
        r = c.get("/api/info")
        assert r.status_code == 400 and "answers only at" in r.json()["error"]
        assert c.get("/").status_code == 400                 # the page (and its token) is not handed out
    with starlette_testclient.TestClient(app, base_url="http://127.0.0.1:9999") as c:
        assert c.get("/api/info").status_code == 400          # the right name on another port
    with starlette_testclient.TestClient(app, base_url="http://127.0.0.1:8350") as c:
        assert c.get("/api/info").status_code == 200
    with starlette_testclient.TestClient(app, base_url="http://localhost:8350") as c:
        assert c.get("/api/info").status_code == 200


def test_cli_starts_the_studio_and_prints_its_address(tmp_path):
    """``izdat studio`` prints where it listens and answers there (localhost only)."""
    import socket
    import subprocess
    import sys
    import urllib.request
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "izdat", "studio", "--port", str(port), "--data", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/info", timeout=2) as r:
                    assert json.loads(r.read())["data_dir"] == str(tmp_path.resolve())
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("the studio did not answer: " + proc.stderr.read())
    finally:
        proc.terminate()
        proc.wait(10)


def test_cli_refuses_bad_port():
    from typer.testing import CliRunner

    from izdat.cli import app
    result = CliRunner().invoke(app, ["studio", "--port", "70000"])
    assert result.exit_code != 0
