"""Issue 15, the studio: what a hostile page, a careless request or a killed server may not do.

- Cross-site requests change nothing (item 10): another site's page (``Origin: http://evil.com`` or
  ``null``, a ``text/plain`` body, no token) is refused with 403/415 and one sentence; the waiting
  queue and the data folder are bounded (429, 507).
- A job dies with its server (item 7), and a restarted server tells the truth about it.
- A picture is judged by its header against izdat's own limit, not Pillow's bomb guard (item 12).
- Malformed settings are a 4xx sentence, never a 500; the ranges are the library's.
- A data folder whose path holds ``#`` works.
- A hypothesis suite over request bodies: never 5xx, never a hang, never a write outside the data folder.
"""

import io
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import numpy as np
import pytest
import soundfile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from izdat.studio import create_app
from izdat.studio.jobs import JobStore, new_id

from test_studio_api import BASE, PageClient

starlette_testclient = pytest.importorskip("starlette.testclient")


def _wav(seconds=1.0, rate=22050) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    buf = io.BytesIO()
    soundfile.write(buf, (0.4 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate, format="WAV")
    return buf.getvalue()


def _sentence(response) -> str:
    """The refusal's one sentence (and check that it is one)."""
    body = response.json()
    assert set(body) == {"error"} and isinstance(body["error"], str), body
    text = body["error"]
    assert text and "\n" not in text and "Traceback" not in text and len(text) < 400, text
    return text


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.fixture
def app(tmp_path):
    return create_app(tmp_path / "data", workers=1, max_upload_mb=4)


@pytest.fixture
def page(app):
    """The studio's own page (token and Origin, as studio.js sends them)."""
    with PageClient(app) as c:
        yield c


@pytest.fixture
def stranger(app, page):
    """Another site's page in the same browser: it reaches the studio, but holds no token."""
    with starlette_testclient.TestClient(app, base_url=BASE) as c:
        yield c


# -- item 10: cross-site requests -----------------------------------------------------------------


@pytest.mark.parametrize("headers, status, words", [
    ({"Origin": "http://evil.com", "Content-Type": "text/plain"}, 403, "own page"),
    ({"Origin": "null", "Content-Type": "text/plain"}, 403, "own page"),
    ({"Origin": "http://evil.com", "Content-Type": "application/json"}, 403, "own page"),
    ({"Sec-Fetch-Site": "cross-site", "Content-Type": "text/plain"}, 403, "own page"),
    ({"Sec-Fetch-Site": "same-site", "Content-Type": "application/json"}, 403, "own page"),
    ({"Content-Type": "text/plain"}, 403, "token"),
    ({"Origin": BASE, "Content-Type": "application/json"}, 403, "token"),
    ({"Origin": BASE, "Content-Type": "application/json", "X-Izdat-Token": "guess"}, 403, "token"),
])
def test_another_sites_page_cannot_start_a_job(app, stranger, headers, status, words):
    """The issue's case: a page on evil.com POSTs settings as text/plain; 202 before, 403 now."""
    data = Path(app.state.studio.data_dir)
    before = _files(data)
    r = stranger.post("/api/jobs/underground", content=b'{"people": 200}', headers=headers)
    assert r.status_code == status, r.text
    assert words in _sentence(r)
    assert _files(data) == before and stranger.get("/api/jobs").json() == []


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.com", "Content-Type": "text/plain"},
    {"Origin": "null", "Content-Type": "application/octet-stream"},
    {"Content-Type": "multipart/form-data; boundary=x"},
])
def test_another_sites_page_cannot_upload(app, stranger, headers):
    data = Path(app.state.studio.data_dir)
    before = _files(data)
    r = stranger.post("/api/uploads/audio", content=_wav(), headers=headers)
    assert r.status_code == 403, r.text
    _sentence(r)
    assert _files(data) == before


def test_another_sites_page_cannot_delete_or_cancel(app, page, stranger):
    up = page.post("/api/uploads/audio", content=_wav())
    assert up.status_code == 201, up.text
    uid = up.json()["id"]
    for method, path in [("DELETE", f"/api/uploads/{uid}"), ("POST", f"/api/jobs/{new_id()}/cancel")]:
        r = stranger.request(method, path, headers={"Origin": "http://evil.com"})
        assert r.status_code == 403, r.text
    assert (Path(app.state.studio.data_dir) / "uploads" / uid / "data").is_file()


