"""Scenarios: plain TOML files over the calibrated default (``default.toml`` beside this module).

A user scenario names only what it changes::

    [state]
    ban_year = 1956

Tables and keys are checked against the default: an unknown one raises :class:`SpreadError` with
one sentence listing the valid keys. ``[[cities]]`` in a user file replaces the whole city list.
The counterfactuals and parallels of docs/history.md ship as ``scenarios/NAME.toml``
(:func:`shipped_scenarios`); :func:`load_scenario` takes such a name as well as a path.
"""

from __future__ import annotations

import copy
import math
import tomllib
from importlib import resources
from pathlib import Path

from izdat._check import check_number
from izdat.underground.errors import SpreadError

__all__ = ["Scenario", "load_scenario", "default_scenario", "shipped_scenarios"]

_CITY_KEYS = ("name", "population_k", "lat", "lon", "port", "hotel", "border")


class Scenario:
    """A validated scenario: ``scenario["state"]["ban_year"]``, plus the TOML text it came from.

    Parameters
    ----------
    data : dict
        Nested tables as parsed from TOML, already merged over the default and checked.
    text : str
        The user TOML text (empty for the default), stored in the ``run`` table for replay.
    """

    def __init__(self, data: dict, text: str = ""):
        self.data = data
        self.text = text

    def __getitem__(self, table: str) -> dict:
        return self.data[table]

    @property
    def cities(self) -> list[dict]:
        """The city list: name, population_k (thousands, 1959), lat/lon (degrees), port/hotel/border."""
        return self.data["cities"]

    def __repr__(self) -> str:
        return f"Scenario({len(self.cities)} cities, ban {self.data['state']['ban_year']})"


def _default_data() -> dict:
    text = resources.files("izdat.underground").joinpath("default.toml").read_text()
    return tomllib.loads(text)


def default_scenario() -> Scenario:
    """The calibrated default scenario (see docs/underground.md for every parameter's source)."""
    return Scenario(_default_data())


