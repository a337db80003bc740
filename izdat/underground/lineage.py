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
import importlib
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

__all__ = ["write_lineage", "open_lineage", "chain", "run_info", "title_source", "dates", "find_copies", "story",
           "has_column", "givers", "arrest_copies", "COPY_COLUMNS", "REQUIRED", "SCHEMA", "SCHEMA_2", "INDEXES",
           "VIEWS", "ANCESTORS_OF", "DESCENDANTS_OF", "SCHEMA_VERSION"]

SCHEMA = """
CREATE TABLE run(seed INTEGER, people INTEGER, start_year INTEGER, end_year INTEGER, scenario TEXT, version TEXT);
CREATE TABLE cities(id INTEGER PRIMARY KEY, name TEXT, port INTEGER, hotel INTEGER, border INTEGER, port_km REAL, lp_rub REAL);
CREATE TABLE people(id INTEGER PRIMARY KEY, city TEXT, household INTEGER, role TEXT, recorder_since TEXT, degree INTEGER);
CREATE TABLE titles(id INTEGER PRIMARY KEY, source TEXT, city TEXT, arrived TEXT,
                    first_copy INTEGER REFERENCES copies(id));
CREATE TABLE copies(id INTEGER PRIMARY KEY, parent INTEGER REFERENCES copies(id), title INTEGER REFERENCES titles(id),
                    medium TEXT, generation INTEGER, maker INTEGER REFERENCES people(id),
                    owner INTEGER REFERENCES people(id), city TEXT, made TEXT, price_rub REAL, fate TEXT, ended TEXT,
                    deck TEXT, lathe TEXT, hidden INTEGER, fake INTEGER);
CREATE TABLE arrests(id INTEGER PRIMARY KEY, person INTEGER REFERENCES people(id), date TEXT, released TEXT,
                     reason TEXT, city TEXT);
CREATE TABLE events(date TEXT, kind TEXT, city TEXT, detail TEXT);
"""
#: What a version-2 database adds to :data:`SCHEMA`'s tables (``PRAGMA user_version`` 2): who
#: handed each copy over, the copy behind an arrest, the titles' performers and songs, the indexes
#: a historian's questions need and the ``ancestors``/``descendants`` views. A database written
#: before (user_version 0) has none of these and is still read (:func:`has_column`).
SCHEMA_2 = """
ALTER TABLE copies ADD COLUMN giver INTEGER REFERENCES people(id);
ALTER TABLE arrests ADD COLUMN copy INTEGER REFERENCES copies(id);
ALTER TABLE titles ADD COLUMN performer TEXT;
ALTER TABLE titles ADD COLUMN name TEXT;
ALTER TABLE titles ADD COLUMN song_year INTEGER;
"""
#: Built after the rows are in (one sort each instead of a b-tree insert per row).
INDEXES = """
CREATE INDEX copies_parent ON copies(parent);
CREATE INDEX copies_owner ON copies(owner);
CREATE INDEX copies_title ON copies(title);
CREATE INDEX copies_city_made ON copies(city, made);
"""
#: Every (copy, ancestor) and (copy, descendant) pair with the number of generations between them
#: (``distance`` 0 is the copy itself). SQLite cannot push ``WHERE copy = ?`` into a recursive
#: view, so a query of one copy walks the whole table; :data:`ANCESTORS_OF` and
#: :data:`DESCENDANTS_OF` are the same walks started from one copy (``:copy``), for large files.
VIEWS = """
CREATE VIEW ancestors(copy, ancestor, distance) AS
  WITH RECURSIVE up(copy, ancestor, distance) AS (
    SELECT id, id, 0 FROM copies
    UNION ALL
    SELECT up.copy, c.parent, up.distance + 1 FROM up JOIN copies c ON c.id = up.ancestor WHERE c.parent IS NOT NULL)
  SELECT copy, ancestor, distance FROM up;
CREATE VIEW descendants(copy, descendant, distance) AS
  WITH RECURSIVE down(copy, descendant, distance) AS (
    SELECT id, id, 0 FROM copies
    UNION ALL
    SELECT down.copy, c.id, down.distance + 1 FROM down JOIN copies c ON c.parent = down.descendant)
  SELECT copy, descendant, distance FROM down;
"""
#: The ancestors of one copy ``:copy`` (bound by name), nearest first: the ``ancestors`` view's walk
#: from that copy only (an index lookup per generation).
ANCESTORS_OF = """
WITH RECURSIVE up(ancestor, distance) AS (
  SELECT :copy, 0
  UNION ALL
  SELECT c.parent, up.distance + 1 FROM up JOIN copies c ON c.id = up.ancestor
  WHERE c.parent IS NOT NULL AND up.distance < :most)
SELECT ancestor, distance FROM up ORDER BY distance
"""
#: The descendants of one copy ``:copy`` (bound by name), by generation: the ``descendants``
#: view's walk from that copy only (the ``copies_parent`` index at each step).
DESCENDANTS_OF = """
WITH RECURSIVE down(descendant, distance) AS (
  SELECT :copy, 0
  UNION ALL
  SELECT c.id, down.distance + 1 FROM down JOIN copies c ON c.parent = down.descendant WHERE down.distance < :most)
SELECT descendant, distance FROM down ORDER BY distance, descendant
"""
#: ``PRAGMA user_version`` of the databases this version writes.
SCHEMA_VERSION = 2

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