def test_the_page_with_its_token_may_change_things_with_or_without_origin(app, page):
    """The token is what counts: a same-origin request without Origin (Sec-Fetch-Site absent) passes."""
    token = page.headers["X-Izdat-Token"]
    with starlette_testclient.TestClient(app, base_url=BASE) as c:
        r = c.post("/api/uploads/audio", content=_wav(),
                   headers={"X-Izdat-Token": token, "Content-Type": "audio/wav"})
        assert r.status_code == 201, r.text
        r = c.delete(f"/api/uploads/{r.json()['id']}",
                     headers={"X-Izdat-Token": token, "Sec-Fetch-Site": "same-origin", "Origin": BASE})
        assert r.status_code == 200, r.text


def test_the_token_is_only_in_the_page_at_the_studios_own_address(app, page):
    """A page served under another name (DNS rebinding) is refused, so its token cannot be read."""
    token = page.headers["X-Izdat-Token"]
    assert token in page.get("/").text and len(token) >= 40
    assert page.get("/").headers["cache-control"] == "no-store"
    with starlette_testclient.TestClient(app, base_url="http://evil.com:8350") as c:
        r = c.get("/")
        assert r.status_code == 400 and token not in r.text
        _sentence(r)
    other = create_app(Path(app.state.studio.data_dir), workers=1)
    with PageClient(other) as c:
        assert c.headers["X-Izdat-Token"] != token               # a new studio, a new token


