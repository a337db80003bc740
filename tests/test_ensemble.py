"""Ensembles (issue 18): --cluster needs --runs, a local cluster gives the serial runs' numbers in
worker processes, and --compare plots two ensembles' yearly curves with bands."""

import json
import subprocess
import sys

import numpy as np
import pytest

from izdat.underground.ensemble import local_workers, run_ensemble
from izdat.underground.scenario import load_scenario



def izdat(*args):
    return subprocess.run([sys.executable, "-m", "izdat", *args], capture_output=True, text=True, timeout=120)


def test_cluster_without_runs_is_an_error(tmp_path):
    for extra in ([], ["--runs", "1"]):
        out = tmp_path / f"o{len(extra)}"
        r = izdat("spread", "-o", str(out), "--people", "2000", "--cluster", "local", *extra)
        assert r.returncode == 2, r.stdout + r.stderr
        assert "--runs 2 or more" in r.stdout + r.stderr and "Traceback" not in r.stdout + r.stderr
        assert not out.exists()


def test_local_cluster_matches_serial():
    sc = load_scenario(None)
    serial = run_ensemble(3000, sc, [5, 6], 1946, 1960)
    local = run_ensemble(3000, sc, [5, 6], 1946, 1960, cluster="local")
    assert [r["seed"] for r in local["runs"]] == [5, 6]
    assert local["runs"] == serial["runs"] and local["stats"] == serial["stats"]
    a, b = ({k: v for k, v in r.items() if k != "seed"} for r in serial["runs"])
    assert a != b                                                         # two seeds, two societies
    assert 1 <= local_workers(2) <= 2 and local_workers(1) == 1


def test_cli_prints_ensemble_mean_and_spread(tmp_path):
    r = izdat("spread", "-o", str(tmp_path / "e"), "--people", "3000", "--years", "1946-1960",
              "--runs", "3", "--seed", "2")
    assert r.returncode == 0, r.stdout + r.stderr
    ens = json.loads((tmp_path / "e" / "summary.json").read_text())["ensemble"]
    st = ens["stats"]["copies"]
    assert len(ens["runs"]) == 3 and len(ens["runs"][0]["measures"]["tape_by_year"]) > 1   # yearly curves kept
    assert f"copies {st['mean']:,.1f} ± {st['std']:,.1f}" in r.stdout + r.stderr
    assert "ensemble of 3 runs (seeds 2-4)" in r.stdout + r.stderr


def test_a_local_cluster_runs_in_worker_processes_one_per_core():
    """--cluster local: the runs ran in other processes than this one, as many as there are cores
    (up to the runs); serially, all in this one."""
    import os
    sc = load_scenario(None)
    local = run_ensemble(2000, sc, [1, 2, 3, 4], 1946, 1960, cluster="local")
    assert not local["here"]
    assert local["processes"] == min(os.cpu_count() or 1, 4)
    serial = run_ensemble(2000, sc, [1, 2], 1946, 1960)
    assert serial["here"] and serial["processes"] == 1


def test_compare_plots_two_ensembles_with_bands(izdat, tmp_path):
    from PIL import Image
    out = tmp_path / "cmp"
    code, stdout, err = izdat("spread", "--compare", "default", "no-ban", "-o", out, "--people", "4000",
                              "--runs", "3", "--years", "1946-1975", "--seed", "3")
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["compare.png", "summary.json"]
    with Image.open(out / "compare.png") as im:
        assert im.size[0] > 600 and im.size[1] > 600
    cmp = json.loads((out / "summary.json").read_text())["compare"]
    assert [s["name"] for s in cmp["scenarios"]] == ["default", "no-ban"] and cmp["seeds"] == [3, 4, 5]
    for s in cmp["scenarios"]:
        cv = s["curves"]
        assert cv["years"] == list(range(1946, 1976))
        for key in ("bone", "tape", "arrests"):
            runs = np.array(cv[key]["runs"], float)
            assert runs.shape == (3, 30)
            assert np.allclose(cv[key]["mean"], runs.mean(0)) and np.allclose(cv[key]["std"], runs.std(0, ddof=1))
            assert np.all(np.array(cv[key]["low"]) <= np.array(cv[key]["mean"]) + 1e-9)
            assert np.all(np.array(cv[key]["mean"]) <= np.array(cv[key]["high"]) + 1e-9)
        assert sum(cv["tape"]["mean"]) == pytest.approx(s["stats"]["copies_reel"]["mean"] + s["stats"]["copies_cassette"]["mean"])
    bone = [np.sum(s["curves"]["bone"]["mean"][12:20]) for s in cmp["scenarios"]]      # 1958-65
    assert bone[1] > 2 * bone[0]
    assert "no-ban: copies" in stdout + err and "calibration rows passed" in stdout + err
    code, _, err = izdat("spread", "--compare", "default", "no-ban", "-o", tmp_path / "one", "--runs", "1")
    assert code == 2 and "--runs 2 or more" in err and not (tmp_path / "one").exists()
    code, _, err = izdat("spread", "--compare", "default", "nope", "-o", tmp_path / "bad", "--people", "2000")
    assert code == 2 and "shipped scenarios are" in err and not (tmp_path / "bad").exists()
    code, _, err = izdat("spread", "--compare", "default", "no-ban", "--scenario", "no-ban", "-o", tmp_path / "b2")
    assert code == 2 and "without --scenario" in err