def _check_number(table: str, key: str, value, default) -> None:
    kind = type(default)
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind in (int, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif kind is list:
        ok = isinstance(value, list)
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise SpreadError(f"scenario key [{table}] {key} must be a {kind.__name__}, got {value!r}.")
    if kind in (int, float) and not math.isfinite(value):
        raise SpreadError(f"scenario key [{table}] {key} must be a finite number, got {value!r}.")
    if kind in (int, float) and value < 0:
        raise SpreadError(f"scenario key [{table}] {key} must not be negative, got {value!r}.")


#: Years a scenario may name (a ban, the first cassettes ...): outside the simulated 1946-1991 they
#: mean "before it all" or "never", which is legal; beyond these bounds they are a typo.
SCENARIO_YEARS = (1900, 2100)

#: The range of every numeric scenario key: ``(table, key): (lowest, highest, unit)``. Those that
#: size arrays (households, ties, hand-overs, titles a year) are capped so that a run's memory stays
#: what :mod:`izdat.underground.limits` estimates and its time what the docs say.
SCENARIO_LIMITS: dict[tuple[str, str], tuple[float, float, str]] = {
    ("network", "household_mean_size"): (1, 20, "people"),
    ("network", "household_max_size"): (1, 20, "people"),
    ("network", "circle_ties"): (0, 20, "ties"),
    ("network", "circle_window"): (1, 1_000_000, "ids"),
    ("network", "long_ties"): (0, 20, "ties"),
    ("network", "long_tie_alpha"): (1.01, 10, ""),
    ("network", "intercity_share"): (0, 1, ""),
    ("recorders", "year_a"): (*SCENARIO_YEARS, ""),
    ("recorders", "year_b"): (*SCENARIO_YEARS, ""),
    ("recorders", "count_a"): (1, 1e9, "recorders"),
    ("recorders", "count_b"): (1, 1e9, "recorders"),
    ("recorders", "first_year"): (*SCENARIO_YEARS, ""),
    ("recorders", "smuggled_share_port"): (0, 1, ""),
    ("recorders", "smuggled_share_inland"): (0, 1, ""),
    ("recorders", "social_bias"): (0, 10, ""),
    ("recorders", "gramophone_share"): (0, 1, ""),
    ("media", "bone_start"): (*SCENARIO_YEARS, ""),
    ("media", "bone_end"): (*SCENARIO_YEARS, ""),
    ("media", "bone_life_years"): (0, 1000, "years"),
    ("media", "reel_life_years"): (0, 1000, "years"),
    ("media", "cassette_life_years"): (0, 1000, "years"),
    ("media", "lp_life_years"): (0, 1000, "years"),
    ("media", "cassette_from"): (*SCENARIO_YEARS, ""),
    ("media", "cutters_per_100k"): (0, 100_000, "cutters"),
    ("media", "cutter_copies_per_day"): (0, 255, "copies"),       # counted in a byte a day
    ("media", "bone_buyer_share"): (0, 1, ""),
    ("media", "bone_master_share"): (0, 1, ""),
    ("media", "bone_fade_from"): (*SCENARIO_YEARS, ""),
    ("media", "bone_fade_half_life_years"): (0, 1000, "years"),
    ("sources", "first_lp_year"): (*SCENARIO_YEARS, ""),
    ("state", "ban_curbs_production"): (0, 1, ""),
    ("media", "lend_probability"): (0, 1, ""),
    ("media", "lend_depth"): (0, 60, "hands"),                     # six bits of a hand-over row
    ("sources", "sailor_per_year"): (0, 100, "titles a year"),
    ("sources", "sailor_share"): (0, 1, ""),
    ("sources", "tourist_per_year"): (0, 100, "titles a year"),
    ("sources", "tourist_from"): (*SCENARIO_YEARS, ""),
    ("sources", "dealer_share"): (0, 1, ""),
    ("sources", "dealers_from"): (*SCENARIO_YEARS, ""),
    ("sources", "radio_per_year"): (0, 100, "titles a year"),
    ("sources", "bard_per_year"): (0, 100, "titles a year"),
    ("sources", "bard_from"): (*SCENARIO_YEARS, ""),
    ("sources", "lp_seized_at_border"): (0, 1, ""),
    ("spread", "pass_probability"): (0, 1, ""),
    ("spread", "max_handovers"): (0, 1000, "hand-overs"),
    ("spread", "dealer_multiplier"): (0, 100, ""),
    ("spread", "delay_days"): (0, 3650, "days"),
    ("spread", "interest_half_life_years"): (0, 1000, "years"),
    ("money", "bone_rub"): (0, 1e6, "roubles"),
    ("money", "tape_dealer_rub"): (0, 1e6, "roubles"),
    ("money", "tape_friend_rub"): (0, 1e6, "roubles"),
    ("money", "lp_port_rub"): (0, 1e6, "roubles"),
    ("money", "lp_urals_rub"): (0, 1e6, "roubles"),
    ("money", "wage_low_rub"): (0, 1e6, "roubles"),
    ("money", "wage_high_rub"): (0, 1e6, "roubles"),
    ("state", "ban_year"): (*SCENARIO_YEARS, ""),
    ("state", "ring_broken_year"): (*SCENARIO_YEARS, ""),
    ("state", "ring_size"): (0, 1_000_000, "cutters"),
    ("state", "patrols_from"): (*SCENARIO_YEARS, ""),
    ("state", "bone_hazard_before_ban"): (0, 100, "a year"),
    ("state", "bone_hazard_after_ban"): (0, 100, "a year"),
    ("state", "patrol_multiplier"): (0, 100, ""),
    ("state", "tape_hazard"): (0, 100, "a year"),
    ("state", "hidden_share"): (0, 1, ""),
    ("state", "hidden_factor"): (0, 100, ""),
    ("state", "customs_erase"): (0, 1, ""),
    ("state", "arrest_listener"): (0, 1, ""),
    ("state", "arrest_maker"): (0, 1, ""),
    ("state", "prison_years_tape"): (0, 100, "years"),
    ("state", "prison_years_bone"): (0, 100, "years"),
    ("state", "fake_share"): (0, 1, ""),
}
#: Most cities a scenario may list (a person's city is an int16), and the range of a city's keys.
MAX_CITIES = 1000
CITY_LIMITS = {"population_k": (1e-3, 1e6, "thousand people"), "lat": (-90, 90, "degrees"),
               "lon": (-180, 180, "degrees")}


def _check_ranges(data: dict) -> None:
    """Every numeric key within :data:`SCENARIO_LIMITS`, the population table and the city list sane."""
    for (table, key), (lo, hi, unit) in SCENARIO_LIMITS.items():
        value = data[table][key]
        if (lo, hi) == (0, 1) and not 0 <= value <= 1:
            raise SpreadError(f"scenario key [{table}] {key} is a probability and must lie in 0-1, got {value!r}.")
        check_number(f"scenario key [{table}] {key}", value, lo, hi, unit, error=SpreadError)
    rec = data["recorders"]
    if rec["year_a"] == rec["year_b"]:
        raise SpreadError("scenario keys [recorders] year_a and year_b must be different years.")
    pop = data["population"]
    years, millions = pop["years"], pop["millions"]
    if not years or len(years) != len(millions):
        raise SpreadError("scenario [population] years and millions must be lists of the same, non-zero length.")
    for name, values, (lo, hi) in (("years", years, SCENARIO_YEARS), ("millions", millions, (1e-3, 1e5))):
        for v in values:
            check_number(f"scenario key [population] {name}", v, lo, hi, error=SpreadError)
    if any(b <= a for a, b in zip(years, years[1:])):
        raise SpreadError(f"scenario [population] years must rise from one to the next, got {years!r}.")
    cities = data["cities"]
    if len(cities) > MAX_CITIES:
        raise SpreadError(f"a scenario may list at most {MAX_CITIES} cities, not {len(cities)}.")
    for city in cities:
        name = city["name"]
        if not isinstance(name, str) or not name.strip():
            raise SpreadError(f"every city needs a name (a non-empty string), got {name!r}.")
        for key, (lo, hi, unit) in CITY_LIMITS.items():
            check_number(f"city {name!r} {key}", city[key], lo, hi, unit, error=SpreadError)
        for key in ("port", "hotel", "border"):
            if not isinstance(city[key], bool):
                raise SpreadError(f"city {name!r} {key} must be true or false, got {city[key]!r}.")


def merge_scenario(overrides: dict, text: str = "") -> Scenario:
    """Merge parsed TOML ``overrides`` over the default, checking every table and key."""
    data = _default_data()
    for table, values in overrides.items():
        if table not in data:
            valid = ", ".join(sorted(data))
            raise SpreadError(f"unknown scenario table [{table}]; valid tables are: {valid}.")
        if table == "cities":
            if not isinstance(values, list) or not values:
                raise SpreadError("scenario [[cities]] must be a non-empty list of city tables.")
            for city in values:
                if not isinstance(city, dict):
                    raise SpreadError(f"scenario [[cities]] must be a list of city tables, not {city!r}.")
                unknown = sorted(set(city) - set(_CITY_KEYS))
                missing = sorted(set(_CITY_KEYS) - set(city))
                if unknown:
                    raise SpreadError(f"unknown city key '{unknown[0]}'; valid keys are: {', '.join(_CITY_KEYS)}.")
                if missing:
                    raise SpreadError(f"city {city.get('name', '?')!r} lacks '{missing[0]}'; every city needs: {', '.join(_CITY_KEYS)}.")
            data["cities"] = copy.deepcopy(values)
            continue
        if not isinstance(values, dict):
            raise SpreadError(f"scenario [{table}] must be a table of keys.")
        for key, value in values.items():
            if key not in data[table]:
                valid = ", ".join(sorted(data[table]))
                raise SpreadError(f"unknown scenario key [{table}] {key}; valid keys are: {valid}.")
            _check_number(table, key, value, data[table][key])
            data[table][key] = value
    _check_ranges(data)
    return Scenario(data, text)


#: The folder of shipped scenarios (``scenarios/NAME.toml`` beside this module; docs/history.md).
SCENARIO_FOLDER = "scenarios"


def shipped_scenarios() -> list[str]:
    """Names of the scenarios shipped with izdat (``izdat spread --scenario NAME``), sorted."""
    folder = resources.files("izdat.underground").joinpath(SCENARIO_FOLDER)
    try:
        return sorted(f.name[:-5] for f in folder.iterdir() if f.name.endswith(".toml"))
    except (FileNotFoundError, NotADirectoryError):
        return []


def _shipped_text(name: str) -> str:
    return resources.files("izdat.underground").joinpath(SCENARIO_FOLDER, f"{name}.toml").read_text()


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Read a scenario, a TOML file or a shipped scenario's name (``None``: the default), and merge
    it over the default.

    A string that names an existing file is read as one; otherwise ``"default"`` is the default and
    a name of :func:`shipped_scenarios` (``"no-ban"``, ``"czechoslovakia"`` ...) loads the shipped file.

    Raises
    ------
    SpreadError
        When the file is missing (and no shipped scenario has that name), is not TOML, or names an
        unknown table or key.
    """
    if path is None:
        return default_scenario()
    path = Path(path)
    names = shipped_scenarios()
    if not path.is_file() and str(path) == "default":
        return default_scenario()
    if not path.is_file() and str(path) in names:
        text = _shipped_text(str(path))
    else:
        if not path.exists() and path.suffix.lower() != ".toml" and len(path.parts) == 1:
            raise SpreadError(f"no scenario file or shipped scenario named {str(path)!r}; the shipped scenarios are: "
                              f"{', '.join(['default'] + names)} (or give the path of a TOML file).")
        try:
            text = path.read_text()
        except OSError as exc:
            raise SpreadError(f"cannot read scenario {path}: {exc.strerror or exc}.") from None
    try:
        overrides = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpreadError(f"scenario {path} is not valid TOML ({exc}).") from None
    return merge_scenario(overrides, text)