@pytest.mark.parametrize("ctype", [None, "text/plain", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x"])
def test_settings_must_be_sent_as_json(page, ctype):
    headers = {"Content-Type": ctype} if ctype else {}
    r = page.post("/api/jobs/underground", content=b'{"people": 200}', headers=headers)
    assert r.status_code == 415 and "application/json" in _sentence(r)
    assert page.get("/api/jobs").json() == []


@pytest.mark.parametrize("kind, ctype", [("audio", "text/plain"), ("image", "text/plain"),
                                         ("json", "text/plain"), ("audio", "image/png"),
                                         ("image", "application/x-www-form-urlencoded")])
def test_uploads_must_be_sent_as_a_file(app, page, kind, ctype):
    data = Path(app.state.studio.data_dir)
    before = _files(data)
    r = page.post(f"/api/uploads/{kind}", content=_wav(), headers={"Content-Type": ctype})
    assert r.status_code == 415 and "must be sent as" in _sentence(r)
    assert _files(data) == before


def test_the_queue_of_waiting_jobs_is_bounded(tmp_path):
    """Before, any number of jobs queued (each a process to come). The worker is held back here
    (no slot free), so that what is tested is the queue alone."""
    app = create_app(tmp_path / "data", workers=1, max_queued=3)
    app.state.studio.jobs.workers = 0                                       # every job waits
    with PageClient(app) as c:
        ids = []
        for _ in range(3):
            r = c.post("/api/jobs/underground", json={"people": 200})
            assert r.status_code == 202 and r.json()["state"] == "queued", r.text
            ids.append(r.json()["id"])
        r = c.post("/api/jobs/cut", json={"song": "example"})
        assert r.status_code == 429 and "3 jobs are waiting" in _sentence(r)
        assert len(c.get("/api/jobs").json()) == 3
        assert c.post(f"/api/jobs/{ids[-1]}/cancel").json()["state"] == "cancelled"
        r = c.post("/api/jobs/underground", json={"people": 200})            # room again
        assert r.status_code == 202, r.text
        for job_id in ids[:-1] + [r.json()["id"]]:
            c.post(f"/api/jobs/{job_id}/cancel")


def test_the_data_folder_is_bounded(tmp_path):
    app = create_app(tmp_path / "data", workers=1, max_data_gb=1.5 / 1024)       # 1.5 MiB
    with PageClient(app) as c:
        first = c.post("/api/uploads/audio", content=_wav(seconds=20))          # 0.9 MB: fits
        assert first.status_code == 201, first.text
        before = _files(tmp_path / "data")
        r = c.post("/api/uploads/audio", content=_wav(seconds=20))               # would pass 1.5 MiB
        assert r.status_code == 507 and "GiB" in _sentence(r)

        def chunks():                                                           # no Content-Length
            for _ in range(20):
                yield bytes(100_000)
        r = c.post("/api/uploads/audio", content=chunks())
        assert r.status_code == 507
        assert _files(tmp_path / "data") == before
        (tmp_path / "data" / "filler").write_bytes(bytes(700_000))              # now the folder is full
        r = c.post("/api/jobs/underground", json={"people": 200})
        assert r.status_code == 507 and "Shelf" in _sentence(r)
        assert c.get("/api/jobs").json() == []
        assert c.delete(f"/api/uploads/{first.json()['id']}").status_code == 200  # deleting frees room


# -- settings: one sentence, the library's ranges -------------------------------------------------


@pytest.mark.parametrize("kind, body, words", [
    ("dub", {"song": "example", "chain": [{"a": 1}]}, "deck names"),          # the 500
    ("dub", {"song": "example", "chain": [["vesna"]]}, "deck names"),
    ("dub", {"song": "example", "chain": [None]}, "deck names"),
    ("dub", {"song": "example", "chain": "vesna"}, "chain must be"),
    ("cut", {"song": "example", "rpm": 10**400}, "rpm must be"),
    ("cut", {"song": "example", "rpm": True}, "rpm must be a number"),
    ("cut", {"song": "example", "rpm": [78]}, "rpm must be a number"),
    ("cut", {"song": "example", "eq": {"x": 1}}, "eq must be one of"),
    ("cut", {"song": ["example"]}, "uploaded audio"),
    ("cut", {"song": "example", "xray": {"kind": ["skull"]}}, "kind must be one of"),
    ("cut", {"song": "example", "xray": [1]}, "xray must be"),
    ("play", {"cut_job": {"id": 1}}, "cut_job"),
    ("play", {"cut_job": "x", "eq": 5}, "cut_job"),
    ("listen", {"run": ["x"], "copy": 1}, "underground simulation"),
    ("underground", {"people": "NaN"}, "people must be between"),
    ("underground", {"seed": 1.5}, "whole number"),
])
def test_malformed_settings_are_a_sentence_not_a_500(page, kind, body, words):
    r = page.post(f"/api/jobs/{kind}", json=body)
    assert 400 <= r.status_code < 500, r.text
    assert words in _sentence(r)


@pytest.mark.parametrize("raw, words", [
    (b'{"people": NaN}', "NaN"),
    (b'{"people": Infinity}', "Infinity"),
    (b'{"people": -Infinity}', "Infinity"),
    (b"[" * 200_000 + b"]" * 200_000, "KiB"),                    # 400 kB: refused by size (413)
    (b'{"a":' * 5000 + b"1" + b"}" * 5000, "nested"),            # 30 kB, 5000 deep
    (b'{"people": 1' + b"0" * 5000 + b"}", "JSON"),              # more digits than Python reads
    (b"\xff\xfe{", "JSON"),
    (b"", "JSON"),
    (b"[]", "object"),
])
def test_raw_bodies_are_a_sentence_not_a_500(page, raw, words):
    r = page.post("/api/jobs/underground", content=raw, headers={"Content-Type": "application/json"})
    assert 400 <= r.status_code < 500, r.text
    assert words in _sentence(r)


def test_the_studios_ranges_are_the_lathes(app):
    """The studio used its own 16-100 rpm; now Lathe.LIMITS, and the lathe itself judges the geometry."""
    from izdat.lathe import Lathe
    from izdat.studio.app import BadRequest
    studio = app.state.studio
    lo, hi, _ = Lathe.LIMITS["rpm"]
    for rpm in (lo, hi):
        assert studio.check("cut", {"song": "example", "rpm": rpm})[0]["rpm"] == rpm
    for rpm in (lo - 0.01, hi + 0.01):
        with pytest.raises(BadRequest, match="rpm must be between"):
            studio.check("cut", {"song": "example", "rpm": rpm})
    d_lo, d_hi, _ = Lathe.LIMITS["diameter_mm"]
    with pytest.raises(BadRequest, match="diameter_mm must be between"):
        studio.check("cut", {"song": "example", "diameter_mm": d_hi + 1})
    # a 120 mm disc with the CLI's 52 mm inner radius: the CLI refuses it, so does the studio (400)
    with pytest.raises(Exception) as cli:
        Lathe(diameter_mm=120, inner_radius_mm=52)
    with pytest.raises(BadRequest) as web:
        studio.check("cut", {"song": "example", "diameter_mm": 120, "inner_radius_mm": 52})
    assert str(web.value) == str(cli.value).rstrip(".")
    assert web.value.status == 400


# -- item 12: big pictures ------------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _big_png(width: int, height: int, *, full: bool = True) -> bytes:
    """A 1-bit grey PNG of ``width`` x ``height`` whose pixels are all black, compressed to a few
    hundred kB (``full=False``: a header that says so, and a token IDAT)."""
    head = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
    z = zlib.compressobj(9)
    if full:
        row = bytes(1 + (width + 7) // 8)
        data = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    else:
        data = z.compress(bytes(1000)) + z.flush()
    return head + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def test_a_record_at_2400_dpi_is_accepted(tmp_path):
    """25000 x 22000 px (550 Mpx, a 250 mm record at 2400 DPI is 23622 px across): Pillow's bomb
    guard (178 Mpx) made it a 415 'cannot be decoded'; izdat's limit is 900 Mpx."""
    from PIL import Image
    body = _big_png(25_000, 22_000)
    assert len(body) < 2_000_000
    app = create_app(tmp_path / "data", workers=1)
    with PageClient(app) as c:
        t0 = time.monotonic()
        r = c.post("/api/uploads/image", content=body, headers={"X-Filename": "side-a.png"})
        assert r.status_code == 201, r.text
        assert time.monotonic() - t0 < 10                 # the header is read, the pixels are not decoded
        assert r.json()["format"] == "png" and r.json()["size"] == len(body)
    assert Image.MAX_IMAGE_PIXELS is not None             # Pillow's own guard is left as it was


@pytest.mark.parametrize("width, height", [(40_000, 30_000), (65_535, 65_535), (2**31 - 1, 2)])
def test_a_picture_over_izdats_limit_is_a_clear_413(tmp_path, width, height):
    app = create_app(tmp_path / "data", workers=1)
    with PageClient(app) as c:
        r = c.post("/api/uploads/image", content=_big_png(width, height, full=False))
        assert r.status_code == 413, r.text
        text = _sentence(r)
        assert f"{width} x {height}" in text and "900 million" in text
        assert sorted(p.name for p in (tmp_path / "data" / "uploads").iterdir()) == []


# -- item 7: jobs die with their server -----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state not in ("Z", "X")                        # a zombie has stopped running


def _serve(data: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "izdat", "studio", "--port", str(port), "--data", str(data)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/info", timeout=2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("the studio did not answer: " + proc.stderr.read())


def _call(port, method, path, body=None, token=None):
    headers = {"Origin": f"http://127.0.0.1:{port}"}
    if token:
        headers["X-Izdat-Token"] = token
    if body is not None:
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, headers=headers,
                                 data=None if body is None else json.dumps(body).encode())
    try:
        with urllib.request.urlopen(req, timeout=90) as r:      # the first job starts the fork server
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_a_job_dies_with_its_killed_server_and_a_restart_tells_the_truth(tmp_path):
    port = _free_port()
    server = _serve(tmp_path, port)
    try:
        page = _call(port, "GET", "/")[1].decode()
        token = re.search(r'name="izdat-token" content="([^"]+)"', page).group(1)
        status, body = _call(port, "POST", "/api/jobs/cut", {"song": "example", "diameter_mm": 250, "dpi": 1200},
                             token)
        assert status == 202, body
        job_id = json.loads(body)["id"]
        job_json = tmp_path / "jobs" / job_id / "job.json"
        for _ in range(200):
            job = json.loads(job_json.read_text())
            if job["state"] == "running" and job.get("pid"):
                break
            time.sleep(0.05)
        worker = job["pid"]
        time.sleep(0.5)
        assert _alive(worker)
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        for _ in range(100):                          # gone within 5 s (before: it ran to the end)
            if not _alive(worker):
                break
            time.sleep(0.05)
        else:
            os.kill(worker, signal.SIGKILL)
            raise AssertionError("the job's process outlived its server")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)
    store = JobStore(tmp_path, workers=1)             # what a restarted studio finds in the folder
    try:
        job = store.get(job_id)
        assert job["state"] == "interrupted"              # it did not finish, and says so
        assert list((tmp_path / "jobs" / job_id / "files").iterdir()) == []   # no half-made files
    finally:
        store.close()


def _left_running(tmp_path: Path, *, result: bool) -> str:
    job_id = new_id()
    folder = tmp_path / "jobs" / job_id
    (folder / "files").mkdir(parents=True)
    (folder / "files" / "copy.wav").write_bytes(b"RIFF....")
    (folder / "job.json").write_text(json.dumps(
        {"id": job_id, "kind": "dub", "title": "", "params": {}, "state": "running", "created": 0,
         "started": 0, "finished": None, "pid": 1}))
    if result:
        (folder / "result.json").write_text(json.dumps({"kind": "dub", "generations": []}))
    return job_id


def test_a_restarted_studio_adopts_a_job_that_had_finished(tmp_path):
    """The worker wrote result.json, the server died before it noticed: done, not 'interrupted'."""
    finished, unfinished = _left_running(tmp_path, result=True), _left_running(tmp_path, result=False)
    store = JobStore(tmp_path, workers=1)
    try:
        assert store.get(finished)["state"] == "done"
        assert store.file(finished, "copy.wav") is not None
        assert store.get(unfinished)["state"] == "interrupted"
        assert store.file(unfinished, "copy.wav") is None
    finally:
        store.close()


# -- a data folder whose path holds '#' -----------------------------------------------------------


def test_a_data_folder_with_a_hash_in_its_path_works(tmp_path):
    data = tmp_path / "x#y?z%41"
    app = create_app(data, workers=1)
    with PageClient(app) as c:
        r = c.post("/api/jobs/underground", json={"people": 300, "start_year": 1946, "end_year": 1960, "seed": 1})
        assert r.status_code == 202, r.text
        job = r.json()
        for _ in range(600):
            job = c.get(f"/api/jobs/{job['id']}").json()
            if job["state"] not in ("queued", "running"):
                break
            time.sleep(0.2)
        assert job["state"] == "done", job
        copy = job["result"]["copies"][0]
        chain = c.get(f"/api/jobs/{job['id']}/copies/{copy['id']}")
        assert chain.status_code == 200, chain.text
        assert chain.json()[0]["id"] == copy["id"] and len(chain.json()) == copy["generation"] + 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x#y?z%41"]      # no stray file beside it


# -- keep them out: any request body --------------------------------------------------------------

_KEYS = ["song", "rpm", "diameter_mm", "inner_radius_mm", "eq", "dpi", "trim_s", "seed", "plays", "xray",
         "cut_job", "picture", "meta", "chain", "people", "start_year", "end_year", "pass_probability",
         "ban_year", "run", "copy", "kind", "upload"]
_json = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(["example", "", "vesna", "riaa", "skull",
                                                                          "../../etc/passwd", "nan", "1e400"])
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=8),
                                                                 inner, max_size=4),
    max_leaves=12)
