"""The lineage store: one SQLite file with every copy, person, arrest, event and the run's seed.

Tables
------
copies(id, parent, title, medium, generation, maker, owner, city, made, price_rub, fate, ended,
       deck, lathe, hidden, fake)
    medium: LP, bone, reel, cassette; fate: alive, worn_out, confiscated, erased; made/ended are ISO
    dates; deck is the tape deck that recorded a tape copy (e.g. "yauza-5"), lathe the lathe that
    cut a bone record; parent and maker are NULL for originals (and for the state's fakes).
people(id, city, household, role, recorder_since, degree)
    only the people who held, made or lost a copy, or have a role (sailor, dealer, cutter);
    ``run.people`` gives the size of the whole society.
arrests(id, person, date, released, reason, city)
events(date, kind, city, detail)
titles(id, source, city, arrived, first_copy)
cities(id, name, port, hotel, border, port_km, lp_rub)
run(seed, people, start_year, end_year, scenario, version)

``izdat listen`` walks a copy's chain with :func:`chain`, rendering each step through its medium,
deck or lathe, deterministically from ``run.seed`` and the copy ids.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from izdat.files import atomic_path
from izdat.underground.errors import LineageError
from izdat.underground.simulate import (C_CITY, C_DECK, C_FAKE, C_FATE, C_GEN, C_HIDDEN, C_LATHE, C_MAKER,
                                        C_MEDIUM, C_OWNER, C_PARENT, C_TITLE, F_ENDED, F_MADE, F_PRICE, FATES,
                                        LATHES, MEDIA, REASONS, SOURCES, History)
from izdat.underground.society import DECKS, EPOCH, ROLES, Society

__all__ = ["write_lineage", "open_lineage", "chain", "dates"]

SCHEMA = """
CREATE TABLE run(seed INTEGER, people INTEGER, start_year INTEGER, end_year INTEGER, scenario TEXT, version TEXT);
CREATE TABLE cities(id INTEGER PRIMARY KEY, name TEXT, port INTEGER, hotel INTEGER, border INTEGER, port_km REAL, lp_rub REAL);
CREATE TABLE people(id INTEGER PRIMARY KEY, city TEXT, household INTEGER, role TEXT, recorder_since TEXT, degree INTEGER);
CREATE TABLE titles(id INTEGER PRIMARY KEY, source TEXT, city TEXT, arrived TEXT, first_copy INTEGER);
CREATE TABLE copies(id INTEGER PRIMARY KEY, parent INTEGER, title INTEGER, medium TEXT, generation INTEGER,
                    maker INTEGER, owner INTEGER, city TEXT, made TEXT, price_rub REAL, fate TEXT, ended TEXT,
                    deck TEXT, lathe TEXT, hidden INTEGER, fake INTEGER);
