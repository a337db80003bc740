"""The underground: calibration figures from the seeds, determinism, lineage store and bad input."""

import json
import sqlite3
import subprocess
import sys

import numpy as np
import pytest

from izdat.underground import SpreadError, LineageError, build_society, load_scenario, simulate
from izdat.underground.lineage import chain, write_lineage
from izdat.underground.scenario import merge_scenario
from izdat.underground.simulate import (C_CITY, C_FAKE, C_FATE, C_GEN, C_GIVER, C_MAKER, C_MEDIUM, C_OWNER, C_PARENT, F_ENDED,
                                        F_MADE, F_PRICE)
from izdat.underground.society import DAYS_PER_YEAR, _csr_fill, calendar_day, population_millions, recorders_in_circulation
from izdat.underground.sir import core_final_sizes
from izdat.underground.summary import summarize

N = 30_000


@pytest.fixture(scope="module")
def run():
    sc = load_scenario()
    society = build_society(N, sc, 7)
    history = simulate(society, sc, seed=7)
    return sc, society, history


def test_recorder_curve_hits_the_seed_figures():
    """The curve passes 128,000 (1960) and 4.7 million (1985), seed 000."""
    sc = load_scenario()
    assert recorders_in_circulation(1960, sc) == pytest.approx(128_000)
    assert recorders_in_circulation(1985, sc) == pytest.approx(4.7e6)
    assert recorders_in_circulation(1950, sc) == 0


def test_society_owns_recorders_at_the_national_rate(run):
    """Households with a recorder in 1985, scaled to the USSR, are 4.7 million within 5 %."""
    sc, society, _ = run
    owners = (society.recorder_day <= (1985 - 1946) * DAYS_PER_YEAR).sum()
    scaled = owners * population_millions(1985, sc) * 1e6 / society.n
    assert scaled == pytest.approx(4.7e6, rel=0.05)


def test_network_is_heavy_tailed_and_symmetric(run):
    _, society, _ = run
    deg = society.degree
    assert 6 < deg.mean() < 12
    assert deg.max() > 15 * deg.mean()
    # CSR stores each tie both ways
    i = np.repeat(np.arange(society.n), deg)
    fwd = set(zip(i[:5000].tolist(), society.indices[:5000].tolist()))
    back = set(zip(society.indices.tolist(), i.tolist()))
    assert fwd <= back


def test_media_appear_in_their_eras(run):
    sc, _, h = run
    year = 1946 + h.cf[:, F_MADE] / DAYS_PER_YEAR
    med = h.ci[:, C_MEDIUM]
    assert year[med == 1].min() < year[med == 2].min() < year[med == 3].min()
    assert year[med == 1].min() < 1950                       # bone records from the late 1940s
    assert year[med == 1].max() < sc["media"]["bone_end"]
    assert year[med == 3].min() >= sc["media"]["cassette_from"] - 1


def test_generations_grow_one_per_copy(run):
    _, _, h = run
    has = h.ci[:, C_PARENT] >= 0
    assert np.all(h.ci[has, C_GEN] == h.ci[h.ci[has, C_PARENT], C_GEN] + 1)
    assert np.all(h.cf[has, F_MADE] >= h.cf[h.ci[has, C_PARENT], F_MADE])
    assert h.ci[:, C_GEN].max() >= 5


@pytest.fixture(scope="module")
def pool():
    """Four seeds of N people, pooled: the bone era of one small run is a handful of titles."""
    sc = load_scenario()
    out = []
    for seed in (7, 8, 9, 10):
        society = build_society(N, sc, seed)
        out.append((society, simulate(society, sc, seed=seed)))
    return sc, out


def test_bone_confiscations_surge_after_the_ban(pool):
    """A bone record made after the 1958 ban is far likelier to be confiscated (the ban curbs
    production too, so the count of confiscations need not rise: issue 18)."""
    _, runs = pool
    ci = np.concatenate([h.ci for _, h in runs])
    cf = np.concatenate([h.cf for _, h in runs])
    bone = (ci[:, C_MEDIUM] == 1) & (ci[:, C_FAKE] == 0)
    y = 1946 + cf[:, F_MADE] / DAYS_PER_YEAR
    conf = ci[:, C_FATE] == 2
    before, after = bone & (y >= 1950) & (y < 1958), bone & (y >= 1958) & (y < 1966)
    assert before.sum() > 50 and after.sum() > 20
    assert conf[after].mean() > 2 * conf[before].mean()
    assert sum(len(h.arrests) for _, h in runs) > 0


