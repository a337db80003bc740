"""Issue 18: the default scenario tells the history of the sources (docs/history.md's calibration table).

Every row of the calibration table is asserted on an ensemble the CI can afford: 4 runs of 50,000
people (about 7 s here; the minimum size for the table is 50,000 people, docs/history.md).
"""

import json

import numpy as np
import pytest

from izdat.underground import build_society, load_scenario, simulate
from izdat.underground.simulate import C_CITY, C_MEDIUM, F_MADE
from izdat.underground.summary import CALIBRATION, calibration, calibration_table, measures, summarize
from izdat.underground.society import DAYS_PER_YEAR

PEOPLE = 50_000
SEEDS = (1, 2, 3, 4)


@pytest.fixture(scope="module")
def ensemble():
    sc = load_scenario()
    runs = []
    for seed in SEEDS:
        society = build_society(PEOPLE, sc, seed)
        runs.append((society, simulate(society, sc, seed=seed)))
    return sc, runs


@pytest.fixture(scope="module")
def rows(ensemble):
    sc, runs = ensemble
    return {r["key"]: r for r in calibration([measures(h, s, sc) for s, h in runs])}


@pytest.mark.parametrize("key", [row[0] for row in CALIBRATION])
def test_calibration_row_passes(rows, key):
    row = rows[key]
    assert row["pass"], (key, row["value"], row["runs"], row["target"])


def test_bone_records_start_in_leningrad_in_1946_in_every_run(ensemble):
    sc, runs = ensemble
    for society, h in runs:
        bone = np.flatnonzero(h.ci[:, C_MEDIUM] == 1)
        first = bone[np.argmin(h.cf[bone, F_MADE])]
        assert 1946 <= 1946 + h.cf[first, F_MADE] / DAYS_PER_YEAR < 1947
        assert society.city_names[h.ci[first, C_CITY]] == "Leningrad"




def test_the_table_is_in_summary_json_and_renders(ensemble):
    sc, runs = ensemble
    society, h = runs[0]
    s = summarize(h, society, sc)
    table = s["calibration"]
    assert [r["key"] for r in table] == [row[0] for row in CALIBRATION]
    for r in table:
        assert set(r) == {"key", "fact", "source", "target", "value", "runs", "spread", "pass"}
    json.dumps(s)                                           # JSON-ready, numpy types included
    md = calibration_table(table)
    assert md.count("\n") == len(table) + 2 and "Leningrad" in md and "| pass |" in md


def test_the_bone_curve_fades_without_a_cliff(ensemble):
    """Yearly bone copies (ensemble mean) never fall from one year to the next by more than a tenth
    of the peak after 1962: the records fade, no hard cutoff ends them."""
    sc, runs = ensemble
    years = np.arange(1946, 1991)
    curves = []
    for _, h in runs:
        y = 1946 + h.cf[h.ci[:, C_MEDIUM] == 1, F_MADE] / DAYS_PER_YEAR
        curves.append(np.histogram(y, bins=np.append(years, 1991))[0])
    bone = np.mean(curves, axis=0)
    late = years >= 1962
    assert np.all(-np.diff(bone[late]) < 0.1 * bone.max())
    assert bone[years == sc["media"]["bone_end"] - 1] < 0.01 * bone.max()
