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

import datetime
import math
import os
import sqlite3
import stat
import urllib.parse
from pathlib import Path

import numpy as np

from izdat._check import _typed, check_int
from izdat.files import atomic_path
from izdat.underground.errors import LineageError
from izdat.underground.limits import LIMITS
from izdat.underground.simulate import (C_CITY, C_DECK, C_FAKE, C_FATE, C_GEN, C_HIDDEN, C_LATHE, C_MAKER,
                                        C_MEDIUM, C_OWNER, C_PARENT, C_TITLE, F_ENDED, F_MADE, F_PRICE, FATES,
                                        LATHES, MEDIA, REASONS, SOURCES, History)
from izdat.underground.society import DECKS, EPOCH, ROLES, Society

__all__ = ["write_lineage", "open_lineage", "chain", "run_info", "title_source", "dates", "COPY_COLUMNS", "REQUIRED"]

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


#: The tables and columns the readers use (``izdat lineage``, ``izdat listen``, :func:`chain`).
COPY_COLUMNS = ("id", "parent", "title", "medium", "generation", "maker", "owner", "city", "made", "price_rub",
                "fate", "ended", "deck", "lathe", "hidden", "fake")
REQUIRED = {"copies": COPY_COLUMNS, "run": ("seed", "people", "start_year", "end_year"), "titles": ("id", "source")}
#: Longest string or blob a reader accepts from one field (SQLite's ``SQLITE_LIMIT_LENGTH``): the
#: longest izdat writes is the scenario text; anything longer would only cost memory.
MAX_FIELD_BYTES = 16 * 2**20
#: SQLite virtual-machine steps one connection of a reader may take (0.56 s of CPU here): a lookup by
#: id takes 26 (measured on a 3-million-person run, whose deepest chain is 37 copies), so a chain of
#: 700,000 copies still fits and only a damaged or hostile file (a view that never ends) reaches it.
MAX_STEPS = 20_000_000
_STEPS_PER_CHECK = 10_000
_SQLITE_MAGIC = b"SQLite format 3\x00"


def _uri(path: Path) -> str:
    """A read-only, immutable ``file:`` URI for ``path``, every byte that URIs reserve percent-quoted.

    ``#``, ``?`` and ``%`` in a name would otherwise end the path or start an escape (SQLite then
    opened, and created, a different file); ``immutable`` keeps SQLite from writing even its
    ``-wal``/``-shm`` side files next to a WAL-mode database.
    """
    raw = os.fsencode(os.path.abspath(path))
    return "file://" + urllib.parse.quote(raw, safe="/") + "?mode=ro&immutable=1"


