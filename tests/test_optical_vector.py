"""Vector records (issue 14, item 2): an SVG whose groove is a path is played from its vertices.

The four records in tests/data/peer-records were cut by sndcut (a laser-record generator, not izdat;
README.md there gives the command lines) from the three WAVs beside them; izdat's own record.svg is
cut here. Scores, against the source audio: SI-SNR after alignment, the coherence SNR (the SNR of the
best linear fit per frequency, Welch cross-spectra: noise and distortion only, no filter changes it)
and the fit's response |H(f)|; and against "what the vertices hold": the same scores of the vertices'
own piecewise-linear signal sampled at the source's instants with sndcut's known centre and angles.

``python tests/test_optical_vector.py`` prints the figures table of docs/optical.md.
"""

from __future__ import annotations

import gzip
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy import signal

from izdat.errors import PictureError
from izdat.optical import _vector
from izdat.optical._vector import read_vectors
from izdat.optical.metrics import align, si_snr_db

DATA = Path(__file__).parent / "data" / "peer-records"

#: sndcut's records: file, source, rpm, diameter (mm), peak amplitude (mm), spacing (mm), outer margin (mm).
SNDCUT = {
    "speech45": ("speech_ru.wav", 45.0, 175.0, 0.15, 0.5, 5.0),
    "sweep33": ("sweep.wav", 33.5, 302.0, 0.15, 0.5, 5.0),
    "melody78_tight": ("melody10.wav", 78.0, 250.0, 0.05, 0.2, 5.0),
    "melody78_wide": ("melody10.wav", 78.0, 250.0, 0.15, 0.5, 5.0),
}
MM_PER_PT = 25.4 / 72


# ------------------------------------------------------------------------------------------ scores

def coherence(est: np.ndarray, ref: np.ndarray, fs: float, band=(100.0, 5000.0)):
    """(coherence SNR in dB averaged over ``band``, frequencies, |H(f)| in dB) of the best linear fit of
    ``est`` from ``ref`` (Welch, 4096-sample Hann segments), after aligning them."""
    e, r = align(np.asarray(est, np.float64), np.asarray(ref, np.float64))
    f, sxx = signal.welch(r, fs, nperseg=4096)
    _, syy = signal.welch(e, fs, nperseg=4096)
    _, sxy = signal.csd(r, e, fs, nperseg=4096)
    noise = np.maximum(sxx * syy - np.abs(sxy) ** 2, 1e-300)
    snr = 10 * np.log10(np.abs(sxy) ** 2 / noise)
    h = 20 * np.log10(np.abs(sxy) / np.maximum(sxx, 1e-300) + 1e-300)
    sel = (f >= band[0]) & (f <= band[1])
    return float(np.mean(snr[sel])), f, h


def flatness_db(f, h, band=(100.0, 4000.0)) -> float:
    """Largest deviation (dB) of |H| from its median over ``band``."""
    sel = (f >= band[0]) & (f <= band[1])
    return float(np.max(np.abs(h[sel] - np.median(h[sel]))))


def scores(est, ref, fs) -> dict:
    coh, f, h = coherence(est, ref, fs)
    return {"si_snr": si_snr_db(est, ref, fs, band_hz=(100.0, 5000.0)), "coherence": coh, "flat": flatness_db(f, h)}


def sndcut_oracle(name: str) -> np.ndarray:
    """What the vertices hold: the polyline sampled at sndcut's own sample angles about its own centre,
    less its spiral (the displacement at each source sample, the dropped ones interpolated linearly)."""
    src, rpm, diameter, amp, spacing, outer = SNDCUT[name]
    x, fs = sf.read(DATA / src)
    drawing = _vector._read_drawing(DATA / f"{name}.svg.gz")
    xy = _vector._groove_chain(drawing.lines, name)
    keep = np.r_[True, np.any(np.diff(xy, axis=0) != 0, axis=1)]
    xy = xy[keep] * MM_PER_PT * 1e-3
    c = np.array([diameter / 2, diameter / 2]) * 1e-3
    spr = fs * 60 / rpm
    k = np.arange(len(x))
    psi = 2 * math.pi * k / spr
    r_v, th = _vector._angles(xy, c)
    ahead = np.r_[True, th[1:] > np.maximum.accumulate(th)[:-1]]
    xy, th = xy[ahead], th[ahead]
    r = _vector._sample(xy, c, th, 1, psi)
    r0 = (diameter / 2 - outer) * 1e-3
    return r - (r0 - k * (amp + spacing) * 1e-3 / spr)


