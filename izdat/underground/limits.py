"""The ranges the underground's entry points accept, in one place, and the memory a run needs.

:func:`~izdat.underground.simulate.simulate`, :func:`~izdat.underground.society.build_society`,
the scenario loader, :func:`~izdat.underground.listen.listen`, the lineage readers and the SIR
validation check their arguments against :data:`LIMITS`; ``izdat spread`` and the studio take
their ranges from here instead of keeping their own.

>>> LIMITS["year"]
(1946, 1991)
"""

from __future__ import annotations

import os

from izdat.underground.errors import SpreadError

__all__ = ["LIMITS", "BASE_BYTES", "BYTES_PER_PERSON", "memory_needed", "available_memory",
           "largest_people", "check_memory"]

#: ``name: (lowest, highest)``, both inclusive.
LIMITS: dict[str, tuple] = {
    # person ids are int32 in the copy table and in the friendship graph
    "people": (1, 2**31 - 1),
    # the clock starts on 1946-01-01 and the confiscation hazards are tabulated for 1946-1991:
    # a year before 1946 is a negative day, which the compiled engine used as an index (bus error)
    "year": (1946, 1991),
    # seeds are stored in SQLite INTEGER columns (signed 64 bits) and NumPy seeds are non-negative
    "seed": (0, 2**63 - 1),
    # ensemble members (each one a whole run)
    "runs": (1, 1000),
    # SIR validation runs (each one breadth-first pass over the edge list)
    "sir_runs": (1, 1_000_000),
    # copy ids are SQLite INTEGER
    "copy_id": (0, 2**63 - 1),
    "probability": (0.0, 1.0),
    # SIR validation: node labels of an edge list (int64)
    "node": (-(2**63), 2**63 - 1),
}

#: Memory of an ``izdat spread`` run beyond what is resident when the command starts: a fixed part
#: (numba's engine, the plots, SQLite's page cache) and a part per person.
#:
#: Measured with the peak RSS (``ru_maxrss`` of the child) of ``izdat spread -o DIR --people N
#: --seed 1`` (1946-1990, the default scenario) on x86_64, Python 3.11, 2026-12: 100,000 people
#: 292 MiB, 300,000 people 325 MiB, 1,000,000 people 501 MiB, 3,000,000 people 921 MiB (bench/
#: docs/benchmarks.md: 10,000,000 people 2397 MiB); the interpreter with izdat's CLI and the
#: underground imported is 193 MiB. From 1 to 3 million people the slope is 220 bytes a person (from
#: 3 to 10 million, 221); 1 million people need 501 − 193 = 308 MiB beyond the imports, of which
#: 220 bytes × 10⁶ = 210 MiB are the people, leaving 98 MiB fixed. The figures below round both up
#: (a tenth more per person, the fixed part to 128 MiB) so that a run that is let in fits.
BYTES_PER_PERSON = 242
BASE_BYTES = 128 * 2**20


def memory_needed(people: int, *, copies: int = 1) -> int:
    """Bytes an ``izdat spread`` run of ``people`` needs (``copies`` societies held at once)."""
    return BASE_BYTES + int(copies) * int(people) * BYTES_PER_PERSON


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation now (``MemAvailable``), or ``None`` if unknown."""
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


def largest_people(available: int, *, copies: int = 1) -> int:
    """The largest people count whose run fits in ``available`` bytes (0 if none does), at most ``LIMITS["people"]``."""
    fits = (int(available) - BASE_BYTES) // (BYTES_PER_PERSON * max(int(copies), 1))
    return int(min(max(fits, 0), LIMITS["people"][1]))


def check_memory(people: int, *, copies: int = 1, available: int | None = None) -> None:
    """Raise :class:`SpreadError` before any allocation when a run of ``people`` cannot fit in memory.

    ``available`` defaults to :func:`available_memory`; when that is unknown nothing is checked.
    """
    free = available_memory() if available is None else available
    if free is None:
        return
    need = memory_needed(people, copies=copies)
    if need > free:
        fits = largest_people(free, copies=copies)
        held = f" ({copies} societies at once)" if copies > 1 else ""
        raise SpreadError(f"a run of {people:,} people{held} needs about {_bytes(need)} of memory but "
                          f"{_bytes(free)} is available; at most {fits:,} people fit.")


def _bytes(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if n < 1024 or unit == "EiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} EiB"