def _check_file(path: Path) -> None:
    """Raise :class:`LineageError` unless ``path`` is a regular, non-empty file that starts like SQLite."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise LineageError(f"lineage database {path} does not exist.") from None
    except (OSError, ValueError) as exc:
        raise LineageError(f"cannot read lineage database {path}: {getattr(exc, 'strerror', None) or exc}.") from None
    if stat.S_ISDIR(st.st_mode):
        raise LineageError(f"lineage database {path} is a folder, not a file written by izdat spread.")
    if not stat.S_ISREG(st.st_mode):
        raise LineageError(f"lineage database {path} is not a regular file (a pipe, socket or device).")
    if st.st_size == 0:
        raise LineageError(f"lineage database {path} is empty (0 bytes), not a file written by izdat spread.")
    try:
        with open(path, "rb") as f:
            head = f.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise LineageError(f"cannot read lineage database {path}: {exc.strerror or exc}.") from None
    if head != _SQLITE_MAGIC:
        raise LineageError(f"{path} is not a readable izdat lineage database (not SQLite at all).")


def _check_schema(con: sqlite3.Connection, name: str) -> None:
    """Every table and column in :data:`REQUIRED` is there, as a table, and ``copies.id`` is its key."""
    kinds = dict(con.execute("SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view')").fetchall())
    for table, columns in REQUIRED.items():
        if kinds.get(table) != "table":
            what = "a view" if kinds.get(table) == "view" else "missing"
            raise LineageError(f"{name} is not a readable izdat lineage database (its table {table} is {what}).")
        info = con.execute(f"PRAGMA table_info({table})").fetchall()
        have = {row[1]: row for row in info}
        for col in columns:
            if col not in have:
                raise LineageError(f"{name} is not a readable izdat lineage database "
                                   f"(its table {table} lacks the column {col}).")
    info = con.execute("PRAGMA table_info(copies)").fetchall()
    keys = [row for row in info if row[5]]
    if len(keys) != 1 or keys[0][1] != "id" or str(keys[0][2]).upper() != "INTEGER":
        raise LineageError(f"{name} is not a readable izdat lineage database (copies.id is not the table's "
                           f"INTEGER PRIMARY KEY, so a lookup would read the whole table).")


def _budget(con: sqlite3.Connection) -> None:
    """Abort any query of ``con`` once the connection has taken :data:`MAX_STEPS` steps."""
    left = [MAX_STEPS // _STEPS_PER_CHECK]

    def tick() -> int:
        left[0] -= 1
        return left[0] < 0

    con.set_progress_handler(tick, _STEPS_PER_CHECK)


def open_lineage(path: str | Path) -> sqlite3.Connection:
    """Open a lineage database read-only, checking that it is one.

    The file is opened read-only and immutable (SQLite writes nothing, not even a journal),
    whatever characters its name holds; strings longer than :data:`MAX_FIELD_BYTES` and queries
    longer than :data:`MAX_STEPS` steps are refused, so a damaged file cannot hang a reader or
    fill the memory.

    Raises
    ------
    LineageError
        When the file is missing, is not a regular file, is empty, is not SQLite, or lacks a table
        or column of :data:`REQUIRED` (also a ``TypeError`` when ``path`` is not a path).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise _typed(LineageError)(f"a lineage database is a path, not {type(path).__name__}.")
    path = Path(path)
    _check_file(path)
    con = None
    try:
        con = sqlite3.connect(_uri(path), uri=True)
        con.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_FIELD_BYTES)
        _budget(con)
        _check_schema(con, str(path))
    except LineageError:
        con.close()
        raise
    except (sqlite3.Error, MemoryError):
        if con is not None:
            con.close()
        raise LineageError(f"{path} is not a readable izdat lineage database (corrupt, or not written by izdat spread).") from None
    return con


def _date(value) -> bool:
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63


#: What each field of a ``copies`` row must hold (``None`` is SQL NULL).
_FIELD_OK = {
    "id": _whole,
    "parent": lambda v: v is None or _whole(v),
    "title": _whole,
    "medium": lambda v: v in MEDIA,
    "generation": _whole,
    "maker": lambda v: v is None or _whole(v),
    "owner": _whole,
    "city": lambda v: isinstance(v, str),
    "made": _date,
    "price_rub": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0,
    "fate": lambda v: v in FATES,
    "ended": lambda v: v is None or _date(v),
    "deck": lambda v: v is None or isinstance(v, str),
    "lathe": lambda v: v is None or isinstance(v, str),
    "hidden": lambda v: v in (0, 1) and not isinstance(v, float),
    "fake": lambda v: v in (0, 1) and not isinstance(v, float),
}


def _checked_row(row: tuple) -> dict:
    item = dict(zip(COPY_COLUMNS, row))
    for col, ok in _FIELD_OK.items():
        if not ok(item[col]):
            shown = "NULL" if item[col] is None else repr(item[col])[:40]
            raise LineageError(f"copy {item['id']!r} has a bad {col} ({shown}) in the lineage database "
                               f"(damaged, or not written by izdat spread).")
    return item


def _connection(path_or_con):
    """``(connection, whether we opened it)`` for a path or an open connection."""
    if isinstance(path_or_con, sqlite3.Connection):
        return path_or_con, False
    return open_lineage(path_or_con), True