def read_sndcut(name: str):
    src, rpm, *_ = SNDCUT[name]
    ref, fs = sf.read(DATA / src)
    groove = read_vectors(DATA / f"{name}.svg.gz", rpm=rpm)
    audio = groove.playback(eq="none", sample_rate=fs)
    return groove, np.asarray(audio.samples, np.float64), ref, fs


# ------------------------------------------------------------------------------------- sndcut's four

@pytest.mark.parametrize("name", list(SNDCUT))
def test_sndcut_records_play_from_their_vertices(name):
    """All four: centre, pitch and direction found, the duration within 1 % of the source's, and the
    scores within 0.5 dB of what the vertices hold (the sweep flat within ±3 dB, 100 Hz–4 kHz)."""
    src, rpm, diameter, amp, spacing, _ = SNDCUT[name]
    groove, est, ref, fs = read_sndcut(name)
    assert np.hypot(groove.centre_m[0] - diameter / 2e3, groove.centre_m[1] - diameter / 2e3) < 3e-6
    assert groove.direction == "counterclockwise"
    assert groove.notes["pitch_m"] == pytest.approx((amp + spacing) * 1e-3, rel=0.01)
    assert groove.duration_s == pytest.approx(len(ref) / fs, rel=0.01)
    assert abs(groove.program_end - groove.program_start - len(ref)) <= 2      # where the points grow sparse
    assert groove.notes["on_vertex_grid"] and groove.samples_per_rev == round(fs * 60 / rpm)
    got = scores(est, ref, fs)
    held = scores(sndcut_oracle(name), ref, fs)
    assert got["si_snr"] >= held["si_snr"] - 0.5, (got, held)
    assert got["coherence"] >= held["coherence"] - 0.5, (got, held)
    if name == "sweep33":
        assert got["flat"] <= 3.0
    assert groove.notes["vertex_snr_db"] > 25


# --------------------------------------------------------------------------------------- the CLI

def test_izdat_play_follows_an_svg_path_and_reports_it(tmp_path, izdat):
    """``izdat play`` on an SVG with a groove path reads the vertices (the speech at 45 rpm, the
    figures printed), writes the report beside the audio, and ``--raster`` still draws it instead."""
    svg = tmp_path / "speech45.svg"
    svg.write_bytes(gzip.decompress((DATA / "speech45.svg.gz").read_bytes()))
    wav, png = tmp_path / "s.wav", tmp_path / "s.png"
    code, out, err = izdat("play", svg, "--rpm", "45", "--eq", "none", "-o", wav, "--report", png)
    assert code == 0, err
    text = " ".join((out + err).split())
    assert "vector groove: 85430 points (pt)" in text and "counterclockwise" in text
    assert "vertices' own grid, 58800.00 a turn" in text and "dB SNR" in text
    x, fs = sf.read(wav)
    ref, _ = sf.read(DATA / "speech_ru.wav")
    assert fs == 44100 and len(x) == pytest.approx(len(ref), rel=0.01)
    assert si_snr_db(x, ref, fs, band_hz=(100.0, 5000.0)) > 25
    assert png.stat().st_size > 1000
    code, _, err = izdat("play", svg, "--rpm", "45", "--raster", "10", "-o", tmp_path / "r.wav")
    assert code == 2 and "--raster must be between 50 and 20000" in err and not (tmp_path / "r.wav").exists()
    code, _, err = izdat("play", DATA / "speech_ru.wav", "--raster", "600", "-o", tmp_path / "r.wav")
    assert code == 2 and "is not an SVG" in err


def test_izdat_own_record_svg_reads_back_through_its_vertices(tmp_path, izdat):
    """izdat cut's record.svg of a tone and of a melody, played with its record.json (curve, gain,
    samples a turn, programme): the cut's duration to the sample, and the source back."""
    t = np.arange(44100) / 44100
    tone = 0.3 * np.sin(2 * np.pi * 1000 * t)
    melody = sf.read(DATA / "melody10.wav")[0][: 2 * 44100]
    for name, x in (("tone", tone), ("melody", melody)):
        sf.write(tmp_path / f"{name}.wav", x, 44100, subtype="FLOAT")
        rec = tmp_path / name
        code, _, err = izdat("cut", tmp_path / f"{name}.wav", "-o", rec, "--format", "svg,json", "--diameter", "120",
                             "--inner-radius", "30", "--level", "-6")
        assert code == 0, err
        wav = tmp_path / f"{name}_back.wav"
        code, out, err = izdat("play", rec / "record.svg", "-o", wav)
        assert code == 0, err
        assert "eq blumlein" in " ".join((out + err).split())
        y, fs = sf.read(wav)
        assert len(y) == len(x)                               # the programme to the sample, from record.json
        text = " ".join((out + err).split())
        assert "spiral centre (66.0000, 66.0000) mm" in text         # record.json: fabrication.centre_mm
        snr = float(text.split("against the vertices' own radius: ")[1].split(" dB")[0])
        assert snr > 40
        s = scores(y, x, fs)
        OWN[name] = (s, snr)
        # izdat's SVG rounds to 1 µm: through the velocity curve that is the floor (1 s tone 27.7 dB, 2 s
        # melody 16.6 dB SI-SNR measured; the reading itself is at the vertices' limit, their SNR above 40 dB)
        assert s["si_snr"] > (25 if name == "tone" else 15), s
        if name == "melody":
            assert s["coherence"] > 8 and s["flat"] < 3.0, s


