"""Issue 15, the underground: lineage databases that lie, paths that are URIs, arguments out of range.

Every reader of a lineage database (``open_lineage``, ``chain``, ``run_info``, ``title_source``,
``listen``, ``izdat lineage``, ``izdat listen``) either answers or raises izdat's own error with
one sentence; it never hangs (a timer kills a call after :data:`DEADLINE_S`), never writes a byte
(the folder's listing and every file's bytes are compared before and after) and stays within
:data:`MEMORY_BOUND` bytes of Python allocations (tracemalloc's peak; SQLite's own memory is capped
by its 2 MiB page cache and the readers' 16 MiB field limit).
"""

import contextlib
import hashlib
import io
import math
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from izdat.audio import Audio, save
from izdat.errors import IzdatError
from izdat.underground import LineageError, SpreadError, build_society, load_scenario, simulate
from izdat.underground import limits as limits_mod
from izdat.underground.lineage import COPY_COLUMNS, MAX_FIELD_BYTES, SCHEMA, chain, open_lineage, run_info, title_source
from izdat.underground.limits import LIMITS, check_memory, largest_people, memory_needed
from izdat.underground.listen import listen
from izdat.underground.scenario import SCENARIO_LIMITS, merge_scenario

DEADLINE_S = 20.0
MEMORY_BOUND = 32 * 2**20
SETTINGS = dict(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
TINY = Audio((0.1 * np.random.default_rng(0).standard_normal(2205)).astype(np.float32), 44100)


# -- helpers --------------------------------------------------------------------------------------

class Hang(Exception):
    """Raised by the timer when a call runs past its deadline."""


@contextlib.contextmanager
def deadline(seconds: float = DEADLINE_S):
    def ring(signum, frame):
        raise Hang(f"still running after {seconds} s")
    before = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)


def make_db(path: Path, n: int = 6) -> Path:
    """A small lineage database as izdat spread writes it: an LP original and ``n - 1`` reel dubs."""
    con = sqlite3.connect(path)
    con.executescript(SCHEMA)
    con.execute("INSERT INTO run VALUES (5, 1000, 1946, 1990, '', 'test')")
    con.execute("INSERT INTO titles VALUES (0, 'sailor', 'Leningrad', '1950-01-01', 0)")
    rows = [(0, None, 0, "LP", 0, None, 1, "Leningrad", "1950-01-02", 25.0, "alive", None, None, None, 0, 0)]
    rows += [(i, i - 1, 0, "reel", i, i + 1, i + 2, "Leningrad", f"1960-01-{i + 1:02d}", 3.0,
              "worn_out" if i == 1 else "alive", "1970-01-01" if i == 1 else None, "yauza-5", None, 0, 0)
             for i in range(1, n)]
    con.executemany(f"INSERT INTO copies VALUES ({','.join('?' * 16)})", rows)
    con.execute("CREATE INDEX copies_parent ON copies(parent)")
    con.commit()
    con.close()
    return path


def sql(path: Path, *statements) -> None:
    con = sqlite3.connect(path)
    for s in statements:
        con.execute(*s) if isinstance(s, tuple) else con.execute(s)
    con.commit()
    con.close()


def listing(folder: Path) -> dict:
    """Every entry of ``folder``: its name, size, modification time and bytes' hash."""
    out = {}
    for p in sorted(folder.iterdir()):
        st_ = p.lstat()
        digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None
        out[p.name] = (st_.st_size, st_.st_mtime_ns, digest)
    return out


def one_sentence(exc: BaseException) -> bool:
    text = str(exc).strip()
    return bool(text) and "\n" not in text and "Traceback" not in text


def cli(*args) -> tuple[int, str, str]:
    """The ``izdat`` entry point in this process: exit code, stdout, stderr."""
    from izdat.cli import main
    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["izdat", *map(str, args)]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
                code = 0
            except SystemExit as exit_:
                code = exit_.code or 0
    finally:
        sys.argv = argv
    return code, out.getvalue(), err.getvalue()


READERS = {
    "open_lineage": lambda db, i: open_lineage(db).close(),
    "chain": lambda db, i: chain(db, i),
    "run_info": lambda db, i: run_info(db),
    "title_source": lambda db, i: title_source(db, 0),
    "listen": lambda db, i: listen(db, i, TINY),
}