def givers(history: History) -> np.ndarray:
    """Who handed each copy to its owner (person id), ``-1`` where the history does not say.

    When the simulation records the hand (a ``giver`` column of ``History.ci``,
    ``simulate.C_GIVER``: the friend or dealer whose copy was dubbed, or the cutter who sold a bone
    record) that is used. A history without it (an older simulation) gives what can be derived
    honestly: a copy that someone else made (a friend's or a dealer's dub, a cutter's bone record)
    was handed over by its maker; an original, a state fake and a copy its owner dubbed from a copy
    that reached them have ``-1``, because such a history keeps only the copy they dubbed from
    (``parent``), not whose hands it was in (its owner, or a friend it had been lent to).
    """
    sim = importlib.import_module("izdat.underground.simulate")   # the package's `simulate` is the function
    ci = history.ci
    col = getattr(sim, "C_GIVER", None)
    if col is not None and ci.ndim == 2 and ci.shape[1] > col:
        return ci[:, col].astype(np.int64)
    maker, owner = ci[:, C_MAKER].astype(np.int64), ci[:, C_OWNER].astype(np.int64)
    return np.where((maker >= 0) & (maker != owner) & (ci[:, C_PARENT] >= 0), maker, -1)


def arrest_copies(history: History) -> np.ndarray:
    """The copy whose confiscation led to each arrest (copy id), ``-1`` where there is none or it is unknown.

    Read from the history when the simulation records it (a ``arrest_copy`` array, or a sixth
    column of ``History.arrests``); a broken ring's arrests have no copy. A history without the
    link gives ``-1`` throughout, written as NULL.
    """
    a = history.arrests
    link = getattr(history, "arrest_copy", None)
    if link is not None:
        link = np.asarray(link, dtype=np.int64).reshape(-1)
        if link.size == len(a):
            return link
    if a.ndim == 2 and a.shape[1] >= 6:
        col = a[:, 5]
        return np.where(np.isfinite(col), col, -1).astype(np.int64)
    return np.full(len(a), -1, dtype=np.int64)