def test_prices_follow_the_seeds(run):
    sc, society, h = run
    med, price = h.ci[:, C_MEDIUM], h.cf[:, F_PRICE]
    copy = h.ci[:, C_GEN] > 0
    bone = price[(med == 1) & copy & (h.ci[:, C_FAKE] == 0)]
    assert set(np.unique(bone)) == {1.0, 5.0}                           # single-sided 1 rouble, two-sided 5
    assert abs((bone == 5.0).mean() - sc["money"]["two_sided_share"]) < 4 * np.sqrt(0.09 / bone.size)
    assert set(np.unique(price[med >= 2])) <= {0.0, 0.6, 3.0}             # friend, dealer
    lp = dict(zip(society.city_names, society.city_lp_rub))
    assert lp["Leningrad"] == pytest.approx(25) and lp["Sverdlovsk"] == pytest.approx(200)
    assert lp["Sverdlovsk"] / 150 > 1                                   # an LP above a month's wage


def test_same_seed_same_history_other_seed_differs(run):
    sc, society, h = run
    again = simulate(build_society(N, sc, 7), sc, seed=7)
    assert np.array_equal(h.ci, again.ci) and np.array_equal(h.cf, again.cf)
    other = simulate(society, sc, seed=8)
    assert other.n_copies != h.n_copies


def test_lineage_db_round_trip(run, tmp_path):
    sc, society, h = run
    db = tmp_path / "lineage.sqlite"
    write_lineage(db, h, society)
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM copies").fetchone()[0] == h.n_copies
    media = dict(con.execute("SELECT medium, COUNT(*) FROM copies GROUP BY medium").fetchall())
    assert media["bone"] == int((h.ci[:, C_MEDIUM] == 1).sum())
    assert con.execute("SELECT COUNT(*) FROM copies WHERE medium IN ('reel','cassette') AND deck IS NULL").fetchone()[0] == 0
    deep = int(np.argmax(h.ci[:, C_GEN]))
    rows = chain(db, deep)
    assert len(rows) == h.ci[deep, C_GEN] + 1 and rows[-1]["generation"] == 0 and rows[-1]["parent"] is None
    with pytest.raises(LineageError, match="not in the database"):
        chain(db, h.n_copies + 5)


def test_summary_figures(run):
    sc, society, h = run
    s = summarize(h, society, sc)
    assert s["first_year_by_medium"]["bone"] < s["first_year_by_medium"]["reel"]
    assert sum(s["copies_by_medium"].values()) == s["copies"]
    assert s["first_confiscation_year"] is not None


def test_unknown_scenario_key_lists_valid_keys(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text("[state]\nban_yr = 1958\n")
    with pytest.raises(SpreadError, match=r"valid keys are: .*ban_year"):
        load_scenario(f)
    with pytest.raises(SpreadError, match="valid tables"):
        merge_scenario({"stat": {}})
    with pytest.raises(SpreadError, match="0-1"):
        merge_scenario({"spread": {"pass_probability": 2.0}})


def test_scenario_changes_the_run():
    sc = merge_scenario({"state": {"ban_year": 1950}, "spread": {"pass_probability": 0.0}})
    h = simulate(build_society(5000, sc, 1), sc, seed=1)
    assert np.all(h.ci[:, C_GEN] == 0)          # nothing passes on


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "izdat", *args], capture_output=True, text=True)


@pytest.mark.parametrize("args, words", [
    (["--people", "-5"], "positive"),
    (["--years", "1930-1990"], "1946-1991"),
    (["--years", "1990-1960"], "1946-1991"),
])
def test_cli_bad_input_one_sentence_nothing_written(tmp_path, args, words):
    out = tmp_path / "out"
    r = _cli("spread", "-o", str(out), *args)
    assert r.returncode == 2 and words in r.stderr and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0
    assert not out.exists() or not any(out.iterdir())