def chain(path_or_con, copy_id: int) -> list[dict]:
    """The copy ``copy_id`` and its ancestors back to the original, newest first.

    Each item is a dict of the ``copies`` columns (:data:`COPY_COLUMNS`), each field checked.

    Parameters
    ----------
    path_or_con : str, Path or sqlite3.Connection
        ``lineage.sqlite`` written by ``izdat spread``, or a connection from :func:`open_lineage`.
    copy_id : int
        Id of the copy, 0 to 2**63 - 1 (:data:`~izdat.underground.limits.LIMITS` ``"copy_id"``).

    Raises
    ------
    LineageError
        An unknown id; a chain that loops (a copy that is its own ancestor) or names a parent the
        database does not hold; a field of the wrong type or NULL where it must not be; a database
        that cannot be read.
    """
    copy_id = check_int("copy_id", copy_id, *LIMITS["copy_id"], error=LineageError)
    con, ours = _connection(path_or_con)
    sql = f"SELECT {', '.join(COPY_COLUMNS)} FROM copies WHERE id = ?"
    rows: list[dict] = []
    seen: set[int] = set()   # every id once: the chain is no longer than the table has rows
    try:
        cur = copy_id
        while cur is not None:
            if cur in seen:
                raise LineageError(f"the lineage of copy {copy_id} loops at copy {cur}, which is its own "
                                   f"ancestor (the database is damaged).")
            seen.add(cur)
            row = con.execute(sql, (cur,)).fetchone()
            if row is None:
                if not rows:
                    lo, hi = con.execute("SELECT MIN(id), MAX(id) FROM copies").fetchone()
                    held = "it holds no copies" if lo is None else f"ids run from {lo} to {hi}"
                    raise LineageError(f"copy {copy_id} is not in the database ({held}).")
                raise LineageError(f"copy {rows[-1]['id']} names copy {cur} as its parent, which is not in "
                                   f"the database (damaged, or not written by izdat spread).")
            item = _checked_row(row)
            rows.append(item)
            cur = item["parent"]
    except sqlite3.Error:
        raise LineageError("the lineage database is corrupt (the copies table could not be read).") from None
    finally:
        if ours:
            con.close()
    return rows


def run_info(path_or_con) -> dict:
    """The ``run`` row (``seed``, ``people``, ``start_year``, ``end_year``), each field checked.

    Raises
    ------
    LineageError
        No run row or more than one, a NULL or a value out of range (:data:`LIMITS`).
    """
    con, ours = _connection(path_or_con)
    try:
        found = con.execute("SELECT seed, people, start_year, end_year FROM run LIMIT 2").fetchall()
    except sqlite3.Error:
        raise LineageError("the lineage database is corrupt (the run table could not be read).") from None
    finally:
        if ours:
            con.close()
    if len(found) != 1:
        raise LineageError(f"the lineage database has {len(found)} run rows instead of one "
                           f"(damaged, or not written by izdat spread).")
    info = dict(zip(("seed", "people", "start_year", "end_year"), found[0]))
    for key, limit in (("seed", "seed"), ("people", "people"), ("start_year", "year"), ("end_year", "year")):
        lo, hi = LIMITS[limit]
        value = info[key]
        if not (isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi):
            shown = "NULL" if value is None else repr(value)[:40]
            raise LineageError(f"the lineage database's run {key} is {shown}, not a whole number from {lo} to {hi} "
                               f"(damaged, or not written by izdat spread).")
    if info["start_year"] > info["end_year"]:
        raise LineageError("the lineage database's run starts after it ends (damaged, or not written by izdat spread).")
    return info


def title_source(path_or_con, title: int) -> str | None:
    """The route (:data:`SOURCES`) by which ``title`` arrived, or ``None`` if the database does not say."""
    con, ours = _connection(path_or_con)
    try:
        found = con.execute("SELECT source FROM titles WHERE id = ?", (check_int(
            "title", title, *LIMITS["copy_id"], error=LineageError),)).fetchone()
    except sqlite3.Error:
        raise LineageError("the lineage database is corrupt (the titles table could not be read).") from None
    finally:
        if ours:
            con.close()
    if found is None or found[0] is None:
        return None
    if found[0] not in SOURCES:
        raise LineageError(f"title {title} has an unknown source {found[0]!r:.40} in the lineage database "
                           f"(damaged, or not written by izdat spread).")
    return found[0]