OWN = {}


# ------------------------------------------------------------------------------------ bad input

BAD = {
    "nopath.svg": ("<svg xmlns='http://www.w3.org/2000/svg' width='10mm' height='10mm'><circle cx='5' cy='5' r='4'/></svg>",
                   "holds no groove to follow"),
    "short.svg": ("<svg xmlns='http://www.w3.org/2000/svg' width='10mm' height='10mm' viewBox='0 0 10 10'>"
                  "<path d='M1,1 L2,2 3,1 4,2'/></svg>", "longest path has 4 points"),
    "nan.svg": ("<svg xmlns='http://www.w3.org/2000/svg' width='10mm' height='10mm'><polyline points='"
                + " ".join(f"{5 + 4 * math.cos(k / 50):.4f},{5 + 4 * math.sin(k / 50):.4f}" for k in range(2000))
                + " nan,1'/></svg>", "not numbers"),
    "inf.svg": ("<svg xmlns='http://www.w3.org/2000/svg' width='10mm' height='10mm'><polyline points='"
                + " ".join(f"{5 + 4 * math.cos(k / 50):.4f},{5 + 4 * math.sin(k / 50):.4f}" for k in range(2000))
                + " 1e999,1'/></svg>", "not finite"),
}


def _rectangle_svg() -> str:
    """A rectangle traced ten times round, 400 points a side: closed, it turns but is no spiral."""
    pts = []
    for _ in range(10):
        for side in range(4):
            for k in range(400):
                u = k / 400
                pts.append([(1 + 8 * u, 1), (9, 1 + 8 * u), (9 - 8 * u, 9), (1, 9 - 8 * u)][side])
    return ("<svg xmlns='http://www.w3.org/2000/svg' width='10mm' height='10mm' viewBox='0 0 10 10'><polyline points='"
            + " ".join(f"{x:.3f},{y:.3f}" for x, y in pts) + "'/></svg>")


BAD["rectangle.svg"] = (_rectangle_svg(), "not a spiral groove")


@pytest.mark.parametrize("name", list(BAD))
def test_svgs_with_no_groove_to_follow_are_one_sentence_and_no_audio(tmp_path, name, izdat):
    text, match = BAD[name]
    (tmp_path / name).write_text(text)
    with pytest.raises(PictureError, match=match):
        read_vectors(tmp_path / name, rpm=78)
    out = tmp_path / "x.wav"
    code, stdout, err = izdat("play", tmp_path / name, "-o", out)
    assert code == 2 and "Traceback" not in err and match in " ".join(err.split()), err
    assert not out.exists() and not list(tmp_path.glob("*.wav"))


def test_a_billion_vertex_path_is_refused_by_its_size_before_it_is_parsed(tmp_path, monkeypatch):
    """A gzip bomb of a path ("1,1 2,2 " over and over, a billion points' worth at full size) is
    refused once its text passes the vector reader's cap (here lowered to 4 MiB, the file unpacking
    to 8 MiB), without its points being built; the count of points is bounded as they are read."""
    monkeypatch.setattr(_vector, "MAX_VECTOR_BYTES", 4 << 20)
    bomb = tmp_path / "bomb.svgz"
    with gzip.GzipFile(bomb, "wb", compresslevel=1) as z:
        z.write(b"<svg xmlns='http://www.w3.org/2000/svg' width='10mm' height='10mm'><path d='M0,0 L")
        for _ in range(8):
            z.write(b"1,1 2,2 " * (1 << 17))
        z.write(b"'/></svg>")
    assert bomb.stat().st_size < 100_000
    with pytest.raises(PictureError, match="holds more than 4 MiB of SVG text once unpacked"):
        read_vectors(bomb, rpm=78)
    monkeypatch.setattr(_vector, "MAX_VERTICES", 1000)
    many = tmp_path / "many.svg"
    many.write_text("<svg xmlns='http://www.w3.org/2000/svg' width='10mm' height='10mm'><polyline points='"
                    + "1,1 2,2 " * 600 + "'/></svg>")
    with pytest.raises(PictureError, match="holds more than 1,000 points"):
        read_vectors(many, rpm=78)