def test_cli_spread_and_lineage(tmp_path):
    out = tmp_path / "out"
    r = _cli("spread", "-o", str(out), "--people", "3000", "--seed", "2", "--years", "1950-1975", "--json")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["years"] == [1950, 1975]
    for name in ("lineage.sqlite", "summary.json", "alive_by_medium.png", "generations.png", "spread_by_city.png",
                 "state.png", "price_vs_wage.png"):
        assert (out / name).stat().st_size > 0
    assert sqlite3.connect(out / "lineage.sqlite").execute("SELECT seed FROM run").fetchone()[0] == 2
    r = _cli("lineage", str(out / "lineage.sqlite"), str(s["copies"] - 1))
    assert r.returncode == 0 and "gen" in r.stdout
    r = _cli("lineage", str(out / "lineage.sqlite"), "99999999")
    assert r.returncode == 2 and "not in the database" in r.stderr
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"not a database at all" * 100)
    r = _cli("lineage", str(bad), "1")
    assert r.returncode == 2 and "not a readable" in r.stderr
    r = _cli("lineage", str(tmp_path / "missing.sqlite"), "1")
    assert r.returncode == 2 and "does not exist" in r.stderr


# -- issue 18: the bugs a historian found -----------------------------------------------------------

def _terms(h):
    terms = {}
    for person, start, end, *_ in h.arrests:
        terms.setdefault(int(person), []).append((start, end))
    return terms


@pytest.fixture(scope="module")
def harsh():
    """A harsher state (more confiscations and arrests, no easing), so that the prison rules are
    tested on hundreds of terms: the default makes a dozen at N people."""
    sc = merge_scenario({"state": {"arrest_listener": 0.5, "tape_hazard": 0.05, "eases_from": 2000}})
    society = build_society(N, sc, 7)
    return sc, society, simulate(society, sc, seed=7)


def test_issue18_nobody_copies_from_prison(harsh):
    """No copy is made by, handed over by or given to a person during one of their terms, terms of
    one person never overlap (every one is kept), and each arrest names the copy that caused it."""
    _, _, h = harsh
    terms = _terms(h)
    assert len(h.arrests) > 100
    for person, spans in terms.items():
        spans.sort()
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), person
    made = h.cf[:, F_MADE]
    for col in (C_MAKER, C_OWNER, C_GIVER):
        who = h.ci[:, col]
        for k in np.flatnonzero(np.isin(who, list(terms))):
            assert not any(s <= made[k] < e for s, e in terms[int(who[k])]), (col, k)
    # every arrest but the 1959 ring's comes from the confiscation of its person's copy, that day
    assert h.arrest_copy.shape == (len(h.arrests),)
    ring = h.arrests[:, 3] == 4
    k = h.arrest_copy[~ring]
    assert np.all(k >= 0) and np.all(h.arrest_copy[ring] == -1)
    assert np.all(h.ci[k, C_FATE] == 2)
    assert np.array_equal(h.ci[k, C_OWNER], h.arrests[~ring, 0].astype(int))
    assert np.array_equal(h.cf[k, F_ENDED], h.arrests[~ring, 1])
    assert np.array_equal(h.ci[k, C_MEDIUM], h.arrests[~ring, 3].astype(int))


def test_issue18_bone_records_are_cut_from_a_disc_or_a_tape(run):
    """A cutter cuts from the LP, radio recording or tape he has; a bone record is rarely the master."""
    _, _, h = run
    bone = (h.ci[:, C_MEDIUM] == 1) & (h.ci[:, C_FAKE] == 0) & (h.ci[:, C_PARENT] >= 0)
    assert bone.sum() > 50
    parent = h.ci[bone, C_PARENT]
    from_bone = (h.ci[parent, C_MEDIUM] == 1) & (h.ci[parent, C_GEN] > 0)   # gen 0: cut off the air
    assert from_bone.mean() < 0.1, (from_bone.sum(), bone.sum())
    # the seller of a bone record is its cutter
    assert np.array_equal(h.ci[bone, C_GIVER], h.ci[bone, C_MAKER])


@pytest.mark.parametrize("end_year", [1990, 1960, 1963])
def test_issue18_no_copy_after_the_last_31_december(end_year):
    sc = load_scenario()
    h = simulate(build_society(20_000, sc, 1), sc, seed=1, start_year=1949, end_year=end_year)
    dates = np.datetime64("1946-01-01") + np.floor(h.cf[:, F_MADE]).astype("timedelta64[D]")
    assert h.n_copies > 50
    assert dates.max() <= np.datetime64(f"{end_year}-12-31") and dates.min() >= np.datetime64("1949-01-01")
    assert h.end_day == calendar_day(end_year + 1) == (np.datetime64(f"{end_year + 1}-01-01") - np.datetime64("1946-01-01")).astype(int)