def call_reader(name: str, db: Path, copy_id) -> str:
    """Run one reader under the deadline and the memory bound: 'ok' or 'refused' (izdat's error)."""
    tracemalloc.start()
    try:
        with deadline():
            READERS[name](db, copy_id)
        return "ok"
    except IzdatError as exc:
        assert one_sentence(exc), f"{name}: {exc!r}"
        return "refused"
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < MEMORY_BOUND, f"{name} took {peak} bytes"


@pytest.fixture
def db(tmp_path):
    return make_db(tmp_path / "lineage.sqlite")


# -- item 5: loops in a chain ---------------------------------------------------------------------

@pytest.mark.parametrize("parent_of, loop_at", [({3: 3}, 3), ({1: 4}, 4), ({0: 5}, 5)],
                         ids=["self-loop", "three-copy loop", "through the original"])
def test_a_loop_in_a_chain_is_refused_naming_the_copy(db, parent_of, loop_at):
    """``update copies set parent=id where id=10`` made ``izdat lineage`` hang with growing memory."""
    for copy, parent in parent_of.items():
        sql(db, ("UPDATE copies SET parent = ? WHERE id = ?", (parent, copy)))
    for reader in ("chain", "listen"):
        with deadline(), pytest.raises(LineageError, match=rf"loops at copy {loop_at}\b") as info:
            READERS[reader](db, 5)
        assert one_sentence(info.value)