_bodies = st.dictionaries(st.sampled_from(_KEYS), _json, max_size=8) | _json
_raw = st.sampled_from([b"NaN", b'{"rpm": NaN}', b'{"people": 1e999}', b"[" * 3000 + b"]" * 3000,
                        b'{"a":' * 3000 + b"0" + b"}" * 3000, b"\x00\x01", b"{", b'"x"', b"1" * 4400,
                        b'{"chain": [{"a": 1}], "song": "example"}', b"\xef\xbb\xbf{}"])
_ctypes = st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", None,
                           "application/x-www-form-urlencoded", "APPLICATION/JSON"])
_senders = st.sampled_from(["page", "no-token", "evil", "null", "cross-site"])


@pytest.fixture(scope="module")
def prop(tmp_path_factory):
    """A studio whose job store only records what would run (the property is about the web layer)."""
    base = tmp_path_factory.mktemp("prop")
    app = create_app(base / "data", workers=1, max_upload_mb=1)
    submitted = []

    def submit(kind, params, *, title=""):
        json.dumps(params, allow_nan=False)           # what would be stored is plain JSON
        submitted.append((kind, params))
        return {"id": new_id(), "kind": kind, "title": title, "params": params, "state": "queued"}
    app.state.studio.jobs.submit = submit
    with PageClient(app) as c:
        yield c, base, submitted


