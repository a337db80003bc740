"""Shipped scenarios (issue 18): counterfactuals one flag away and the Czechoslovak and Hungarian
parallels; each changes what docs/history.md says it changes, measured on small ensembles."""

import json
import tomllib
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from izdat.underground import build_society, load_scenario, simulate
from izdat.underground.scenario import default_scenario, shipped_scenarios
from izdat.underground.simulate import C_FAKE, C_FATE, C_GIVER, C_MAKER, C_MEDIUM, C_OWNER, F_ENDED, F_MADE, F_PRICE
from izdat.underground.society import _DECK_SMUGGLED, DAYS_PER_YEAR, calendar_day
from izdat.underground.summary import measures

N = 20_000
SEEDS = (1, 2, 3, 4)

#: What each shipped scenario changes: (table, key) -> value, exactly (docs/history.md).
CHANGES = {
    "no-ban": {("state", "ban_year"): 2100, ("state", "ring_broken_year"): 2100},
    "no-customs": {("sources", "lp_seized_at_border"): 0.0, ("state", "customs_erase"): 0.0},
    "no-smuggled-recorders": {("recorders", "smuggling"): False},
    "glasnost-1975": {("state", "eases_from"): 1975},
    "recorders-cumulative": {("recorders", "year_b"): 1990, ("recorders", "count_b"): 50_000_000},
}


def _runs(name):
    sc = load_scenario(name)
    out = []
    for seed in SEEDS:
        society = build_society(N, sc, seed)
        out.append((society, simulate(society, sc, seed=seed), sc))
    return out


@pytest.fixture(scope="module")
def runs():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = _runs(name)
        return cache[name]
    return get


def _differences(a: dict, b: dict) -> dict:
    out = {}
    for table, values in a.items():
        if table == "cities":
            continue
        for key, value in values.items():
            if b[table][key] != value:
                out[(table, key)] = b[table][key]
    return out


def test_the_shipped_scenarios_are_the_documented_ones():
    names = shipped_scenarios()
    assert names == sorted(["czechoslovakia", "glasnost-1975", "hungary", "no-ban", "no-customs",
                            "no-smuggled-recorders", "recorders-cumulative"])
    text = (Path(__file__).resolve().parents[1] / "docs" / "history.md").read_text()
    for name in names:
        raw = tomllib.loads(resources.files("izdat.underground").joinpath("scenarios", f"{name}.toml").read_text())
        assert raw, name
        assert f"`{name}`" in text, f"docs/history.md does not document {name}"


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_a_counterfactual_is_one_flag_away(name):
    """Each counterfactual changes only the keys it names, over the default."""
    assert _differences(default_scenario().data, load_scenario(name).data) == CHANGES[name]
    assert load_scenario(name).cities == default_scenario().cities


def test_no_ban_keeps_bone_records_cut_after_1958(runs):
    """Without the ban the bone records of 1958-65 are several times the default's (the ban's curb
    and confiscations gone; they still fade with the tapes)."""
    def bone_5865(name):
        total = 0
        for society, history, sc in runs(name):
            b = np.array(measures(history, society, sc)["bone_by_year"])
            years = np.arange(1946, 1946 + b.size)
            total += b[(years >= 1958) & (years < 1966)].sum()
        return total
    default, free = bone_5865("default"), bone_5865("no-ban")
    assert free > 3 * default > 0
    for society, history, sc in runs("no-ban"):
        assert not any(kind == "ring_broken" for _, kind, _, _ in history.policy)
        assert np.count_nonzero(history.ci[:, C_FAKE]) == 0            # no fake surprise records either


def test_no_customs_erases_and_seizes_nothing(runs):
    def counts(name):
        erased = seized = 0
        for _, h, _ in runs(name):
            erased += int((h.ci[:, C_FATE] == 3).sum())
            seized += int(((h.ci[:, C_MEDIUM] == 0) & (h.ci[:, C_FATE] == 2) & (h.cf[:, F_MADE] == h.cf[:, F_ENDED])).sum())
        return erased, seized
    assert counts("no-customs") == (0, 0)
    erased, seized = counts("default")
    assert erased > 20 and seized > 10


def test_no_smuggled_recorders_removes_the_japanese_decks(runs):
    """No Sony in any household, fewer recorders (the smuggled ones gone), no other deck changed."""
    for (s0, _, _), (s1, _, _) in zip(runs("default"), runs("no-smuggled-recorders")):
        assert not _DECK_SMUGGLED[s1.deck[s1.deck >= 0]].any()
        smuggled = (s0.deck >= 0) & _DECK_SMUGGLED[np.maximum(s0.deck, 0)]
        assert smuggled.sum() > 50
        assert np.isfinite(s1.recorder_day).sum() < np.isfinite(s0.recorder_day).sum()
    sc = load_scenario("no-smuggled-recorders")
    rec85 = np.mean([measures(h, s, sc)["recorders_1985"] for s, h, sc in runs("no-smuggled-recorders")])
    assert 0.75 * 4.7e6 < rec85 < 0.97 * 4.7e6       # below the seed's figure by the smuggled share