def write_lineage(path: str | Path, history: History, society: Society, *, scenario_text: str = "",
                  version: str = "") -> None:
    """Write ``history`` into a new SQLite file at ``path`` (atomically: temp file, then rename).

    The file holds :data:`SCHEMA` with :data:`SCHEMA_2`'s columns, :data:`INDEXES` and
    :data:`VIEWS`; ``PRAGMA user_version`` is :data:`SCHEMA_VERSION`. Every declared foreign key
    holds (``PRAGMA foreign_key_check`` finds nothing). docs/lineage-database.md describes every
    table, column, unit and join.
    """
    from izdat.underground.titles import name_titles
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
            con.executescript(SCHEMA_2)
            con.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            con.execute("INSERT INTO run VALUES (?,?,?,?,?,?)", (history.seed, society.n, history.start_year,
                                                                history.end_year, scenario_text, version))
            con.executemany("INSERT INTO cities VALUES (?,?,?,?,?,?,?)",
                            [(i, names[i], int(society.city_port[i]), int(society.city_hotel[i]),
                              int(society.city_border[i]), float(society.city_port_km[i]),
                              float(society.city_lp_rub[i])) for i in range(len(names))])
            city_name = np.array(names, dtype=object)
            giver = givers(history)
            a = history.arrests
            arrest_copy = arrest_copies(history)
            arrest_copy[(arrest_copy < 0) | (arrest_copy >= len(history.ci))] = -1
            # people who ever held, made, handed or lost a copy (or a role): the rest only listened
            mark = np.zeros(society.n, dtype=bool)
            mark[history.ci[:, C_OWNER]] = True
            mark[history.ci[:, C_MAKER][history.ci[:, C_MAKER] >= 0]] = True
            mark[giver[(giver >= 0) & (giver < society.n)]] = True
            giver[giver >= society.n] = -1
            mark[a[:, 0].astype(np.int64)] = True
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
            sources = _names(t[:, 1].astype(int), SOURCES)
            arrived = dates(t[:, 0])
            named = name_titles(history.seed, sources, [int(d[:4]) if d else history.start_year for d in arrived])
            con.executemany("INSERT INTO titles(id, source, city, arrived, first_copy, performer, name, song_year) "
                            "VALUES (?,?,?,?,?,?,?,?)", zip(
                range(len(t)), sources, city_name[t[:, 2].astype(int)].tolist(),
                arrived, _nullable(t[:, 3].astype(np.int64)), [n[0] for n in named], [n[1] for n in named],
                [n[2] for n in named]))
            ci, cf = history.ci, history.cf
            nc = len(ci)
            for lo in range(0, nc, _BATCH):
                hi = min(lo + _BATCH, nc)
                c, f = ci[lo:hi], cf[lo:hi]
                con.executemany(f"INSERT INTO copies({', '.join(COPY_COLUMNS)}, giver) "
                                f"VALUES ({','.join('?' * (len(COPY_COLUMNS) + 1))})", zip(
                    range(lo, hi), _nullable(c[:, C_PARENT]), c[:, C_TITLE].tolist(), _names(c[:, C_MEDIUM], MEDIA),
                    c[:, C_GEN].tolist(), _nullable(c[:, C_MAKER]), c[:, C_OWNER].tolist(),
                    city_name[c[:, C_CITY]].tolist(), dates(f[:, F_MADE]), np.round(f[:, F_PRICE], 2).tolist(),
                    _names(c[:, C_FATE], FATES), dates(f[:, F_ENDED]), _names(c[:, C_DECK], DECKS),
                    _names(c[:, C_LATHE], LATHES), c[:, C_HIDDEN].tolist(), c[:, C_FAKE].tolist(),
                    _nullable(giver[lo:hi])))
                con.commit()
            con.executemany("INSERT INTO arrests(id, person, date, released, reason, city, copy) "
                            "VALUES (?,?,?,?,?,?,?)", zip(
                range(len(a)), a[:, 0].astype(np.int64).tolist(), dates(a[:, 1]), dates(a[:, 2]),
                _names(a[:, 3].astype(int), REASONS), city_name[a[:, 4].astype(int)].tolist(),
                _nullable(arrest_copy)))
            ev = [(d, kind, names[c] if c >= 0 else None, text) for d, kind, c, text in history.policy]
            ev += [(dates([t[i, 0]])[0], "arrival", names[int(t[i, 2])],
                    f"title {i} arrives by {SOURCES[int(t[i, 1])]} route") for i in range(len(t))]
            con.executemany("INSERT INTO events VALUES (?,?,?,?)",
                            [(dates([e[0]])[0] if not isinstance(e[0], str) else e[0], *e[1:]) for e in ev])
            con.executescript(INDEXES)
            con.executescript(VIEWS)
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