def _send(client, sender, method, path, **kw):
    headers = dict(kw.pop("headers", {}) or {})
    if sender != "page":
        headers["X-Izdat-Token"] = ""
    if sender == "evil":
        headers["Origin"] = "http://evil.com"
    elif sender == "null":
        headers["Origin"] = "null"
    elif sender == "cross-site":
        headers["Sec-Fetch-Site"] = "cross-site"
    return client.request(method, path, headers=headers, **kw)


def _outside(base: Path) -> set[str]:
    return {p.name for p in base.iterdir()} | {p.name for p in Path.cwd().iterdir()}


@settings(max_examples=150, deadline=2000, derandomize=True, suppress_health_check=list(HealthCheck))
@given(kind=st.sampled_from(["cut", "play", "dub", "underground", "listen", "bake"]),
       body=_bodies | _raw, ctype=_ctypes, sender=_senders)
def test_any_settings_body_is_answered_never_a_5xx(prop, kind, body, ctype, sender):
    client, base, submitted = prop
    outside = _outside(base)
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": ctype} if ctype else {}
    before = len(submitted)
    r = _send(client, sender, "POST", f"/api/jobs/{kind}", content=raw, headers=headers)
    assert r.status_code < 500, (r.status_code, r.text)
    if r.status_code >= 400:
        _sentence(r)
        assert len(submitted) == before
    else:
        assert r.status_code == 202 and sender == "page" and len(submitted) == before + 1
        params = submitted[-1][1]
        for key in ("rpm", "diameter_mm", "dpi", "people", "seed", "trim_s"):
            if isinstance(params.get(key), float):
                assert np.isfinite(params[key])
    if sender != "page":
        assert r.status_code == 403
    assert _outside(base) == outside


