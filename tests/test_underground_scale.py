"""Issue 18: results that do not depend on the run's size (docs/history.md, "How big a run must be").

Cutters and the 1959 ring scale with the society (checked on societies alone, up to 400,000
people); per-head tape and bone copies agree within the ensembles' spread between sizes; the
generation depth does not, and grows with the size as the docs say. About 10 s here.
"""

import numpy as np
import pytest

from izdat.underground import build_society, load_scenario, simulate
from izdat.underground.simulate import C_FAKE, C_GEN, C_MEDIUM, ring_of


@pytest.fixture(scope="module")
def sc():
    return load_scenario()


def _runs(sc, n, seeds):
    out = []
    for seed in seeds:
        society = build_society(n, sc, seed)
        h = simulate(society, sc, seed=seed)
        med = h.ci[:, C_MEDIUM]
        out.append({"tape": (med >= 2).sum() * 1e5 / n,
                    "bone": ((med == 1) & (h.ci[:, C_FAKE] == 0)).sum() * 1e5 / n,
                    "gen": h.ci[med >= 2, C_GEN].mean()})
    return {k: np.array([r[k] for r in out]) for k in out[0]}


@pytest.fixture(scope="module")
def ensembles(sc):
    return {20_000: _runs(sc, 20_000, range(1, 5)), 100_000: _runs(sc, 100_000, range(1, 5)),
            200_000: _runs(sc, 200_000, range(1, 4))}


def _agree(a, b):
    """Means within twice the standard error of their difference (the ensembles' spread)."""
    se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    return abs(a.mean() - b.mean()) <= 2 * se, (a.mean(), b.mean(), se)


@pytest.mark.parametrize("n", [200_000, 400_000])
def test_cutters_are_a_share_of_the_people(sc, n):
    """12 cutters per 100,000 people (rounded per city, one at least in a city of 1,000+): within 10 %
    from 200,000 people; smaller societies have more, the floor of one a city."""
    society = build_society(n, sc, 1)
    per = (society.role == 3).sum() * 1e5 / n
    assert abs(per / sc["media"]["cutters_per_100k"] - 1) < 0.10, per


@pytest.mark.parametrize("n", [100_000, 200_000, 400_000])
def test_the_1959_ring_scales_with_the_society(sc, n):
    """Three quarters of Moscow's cutters: 3 at 100,000 people, and 3 per 100,000 at every size."""
    society = build_society(n, sc, 2)
    ring, city = ring_of(society, sc)
    assert society.city_names[city] == "Moscow"
    assert np.all(society.role[ring] == 3) and np.all(society.city[ring] == city)
    assert len(ring) >= 3 and len(ring) * 1e5 / n == pytest.approx(3.0, rel=0.1)


def test_per_head_tape_copies_agree_from_20k_to_200k(ensembles):
    for a, b in ((20_000, 100_000), (100_000, 200_000), (20_000, 200_000)):
        ok, why = _agree(ensembles[a]["tape"], ensembles[b]["tape"])
        assert ok, (a, b, why)
    assert 2e4 < ensembles[100_000]["tape"].mean() < 8e4          # tens of thousands per 100,000 people


def test_per_head_bone_copies_agree_from_100k(ensembles):
    """From 100,000 people (the minimum size for this figure); at 20,000 the bone era is smaller."""
    ok, why = _agree(ensembles[100_000]["bone"], ensembles[200_000]["bone"])
    assert ok, why
    assert ensembles[100_000]["bone"].mean() > 1000


def test_generation_depth_grows_with_the_size(ensembles):
    """Not a per-head figure: chains get longer in a bigger society (docs state it per size)."""
    g = [ensembles[n]["gen"].mean() for n in (20_000, 100_000, 200_000)]
    assert g[0] < g[1] < g[2] and g[2] - g[0] > 1.0, g
