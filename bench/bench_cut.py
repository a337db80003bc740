"""Benchmark of `izdat cut`: a 3-minute song at 78 rpm on a 250 mm disc, into SVG + 1200-DPI PNG.

    python bench/bench_cut.py

Prints a table and writes it into docs/benchmarks.md. The SVG writer is compared side by side with
a C++ writer of the same points (bench/svg_baseline.cpp, g++ -O2), when g++ is on the machine.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import table, write_section  # noqa: E402

import izdat  # noqa: E402
from izdat.fabricate import CutPlan, write_svg  # noqa: E402
from izdat.lathe import Lathe  # noqa: E402
from izdat.outputs import backdrop  # noqa: E402
from izdat.render import render  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SECONDS = 180


def three_minute_song(folder: Path) -> Path:
    song = izdat.load(ROOT / "examples" / "song.flac")
    reps = int(np.ceil(SECONDS / song.duration_s))
    audio = izdat.Audio(np.tile(song.samples, (reps, 1))[: SECONDS * int(song.sample_rate)], song.sample_rate)
    return izdat.save(audio, folder / "song-3min.flac")


def child_run(args: list[str]) -> tuple[float, float, float]:
    """Wall time (s), CPU time (s, user + system) and peak memory (MiB) of a child command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu, after.ru_maxrss / 1024


def main():
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        song = three_minute_song(tmp)
        izdat_bin = str(Path(sys.executable).with_name("izdat"))
        child_run([izdat_bin, "cut", str(song), "-o", str(tmp / "warm"), "--format", "svg", "--trim", "2"])  # JIT cache
        load = os.getloadavg()[0]
        wall, cpu, peak = child_run([izdat_bin, "cut", str(song), "-o", str(tmp / "cut"), "--format", "svg,png"])
        rows.append(["`izdat cut` 3 min → SVG + PNG 1200 DPI (whole command)", f"{wall:.1f} s wall, {cpu:.1f} s CPU",
                     f"{peak:.0f} MiB peak", "< 15 s, < 3 GB"])

        audio = izdat.load(song)
        t = time.perf_counter()
        record = Lathe().cut(audio)
        rows.append(["cut the groove (EQ, limiter, pitch plan)", f"{time.perf_counter() - t:.2f} s", "", ""])
        film, _ = backdrop(None, 0)
        for dpi in (1200, 2400):
            t = time.perf_counter()
            picture = render(record, dpi=dpi, xray=film)
            h, w = picture.pixels.shape
            rows.append([f"render {dpi} DPI ({w}×{h} px)", f"{time.perf_counter() - t:.2f} s",
                         f"{picture.pixels.nbytes / 2**20:.0f} MiB picture", ""])
            del picture
        plan = CutPlan.of(record)
        t = time.perf_counter()
        write_svg(plan, tmp / "izdat.svg")
        svg_s = time.perf_counter() - t
        rate = plan.points / svg_s
        rows.append([f"SVG, izdat ({plan.points / 1e6:.2f} M points)", f"{svg_s:.2f} s", f"{rate / 1e6:.1f} M points/s",
                     "> 5 M points/s"])
        compiler = shutil.which("g++")
        if compiler:
            exe = tmp / "svg_baseline"
            subprocess.run([compiler, "-O2", "-o", str(exe), str(ROOT / "bench" / "svg_baseline.cpp")], check=True)
            np.concatenate([plan.x_mm, plan.y_mm]).astype(np.float64).tofile(tmp / "points.f64")
            t = time.perf_counter()
            subprocess.run([str(exe), str(tmp / "points.f64"), str(tmp / "baseline.svg")], check=True)
            base_s = time.perf_counter() - t
            rows.append(["SVG, C++ baseline (std::ofstream, g++ -O2)", f"{base_s:.2f} s",
                         f"{plan.points / base_s / 1e6:.1f} M points/s", f"izdat is {base_s / svg_s:.1f}× its speed"])
        rows.append(["peak memory of this benchmark process", "", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB", ""])
    write_section("bench_cut", "Lathe: cutting a 3-minute side",
                  table(["step", "time", "size / rate", "target"], rows)
                  + f"\n\nLoad average (1 min) when the whole command started: {load:.1f} on {os.cpu_count()} cores "
                  "(other work shared the machine: wall time above CPU time / cores is time spent waiting)."
                  " Steps below the first row are timed in one process (the render uses both cores).")


if __name__ == "__main__":
    main()