def test_izdat_lineage_and_listen_refuse_a_loop_end_to_end(tmp_path):
    """The issue's repro, ``izdat lineage`` as the real command and ``izdat listen``: one sentence,
    exit 2, no output file (both hung with growing memory before)."""
    db = make_db(tmp_path / "l.sqlite")
    sql(db, "UPDATE copies SET parent = id WHERE id = 4")
    wav = tmp_path / "song.wav"
    save(TINY, wav)
    r = subprocess.run([sys.executable, "-m", "izdat", "lineage", str(db), "4"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2 and "loops at copy 4" in r.stderr, r.stderr
    assert r.stderr.strip().count("\n") == 0 and "Traceback" not in r.stderr
    with deadline():
        code, _, err = cli("listen", db, "5", wav, "-o", tmp_path / "copy.wav")
    assert code == 2 and "loops at copy 4" in err and err.strip().count("\n") == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["l.sqlite", "song.wav"]


def test_a_parent_the_database_lacks_is_refused(db):
    sql(db, "UPDATE copies SET parent = 77 WHERE id = 2")
    with pytest.raises(LineageError, match="names copy 77 as its parent"):
        chain(db, 5)


# -- item 6: names with #, ?, %, spaces, non-ASCII ------------------------------------------------

NAMES = ["a#b", "a?b", "a%b", "a%23b", "with space", "копия", "日本", "#", "?mode=rwc", "x%00y", "a b#c?d%e"]


@pytest.mark.parametrize("name", NAMES)
def test_a_name_that_is_a_uri_is_read_and_nothing_is_created(tmp_path, monkeypatch, name):
    """``a#b/l.sqlite`` was called corrupt and an empty file ``a`` appeared (the path was a URI)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).mkdir()
    db = make_db(tmp_path / name / f"{name}.sqlite")
    before_here, before_there = listing(tmp_path), listing(db.parent)
    heard = []
    for path in (db, Path(name) / db.name):                     # absolute, and relative as typed
        rows = chain(path, 5)
        assert [r["id"] for r in rows] == [5, 4, 3, 2, 1, 0]
        assert run_info(path)["seed"] == 5
        heard.append(listen(path, 2, TINY).samples)
        code, out, err = cli("lineage", path, 3)
        assert code == 0 and out.count("\n") == 4, err
    assert abs(heard[0].size - TINY.samples.size) < 0.05 * TINY.samples.size
    assert np.array_equal(heard[0], heard[1])                   # the same file, whichever way it was named
    assert listing(tmp_path) == before_here and listing(db.parent) == before_there


def test_a_wal_mode_database_is_read_without_side_files(tmp_path):
    """Opened ``mode=ro`` alone, SQLite creates ``-wal`` and ``-shm`` beside a WAL-mode file."""
    db = make_db(tmp_path / "wal.sqlite")
    sql(db, "PRAGMA journal_mode=WAL")
    before = listing(tmp_path)
    assert len(chain(db, 5)) == 6
    assert listing(tmp_path) == before


# -- the copy id: huge, negative, the wrong kind --------------------------------------------------

@pytest.mark.parametrize("copy_id", [99999999999999999999999, 2**63, -1, -(2**70)])
def test_a_copy_id_out_of_range_is_one_sentence(db, copy_id):
    """``izdat lineage l.sqlite 99999999999999999999999`` was an OverflowError traceback."""
    with pytest.raises(LineageError, match="copy_id must be between 0 and 9223372036854775807"):
        chain(db, copy_id)
    code, out, err = cli("lineage", db, "--", copy_id)           # "--": a negative id is not an option
    assert code == 2 and err.startswith("izdat: copy_id") and err.strip().count("\n") == 0


@pytest.mark.parametrize("copy_id", ["5", 5.0, None, True])
def test_a_copy_id_of_the_wrong_kind_is_a_type_error(db, copy_id):
    with pytest.raises(LineageError) as info:
        chain(db, copy_id)
    assert isinstance(info.value, TypeError)


def test_the_largest_id_is_simply_not_there(db):
    with pytest.raises(LineageError, match=r"copy 9223372036854775807 is not in the database \(ids run from 0 to 5\)"):
        chain(db, 2**63 - 1)


# -- damaged databases: NULLs, missing columns and tables, not SQLite, empty ----------------------

DAMAGE = {
    "NULL made": ["UPDATE copies SET made = NULL WHERE id = 3"],
    "NULL generation": ["UPDATE copies SET generation = NULL WHERE id = 5"],
    "NULL medium": ["UPDATE copies SET medium = NULL WHERE id = 0"],
    "NULL price": ["UPDATE copies SET price_rub = NULL WHERE id = 4"],
    "NULL fate": ["UPDATE copies SET fate = NULL WHERE id = 2"],
    "NULL owner": ["UPDATE copies SET owner = NULL WHERE id = 1"],
    "text generation": ["UPDATE copies SET generation = 'two' WHERE id = 5"],
    "bad date": ["UPDATE copies SET made = '1960-13-45' WHERE id = 3"],
    "blob city": ["UPDATE copies SET city = x'00ff' WHERE id = 5"],
    "NaN-like price": ["UPDATE copies SET price_rub = 1e999 WHERE id = 5"],
    "no made column": ["ALTER TABLE copies DROP COLUMN made"],
    "no deck column": ["ALTER TABLE copies DROP COLUMN deck"],
    "no seed column": ["ALTER TABLE run DROP COLUMN seed"],
    "no copies table": ["DROP TABLE copies"],
    "no run table": ["DROP TABLE run"],
    "no titles table": ["DROP TABLE titles"],
    "no run row": ["DELETE FROM run"],
    "two run rows": ["INSERT INTO run VALUES (6, 1000, 1946, 1990, '', 'test')"],
    "NULL seed": ["UPDATE run SET seed = NULL"],
    "huge end year": ["UPDATE run SET end_year = 99999999999"],
    "text seed": ["UPDATE run SET seed = 'abc'"],
    "copies a view": ["ALTER TABLE copies RENAME TO c2",
                      "CREATE VIEW copies AS WITH RECURSIVE r(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM r) "
                      "SELECT x AS id, NULL AS parent, 0 AS title, 'LP' AS medium, 0 AS generation, NULL AS maker, "
                      "0 AS owner, 'X' AS city, '1950-01-01' AS made, 0.0 AS price_rub, 'alive' AS fate, "
                      "NULL AS ended, NULL AS deck, NULL AS lathe, 0 AS hidden, 0 AS fake FROM r"],
    "copies without a key": ["ALTER TABLE copies RENAME TO c2", "CREATE TABLE copies AS SELECT * FROM c2"],
    "unknown source": ["UPDATE titles SET source = 'pigeon'"],
    "unknown deck": ["UPDATE copies SET deck = 'grundig-tk' WHERE id = 3"],
    "a 20 MB field": [("UPDATE copies SET city = ? WHERE id = 5", ("x" * 20_000_000,))],
}
# readers that must refuse each damage (the others may answer: e.g. `chain` does not read titles' source)
REFUSED_BY = {"unknown source": ("listen",), "unknown deck": ("listen",), "no run row": ("run_info", "listen"),
              "two run rows": ("run_info", "listen"), "NULL seed": ("run_info", "listen"),
              "huge end year": ("run_info", "listen"), "text seed": ("run_info", "listen")}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_database_is_refused_in_one_sentence(tmp_path, damage):
    db = make_db(tmp_path / "l.sqlite")
    sql(db, *DAMAGE[damage])
    before = listing(tmp_path)
    for reader in REFUSED_BY.get(damage, ("chain", "listen")):
        assert call_reader(reader, db, 5) == "refused", reader
    for reader in READERS:
        call_reader(reader, db, 5)                             # answers or refuses, within the bounds
    if damage not in REFUSED_BY:
        code, out, err = cli("lineage", db, 5)
        assert code == 2 and err.startswith("izdat: ") and err.strip().count("\n") == 0, err
    assert listing(tmp_path) == before


@pytest.mark.parametrize("content, words", [
    (b"", "is empty (0 bytes)"),
    (b"not a database at all" * 100, "not SQLite at all"),
    (b"SQLite format 3\x00" + b"\xff" * 5000, "not a readable izdat lineage database"),
    (None, "is a folder"),
])
def test_a_file_that_is_no_database_is_one_sentence(tmp_path, content, words):
    path = tmp_path / "l.sqlite"
    path.mkdir() if content is None else path.write_bytes(content)
    before = listing(tmp_path)
    for reader in READERS:
        with pytest.raises(LineageError, match=re.escape(words)):
            READERS[reader](path, 1)
    code, _, err = cli("lineage", path, 1)
    assert code == 2 and words in err and err.strip().count("\n") == 0
    assert listing(tmp_path) == before


def test_a_query_that_never_ends_is_stopped_by_the_step_budget(db):
    """A reader's connection stops after MAX_STEPS steps (a hostile view or a damaged b-tree cannot hang it)."""
    con = open_lineage(db)
    with deadline(), pytest.raises(sqlite3.OperationalError, match="interrupted"):
        con.execute("WITH RECURSIVE r(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM r) SELECT max(x) FROM r").fetchone()
    con.close()


def test_a_field_over_the_size_limit_is_refused_without_reading_it(db):
    sql(db, ("UPDATE copies SET deck = ? WHERE id = 4", (b"\0" * (MAX_FIELD_BYTES + 1),)))
    with pytest.raises(LineageError, match="corrupt"):
        chain(db, 5)
    assert len(chain(db, 3)) == 4


def test_a_fifo_is_named_as_such_and_not_opened(tmp_path):
    fifo = tmp_path / "l.sqlite"
    os.mkfifo(fifo)
    with deadline(5), pytest.raises(LineageError, match="not a regular file"):
        chain(fifo, 1)


# -- keep them out: any damage, any bytes, any id -------------------------------------------------

COLUMNS = {"copies": COPY_COLUMNS, "run": ("seed", "people", "start_year", "end_year"), "titles": ("id", "source")}
IDS = st.one_of(st.integers(0, 7), st.integers(-(2**70), 2**70), st.sampled_from([2**63 - 1, 2**63, -1]))
VALUES = st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False),
                   st.text(max_size=12), st.binary(max_size=12),
                   st.sampled_from(["LP", "bone", "reel", "cassette", "1960-01-01", "alive", "erased", "yauza-5"]))