CREATE TABLE arrests(id INTEGER PRIMARY KEY, person INTEGER, date TEXT, released TEXT, reason TEXT, city TEXT);
CREATE TABLE events(date TEXT, kind TEXT, city TEXT, detail TEXT);
"""

_BATCH = 500_000


_DATE_TABLE: list = [None]


def _date_table(last_day: int) -> np.ndarray:
    """ISO strings of days 0 .. ``last_day`` and a final ``None`` (built once, then only indexed)."""
    table = _DATE_TABLE[0]
    if table is None or table.size - 1 <= last_day:
        size = max(last_day + 1, 17_000)
        table = np.empty(size + 1, dtype=object)
        table[:size] = np.datetime_as_string(EPOCH + np.arange(size).astype("timedelta64[D]"), unit="D")
        table[size] = None
        _DATE_TABLE[0] = table
    return table


def dates(days: np.ndarray) -> list:
    """ISO dates (``YYYY-MM-DD``) of simulation days; ``None`` where the day is not finite."""
    days = np.asarray(days, dtype=np.float64)
    ok = np.isfinite(days) & (days >= 0)
    if not ok.any():
        if np.isfinite(days).any():
            return _slow_dates(days)
        return [None] * days.size if days.ndim == 1 else np.full(days.shape, None, dtype=object).tolist()
    if not ok[np.isfinite(days)].all():
        return _slow_dates(days)
    idx = np.where(ok, np.floor(np.where(ok, days, 0)), -1).astype(np.int64)
    table = _date_table(int(idx.max()))
    idx[idx < 0] = table.size - 1
    return table[idx].tolist()


def _slow_dates(days: np.ndarray) -> list:
    ok = np.isfinite(days)
    out = np.full(days.shape, None, dtype=object)
    if ok.any():
        out[ok] = np.datetime_as_string(EPOCH + np.floor(days[ok]).astype("timedelta64[D]"), unit="D")
    return out.tolist()


def _names(codes: np.ndarray, names) -> list:
    table = np.array(list(names) + [None], dtype=object)
    return table[np.where(codes < 0, len(names), codes)].tolist()


def _nullable(values: np.ndarray) -> list:
    out = values.astype(object)
    out[values < 0] = None
    return out.tolist()


def _insert(con, sql: str, columns: list, n: int) -> None:
    for lo in range(0, n, _BATCH):
        hi = min(lo + _BATCH, n)
        con.executemany(sql, zip(*(c[lo:hi] for c in columns)))
        con.commit()


def write_lineage(path: str | Path, history: History, society: Society, *, scenario_text: str = "",
                  version: str = "") -> None:
    """Write ``history`` into a new SQLite file at ``path`` (atomically: temp file, then rename)."""
    names = society.city_names
    with atomic_path(path) as tmp:
        con = sqlite3.connect(tmp)
        try:
            # a temporary file renamed only when complete: no journal, no syncs, a big page cache
            con.execute("PRAGMA page_size=16384")
            con.execute("PRAGMA journal_mode=OFF")
            con.execute("PRAGMA synchronous=OFF")
            con.execute("PRAGMA locking_mode=EXCLUSIVE")
            con.execute("PRAGMA temp_store=MEMORY")
            con.execute("PRAGMA cache_size=-262144")
            con.executescript(SCHEMA)
            con.execute("INSERT INTO run VALUES (?,?,?,?,?,?)", (history.seed, society.n, history.start_year,
                                                                history.end_year, scenario_text, version))
            con.executemany("INSERT INTO cities VALUES (?,?,?,?,?,?,?)",
                            [(i, names[i], int(society.city_port[i]), int(society.city_hotel[i]),
                              int(society.city_border[i]), float(society.city_port_km[i]),
                              float(society.city_lp_rub[i])) for i in range(len(names))])
            city_name = np.array(names, dtype=object)
            # people who ever held, made or lost a copy (or a role): the rest only listened
            mark = np.zeros(society.n, dtype=bool)
            mark[history.ci[:, C_OWNER]] = True
            mark[history.ci[:, C_MAKER][history.ci[:, C_MAKER] >= 0]] = True
            mark[history.arrests[:, 0].astype(np.int64)] = True
            mark[society.role > 0] = True
            who = np.flatnonzero(mark)
            for lo in range(0, who.size, _BATCH):
                ids = who[lo:lo + _BATCH]
                hh = society.household[ids]
                con.executemany("INSERT INTO people VALUES (?,?,?,?,?,?)", zip(
                    ids.tolist(), city_name[society.city[ids]].tolist(), hh.tolist(),
                    _names(society.role[ids], ROLES), dates(society.recorder_day[hh]),
                    (society.indptr[ids + 1] - society.indptr[ids]).tolist()))
                con.commit()
            t = history.titles
            con.executemany("INSERT INTO titles VALUES (?,?,?,?,?)", zip(
                range(len(t)), _names(t[:, 1].astype(int), SOURCES), city_name[t[:, 2].astype(int)].tolist(),
                dates(t[:, 0]), _nullable(t[:, 3].astype(np.int64))))
            ci, cf = history.ci, history.cf
            nc = len(ci)
            for lo in range(0, nc, _BATCH):
                hi = min(lo + _BATCH, nc)
                c, f = ci[lo:hi], cf[lo:hi]
                con.executemany("INSERT INTO copies VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", zip(
                    range(lo, hi), _nullable(c[:, C_PARENT]), c[:, C_TITLE].tolist(), _names(c[:, C_MEDIUM], MEDIA),
                    c[:, C_GEN].tolist(), _nullable(c[:, C_MAKER]), c[:, C_OWNER].tolist(),
                    city_name[c[:, C_CITY]].tolist(), dates(f[:, F_MADE]), np.round(f[:, F_PRICE], 2).tolist(),
                    _names(c[:, C_FATE], FATES), dates(f[:, F_ENDED]), _names(c[:, C_DECK], DECKS),
                    _names(c[:, C_LATHE], LATHES), c[:, C_HIDDEN].tolist(), c[:, C_FAKE].tolist()))
                con.commit()
            a = history.arrests
            con.executemany("INSERT INTO arrests VALUES (?,?,?,?,?,?)", zip(
                range(len(a)), a[:, 0].astype(np.int64).tolist(), dates(a[:, 1]), dates(a[:, 2]),
                _names(a[:, 3].astype(int), REASONS), city_name[a[:, 4].astype(int)].tolist()))
            ev = [(d, kind, names[c] if c >= 0 else None, text) for d, kind, c, text in history.policy]
            ev += [(dates([t[i, 0]])[0], "arrival", names[int(t[i, 2])],
                    f"title {i} arrives by {SOURCES[int(t[i, 1])]} route") for i in range(len(t))]
            con.executemany("INSERT INTO events VALUES (?,?,?,?)",
                            [(dates([e[0]])[0] if not isinstance(e[0], str) else e[0], *e[1:]) for e in ev])
            con.execute("CREATE INDEX copies_parent ON copies(parent)")
            con.commit()
        finally:
            con.close()


def open_lineage(path: str | Path) -> sqlite3.Connection:
    """Open a lineage database read-only, checking that it is one.

    Raises
    ------
    LineageError
        When the file is missing, is not SQLite, or lacks the ``copies`` table.
    """
    path = Path(path)
    if not path.is_file():
        raise LineageError(f"lineage database {path} does not exist.")
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        con.execute("SELECT id, parent, medium, generation, maker, owner, made FROM copies LIMIT 1").fetchall()
        con.execute("SELECT seed FROM run").fetchall()
    except sqlite3.DatabaseError:
        raise LineageError(f"{path} is not a readable izdat lineage database (corrupt, or not written by izdat spread).") from None
    return con


def chain(path_or_con, copy_id: int) -> list[dict]:
    """The copy ``copy_id`` and its ancestors back to the original, newest first.

    Each item is a dict of the ``copies`` columns. Raises :class:`LineageError` for an unknown id.
    """
    con = open_lineage(path_or_con) if not isinstance(path_or_con, sqlite3.Connection) else path_or_con
    cols = ["id", "parent", "title", "medium", "generation", "maker", "owner", "city", "made", "price_rub",
            "fate", "ended", "deck", "lathe", "hidden", "fake"]
    rows = []
    cur = int(copy_id)
    while cur is not None:
        row = con.execute(f"SELECT {', '.join(cols)} FROM copies WHERE id = ?", (cur,)).fetchone()
        if row is None:
            if not rows:
                total = con.execute("SELECT COUNT(*) FROM copies").fetchone()[0]
                raise LineageError(f"copy {copy_id} is not in the database (ids run from 0 to {total - 1}).")
            break
        rows.append(dict(zip(cols, row)))
        cur = row[1]
    return rows
