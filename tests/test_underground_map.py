"""The map of copies by city per decade (issue 18): the cities' coordinates, one panel a decade."""

import json

import numpy as np
from PIL import Image

from izdat.underground import build_society, load_scenario, simulate
from izdat.underground.plots import map_figure
from izdat.underground.simulate import C_CITY, F_MADE
from izdat.underground.society import DAYS_PER_YEAR
from izdat.underground.summary import by_city_decade


def test_copies_by_city_and_decade_add_up():
    sc = load_scenario()
    society = build_society(5000, sc, 3)
    history = simulate(society, sc, seed=3, start_year=1950, end_year=1983)
    d = by_city_decade(history, society, sc)
    assert d["decades"] == [1950, 1960, 1970, 1980]
    counts = np.array(d["copies"])
    assert counts.sum() == history.n_copies
    assert counts.sum(0).tolist() == np.bincount(history.ci[:, C_CITY], minlength=len(society.city_names)).tolist()
    made = np.floor(1946 + history.cf[:, F_MADE] / DAYS_PER_YEAR)
    assert counts[2].sum() == ((made >= 1970) & (made < 1980)).sum()
    i = d["cities"].index("Vladivostok")
    assert (d["lat"][i], d["lon"][i]) == (43.12, 131.89)
    fig = map_figure(d, (1950, 1983))
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 4
    assert panels[-1].get_title().startswith("1980\u20131983: ")
    assert f"{counts[1].sum():,} copies" in panels[1].get_title()
    # point areas follow the copies: the largest point of the run is the city-decade with most copies
    sizes = [c.get_sizes() for ax in panels for c in ax.collections if len(c.get_offsets()) and c.get_sizes().size]
    assert max(s.max() for s in sizes) == 900.0
    labels = {t.get_text() for t in panels[0].texts}
    assert set(d["cities"]) <= labels


def test_spread_writes_the_map_beside_the_other_plots(izdat, tmp_path):
    out = tmp_path / "o"
    code, stdout, err = izdat("spread", "-o", out, "--people", "3000", "--seed", "4", "--json")
    assert code == 0, err
    with Image.open(out / "map_by_decade.png") as im:
        w, h = im.size
        px = np.asarray(im.convert("RGB"), float)
    assert w > 900 and h > 300
    reddish = (px[..., 0] > 180) & (px[..., 1] < 170) & (px[..., 2] < 170)
    assert reddish.mean() > 0.002                       # the copies' points are drawn
    s = json.loads((out / "summary.json").read_text())
    assert len(s["copies_by_city_decade"]["decades"]) == 6      # 1946-49, the 1950s ... 1990