MUTATIONS = st.one_of(
    st.tuples(st.just("value"), st.sampled_from(sorted(COLUMNS)), st.data(), st.integers(0, 6), VALUES),
    st.tuples(st.just("parent"), st.integers(0, 5), st.integers(-2, 8)),
    st.tuples(st.just("drop_table"), st.sampled_from(sorted(COLUMNS) + ["people"])),
    st.tuples(st.just("drop_column"), st.sampled_from(sorted(COLUMNS)), st.data()),
    st.tuples(st.just("delete"), st.sampled_from(sorted(COLUMNS)), st.integers(0, 6)),
    st.tuples(st.just("bytes"), st.integers(0, 8191), st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("truncate"), st.integers(0, 8192)),
)


def _mutate(db: Path, mutation) -> None:
    kind = mutation[0]
    try:
        if kind == "value":
            _, table, data, row, value = mutation
            col = data.draw(st.sampled_from(COLUMNS[table]))
            sql(db, (f"UPDATE {table} SET {col} = ? WHERE rowid = (SELECT rowid FROM {table} LIMIT 1 OFFSET ?)",
                     (value, row)))
        elif kind == "parent":
            sql(db, ("UPDATE copies SET parent = ? WHERE id = ?", (mutation[2], mutation[1])))
        elif kind == "drop_table":
            sql(db, f"DROP TABLE {mutation[1]}")
        elif kind == "drop_column":
            col = mutation[2].draw(st.sampled_from(COLUMNS[mutation[1]]))
            keep = [c for c in sqlite3.connect(db).execute(f"PRAGMA table_info({mutation[1]})") if c[1] != col]
            sql(db, f"ALTER TABLE {mutation[1]} RENAME TO old",
                f"CREATE TABLE {mutation[1]} AS SELECT {', '.join(c[1] for c in keep) or '1 AS x'} FROM old",
                "DROP TABLE old")
        elif kind == "delete":
            sql(db, (f"DELETE FROM {mutation[1]} WHERE rowid = (SELECT rowid FROM {mutation[1]} LIMIT 1 OFFSET ?)",
                     (mutation[2],)))
        elif kind == "bytes":
            data = bytearray(db.read_bytes())
            at = mutation[1] % max(len(data), 1)
            data[at:at + len(mutation[2])] = mutation[2]
            db.write_bytes(bytes(data))
        elif kind == "truncate":
            db.write_bytes(db.read_bytes()[:mutation[1]])
    except sqlite3.Error:
        pass                                       # an earlier mutation broke the file: keep it as it is