def _stars(d, k):
    a = np.repeat(np.arange(k) * (d + 1), d)
    b = (np.arange(k)[:, None] * (d + 1) + 1 + np.arange(d)[None, :]).ravel()
    return _csr_fill(a.astype(np.int32), b.astype(np.int32), k * (d + 1))


@pytest.mark.parametrize("p", [0.3, 0.7])
def test_issue18_pass_probability_is_per_tie(p):
    """On stars of 20 leaves each tie is tried once with probability p: from the hub 1 + 20 p copies,
    from a leaf 1 + p (1 + 19 p); Binomial(d, p) draws with replacement gave about 6.5 at p = 0.7."""
    d = 20
    indptr, indices = _stars(d, 50)
    sizes = core_final_sizes(indptr, indices, p, 4000, seed=1)
    expected = (1 + d * p) / (d + 1) + d / (d + 1) * (1 + p * (1 + (d - 1) * p))
    assert abs(sizes.mean() - expected) < 4 * sizes.std() / np.sqrt(sizes.size)
    assert sizes.max() <= d + 1


def test_issue18_prison_stops_dealers(harsh):
    """A dealer in prison sells nothing: the copies dealers hand over fall to none during their terms,
    and tape terms last up to three years (seed 000)."""
    from izdat.underground.summary import prisoners_acts
    _, society, h = harsh
    assert prisoners_acts(h) == 0
    tape = (h.arrests[:, 3] == 2) | (h.arrests[:, 3] == 3)
    years = (h.arrests[tape, 2] - h.arrests[tape, 1]) / DAYS_PER_YEAR
    assert tape.sum() > 50 and years.max() <= 3.0 and years.min() >= 0.75
    jailed_dealers = [int(p) for p in h.arrests[:, 0] if society.role[int(p)] == 2]
    assert jailed_dealers                                         # dealers are taken too
    # prisoners_acts counts what it should: a term moved over a dealer's sale is seen
    ar = h.arrests.copy()
    give = np.flatnonzero(np.isin(h.ci[:, C_GIVER], jailed_dealers))
    k = give[0]
    row = int(np.flatnonzero(ar[:, 0] == h.ci[k, C_GIVER])[0])
    ar[row, 1], ar[row, 2] = h.cf[k, F_MADE] - 1.0, h.cf[k, F_MADE] + 1.0
    from dataclasses import replace
    assert prisoners_acts(replace(h, arrests=ar)) >= 1


def test_issue18_state_patrols_bone_and_eases_after_1985():
    """Patrols from 1960 raise the bone records' hazard by patrol_multiplier, the tapes' far less,
    and from eases_from every hazard falls by eased_factor (the engine's yearly hazard table)."""
    from izdat.underground.simulate import _params
    sc = load_scenario()
    st = sc["state"]
    _, H = _params(sc, calendar_day(1991))
    y = lambda year: year - 1946
    assert H[1, y(1960)] == pytest.approx(H[1, y(1959)] * st["patrol_multiplier"])
    assert H[2, y(1960)] == pytest.approx(H[2, y(1959)] * st["patrol_tape_multiplier"])
    assert H[1, y(1965)] / H[2, y(1965)] > 10
    assert H[2, y(1986)] == pytest.approx(H[2, y(1985)] * st["eased_factor"])
    assert H[1, y(1986)] == pytest.approx(H[1, y(1985)] * st["eased_factor"])


def test_issue18_lps_reach_the_urals_at_200_roubles(pool):
    """Dealers resell some LPs inland: LPs are bought in Sverdlovsk at 200 roubles, in ports at 25."""
    _, runs = pool
    urals, port = [], []
    for society, h in runs:
        lp = (h.ci[:, C_MEDIUM] == 0) & (h.cf[:, F_PRICE] > 0)
        city = h.ci[:, C_CITY]
        urals += h.cf[lp & (city == society.city_names.index("Sverdlovsk")), F_PRICE].tolist()
        port += h.cf[lp & society.city_port[city], F_PRICE].tolist()
    assert len(urals) >= 2 and np.allclose(urals, 200.0)
    assert len(port) > 20 and np.mean(port) == pytest.approx(25.0)
