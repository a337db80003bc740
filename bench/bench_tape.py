"""Benchmark of the tape deck: one and ten generations of a 3-minute mono 44.1 kHz song.

    python bench/bench_tape.py [--no-pedalboard]

The aliasing row (issue 16, item 8): the worst non-harmonic line of a 4.3 kHz tone recorded at the
3 % point (``headroom_db`` re reference) on each preset, noise and flutter off, 48 kHz.

The full model runs (record EQ, the biased recording of the deck's usual tape — a Preisach table at
2× with the self-bias of loud treble and the record-zone loss —, transport wow/flutter both ways,
the tape's modulation noise and print-through, dropouts, hiss, playback losses and EQ, hum). Beside it, pedalboard's nearest equivalent (no tape
model: high-pass, low-pass, compressor, chorus for wow) is timed on the same audio; pedalboard is
installed into a temporary folder for this run only and is not a dependency of izdat.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._report import peak_rss_mb, table, write_section  # noqa: E402
from izdat.audio import Audio, load  # noqa: E402
from izdat.tape import TapeDeck  # noqa: E402
from izdat.tape.service import non_harmonic_dbc  # noqa: E402

SONG_S = 180.0
RATE = 44100.0


def song() -> Audio:
    src = load(Path(__file__).resolve().parent.parent / "examples" / "song.flac").mono().resample(RATE)
    reps = int(np.ceil(SONG_S * RATE / len(src)))
    return Audio(np.tile(src.samples, reps)[: int(SONG_S * RATE)], RATE)


def pedalboard_chain(audio: Audio) -> float | None:
    try:
        import pedalboard  # noqa: F401
    except ImportError:
        target = Path(tempfile.mkdtemp(prefix="bench-pedalboard-"))
        r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", str(target), "pedalboard"],
                           capture_output=True)
        if r.returncode != 0:
            return None
        sys.path.insert(0, str(target))
    import pedalboard as pb
    board = pb.Pedalboard([pb.HighpassFilter(60), pb.LowpassFilter(10000), pb.Compressor(-12, 3),
                           pb.Chorus(rate_hz=0.5, depth=0.05, mix=1.0)])
    x = audio.samples[None, :]
    board(x[:, :44100], RATE)
    t = time.perf_counter()
    y = board(x, RATE)
    y = y + np.random.default_rng(0).standard_normal(y.shape).astype(np.float32) * 0.003
    return time.perf_counter() - t


def main() -> None:
    audio = song()
    deck = TapeDeck("elektronika-302", seed=0)
    deck.play(deck.record(Audio(audio.samples[:44100], RATE)))  # compile / load the Numba cache
    t = time.perf_counter()
    cpu = time.process_time()
    deck.play(deck.record(audio))
    one = time.perf_counter() - t
    one_cpu = time.process_time() - cpu
    t = time.perf_counter()
    tape = deck.record(audio)
    for _ in range(9):
        tape = deck.dub(tape)
    deck.play(tape)
    ten = time.perf_counter() - t
    pb_s = None if "--no-pedalboard" in sys.argv else pedalboard_chain(audio)
    from izdat.tape import PRESETS
    alias = max(non_harmonic_dbc(name) for name in PRESETS)
    rows = [["izdat TapeDeck, 1 generation (record + play)", f"{one:.2f}", f"{SONG_S / one:.0f}×"],
            ["the same, CPU time of the process", f"{one_cpu:.2f}", f"{SONG_S / one_cpu:.0f}×"],
            ["izdat TapeDeck, 10 generations", f"{ten:.2f}", f"{10 * SONG_S / ten:.0f}×"]]
    if pb_s is not None:
        rows.append(["pedalboard HPF+LPF+compressor+chorus+noise (no tape physics)", f"{pb_s:.2f}",
                     f"{SONG_S / pb_s:.0f}×"])
    body = table(["what (3-min mono 44.1 kHz song, one core)", "time s", "real-time factor"], rows)
    body += (f"\n\nWorst non-harmonic product of a 4.3 kHz tone at the 3 % point over all presets: "
             f"{alias:.1f} dBc (issue 16 asks below −90).")
    body += f" Peak memory: {peak_rss_mb():.0f} MiB."
    if pb_s is not None:
        body += f" izdat one generation / pedalboard chain time ratio: {one / pb_s:.1f}."
    write_section("bench_tape", "Tape deck: generations of a 3-minute song", body)


if __name__ == "__main__":
    main()
