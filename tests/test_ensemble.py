"""Ensembles (issue 18): --cluster needs --runs, a local cluster gives the serial runs' numbers."""

import json
import subprocess
import sys

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