@settings(max_examples=40, deadline=3000, derandomize=True, suppress_health_check=list(HealthCheck))
@given(kind=st.sampled_from(["audio", "image", "json", "video", "..", "%2e%2e"]),
       body=st.binary(max_size=600) | st.sampled_from([b"RIFF\x00\x00\x00\x00WAVE", b"\x89PNG\r\n\x1a\n" + bytes(40),
                                                        b"{}", b'{"rpm": NaN}', b"II*\x00" + bytes(20)]),
       ctype=st.sampled_from(["application/octet-stream", "text/plain", None, "audio/wav", "image/png",
                              "application/json"]),
       sender=_senders, name=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40))
def test_any_upload_is_answered_and_a_refusal_leaves_nothing(prop, kind, body, ctype, sender, name):
    client, base, _ = prop
    outside = _outside(base)
    uploads = base / "data" / "uploads"
    before = _files(uploads)
    headers = {"X-Filename": name}
    if ctype:
        headers["Content-Type"] = ctype
    r = _send(client, sender, "POST", f"/api/uploads/{kind}", content=body, headers=headers)
    assert r.status_code < 500, (r.status_code, r.text)
    if r.status_code >= 400:
        _sentence(r) if r.headers.get("content-type", "").startswith("application/json") else None
        assert _files(uploads) == before
    else:
        assert sender == "page"
        client.delete(f"/api/uploads/{r.json()['id']}")
    assert _outside(base) == outside


@pytest.mark.parametrize("args, words", [(["--max-data", "0"], "--max-data must be between"),
                                         (["--max-data", "nan"], "--max-data must be between"),
                                         (["--max-upload", "inf"], "--max-upload must be between"),
                                         (["--workers", "0"], "--workers must be between")])
def test_cli_refuses_bad_bounds_in_one_sentence(args, words, capsys, monkeypatch):
    from izdat.cli import main
    monkeypatch.setattr(sys, "argv", ["izdat", "studio", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and words in err and "Traceback" not in err and err.count("\n") == 1