def _budget(con: sqlite3.Connection, steps: int = MAX_STEPS) -> None:
    """Abort any query of ``con`` once the connection has taken ``steps`` steps (default :data:`MAX_STEPS`)."""
    left = [steps // _STEPS_PER_CHECK]

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


def has_column(con: sqlite3.Connection, table: str, column: str) -> bool:
    """Whether ``table`` of the database has ``column`` (a version-1 database lacks :data:`SCHEMA_2`'s)."""
    try:
        return any(row[1] == column for row in con.execute(f"PRAGMA table_info({table})").fetchall())
    except sqlite3.Error:
        return False


def _checked_row(row: tuple, columns: tuple = COPY_COLUMNS) -> dict:
    item = dict(zip(columns, row))
    if "giver" in item and not (item["giver"] is None or _whole(item["giver"])):
        shown = repr(item["giver"])[:40]
        raise LineageError(f"copy {item['id']!r} has a bad giver ({shown}) in the lineage database "
                           f"(damaged, or not written by izdat spread).")
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

    Each item is a dict of the ``copies`` columns (:data:`COPY_COLUMNS`, and ``giver`` where the
    database has it: version 2), each field checked.

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
    rows: list[dict] = []
    seen: set[int] = set()   # every id once: the chain is no longer than the table has rows
    try:
        columns = COPY_COLUMNS + (("giver",) if has_column(con, "copies", "giver") else ())
        sql = f"SELECT {', '.join(columns)} FROM copies WHERE id = ?"
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
            item = _checked_row(row, columns)
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


# -- finding copies and telling their story -----------------------------------------------------

#: ``find_copies``' ``limit``: at least one row, at most this many (a million rows of text is
#: already more than a terminal or a page can show).
FIND_LIMIT = (1, 1_000_000)
#: Steps a finding query may take per copy in the table, besides :data:`MAX_STEPS` (a filter that
#: no index serves reads every row: about 15 steps a row with the sort, measured on a 200k run).
_STEPS_PER_ROW = 64
#: The title fields a finding adds to a copy's row (``None`` in a version-1 database).
TITLE_FIELDS = ("performer", "name", "source")


def _like(text: str) -> str:
    """``text`` as a case-insensitive LIKE pattern matching it anywhere (``%``, ``_`` and ``\\`` literal)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _text(name: str, value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _typed(LineageError)(f"{name} must be text, not {type(value).__name__}.")
    value = value.strip()
    if not value or len(value) > 200:
        raise LineageError(f"{name} must be 1 to 200 characters of text, got {len(value)}.")
    return value


def find_copies(path_or_con, *, deepest: bool = False, medium: str | None = None, title: str | None = None,
                performer: str | None = None, city: str | None = None, year: int | None = None,
                limit: int = 20) -> list[dict]:
    """Copies that match every filter given, in the order they were made (or the deepest first).

    Parameters
    ----------
    path_or_con : str, Path or sqlite3.Connection
        ``lineage.sqlite`` written by ``izdat spread``, or a connection from :func:`open_lineage`.
    deepest : bool, default False
        Order by generation, the deepest first (ties by id); otherwise by the day made, then id.
    medium : {"LP", "bone", "reel", "cassette"}, optional
    title : str, optional
        A title's id (digits), or text found anywhere in its song's name, ignoring case.
    performer : str, optional
        Text found anywhere in the title's performer ("Vysotsky", "beatles"), ignoring case.
    city : str, optional
        A city of the run, by its name (``cities.name``), ignoring case.
    year : int, optional
        The year the copy was made, within :data:`~izdat.underground.limits.LIMITS` ``"year"``.
    limit : int, default 20
        Most copies returned, within :data:`FIND_LIMIT`.

    Returns
    -------
    list of dict
        The ``copies`` columns as :func:`chain` gives them, each field checked, and the title's
        ``performer``, ``name`` and ``source`` (:data:`TITLE_FIELDS`).

    Raises
    ------
    LineageError
        A filter out of range or of the wrong kind (then also a ``TypeError``), an unknown city,
        a song name or performer asked of a database written before titles had them, or a
        database that cannot be read.

    Examples
    --------
    The deepest Vysotsky tape: ``find_copies("world/lineage.sqlite", performer="Vysotsky",
    deepest=True, limit=1)``.
    """
    if not isinstance(deepest, bool):
        raise _typed(LineageError)(f"deepest must be True or False, not {type(deepest).__name__}.")
    if medium is not None and medium not in MEDIA:
        raise LineageError(f"medium must be one of {', '.join(MEDIA)}, got {str(medium)[:40]!r}.")
    title, performer, city = _text("title", title), _text("performer", performer), _text("city", city)
    if year is not None:
        year = check_int("year", year, *LIMITS["year"], error=LineageError)
    limit = check_int("limit", limit, *FIND_LIMIT, error=LineageError)
    con, ours = _connection(path_or_con)
    try:
        named = has_column(con, "titles", "performer") and has_column(con, "titles", "name")
        where, args = [], []
        if medium is not None:
            where.append("c.medium = ?")
            args.append(medium)
        if city is not None:
            known = [r[0] for r in con.execute("SELECT name FROM cities ORDER BY id").fetchall()] \
                if _has_table(con, "cities") else []
            match = [n for n in known if isinstance(n, str) and n.casefold() == city.casefold()]
            if known and not match:
                shown = ", ".join(str(n)[:40] for n in known[:30])
                raise LineageError(f"there is no city {city[:40]!r} in this database; its cities are {shown}.")
            where.append("c.city = ?")
            args.append(match[0] if match else city)
        if year is not None:
            where.append("c.made >= ? AND c.made < ?")
            args += [f"{year:04d}-01-01", f"{year + 1:04d}-01-01"]
        if title is not None and title.isascii() and title.isdigit():
            where.append("c.title = ?")
            args.append(check_int("title", int(title), *LIMITS["copy_id"], error=LineageError))
        elif title is not None or performer is not None:
            if not named:
                raise LineageError("this lineage database was written before titles had performers and names "
                                   "(run izdat spread again to search by them; a title's id works).")
            sub, sub_args = [], []
            if title is not None:
                sub.append("name LIKE ? ESCAPE '\\'")
                sub_args.append(_like(title))
            if performer is not None:
                sub.append("performer LIKE ? ESCAPE '\\'")
                sub_args.append(_like(performer))
            where.append(f"c.title IN (SELECT id FROM titles WHERE {' AND '.join(sub)})")
            args += sub_args
        columns = COPY_COLUMNS + (("giver",) if has_column(con, "copies", "giver") else ())
        fields = ", ".join(f"c.{col}" for col in columns)
        extra = "t.performer, t.name, t.source" if named else "NULL, NULL, t.source"
        order = "c.generation DESC, c.id" if deepest else "c.made, c.id"
        sql = (f"SELECT {fields}, {extra} FROM copies c LEFT JOIN titles t ON t.id = c.title"
               f"{' WHERE ' + ' AND '.join(where) if where else ''} ORDER BY {order} LIMIT ?")
        # two statements: SQLite answers a lone MIN or MAX from the key, but MIN and MAX together by a scan
        lo = con.execute("SELECT MIN(id) FROM copies").fetchone()[0]
        hi = con.execute("SELECT MAX(id) FROM copies").fetchone()[0]
        rows_held = 0 if lo is None or not (_whole(lo) and _whole(hi)) else min(hi - lo + 1, 2**40)
        _budget(con, MAX_STEPS + _STEPS_PER_ROW * rows_held)
        try:
            found = con.execute(sql, (*args, limit)).fetchall()
        finally:
            _budget(con)
        out = []
        for row in found:
            item = _checked_row(row[:len(columns)], columns)
            for key, value in zip(TITLE_FIELDS, row[len(columns):]):
                if not (value is None or isinstance(value, str)):
                    raise LineageError(f"title {item['title']} has a bad {key} ({repr(value)[:40]}) in the lineage "
                                       f"database (damaged, or not written by izdat spread).")
                item[key] = value
            out.append(item)
        return out
    except sqlite3.Error:
        raise LineageError("the lineage database is corrupt (the copies could not be searched).") from None
    finally:
        if ours:
            con.close()


def _has_table(con: sqlite3.Connection, name: str) -> bool:
    return con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def _day(iso: str | None) -> str:
    """``1958-03-07`` as ``7 March 1958``."""
    if not iso:
        return "an unknown day"
    y, m, d = iso.split("-")
    return f"{int(d)} {_MONTHS[int(m) - 1]} {y}"


def _wages(con: sqlite3.Connection) -> tuple[float, float]:
    """The engineer's monthly wage band (roubles) of the run's scenario, else the default scenario's."""
    import tomllib
    from izdat.underground.scenario import load_scenario
    money = load_scenario(None)["money"]
    low, high = float(money["wage_low_rub"]), float(money["wage_high_rub"])
    try:
        text = con.execute("SELECT scenario FROM run LIMIT 1").fetchone()[0]
        given = tomllib.loads(text).get("money", {}) if isinstance(text, str) else {}
        low = float(given.get("wage_low_rub", low))
        high = float(given.get("wage_high_rub", high))
    except (sqlite3.Error, TypeError, ValueError, AttributeError, tomllib.TOMLDecodeError):
        pass
    if not (math.isfinite(low) and math.isfinite(high) and 0 < low <= high):
        low, high = float(money["wage_low_rub"]), float(money["wage_high_rub"])
    return low, high


def _price(rub: float, wages: tuple[float, float]) -> str:
    if rub <= 0:
        return "it cost nothing"
    low, high = wages
    return (f"it cost {rub:.2f} rouble{'' if rub == 1 else 's'}, {100 * rub / high:.1f}–{100 * rub / low:.1f} % of an engineer's monthly "
            f"wage ({low:.0f}–{high:.0f} roubles)")


def _deck_title(name: str | None) -> str:
    if not name:
        return "a tape recorder"
    try:
        from izdat.tape.presets import PRESETS
        from izdat.underground.listen import DECK_ALIASES
        preset = PRESETS.get(DECK_ALIASES.get(name, name))
        shown = preset.title if preset is not None else f"{name} deck"
    except ImportError:
        shown = f"{name} deck"
    return ("an " if shown[:1].lower() in "aeiou" else "a ") + shown


def _person(pid, roles: dict) -> str:
    role = roles.get(pid)
    return f"person {pid}" + (f" (a {role})" if role and role != "listener" else "")


def story(path_or_con, copy_id: int) -> str:
    """The story of copy ``copy_id`` in prose, generation by generation from the original down.

    For each copy on its chain: who made it, from what, where and when, on which machine, what it
    cost against an engineer's wage (the run's scenario, ``money.wage_*_rub``), who handed it over
    (version 2), and what became of it (worn out, confiscated and the arrest it led to, erased at
    customs, still played at the end of the run). Paragraphs are separated by blank lines.

    Raises
    ------
    LineageError
        As :func:`chain`.
    """
    con, ours = _connection(path_or_con)
    try:
        rows = chain(con, copy_id)[::-1]
        info = run_info(con)
        wages = _wages(con)
        named = has_column(con, "titles", "performer") and has_column(con, "titles", "name")
        linked = has_column(con, "arrests", "copy")
        try:
            t = con.execute(f"SELECT source, {'performer, name, song_year' if named else 'NULL, NULL, NULL'} "
                            "FROM titles WHERE id = ?", (rows[0]["title"],)).fetchone()
            people = {r["maker"] for r in rows} | {r["owner"] for r in rows} | {r.get("giver") for r in rows}
            people.discard(None)
            roles = {}
            for pid in people:
                got = con.execute("SELECT role FROM people WHERE id = ?", (pid,)).fetchone() \
                    if _has_table(con, "people") else None
                if got and isinstance(got[0], str):
                    roles[pid] = got[0]
            arrests = {}
            if linked:
                for r in rows:
                    got = con.execute("SELECT person, date, released FROM arrests WHERE copy = ? ORDER BY date",
                                      (r["id"],)).fetchall()
                    arrests[r["id"]] = [g for g in got if _whole(g[0]) and _date(g[1]) and (g[2] is None or _date(g[2]))]
        except sqlite3.Error:
            raise LineageError("the lineage database is corrupt (a title, person or arrest could not be read).") from None
    finally:
        if ours:
            con.close()
    source, performer, name, song_year = t if t else (None, None, None, None)
    if isinstance(performer, str) and isinstance(name, str):
        song = f"{performer}{chr(39) if performer.endswith('s') else chr(39) + 's'} \u201c{name}\u201d" + (f" ({song_year})" if _whole(song_year) else "")
    else:
        song = f"title {rows[0]['title']}"
    paragraphs = []
    for r in rows:
        g, where, when = r["generation"], r["city"], _day(r["made"])
        head = f"Generation {g}, copy {r['id']}. "
        if r["fake"]:
            text = (f"On {when} in {where} the state sold {_person(r['owner'], roles)} a fake \u201csurprise\u201d "
                    f"bone record of {song}: a few seconds of the song, then a mocking voice, cut on a state press")
        elif r["parent"] is None:
            if r["medium"] == "LP" and source == "tourist":
                text = (f"On {when} a dealer bartered an LP of {song} from a foreign tourist in {where}; "
                        f"{_person(r['owner'], roles)} had it")
            elif r["medium"] == "LP":
                text = f"On {when} a sailor brought an LP of {song} into {where}; {_person(r['owner'], roles)} had it"
            elif source == "bard":
                text = (f"On {when} in {where} {_person(r['maker'], roles)} taped {song} at an apartment concert, "
                        f"on {r['medium']} with {_deck_title(r['deck'])}")
            elif r["medium"] == "bone":
                text = (f"On {when} in {where} {_person(r['maker'], roles)} cut {song}, heard on Western radio, "
                        f"onto an X-ray film on a {r['lathe'] or 'home-built'} lathe")
            else:
                text = (f"On {when} in {where} {_person(r['maker'], roles)} taped {song} off Western radio "
                        f"through the jamming, on {r['medium']} with {_deck_title(r['deck'])}")
        elif r["medium"] == "bone":
            text = (f"On {when} in {where} {_person(r['maker'], roles)} cut copy {r['parent']} onto an X-ray "
                    f"film on a {r['lathe'] or 'home-built'} lathe for {_person(r['owner'], roles)}")
        elif r["maker"] == r["owner"]:
            giver = r.get("giver")
            handed = (f"{_person(giver, roles)} handed copy {r['parent']} to {_person(r['owner'], roles)}, who dubbed it"
                      if giver is not None and giver != r["owner"] else
                      f"{_person(r['owner'], roles)} dubbed copy {r['parent']}")
            text = f"On {when} in {where} {handed} onto {r['medium']} on {_deck_title(r['deck'])}"
        else:
            text = (f"On {when} in {where} {_person(r['maker'], roles)} dubbed copy {r['parent']} onto {r['medium']} "
                    f"on {_deck_title(r['deck'])} for {_person(r['owner'], roles)}")
        text += f"; {_price(r['price_rub'], wages)}."
        ended = _day(r["ended"])
        if r["fate"] == "worn_out":
            text += f" It was worn out by {ended}."
        elif r["fate"] == "confiscated":
            text += f" It was confiscated on {ended}."
            for person, date, released in arrests.get(r["id"], []):
                text += (f" {_person(person, roles).capitalize()} was arrested for it on {_day(date)}"
                         f"{' and released on ' + _day(released) if released else ''}.")
        elif r["fate"] == "erased":
            text += f" Customs demagnetised it on {ended}: only a faint, distorted trace was left."
        else:
            text += f" It was still played at the end of {info['end_year']}."
        if r["hidden"]:
            text += " Its banned song was hidden among harmless ones."
        paragraphs.append(head + text)
    return "\n\n".join(paragraphs) + "\n"