def _tape_confiscation_rate(runs, lo, hi):
    seized = years = 0.0
    a, b = calendar_day(lo), calendar_day(hi)
    for _, h, _ in runs:
        tape = h.ci[:, C_MEDIUM] >= 2
        made, ended = h.cf[tape, F_MADE], h.cf[tape, F_ENDED]
        years += (np.clip(np.minimum(ended, b) - np.maximum(made, a), 0, None) / DAYS_PER_YEAR).sum()
        seized += ((h.ci[tape, C_FATE] == 2) & (ended >= a) & (ended < b)).sum()
    return seized / years


def test_glasnost_in_1975_quarters_the_confiscations_from_1975(runs):
    """Tapes confiscated per tape-year in 1976-85: the eased factor (0.25) of the default's."""
    ratio = _tape_confiscation_rate(runs("glasnost-1975"), 1976, 1986) / _tape_confiscation_rate(runs("default"), 1976, 1986)
    assert 0.15 < ratio < 0.4


def test_czechoslovakia_has_no_bone_era_and_hunts_tapes_from_1976(runs):
    cs = runs("czechoslovakia")
    names = {"Prague", "Brno", "Bratislava", "Ostrava", "Plzen", "Kosice"}
    for society, history, sc in cs:
        assert set(society.city_names) == names
        assert not (history.ci[:, C_MEDIUM] == 1).any()                           # no bone records
        bard = history.titles[history.titles[:, 1] == 3]
        assert bard.size and bard[:, 0].min() >= calendar_day(1969)               # the underground bands from 1969
        assert (society.role == 2).sum() and set(society.city[society.role == 2]) <= {0, 1}   # labels: Prague, Brno
    # the labels (dealers) dub and sell from 1976 only: no dealer's 3-rouble tape before, many after
    sold = np.concatenate([history.cf[(history.ci[:, C_MAKER] >= 0) & (society.role[np.maximum(history.ci[:, C_MAKER], 0)] == 2)
                                      & (history.cf[:, F_PRICE] == sc["money"]["tape_dealer_rub"]), F_MADE]
                           for society, history, sc in cs])
    assert sold.size > 50 and sold.min() >= calendar_day(1976)
    before, after = _tape_confiscation_rate(cs, 1966, 1976), _tape_confiscation_rate(cs, 1976, 1989)
    assert 2.0 < after / before < 6.0                                            # x3 from 1976
    rec85 = np.mean([measures(h, s, sc)["recorders_1985"] for s, h, sc in cs])
    assert rec85 == pytest.approx(263_000, rel=0.1)


def test_hungary_sends_more_tapes_between_cities(runs):
    """By post: more hand-overs cross from one city to another than in the default."""
    def intercity(name):
        cross = total = 0
        for society, history, _ in runs(name):
            g = history.ci[:, C_GIVER]
            ok = g >= 0
            cross += (society.city[g[ok]] != society.city[history.ci[ok, C_OWNER]]).sum()
            total += ok.sum()
        return cross / total
    assert intercity("hungary") > 1.1 * intercity("default")
    for society, history, _ in runs("hungary"):
        assert not (history.ci[:, C_MEDIUM] == 1).any()
        assert history.titles[history.titles[:, 1] == 3][:, 0].min() >= calendar_day(1980)   # Radio Artpool


def test_spread_takes_a_shipped_name_and_rejects_an_unknown_one(izdat, tmp_path):
    code, out, err = izdat("spread", "-o", tmp_path / "cs", "--people", "3000", "--scenario", "czechoslovakia",
                           "--years", "1946-1980", "--json")
    assert code == 0, err
    s = json.loads(out)
    assert set(s["copies_by_city"]) == {"Prague", "Brno", "Bratislava", "Ostrava", "Plzen", "Kosice"}
    code, out, err = izdat("spread", "-o", tmp_path / "x", "--people", "3000", "--scenario", "no-such-thing")
    assert code == 2 and "Traceback" not in err
    assert err.strip().count("\n") == 0 and "no-ban" in err and "czechoslovakia" in err and "default" in err
    assert not (tmp_path / "x").exists()
    code, out, err = izdat("spread", "-o", tmp_path / "y", "--people", "3000", "--scenario", "missing/file.toml")
    assert code == 2 and "cannot read scenario" in err