# ------------------------------------------------------------------------------ other generators

def _spiral_svg(path: Path, body: str, head: str = "width='100mm' height='100mm' viewBox='0 0 100 100'"):
    path.write_text(f"<svg xmlns='http://www.w3.org/2000/svg' {head}>{body}</svg>")


def _tone_spiral(n_turns=4, spr=2000, f_cyc=50.0, amp=0.05):
    """A spiral (mm, y down) of n_turns, r from 40 mm, 0.5 mm a turn, a sine of f_cyc cycles a turn."""
    k = np.arange(n_turns * spr)
    th = 2 * np.pi * k / spr
    r = 40 - 0.5 * k / spr + amp * np.sin(f_cyc * th)
    return np.column_stack([r * np.cos(th), -r * np.sin(th)]), r


@pytest.mark.parametrize("form", ["relative", "curves", "transforms"])
def test_other_generators_paths_in_relative_commands_curves_and_transforms(tmp_path, form):
    """The same groove written as relative l commands, as H/V steps, as cubic curves, and inside a
    rotated, scaled, translated group with a matrix on the path: the centre and the tone come back."""
    xy, r = _tone_spiral()
    rpm = 78.0                                # 2000 points a turn: off any sample grid, read at 33923 a turn
    c = np.array([50.0, 50.0])
    p = xy + c
    if form == "relative":
        d = f"M{p[0, 0]:.5f},{p[0, 1]:.5f} l" + " ".join(f"{dx:.5f},{dy:.5f}" for dx, dy in np.diff(p, axis=0))
        body = f"<path d='{d}'/>"
    elif form == "hv":
        d = [f"M{p[0, 0]:.5f} {p[0, 1]:.5f}"]
        for (x0, y0), (x1, y1) in zip(p[:-1], p[1:]):
            d.append(f"H{x1:.5f}V{y1:.5f}")
        body = f"<path d='{''.join(d)}'/>"
    elif form == "curves":
        q = p[::3]
        d = [f"M{q[0, 0]:.5f},{q[0, 1]:.5f}"]
        for a, b in zip(q[:-1], q[1:]):
            c1, c2 = a + (b - a) / 3, a + 2 * (b - a) / 3
            d.append(f"C{c1[0]:.5f},{c1[1]:.5f} {c2[0]:.5f},{c2[1]:.5f} {b[0]:.5f},{b[1]:.5f}")
        body = f"<path d='{' '.join(d)}'/>"
    else:
        # user = T·(path coordinates): path written in its own frame, undone by the transforms
        body = ("<g transform='translate(50 50) rotate(30)'><g transform='scale(2)'>"
                "<polyline transform='matrix(0.5 0 0 0.5 0 0)' points='"
                + " ".join(f"{x:.5f},{y:.5f}" for x, y in xy @ np.array([[math.cos(math.radians(30)), math.sin(math.radians(-30))],
                                                                          [math.sin(math.radians(30)), math.cos(math.radians(30))]]).T
                           ) + "'/></g></g>")
    _spiral_svg(tmp_path / "g.svg", body)
    groove = read_vectors(tmp_path / "g.svg", rpm=rpm)
    assert groove.centre_m == pytest.approx((0.05, 0.05), abs=2e-6)
    assert groove.notes["pitch_m"] == pytest.approx(0.5e-3, rel=0.01)
    x = groove.modulation_m
    assert np.sqrt(np.mean(x ** 2)) == pytest.approx(0.05e-3 / math.sqrt(2), rel=0.03)


def test_path_commands_absolute_and_relative():
    """M/L/H/V/C/S/Q/T/Z in both cases, as the points they pass through."""
    from izdat.optical._vector import _path_points
    (p,) = _path_points("M1,1 h2 v2 H1 V1 m0,0 l1,1 z", "t.svg")[:1]
    assert p.tolist() == [[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]]
    q = _path_points("M0,0 C1,0 2,0 3,0 S5,0 6,0 Q7,0 8,0 T10,0 c1,0 2,0 3,0", "t.svg")[0]
    assert q[0].tolist() == [0, 0] and q[-1].tolist() == [13, 0] and np.all(np.diff(q[:, 0]) > 0)
    with pytest.raises(PictureError, match="elliptical arcs"):
        _path_points("M0,0 A1,1 0 0 1 2,2", "t.svg")


