"""Issue 18, a database a historian can query; issue 17, the copy finder (`izdat copies`) and `izdat lineage --story`.

A run of 5,000 people (seed 3) is written once with :func:`write_lineage`; the tests check what a
historian relies on: declared foreign keys that hold, the indexes the questions use (by SQLite's
own query plan), who handed each copy over, the arrests' copies, named titles, the ``ancestors``
and ``descendants`` views against :func:`chain`, the finder against a brute-force filter, and that
a database written before all this (the old writer's DDL, verbatim) is still read.
"""

import contextlib
import io
import json
import re
import sqlite3
import sys
from pathlib import Path

import numpy as np
import pytest

from izdat.underground import LineageError, build_society, load_scenario, simulate
from izdat.underground import lineage as lineage_mod
from izdat.underground.lineage import (ANCESTORS_OF, DESCENDANTS_OF, SCHEMA_VERSION, chain, find_copies, givers,
                                       open_lineage, run_info, story, title_source, write_lineage)
from izdat.underground.titles import ANONYMOUS, SONGS, name_title

#: The DDL of the writer before issue 18 (git 38f7193), verbatim: databases written with it must still be read.
OLD_DDL = """
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
BARDS = {"Bulat Okudzhava", "Vladimir Vysotsky", "Alexander Galich", "Yuli Kim", "Yuri Vizbor", "Mashina Vremeni",
         "Kino", ANONYMOUS[0]}


def cli(*args) -> tuple[int, str, str]:
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


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    sc = load_scenario(None)
    society = build_society(5000, sc, 3)
    history = simulate(society, sc, seed=3)
    path = tmp_path_factory.mktemp("db") / "lineage.sqlite"
    write_lineage(path, history, society, scenario_text=sc.text, version="test")
    return path, history, society


def rows(path, sql, args=()):
    con = sqlite3.connect(path)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


# -- keys, indexes, version -----------------------------------------------------------------------

def test_foreign_keys_are_declared_and_every_one_holds(run):
    path = run[0]
    keys = {(table, r[3], r[2], r[4]) for table in ("copies", "arrests", "titles")
            for r in rows(path, f"PRAGMA foreign_key_list({table})")}
    assert keys == {("copies", "parent", "copies", "id"), ("copies", "title", "titles", "id"),
                    ("copies", "maker", "people", "id"), ("copies", "owner", "people", "id"),
                    ("copies", "giver", "people", "id"), ("arrests", "person", "people", "id"),
                    ("arrests", "copy", "copies", "id"), ("titles", "first_copy", "copies", "id")}
    assert rows(path, "PRAGMA foreign_key_check") == []
    assert rows(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)] == [(2,)]


@pytest.mark.parametrize("sql, index", [
    ("SELECT * FROM copies WHERE city = 'Leningrad' AND made >= '1958-01-01' AND made < '1959-01-01'",
     "copies_city_made"),
    ("SELECT * FROM copies WHERE owner = 17", "copies_owner"),
    ("SELECT COUNT(*) FROM copies WHERE title = 3", "copies_title"),
    ("SELECT * FROM copies WHERE parent = 3", "copies_parent"),
])
def test_the_historians_questions_are_answered_by_an_index(run, sql, index):
    plan = " ".join(r[3] for r in rows(run[0], f"EXPLAIN QUERY PLAN {sql}"))
    assert f"USING INDEX {index}" in plan or f"USING COVERING INDEX {index}" in plan, plan


# -- givers, arrests, titles ----------------------------------------------------------------------

def test_every_copy_records_who_handed_it_over(run):
    path, history, _ = run
    got = rows(path, "SELECT c.id, c.giver, c.maker, c.owner, c.parent, p.owner FROM copies c "
                     "LEFT JOIN copies p ON p.id = c.parent ORDER BY c.id")
    expect = givers(history)
    assert [g for _, g, *_ in got] == [None if g < 0 else int(g) for g in expect]
    handed = [r for r in got if r[4] is not None and r[1] is not None]
    assert handed and all(r[1] != r[3] for r in handed)             # nobody hands a copy to themselves
    # on a lent copy the hand that passed it on is not the parent's owner: the column exists for these
    if history.ci.shape[1] > 12:
        assert sum(r[1] != r[5] for r in handed) > 0


def test_without_the_simulations_giver_the_maker_is_the_honest_giver():
    ci = np.array([[-1, 0, 0, 0, -1, 5, 0, 0, -1, -1, 0, 0],      # an LP original: nobody handed it
                   [0, 0, 2, 1, 7, 8, 0, 0, 1, -1, 0, 0],         # a friend's dub: the friend (maker 7)
                   [0, 0, 2, 1, 9, 9, 0, 0, 1, -1, 0, 0],         # dubbed by its owner from a copy that reached them
                   [1, 0, 1, 2, 4, 6, 0, 0, -1, 0, 0, 0]], dtype=np.int32)   # a cutter's record: the cutter

    class Old:
        pass
    old = Old()
    old.ci = ci
    assert givers(old).tolist() == [-1, 7, -1, 4]


def test_arrests_name_the_copy_that_caused_them(run):
    path, history, _ = run
    link = getattr(history, "arrest_copy", None)
    got = rows(path, "SELECT a.id, a.copy, a.person, c.fate, c.owner FROM arrests a LEFT JOIN copies c ON c.id = a.copy")
    if link is None or len(link) != len(history.arrests):
        assert all(r[1] is None for r in got)                       # not recorded: NULL, never guessed
        pytest.skip("this simulation does not link arrests to copies")
    assert [r[1] for r in got] == [None if c < 0 else int(c) for c in link]
    assert all(r[3] == "confiscated" for r in got if r[1] is not None)


def test_every_title_has_a_performer_and_a_song_of_its_route_and_time(run):
    path = run[0]
    titles = rows(path, "SELECT id, source, arrived, performer, name, song_year FROM titles")
    assert titles and all(t[3] and t[4] for t in titles)
    for _, source, arrived, performer, name, year in titles:
        if performer == ANONYMOUS[0]:
            assert year is None
            continue
        assert (performer, name, year) in {s[:3] for s in SONGS if source in s[3]}
        assert year <= int(arrived[:4])
        assert (performer in BARDS) == (source == "bard")
    assert len({t[3] for t in titles}) >= 8                          # not one name for everything


def test_names_are_a_function_of_the_seed_title_route_and_year():
    assert name_title(1, 10, "sailor", 1960) == name_title(1, 10, "sailor", 1960)
    drawn = {name_title(s, 10, "sailor", 1960) for s in range(40)}
    assert len(drawn) > 5
    assert all(y <= 1960 for _, _, y in drawn)
    assert name_title(1, 0, "bard", 1950) == (*ANONYMOUS, None)     # no bard song existed yet
    assert name_title(1, 0, "radio", 1946)[0] != ANONYMOUS[0]
    late = [name_title(s, 0, "bard", 1990)[2] for s in range(300)]
    assert np.mean(np.array(late) >= 1975) > np.mean(np.array([s[2] for s in SONGS if "bard" in s[3]]) >= 1975)


def test_rewriting_the_same_run_gives_the_same_bytes(run, tmp_path):
    path, history, society = run
    again = tmp_path / "again.sqlite"
    write_lineage(again, history, society, scenario_text=load_scenario(None).text, version="test")
    assert again.read_bytes() == path.read_bytes()


# -- the views ------------------------------------------------------------------------------------

def test_the_views_and_their_one_copy_forms_agree_with_chain(run):
    path, history, _ = run
    deep = [int(i) for i in np.argsort(-history.ci[:, 3], kind="stable")[:3]] + [0]
    con = open_lineage(path)
    try:
        for cid in deep:
            up = [r["id"] for r in chain(con, cid)]
            assert [a for a, in con.execute("SELECT ancestor FROM ancestors WHERE copy = ? ORDER BY distance",
                                            (cid,))] == up
            assert [a for a, _ in con.execute(ANCESTORS_OF, {"copy": cid, "most": 10**6})] == up
            # descendants: the copies whose chain passes through cid
            root = up[-1]
            below = {int(k) for k in range(len(history.ci)) if cid in _ancestors(history, k)}
            via_view = {d for d, in con.execute("SELECT descendant FROM descendants WHERE copy = ?", (cid,))}
            via_walk = {d for d, _ in con.execute(DESCENDANTS_OF, {"copy": cid, "most": 10**6})}
            assert via_view == via_walk == below
            dist = dict(con.execute(DESCENDANTS_OF, {"copy": root, "most": 10**6}).fetchall())
            assert dist[cid] == history.ci[cid, 3] - history.ci[root, 3]
    finally:
        con.close()


def _ancestors(history, k):
    seen = []
    while k >= 0:
        seen.append(k)
        k = int(history.ci[k, 0])
    return seen


# -- the finder -----------------------------------------------------------------------------------

def _brute(history, con, *, medium=None, performer=None, city=None, year=None):
    out = []
    titles = dict(con.execute("SELECT id, performer FROM titles").fetchall())
    for r in con.execute("SELECT id, title, medium, city, made, generation FROM copies"):
        if medium and r[2] != medium or city and r[3] != city or year and int(r[4][:4]) != year:
            continue
        if performer and performer.lower() not in titles[r[1]].lower():
            continue
        out.append((r[0], r[5], r[4]))
    return out


@pytest.mark.parametrize("query", [
    dict(medium="bone"), dict(medium="reel", city="Leningrad"), dict(year=1975), dict(city="Moscow", year=1970),
    dict(performer="Vysotsky"), dict(performer="beatles", medium="cassette"), dict(performer="okudzhava", year=1980),
    dict(),
])
def test_find_copies_finds_exactly_what_a_full_scan_finds(run, query):
    path, history, _ = run
    con = open_lineage(path)
    try:
        expect = _brute(history, con, **query)
        got = find_copies(con, limit=10**6, **query)
        assert [r["id"] for r in got] == [e[0] for e in sorted(expect, key=lambda e: (e[2], e[0]))]
        deepest = find_copies(con, deepest=True, limit=5, **query)
        assert [r["id"] for r in deepest] == [e[0] for e in sorted(expect, key=lambda e: (-e[1], e[0]))][:5]
        for r in got[:50]:
            assert r["performer"] and r["name"] and r["source"]
    finally:
        con.close()


def test_a_title_is_found_by_its_id_or_its_songs_name(run):
    path = run[0]
    tid, name = rows(path, "SELECT t.id, t.name FROM titles t WHERE t.first_copy IS NOT NULL LIMIT 1")[0]
    by_id = find_copies(path, title=str(tid), limit=10**6)
    assert by_id and {r["title"] for r in by_id} == {tid}
    by_name = find_copies(path, title=name.upper()[2:-1], limit=10**6)
    assert {r["id"] for r in by_id} <= {r["id"] for r in by_name}
    assert all(name.upper()[2:-1] in r["name"].upper() for r in by_name)
    assert find_copies(path, title="100%_literal", limit=5) == []   # LIKE's wildcards are literal


@pytest.mark.parametrize("args, words", [
    (["--medium", "vinyl"], "medium must be one of LP, bone, reel, cassette"),
    (["--city", "Paris"], "there is no city 'Paris' in this database; its cities are Moscow"),
    (["--year", "1900"], "year must be between 1946 and 1991"),
    (["--limit", "0"], "limit must be between 1 and 1000000"),
    (["--performer", "  "], "performer must be 1 to 200 characters"),
])
def test_izdat_copies_refuses_a_bad_option_in_one_sentence(run, tmp_path, args, words):
    code, out, err = cli("copies", run[0], *args)
    assert code == 2 and out == "" and words in err and err.strip().count("\n") == 0, err


@pytest.mark.parametrize("make, words", [
    (lambda p: None, "does not exist"),
    (lambda p: p.write_bytes(b""), "is empty (0 bytes)"),
    (lambda p: p.write_text("hello" * 100), "not SQLite at all"),
    (lambda p: p.mkdir(), "is a folder"),
])
def test_izdat_copies_refuses_a_bad_database_in_one_sentence(tmp_path, make, words):
    db = tmp_path / "l.sqlite"
    make(db)
    before = sorted(tmp_path.iterdir())
    code, out, err = cli("copies", db, "--deepest")
    assert code == 2 and words in err and err.strip().count("\n") == 0, err
    assert sorted(tmp_path.iterdir()) == before


def test_izdat_copies_finds_the_deepest_vysotsky_tape(run):
    path, history, _ = run
    code, out, err = cli("copies", path, "--performer", "Vysotsky", "--deepest", "--limit", "1", "--json")
    assert code == 0 and out.endswith("]\n"), err
    (best,) = json.loads(out)
    con = sqlite3.connect(path)
    vysotsky = {t for t, in con.execute("SELECT id FROM titles WHERE performer = 'Vladimir Vysotsky'")}
    con.close()
    assert vysotsky, "seed 3 at 5,000 people has Vysotsky titles"
    on = np.isin(history.ci[:, 1], list(vysotsky))
    assert best["performer"] == "Vladimir Vysotsky" and best["medium"] in ("reel", "cassette")
    assert best["generation"] == history.ci[on, 3].max()
    code, text, _ = cli("copies", path, "--performer", "Vysotsky", "--deepest", "--limit", "2")
    assert code == 0 and len(text.splitlines()) == 2 and f"copy {best['id']:>9}" in text.splitlines()[0]


# -- lineage --json and --story -------------------------------------------------------------------

def test_lineage_json_ends_with_a_newline_and_carries_the_giver(run):
    path, history, _ = run
    deepest = int(np.argmax(history.ci[:, 3]))
    code, out, err = cli("lineage", path, deepest, "--json")
    assert code == 0 and out.endswith("\n") and out.count("\n") == 1, err
    got = json.loads(out)
    assert len(got) == history.ci[deepest, 3] + 1 and all("giver" in r for r in got)


def test_the_story_tells_every_generation_in_prose(run):
    path, history, _ = run
    deepest = int(np.argmax(history.ci[:, 3]))
    code, out, err = cli("lineage", path, deepest, "--story")
    assert code == 0 and out.endswith("\n"), err
    paragraphs = out.strip().split("\n\n")
    assert len(paragraphs) == history.ci[deepest, 3] + 1
    for g, text in enumerate(paragraphs):
        assert text.startswith(f"Generation {g}, copy ")
        assert re.search(r"On \d{1,2} [A-Z][a-z]+ 19\d\d in |On \d{1,2} [A-Z][a-z]+ 19\d\d a ", text), text
        assert "it cost " in text
        assert re.search(r"worn out|confiscated|demagnetised|still played at the end of", text), text
    (performer, name), = rows(path, "SELECT t.performer, t.name FROM copies c JOIN titles t ON t.id = c.title "
                                    "WHERE c.id = ?", (deepest,))
    assert performer in paragraphs[0] and name in paragraphs[0]
    paid = [r for r in chain(path, deepest) if r["price_rub"] > 0]
    for r in paid[:3]:
        assert f"{100 * r['price_rub'] / 150:.1f}–{100 * r['price_rub'] / 120:.1f} % of an engineer's monthly wage" in out
    assert cli("lineage", path, deepest, "--story", "--json")[0] == 2


def test_a_confiscated_copys_story_tells_the_arrest_it_led_to(run):
    path = run[0]
    found = rows(path, "SELECT a.copy, a.person, a.date FROM arrests a WHERE a.copy IS NOT NULL LIMIT 1")
    if not found:
        pytest.skip("no arrest linked to a copy in this run")
    copy, person, date = found[0]
    text = story(path, copy)
    last = text.strip().split("\n\n")[-1]
    assert "It was confiscated on" in last and f"erson {person}" in last and "was arrested for it on" in last


# -- a database written before issue 18 -----------------------------------------------------------

@pytest.fixture
def old_db(run, tmp_path):
    """The same run as the old writer wrote it: OLD_DDL, 16 copy columns, no giver, names or links."""
    path = tmp_path / "old.sqlite"
    new = sqlite3.connect(run[0])
    con = sqlite3.connect(path)
    con.executescript(OLD_DDL)
    for table, cols in (("run", "seed, people, start_year, end_year, scenario, version"),
                        ("cities", "id, name, port, hotel, border, port_km, lp_rub"),
                        ("people", "id, city, household, role, recorder_since, degree"),
                        ("titles", "id, source, city, arrived, first_copy"),
                        ("copies", ", ".join(lineage_mod.COPY_COLUMNS)),
                        ("arrests", "id, person, date, released, reason, city"), ("events", "date, kind, city, detail")):
        data = new.execute(f"SELECT {cols} FROM {table}").fetchall()
        con.executemany(f"INSERT INTO {table} VALUES ({','.join('?' * len(cols.split(',')))})", data)
    con.execute("CREATE INDEX copies_parent ON copies(parent)")
    con.commit()
    con.close()
    new.close()
    return path


def test_a_database_written_before_is_still_read(run, old_db):
    path, history, _ = run
    deepest = int(np.argmax(history.ci[:, 3]))
    new_chain = chain(path, deepest)
    old_chain = chain(old_db, deepest)
    assert old_chain == [{k: v for k, v in r.items() if k != "giver"} for r in new_chain]
    assert run_info(old_db) == run_info(path)
    assert title_source(old_db, 0) == title_source(path, 0)
    for query in (dict(medium="bone"), dict(city="Leningrad", year=1970), dict(title="0"), dict()):
        old = find_copies(old_db, deepest=True, limit=50, **query)
        new = find_copies(path, deepest=True, limit=50, **query)
        assert [r["id"] for r in old] == [r["id"] for r in new]
        assert all(r["performer"] is None and r["name"] is None and r["source"] for r in old)
    with pytest.raises(LineageError, match="written before titles had performers and names"):
        find_copies(old_db, performer="Vysotsky")
    text = story(old_db, deepest)
    assert text.count("\n\n") == history.ci[deepest, 3] and f"title {history.ci[deepest, 1]}" in text
    code, out, err = cli("copies", old_db, "--performer", "Vysotsky")
    assert code == 2 and "written before titles had performers" in err and err.count("\n") == 1
    assert cli("copies", old_db, "--deepest", "--limit", "1")[0] == 0
    assert cli("lineage", old_db, deepest, "--story")[0] == 0


# -- damaged version-2 fields ---------------------------------------------------------------------

V2_DAMAGE = {
    "text giver": "UPDATE copies SET giver = 'someone' WHERE id = (SELECT MAX(id) FROM copies)",
    "negative giver": "UPDATE copies SET giver = -4 WHERE id = (SELECT MAX(id) FROM copies)",
    "blob performer": "UPDATE titles SET performer = x'00ff'",
    "NULL names": "UPDATE titles SET performer = NULL, name = NULL",
    "text song year": "UPDATE titles SET song_year = 'long ago'",
    "text arrest copy": "UPDATE arrests SET copy = 'that one'",
    "arrest of a missing copy": "UPDATE arrests SET copy = 99999999",
    "bad arrest date": "UPDATE arrests SET date = '1960-13-45'",
    "real city names": "UPDATE cities SET name = 1.5",
    "a scenario that is no TOML": "UPDATE run SET scenario = '[[[money'",
    "a wage of zero": "UPDATE run SET scenario = '[money]\nwage_low_rub = 0.0\nwage_high_rub = 0.0\n'",
    "a loop": "UPDATE copies SET parent = id WHERE id = (SELECT MAX(id) FROM copies)",
    "no giver column": "ALTER TABLE copies DROP COLUMN giver",
    "no arrests table": "DROP TABLE arrests",
    "no people table": "DROP TABLE people",
    "no cities table": "DROP TABLE cities",
}


@pytest.mark.parametrize("damage", list(V2_DAMAGE))
def test_damaged_version_2_fields_are_answered_or_refused_in_one_sentence(run, tmp_path, damage):
    db = tmp_path / "l.sqlite"
    db.write_bytes(run[0].read_bytes())
    con = sqlite3.connect(db)
    con.execute(V2_DAMAGE[damage])
    con.commit()
    con.close()
    last = rows(db, "SELECT MAX(id) FROM copies")[0][0]
    confiscated = rows(db, "SELECT id FROM copies WHERE fate = 'confiscated' LIMIT 1")
    before = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in tmp_path.iterdir())
    for call in (lambda: story(db, last), lambda: story(db, confiscated[0][0] if confiscated else 0),
                 lambda: find_copies(db, deepest=True, limit=5), lambda: find_copies(db, city="Leningrad", year=1970),
                 lambda: find_copies(db, performer="a", limit=5), lambda: chain(db, last)):
        try:
            call()
        except LineageError as exc:
            assert str(exc).strip() and "\n" not in str(exc).strip()
    for args in (["copies", db, "--deepest"], ["copies", db, "--performer", "Vysotsky"], ["lineage", db, last, "--story"]):
        code, out, err = cli(*args)
        assert code in (0, 2) and "Traceback" not in err and (code == 0 or err.strip().count("\n") == 0), err
    assert sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in tmp_path.iterdir()) == before
    if damage in ("text giver", "negative giver", "a loop"):
        with pytest.raises(LineageError):
            chain(db, last)