@settings(max_examples=45, **SETTINGS)
@given(mutations=st.lists(MUTATIONS, min_size=1, max_size=3), copy_id=IDS)
def test_any_damaged_database_is_answered_or_refused_within_bounds(tmp_path_factory, mutations, copy_id):
    folder = tmp_path_factory.mktemp("damaged")
    db = make_db(folder / "lineage.sqlite")
    for m in mutations:
        _mutate(db, m)
    before = listing(folder)
    for reader in READERS:
        call_reader(reader, db, copy_id)
    code, out, err = cli("lineage", db, "--", copy_id)
    assert code in (0, 2) and "Traceback" not in err and (code == 0 or err.strip().count("\n") == 0), err
    assert listing(folder) == before


@settings(max_examples=40, **SETTINGS)
@given(content=st.one_of(st.binary(max_size=4096), st.binary(max_size=4096).map(lambda b: b"SQLite format 3\x00" + b)),
       copy_id=IDS)
def test_random_bytes_as_the_database_are_refused(tmp_path_factory, content, copy_id):
    folder = tmp_path_factory.mktemp("bytes")
    db = folder / "lineage.sqlite"
    db.write_bytes(content)
    before = listing(folder)
    for reader in READERS:
        assert call_reader(reader, db, copy_id) == "refused"
    assert listing(folder) == before


# -- item 9: the simulation's own arguments -------------------------------------------------------

@pytest.fixture(scope="module")
def small():
    sc = load_scenario()
    return sc, build_society(400, sc, 3)


@pytest.mark.parametrize("years, words", [
    ((1930, 1990), "start_year must be between 1946 and 1991, not 1930"),
    ((1990, 1950), "start_year 1990 is after end_year 1950"),
    ((1946, 2100), "end_year must be between 1946 and 1991, not 2100"),
    ((-(2**80), 1990), "start_year must be between"),
])
def test_simulate_refuses_years_outside_the_span(small, years, words):
    """``start_year=1930`` wrote copies dated before 1946 (a bus error in the issue); 1990-1950 gave nothing."""
    sc, society = small
    with pytest.raises(SpreadError, match=words):
        simulate(society, sc, seed=1, start_year=years[0], end_year=years[1])