def test_units_and_viewbox_give_metres(tmp_path):
    """The same spiral in inches (viewBox scaled) and in pt: the same radius in metres."""
    xy, _ = _tone_spiral(f_cyc=0, amp=0)
    for head, k in (("width='4in' height='4in' viewBox='0 0 400 400'", 100 / 25.4),
                    ("width='283.465pt' height='283.465pt'", 72 / 25.4)):
        p = (xy + 50) * k
        _spiral_svg(tmp_path / "u.svg", "<polyline points='" + " ".join(f"{x:.5f},{y:.5f}" for x, y in p) + "'/>", head)
        g = read_vectors(tmp_path / "u.svg", rpm=66.15)
        assert g.centre_m == pytest.approx((0.05, 0.05), abs=1e-6)
        assert float(g.radius_m[g.program_start]) == pytest.approx(0.040, abs=2e-5)


# --------------------------------------------------------------------------------------- figures

def figures() -> None:
    print("| record | centre error µm | pitch µm | duration s (source) | SI-SNR dB (vertices) | coherence SNR dB "
          "(vertices) | flat ±dB 100 Hz–4 kHz | vs vertices dB |")
    print("|---|---|---|---|---|---|---|---|")
    for name in SNDCUT:
        src, rpm, diameter, *_ = SNDCUT[name]
        groove, est, ref, fs = read_sndcut(name)
        got, held = scores(est, ref, fs), scores(sndcut_oracle(name), ref, fs)
        err = 1e6 * math.hypot(groove.centre_m[0] - diameter / 2e3, groove.centre_m[1] - diameter / 2e3)
        print(f"| {name} | {err:.2f} | {groove.notes['pitch_m'] * 1e6:.1f} | {groove.duration_s:.4f} ({len(ref) / fs:.4f}) | "
              f"{got['si_snr']:.2f} ({held['si_snr']:.2f}) | {got['coherence']:.2f} ({held['coherence']:.2f}) | "
              f"{got['flat']:.2f} ({held['flat']:.2f}) | {groove.notes['vertex_snr_db']:.1f} |")


def own_figures() -> None:
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        def run(*args):
            done = subprocess.run([str(Path(sys.executable).parent / "izdat"), *map(str, args)], capture_output=True,
                                  text=True)
            return done.returncode, done.stdout, done.stderr
        test_izdat_own_record_svg_reads_back_through_its_vertices(Path(tmp), run)
    for name, (s, snr) in OWN.items():
        print(f"| izdat record.svg, {name} | 0 | — | exact | {s['si_snr']:.2f} | {s['coherence']:.2f} | {s['flat']:.2f} | {snr:.1f} |")


if __name__ == "__main__":
    figures()
    own_figures()


def test_an_svg_whose_groove_is_a_picture_is_drawn_and_read_as_one(tmp_path, izdat):
    """An SVG holding only an <image> goes to the raster reader (its own sentence, not the vector
    reader's), as does any SVG with --raster."""
    import base64
    import io
    from PIL import Image
    buf = io.BytesIO()
    Image.new("L", (64, 64), 128).save(buf, format="PNG")
    href = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    (tmp_path / "pic.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg' xmlns:xlink='http://www.w3.org/1999/xlink' "
                                      f"width='20mm' height='20mm'><image width='20mm' height='20mm' xlink:href='{href}'/></svg>")
    code, _, err = izdat("play", tmp_path / "pic.svg", "-o", tmp_path / "x.wav", "--dpi", "300")
    assert code == 2 and "holds no groove to follow" not in err and "Traceback" not in err, err
    assert not (tmp_path / "x.wav").exists()
    with pytest.raises(_vector.NoVectorGroove, match="only pictures"):
        read_vectors(tmp_path / "pic.svg", rpm=78)


def test_a_clockwise_groove_is_read_clockwise(tmp_path):
    """The spiral mirrored (turning clockwise as seen): the direction found, the tone the same."""
    xy, _ = _tone_spiral()
    p = np.column_stack([xy[:, 0], -xy[:, 1]]) + 50
    _spiral_svg(tmp_path / "cw.svg", "<polyline points='" + " ".join(f"{x:.5f},{y:.5f}" for x, y in p) + "'/>")
    g = read_vectors(tmp_path / "cw.svg", rpm=78)
    assert g.direction == "clockwise" and g.centre_m == pytest.approx((0.05, 0.05), abs=2e-6)
    assert np.sqrt(np.mean(g.modulation_m ** 2)) == pytest.approx(0.05e-3 / math.sqrt(2), rel=0.03)
