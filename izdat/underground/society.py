"""The synthetic society: cities, households, roles, tape recorders and the friendship network (CSR).

Everything is vectorised NumPy plus one Numba loop; a 10-million-person society builds in seconds
and keeps the graph in two arrays (``indptr``, ``indices``), never in networkx objects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from izdat._check import _typed, check_int
from izdat.underground.errors import SpreadError
from izdat.underground.limits import LIMITS, _bytes, memory_needed
from izdat.underground.scenario import Scenario

__all__ = ["Society", "build_society", "recorders_in_circulation", "population_millions",
           "DECKS", "DECK_IS_CASSETTE", "ROLES", "EPOCH", "DAYS_PER_YEAR", "day_of_year", "calendar_day"]

#: Day 0 of the simulation clock; times are float days since this date.
EPOCH = np.datetime64("1946-01-01")
DAYS_PER_YEAR = 365.25

ROLES = ("listener", "sailor", "dealer", "cutter")
#: Tape decks, with the first year they are bought, whether smuggled, whether cassette.
#: The names are the presets of :mod:`izdat.tape` (``izdat decks``), so ``izdat listen`` can play them;
#: the smuggled Japanese cassette deck is the Sony TC-129.
DECKS = ("dnepr-11", "yauza-5", "vesna", "sony-tc-260", "mayak-203", "elektronika-302", "sony-tc-129")
_DECK_FROM = np.array([1955, 1960, 1963, 1967, 1975, 1974, 1975], dtype=np.float64)
_DECK_UNTIL = np.array([1966, 1976, 1977, 1991, 1991, 1991, 1991], dtype=np.float64)
_DECK_SMUGGLED = np.array([0, 0, 0, 1, 0, 0, 1], dtype=bool)
DECK_IS_CASSETTE = np.array([0, 0, 0, 0, 0, 1, 1], dtype=bool)


def day_of_year(year: float) -> float:
    """Simulation day (days since 1946-01-01) of a fractional year, 365.25 days a year.

    Good for rates and policies; for the first or last day of a run use :func:`calendar_day`, which
    can differ from it by up to 18 hours.
    """
    return (year - 1946.0) * DAYS_PER_YEAR


def calendar_day(year: int) -> float:
    """Simulation day of 1 January of ``year`` on the Gregorian calendar (1991 -> 16436.0)."""
    return float((np.datetime64(f"{int(year):04d}-01-01") - EPOCH).astype(np.int64))


def population_millions(year, scenario: Scenario):
    """USSR population in millions at ``year`` (linear between the census years of the scenario)."""
    pop = scenario["population"]
    return np.interp(year, pop["years"], pop["millions"])


def recorders_in_circulation(year, scenario: Scenario):
    """Tape recorders in circulation in the whole USSR at ``year`` (count).

    Log-linear through the two seed figures (128,000 in 1960, 4.7 million in 1985, seed 000),
    extended at the same growth rate back to ``first_year`` and forward to 1991; zero before.
    """
    r = scenario["recorders"]
    year = np.asarray(year, dtype=np.float64)
    rate = np.log(r["count_b"] / r["count_a"]) / (r["year_b"] - r["year_a"])
    count = r["count_a"] * np.exp(rate * (year - r["year_a"]))
    return np.where(year >= r["first_year"], count, 0.0)


@dataclass
class Society:
    """People, their cities and households, roles, recorders and the friendship graph.

    Attributes
    ----------
    city : int16 array (n,)
        City index of each person (into ``city_names``).
    household : int32 array (n,)
        Household index of each person; households are contiguous runs of ids.
    role : int8 array (n,)
        Index into :data:`ROLES`.
    gramophone : bool array (n,)
        Whether the person can play a disc.
    recorder_day : float64 array (n_households,)
        Day (since 1946-01-01) the household gets its tape recorder; ``inf`` for never.
    deck : int8 array (n_households,)
        Index into :data:`DECKS` of the household's recorder (-1 for none).
    lathe : int8 array (n,)
        Index into :data:`izdat.underground.simulate.LATHES` for cutters (0 home-built, 1 Telefunken);
        -1 otherwise.
    indptr, indices : int64, int32 arrays
        The undirected friendship graph in CSR form (each tie stored both ways).
    city_names, city_port, city_hotel, city_border, city_port_km, city_lp_rub : arrays per city
        Name, flags, distance to the nearest port (km) and black-market LP price (roubles).
    """

    city: np.ndarray
    household: np.ndarray
    role: np.ndarray
    gramophone: np.ndarray
    recorder_day: np.ndarray
    deck: np.ndarray
    lathe: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    city_names: list
    city_port: np.ndarray
    city_hotel: np.ndarray
    city_border: np.ndarray
    city_port_km: np.ndarray
    city_lp_rub: np.ndarray
    city_start: np.ndarray

    @property
    def n(self) -> int:
        """Number of people."""
        return len(self.city)

    @property
    def degree(self) -> np.ndarray:
        """Number of ties of each person."""
        return np.diff(self.indptr)


def _haversine_km(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dlmb = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(a))


@numba.njit(cache=True)
def _csr_fill(a, b, n):
    counts = np.zeros(n + 1, dtype=np.int64)
    for k in range(a.size):
        counts[a[k] + 1] += 1
        counts[b[k] + 1] += 1
    for i in range(n):
        counts[i + 1] += counts[i]
    indptr = counts.copy()
    pos = counts[:-1].copy()
    indices = np.empty(indptr[n], dtype=np.int32)
    for k in range(a.size):
        i, j = a[k], b[k]
        indices[pos[i]] = j
        pos[i] += 1
        indices[pos[j]] = i
        pos[j] += 1
    return indptr, indices


@numba.njit(cache=True)
def _household_edges(starts, sizes, total):
    a = np.empty(total, dtype=np.int32)
    b = np.empty(total, dtype=np.int32)
    k = 0
    for h in range(starts.size):
        s0 = starts[h]
        for x in range(sizes[h]):
            for y in range(x + 1, sizes[h]):
                a[k] = s0 + x
                b[k] = s0 + y
                k += 1
    return a, b


def _search_sorted_keys(table: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``np.searchsorted(table, keys, side="right")``, with the keys searched in ascending order.

    NumPy starts each search where the previous one ended when keys ascend, so a search of
    millions of random keys in a table of millions walks it once instead of missing the cache
    at every step (5x faster at 10 million people); the answer is the same.
    """
    order = np.argsort(keys, kind="stable")
    out = np.empty(keys.size, dtype=np.int64)
    out[order] = np.searchsorted(table, keys[order], side="right")
    return out