@pytest.mark.parametrize("kwargs", [dict(start_year=1950.0), dict(seed="1"), dict(seed=None), dict(end_year=True)])
def test_simulate_refuses_the_wrong_kind_as_a_type_error(small, kwargs):
    sc, society = small
    with pytest.raises(SpreadError) as info:
        simulate(society, sc, **{"seed": 1, **kwargs})
    assert isinstance(info.value, TypeError)


@pytest.mark.parametrize("args, words", [
    ((0, "sc", 1), "n_people must be between 1 and 2147483647"),
    ((2**31, "sc", 1), "n_people must be between 1 and 2147483647"),
    ((100, "sc", -1), "seed must be between 0"),
    ((100, "sc", 2**64), "seed must be between 0"),
    ((100, {"not": "a scenario"}, 1), "scenario must be a Scenario"),
])
def test_build_society_checks_its_arguments(args, words):
    n, sc, seed = args
    with pytest.raises(SpreadError, match=words):
        build_society(n, load_scenario() if sc == "sc" else sc, seed)


@settings(max_examples=25, **SETTINGS)
@given(start=st.integers(1900, 2000), end=st.integers(1900, 2000), seed=st.integers(-5, 2**64))
def test_simulate_answers_in_its_span_and_refuses_outside(small, start, end, seed):
    sc, society = small
    lo, hi = LIMITS["year"]
    try:
        with deadline():
            h = simulate(society, sc, seed=seed, start_year=start, end_year=end)
    except SpreadError as exc:
        assert one_sentence(exc)
        assert not (lo <= start <= end <= hi and 0 <= seed < 2**63)
        return
    assert lo <= start <= end <= hi and 0 <= seed < 2**63
    made = 1946 + h.cf[:, 0] / 365.25
    assert np.all((made >= start) & (made < end + 1))          # no copy before the run or after it


SCENARIO_VALUES = st.one_of(st.integers(-(2**70), 2**70), st.floats(), st.booleans(), st.text(max_size=5),
                            st.lists(st.integers(-5, 3000), max_size=3))


@settings(max_examples=60, **SETTINGS)
@given(overrides=st.lists(st.tuples(st.sampled_from(sorted(SCENARIO_LIMITS)), SCENARIO_VALUES), max_size=3))
def test_a_scenario_is_checked_key_by_key(overrides):
    """Any values for the scenario's keys: a Scenario whose every key is in range, or one sentence."""
    data = {}
    for (table, key), value in overrides:
        data.setdefault(table, {})[key] = value
    try:
        sc = merge_scenario(data)
    except SpreadError as exc:
        assert one_sentence(exc)
        return
    for (table, key), (lo, hi, _) in SCENARIO_LIMITS.items():
        value = sc[table][key]
        assert math.isfinite(value) and lo <= value <= hi


def test_a_valid_but_extreme_scenario_still_runs(small):
    sc = merge_scenario({"spread": {"max_handovers": 1000, "pass_probability": 1.0, "delay_days": 0},
                         "media": {"lend_depth": 60, "cutter_copies_per_day": 255, "lend_probability": 1.0},
                         "sources": {"bard_per_year": 100}})
    with deadline(60):
        h = simulate(build_society(300, sc, 1), sc, seed=1, start_year=1960, end_year=1962)
    assert h.n_copies > 0


# -- one place for the ranges, and the memory a run needs -----------------------------------------

def test_the_cli_takes_its_ranges_from_limits(monkeypatch):
    """Narrow LIMITS and `izdat spread` narrows with it: it keeps no ranges of its own."""
    from izdat.cli.spread import _years
    assert _years("1946-1991") == (1946, 1991)
    monkeypatch.setitem(LIMITS, "year", (1950, 1960))
    with pytest.raises(SpreadError, match="within 1950-1960"):
        _years("1946-1950")
    monkeypatch.setitem(LIMITS, "people", (1, 500))
    code, _, err = cli("spread", "-o", "/nonexistent/never", "--people", "501")
    assert code == 2 and "from 1 to 500, got 501" in err
    monkeypatch.setitem(LIMITS, "runs", (1, 3))
    code, _, err = cli("spread", "-o", "/nonexistent/never", "--people", "10", "--runs", "4")
    assert code == 2 and "--runs must be a number of runs from 1 to 3, got 4" in err


