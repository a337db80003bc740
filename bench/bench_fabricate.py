"""Benchmark of the makers' files (issue 17): `izdat cut --format svg|gcode|dxf` of a 15 s and a
3-minute song at 78 rpm on a 250 mm disc, every groove sample against the default tolerance.

    python bench/bench_fabricate.py [--before COMMIT_TREE]

Each format is cut alone in a fresh process; its peak memory is that process's own (GNU time),
beside a cut that writes only record.json (the lathe and the plan, no machine file). The songs are
made here with numpy (pink noise and a swelling tone). ``--before DIR`` also runs an older izdat
(a folder holding its ``izdat`` package, e.g. ``git archive COMMIT izdat | tar -x -C DIR``).
The read-back columns play the 15 s song's SVG paths as grooves through ``Record.playback``.
``--sndcut PATH`` (or an ``sndcut`` on PATH) runs sndcut, the C++ peer of the issue, on the same
songs, disc and speed, in the same run, and gives izdat's figures as ratios to its own. Build it from
its public repository (it bundles Aquila): Debian's libboost-program-options-dev, libsndfile1-dev,
libsamplerate0-dev and cmake, then `bash build_deps.sh && make`. Without it the section says so.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import table, write_section  # noqa: E402

from izdat.audio import Audio  # noqa: E402
from izdat.fabricate import CutPlan, read_svg_path, write_svg  # noqa: E402
from izdat.fabricate.decimate import displacement_of_path, max_deviation_mm  # noqa: E402
from izdat.lathe import Lathe  # noqa: E402

RATE = 44100
DEFAULT_UM = 0.1
NOTE = ("\n\n\"before\" rows: the izdat in the --before folder (every sample, coordinates to 1 µm when that is "
        "the commit before issue 17's makers' files). Peak RSS is the whole `izdat cut` process (GNU time); the "
        "\"cut + plan only\" row writes no machine file, so the gap to it is what a writer adds.")


def music(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    f = np.fft.rfftfreq(n, 1 / RATE)
    x = np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) / np.sqrt(np.maximum(f, 20)), n)
    t = np.arange(n) / RATE
    x = 0.4 * x / np.abs(x).max() + 0.15 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 0.5 * t))
    return (0.8 * x / np.abs(x).max()).astype(np.float32)


def child(args: list[str], env=None) -> tuple[float, float, str]:
    """Wall time (s), peak resident memory (MiB, GNU time's, of the command alone) and what it said on stderr."""
    t = time.perf_counter()
    # GNU time forks from its own small image (a child forked from this process would start with
    # this one's resident memory in its count); outside the source tree, so PYTHONPATH decides
    # which izdat runs
    proc = subprocess.run(["/usr/bin/time", "-f", "@@%M", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          env=env, cwd=tempfile.gettempdir())
    err = proc.stderr.decode()
    if proc.returncode:
        raise SystemExit(f"{' '.join(args)} failed: {err}")
    said, peak = err.rsplit("@@", 1)
    return time.perf_counter() - t, int(peak) / 1024, " ".join(said.split())


#: sndcut's settings for the same side: 250 mm at 78 rpm, no RIAA pre-emphasis (izdat's record is
#: compared on its own curve), a 0.05 mm peak and 0.2 mm spacing so a 3-minute side fits the disc.
SNDCUT_ARGS = ["-d", "250", "-m", "78", "-f", "0", "-a", "0.05", "-s", "0.2", "-i", "100"]


def sndcut(binary: str, song: Path, out: Path, gcode: bool) -> tuple[float, float]:
    """Wall time (s) and peak RSS (MiB) of one sndcut run, its file (stdout) written to ``out``."""
    t = time.perf_counter()
    with open(out, "wb") as f:
        proc = subprocess.run(["/usr/bin/time", "-f", "@@%M", binary, *SNDCUT_ARGS, *(["-g"] if gcode else []),
                               str(song)], stdout=f, stderr=subprocess.PIPE)
    if proc.returncode:
        raise SystemExit(f"sndcut failed: {proc.stderr.decode()}")
    return time.perf_counter() - t, int(proc.stderr.decode().rsplit("@@", 1)[1]) / 1024


def readback(seconds: float) -> list[list]:
    """SNR (60–5000 Hz) and worst third-octave level (63 Hz–5 kHz) of each SVG's path played back."""
    record = Lathe().cut(Audio(music(seconds), RATE))
    ideal = record.playback().samples.astype(float)
    rows, plays = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        full = None
        for tol in (0, 0.05, DEFAULT_UM, 0.2, 0.5):
            plan = CutPlan.of(record, start_angle_deg=30.0, tolerance_um=tol)
            full = full or plan
            path = write_svg(plan, Path(tmp) / "r.svg")
            x, y = read_svg_path(path)
            plays[tol] = record.playback(displacement_of_path(record, x, y, plan.centre_mm, 30.0)).samples.astype(float)
            dev = max_deviation_mm(full.x_mm, full.y_mm, plan.index, x, y) * 1e3
            rows.append([f"{tol:g}", f"{plan.points:,}", f"{path.stat().st_size / 1e6:.1f}", f"{dev:.3f}",
                         f"{_snr(ideal, plays[tol]):.1f}", f"{_snr(plays[0], plays[tol]):.1f}" if tol else "—",
                         f"{np.abs(_thirds(plays[0], plays[tol])).max():.2f}" if tol else "—"])
    return rows


def _band(x):
    s = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1 / RATE)
    s[(f < 60) | (f > 5000)] = 0
    return np.fft.irfft(s, len(x))


def _snr(ref, y):
    return 10 * math.log10(np.sum(_band(ref) ** 2) / np.sum(_band(y - ref) ** 2))


def _thirds(ref, y):
    p, q = np.abs(np.fft.rfft(ref)) ** 2, np.abs(np.fft.rfft(y)) ** 2
    f = np.fft.rfftfreq(len(ref), 1 / RATE)
    out = []
    for k in range(-12, 8):
        fc = 1000 * 2 ** (k / 3)
        m = (f >= fc * 2 ** (-1 / 6)) & (f < fc * 2 ** (1 / 6))
        out.append(10 * math.log10(q[m].sum() / p[m].sum()))
    return np.array(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", type=Path, help="folder holding an older izdat package, run beside")
    ap.add_argument("--seconds", type=float, nargs="*", default=[15, 180])
    ap.add_argument("--sndcut", default=shutil.which("sndcut"), help="sndcut's binary, run beside izdat")
    args = ap.parse_args()
    py = sys.executable
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        songs = {}
        for s in args.seconds:
            songs[s] = tmp / f"song{s:g}.wav"
            sf.write(songs[s], music(s), RATE, subtype="FLOAT")
        child([py, "-m", "izdat", "cut", str(songs[args.seconds[0]]), "-o", str(tmp / "warm"), "--trim", "2",
               "--format", "svg,gcode,dxf,json"])                               # the compiled kernels' cache
        if args.before:
            child([py, "-m", "izdat", "cut", str(songs[args.seconds[0]]), "-o", str(tmp / "warm0"), "--trim", "2",
                   "--format", "svg,gcode,dxf,json"], {**os.environ, "PYTHONPATH": str(args.before)})
        runs = [("json", "0.1", None, "cut + plan only (record.json)")]
        for fmt in ("svg", "gcode", "dxf"):
            if args.before:
                runs.append((fmt, None, args.before, "before (every sample, 1 µm)"))
            runs += [(fmt, "0", None, "every sample, 0.1 µm coords"), (fmt, f"{DEFAULT_UM:g}", None, f"{DEFAULT_UM:g} µm (default)")]
        for s in args.seconds:
            for fmt, tol, tree, label in runs:
                out = tmp / f"o{len(rows)}"
                cmd = [py, "-m", "izdat", "cut", str(songs[s]), "-o", str(out), "--format", fmt]
                env = None
                if tree is not None:
                    env = {**os.environ, "PYTHONPATH": str(tree)}
                else:
                    cmd += ["--tolerance-um", tol]
                wall, rss, said = child(cmd, env)
                name = {"json": "record.json"}.get(fmt, f"record.{fmt}")
                size = (out / name).stat().st_size
                minutes = ""
                if tree is None:
                    minutes = said.split("cutting time ")[1].split(" at ")[0]     # as izdat cut printed it
                if fmt == "json":
                    meta = json.loads((out / name).read_text())["fabrication"]
                    minutes += f" ({meta['groove_length_mm'] / 1e3:.1f} m of groove)"
                rows.append([f"{s:g} s", fmt, label, f"{size / 1e6:.1f}", minutes, f"{wall:.1f}", f"{rss:.0f}"])
                print(rows[-1], flush=True)
                if args.sndcut and fmt in ("svg", "gcode") and tol == f"{DEFAULT_UM:g}" and tree is None:
                    peer = tmp / f"sndcut{len(rows)}.{fmt}"
                    pwall, prss = sndcut(args.sndcut, songs[s], peer, fmt == "gcode")
                    psize = peer.stat().st_size
                    rows.append([f"{s:g} s", fmt, "sndcut (C++ peer); izdat ÷ sndcut", f"{psize / 1e6:.1f}; "
                                 f"{size / psize:.2f}×", "", f"{pwall:.1f}; {wall / pwall:.2f}×",
                                 f"{prss:.0f}; {rss / prss:.2f}×"])
                    print(rows[-1], flush=True)
    body = table(["song", "file", "groove path", "size (MB)", "cutting time at 600 mm/min (printed)", "wall (s)",
                  "peak RSS (MiB)"], rows)
    body += NOTE
    if args.sndcut:
        body += ("\n\nsndcut rows: the C++ peer named in issue 17, built from its public repository, on the same "
                 f"song in the same run (`sndcut {' '.join(SNDCUT_ARGS)}`, its file on stdout); after the semicolon, "
                 "izdat's figure over sndcut's. The jobs differ: sndcut draws a constant-amplitude hairline and "
                 "drops points closer than 1/1200 inch; izdat cuts a velocity-equalised, limited, variable-pitch "
                 "groove with lead-in, lead-out and locked groove, its path within 0.1 µm of every sample.\n")
    else:
        body += ("\n\nsndcut (the C++ peer named in issue 17) was not found (give --sndcut PATH), so no rows "
                 "beside izdat's.\n")
    back = readback(15)
    body += ("\nRead-back of the 15 s song's record.svg (78 rpm, 250 mm): each file's path played as a groove "
             "(its radius at every sample's angle, linear between vertices, through `Record.playback`). "
             "SNR over 60–5000 Hz against the ideal groove and against the full file; worst third octave "
             "(63 Hz–5 kHz) against the full file; deviation = farthest any groove sample lies from the "
             "file's path (µm, with the file's rounding).\n\n")
    body += table(["tolerance (µm)", "vertices", "SVG (MB)", "max deviation (µm)", "SNR vs ideal (dB)",
                   "SNR vs full file (dB)", "worst third octave vs full (dB)"], back)
    write_section("bench_fabricate", "Makers' files: SVG, G-code and DXF of a side", body + "\n")


if __name__ == "__main__":
    main()
