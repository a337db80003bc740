"""Scenarios: plain TOML files over the calibrated default (``default.toml`` beside this module).

A user scenario names only what it changes::

    [state]
    ban_year = 1956

Tables and keys are checked against the default: an unknown one raises :class:`SpreadError` with
one sentence listing the valid keys. ``[[cities]]`` in a user file replaces the whole city list.
"""

from __future__ import annotations

import copy
import tomllib
from importlib import resources
from pathlib import Path

from izdat.underground.errors import SpreadError

__all__ = ["Scenario", "load_scenario", "default_scenario"]

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
    if kind in (int, float) and value < 0:
        raise SpreadError(f"scenario key [{table}] {key} must not be negative, got {value!r}.")


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
                unknown = sorted(set(city) - set(_CITY_KEYS))
                missing = sorted(set(_CITY_KEYS) - set(city))
                if unknown:
                    raise SpreadError(f"unknown city key '{unknown[0]}'; valid keys are: {', '.join(_CITY_KEYS)}.")
                if missing:
                    raise SpreadError(f"city {city.get('name', '?')!r} lacks '{missing[0]}'; every city needs: {', '.join(_CITY_KEYS)}.")
                if not city["population_k"] > 0:
                    raise SpreadError(f"city {city['name']!r} must have a positive population_k.")
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
    for table, key in (("spread", "pass_probability"), ("state", "hidden_share"), ("state", "customs_erase"),
                       ("state", "fake_share"), ("state", "arrest_listener"), ("state", "arrest_maker"),
                       ("recorders", "gramophone_share"), ("network", "intercity_share")):
        if not 0 <= data[table][key] <= 1:
            raise SpreadError(f"scenario key [{table}] {key} is a probability and must lie in 0-1, got {data[table][key]!r}.")
    return Scenario(data, text)


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Read a scenario TOML file (``None``: the default) and merge it over the default.

    Raises
    ------
    SpreadError
        When the file is missing, is not TOML, or names an unknown table or key.
    """
    if path is None:
        return default_scenario()
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise SpreadError(f"cannot read scenario {path}: {exc.strerror or exc}.") from None
    try:
        overrides = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpreadError(f"scenario {path} is not valid TOML ({exc}).") from None
    return merge_scenario(overrides, text)