def build_society(n_people: int, scenario: Scenario, seed: int) -> Society:
    """Build a society of ``n_people`` spread over the scenario's cities.

    Parameters
    ----------
    n_people : int
        Number of people, 1 to 2**31 - 1 (:data:`~izdat.underground.limits.LIMITS` ``"people"``).
    scenario : Scenario
        Uses ``[network]``, ``[recorders]``, ``[population]``, ``[media]``, ``[sources]``, ``cities``.
    seed : int
        Seed of the generator, 0 to 2**63 - 1; the same seed gives the same society.

    Raises
    ------
    SpreadError
        A people count or seed out of range (a ``TypeError`` too for the wrong kind), a scenario
        that is not a :class:`Scenario`, or a society too big for the memory there is.

    Notes
    -----
    Ties are of three kinds: complete households, friend circles (each person starts
    ``circle_ties`` ties to people within ``circle_window`` ids of the same city, which are
    households of the same street or workplace) and long-range ties drawn Chung-Lu style with
    Pareto(``long_tie_alpha``) sociability, so degrees are heavy-tailed; ``intercity_share`` of them
    leave the city. Tape recorders go to households at the national per-capita rate of
    :func:`recorders_in_circulation`, first to port cities' households with a smuggled deck share
    (with ``[recorders] smuggling = false`` the households that would have had a smuggled deck have
    none, and ports lose their head start).
    """
    n = check_int("n_people", n_people, *LIMITS["people"], "people", error=SpreadError)
    seed = check_int("seed", seed, *LIMITS["seed"], error=SpreadError)
    if not isinstance(scenario, Scenario):
        raise _typed(SpreadError)(f"scenario must be a Scenario (load_scenario()), not {type(scenario).__name__}.")
    try:
        return _build(n, scenario, seed)
    except MemoryError:
        raise SpreadError(f"a society of {n:,} people needs more memory than is available "
                          f"(about {_bytes(memory_needed(n))}; see izdat.underground.limits).") from None