@pytest.mark.parametrize("args, words", [
    (["--seed", "-1"], "--seed must be a seed from 0 to"),
    (["--seed", str(2**63)], "--seed must be a seed from 0 to"),
    (["--runs", "1001"], "--runs must be a number of runs from 1 to 1,000"),
    (["--years", "1930-1990"], "within 1946-1991"),
    (["--seed", str(2**63 - 1), "--runs", "2"], "would need seeds past the largest"),
])
def test_spread_options_out_of_range_are_one_sentence_and_create_nothing(tmp_path, args, words):
    out = tmp_path / "world"
    code, _, err = cli("spread", "-o", out, "--people", "100", *args)
    assert code == 2 and words in err and err.strip().count("\n") == 0, err
    assert not out.exists()


@pytest.mark.parametrize("args, words", [
    (["--p", "nan"], "--p must lie in 0-1"),
    (["--p", "0.5", "--runs", "0"], "--runs must be at least 1"),
    (["--p", "0.5", "--runs", "100000000000"], "--runs must be a number of runs from 1 to 1,000,000"),
    (["--p", "0.5", "--initial", "99999999999999999999"], "--initial must be node ids"),
    (["--p", "0.5", "--seed", "-1"], "--seed must be a seed"),
])
def test_sir_options_out_of_range_are_one_sentence(tmp_path, args, words):
    edges = tmp_path / "e.txt"
    edges.write_text("0 1\n1 2\n")
    code, _, err = cli("spread", "--sir", edges, *args)
    assert code == 2 and words in err and err.strip().count("\n") == 0, err


def test_an_edge_list_with_a_huge_node_id_is_one_sentence(tmp_path):
    edges = tmp_path / "e.txt"
    edges.write_text("0 99999999999999999999\n")
    code, _, err = cli("spread", "--sir", edges, "--p", "0.5")
    assert code == 2 and "must hold two integer node ids" in err


def test_a_trillion_people_are_refused_with_the_estimate_and_what_fits(tmp_path):
    """``--people 1000000000000`` was a MemoryError traceback ("1.82 TiB"), after the folder was made."""
    out = tmp_path / "world"
    code, _, err = cli("spread", "-o", out, "--people", "1000000000000")
    assert code == 2 and err.strip().count("\n") == 0, err
    assert "needs about 220.1 TiB of memory" in err and "people fit" in err
    assert not out.exists()


def test_memory_estimate_refuses_before_allocating(tmp_path, monkeypatch):
    gib = 2**30
    assert memory_needed(1_000_000) == 128 * 2**20 + 242 * 1_000_000
    assert largest_people(gib) == (gib - 128 * 2**20) // 242 == 3_882_330
    assert memory_needed(largest_people(gib)) <= gib < memory_needed(largest_people(gib) + 1)
    check_memory(3_882_330, available=gib)
    with pytest.raises(SpreadError, match=r"5,000,000 people needs about 1\.3 GiB .* 1\.0 GiB is available; "
                                          r"at most 3,882,330 people fit"):
        check_memory(5_000_000, available=gib)
    with pytest.raises(SpreadError, match="at most 3,882,330 people"):
        check_memory(3_882_331, available=gib)
    with pytest.raises(SpreadError, match="3 societies at once"):
        check_memory(2_000_000, copies=3, available=gib)
    monkeypatch.setattr(limits_mod, "available_memory", lambda: gib)
    out = tmp_path / "world"
    code, _, err = cli("spread", "-o", out, "--people", "5000000")
    assert code == 2 and "at most 3,882,330 people fit" in err and not out.exists()
    code, _, err = cli("spread", "-o", out, "--people", "2000000", "--runs", "2")
    assert code == 2 and "2 societies at once" in err and not out.exists()


def test_available_memory_reads_the_machine():
    free = limits_mod.available_memory()
    assert free is None or 2**24 < free < 2**60