def _build(n: int, scenario: Scenario, seed: int) -> Society:
    rng = np.random.default_rng([seed, 1])
    net, rec, med, src = scenario["network"], scenario["recorders"], scenario["media"], scenario["sources"]
    cities = scenario.cities
    pops = np.array([c["population_k"] for c in cities], dtype=np.float64)
    share = pops / pops.sum()
    sizes = np.floor(share * n).astype(np.int64)
    sizes[np.argsort(-(share * n - sizes), kind="stable")[: n - sizes.sum()]] += 1
    city_start = np.concatenate([[0], np.cumsum(sizes)])
    city = np.repeat(np.arange(len(cities), dtype=np.int16), sizes)

    # households: contiguous runs of ids, never crossing a city boundary
    mean_extra = max(net["household_mean_size"] - 1.0, 0.0)
    draw = 1 + np.minimum(rng.poisson(mean_extra, size=n), net["household_max_size"] - 1)
    hh_sizes = []
    for c in range(len(cities)):
        left = int(sizes[c])
        if left == 0:
            continue
        take = draw[city_start[c]: city_start[c] + left]
        cum = np.cumsum(take)
        k = int(np.searchsorted(cum, left))
        hs = take[: k + 1].copy()
        hs[-1] = left - (cum[k - 1] if k > 0 else 0)
        hh_sizes.append(hs)
    hh_sizes = np.concatenate(hh_sizes).astype(np.int64)
    hh_starts = np.concatenate([[0], np.cumsum(hh_sizes)[:-1]])
    household = np.repeat(np.arange(hh_sizes.size, dtype=np.int32), hh_sizes)
    ha, hb = _household_edges(hh_starts, hh_sizes, int((hh_sizes * (hh_sizes - 1) // 2).sum()))

    # friend circles: ties to nearby ids in the same city
    n_circle = rng.poisson(net["circle_ties"], size=n)
    ca = np.repeat(np.arange(n, dtype=np.int64), n_circle)
    off = rng.integers(1, max(int(net["circle_window"]), 2) + 1, size=ca.size)
    c_of = np.repeat(city, n_circle)
    cstart, csize = city_start[c_of], sizes[c_of]
    del c_of
    cb = cstart + (ca - cstart + off) % csize
    del cstart, csize, off

    # long-range ties: Chung-Lu with Pareto sociability
    weight = rng.pareto(net["long_tie_alpha"] - 1.0, size=n) + 1.0
    cumw = np.cumsum(weight)
    m = int(round(n * net["long_ties"] / 2))
    la = np.minimum(_search_sorted_keys(cumw, rng.random(m) * cumw[-1]), n - 1)
    leave = rng.random(m) < net["intercity_share"]
    lc = city[la]
    lo = np.where(city_start[lc] > 0, cumw[np.maximum(city_start[lc] - 1, 0)], 0.0)
    hi = cumw[city_start[lc + 1] - 1]
    u = rng.random(m)
    target = np.where(leave, u * cumw[-1], lo + u * (hi - lo))
    lb = np.minimum(_search_sorted_keys(cumw, target), n - 1)

    a = np.concatenate([ha, ca.astype(np.int32), la.astype(np.int32)])
    b = np.concatenate([hb, cb.astype(np.int32), lb.astype(np.int32)])
    keep = a != b
    indptr, indices = _csr_fill(a[keep], b[keep], n)
    del a, b, ca, cb, la, lb

    # roles
    role = np.zeros(n, dtype=np.int8)
    port = np.array([c["port"] for c in cities], dtype=bool)
    hotel = np.array([c["hotel"] for c in cities], dtype=bool)
    border = np.array([c["border"] for c in cities], dtype=bool)
    u = rng.random(n)
    role[(u < src["sailor_share"]) & port[city]] = 1
    deg = np.diff(indptr)
    # dealers: the best connected people of hotel cities (they "were well known in closed circles")
    for c in np.flatnonzero(hotel):
        ids = np.arange(city_start[c], city_start[c + 1])
        k = int(round(src["dealer_share"] * ids.size))
        if k:
            pick = ids[np.argsort(-deg[ids] - rng.random(ids.size), kind="stable")[:k]]
            role[pick[role[pick] == 0]] = 2
    # cutters: the same share of every city (rounded), so their count scales with the society
    n_cut = np.maximum(np.round(sizes * med["cutters_per_100k"] / 1e5).astype(np.int64),
                       (sizes >= 1000) & (med["cutters_per_100k"] > 0))
    lathe = np.full(n, -1, dtype=np.int8)
    for c in range(len(cities)):
        if n_cut[c] and sizes[c]:
            pick = city_start[c] + rng.choice(sizes[c], size=min(int(n_cut[c]), int(sizes[c])), replace=False)
            pick = pick[role[pick] == 0]
            role[pick] = 3
            lathe[pick] = (rng.random(pick.size) < 0.2).astype(np.int8)  # 20 % factory (Telefunken) lathes
    gramophone = rng.random(n) < rec["gramophone_share"]

    # tape recorders: per-capita national rate, household by household
    n_hh = hh_sizes.size
    years = np.arange(1946.0, 1991.0 + 1e-9, 1.0 / 12)
    per_capita = recorders_in_circulation(years, scenario) / (population_millions(years, scenario) * 1e6)
    owners = np.maximum.accumulate(per_capita * n)             # households owning a recorder (count)
    hh_city = city[hh_starts]
    # who gets one first: exponential clocks weighted by the household's ties ("symbolic capital",
    # seed 000) and doubled in ports (sailors' smuggled decks, seed 000)
    hh_deg = np.bincount(household, weights=deg, minlength=hh_sizes.size)
    w = np.power(np.maximum(hh_deg, 1.0), rec["social_bias"]) * np.where(port[hh_city] & rec["smuggling"], 2.0, 1.0)
    priority = rng.exponential(size=n_hh) / w
    order = np.argsort(priority, kind="stable")
    rank = np.empty(n_hh, dtype=np.int64)
    rank[order] = np.arange(n_hh)
    month = np.searchsorted(owners, rank + 1, side="left")    # first month with > rank owners
    recorder_day = np.where(month < years.size, day_of_year(years[np.minimum(month, years.size - 1)]), np.inf)
    recorder_day = recorder_day + rng.random(n_hh) * 30.0 * (month < years.size)
    deck = np.full(n_hh, -1, dtype=np.int8)
    has = np.isfinite(recorder_day)
    yr = 1946.0 + recorder_day[has] / DAYS_PER_YEAR
    smug = np.where(port[hh_city[has]], rec["smuggled_share_port"], rec["smuggled_share_inland"])
    want_smuggled = rng.random(yr.size) < smug
    cassette_era = yr >= med["cassette_from"]
    u = rng.random(yr.size)
    # pick uniformly among decks on sale that year and of the wanted kind (smuggled or Soviet)
    avail = (yr[:, None] >= _DECK_FROM[None, :]) & (yr[:, None] < _DECK_UNTIL[None, :])
    avail &= (_DECK_SMUGGLED[None, :] == want_smuggled[:, None]) | ~(avail & (_DECK_SMUGGLED[None, :] == want_smuggled[:, None])).any(1)[:, None]
    avail &= ~DECK_IS_CASSETTE[None, :] | cassette_era[:, None]
    avail[~avail.any(1), 0] = True
    cum = np.cumsum(avail, axis=1)
    k = np.floor(u * cum[:, -1]).astype(np.int64)
    chosen = (cum <= k[:, None]).sum(1).astype(np.int8)
    deck[has] = chosen
    if not rec["smuggling"]:
        # no deck is smuggled in: the households that would have bought a Japanese deck have none
        # (the Soviet decks stay what they were; docs/history.md, scenario no-smuggled-recorders)
        gone = np.flatnonzero(has)[_DECK_SMUGGLED[chosen]]
        recorder_day[gone] = np.inf
        deck[gone] = -1

    lat = np.array([c["lat"] for c in cities])
    lon = np.array([c["lon"] for c in cities])
    if port.any():
        d = _haversine_km(lat[:, None], lon[:, None], lat[port][None, :], lon[port][None, :]).min(1)
    else:
        d = np.full(len(cities), 2000.0)
    money = scenario["money"]
    names = [c["name"] for c in cities]
    urals_km = d[names.index("Sverdlovsk")] if "Sverdlovsk" in names else 1800.0
    lp_rub = money["lp_port_rub"] + (money["lp_urals_rub"] - money["lp_port_rub"]) * np.minimum(d / max(urals_km, 1.0), 1.0)

    return Society(city=city, household=household, role=role, gramophone=gramophone,
                   recorder_day=recorder_day, deck=deck, lathe=lathe, indptr=indptr, indices=indices,
                   city_names=names, city_port=port, city_hotel=hotel, city_border=border,
                   city_port_km=d, city_lp_rub=lp_rub, city_start=city_start)
