"""Errors of the underground simulation: each message is one sentence a user can act on."""

from izdat.errors import IzdatError

__all__ = ["SpreadError", "LineageError"]


class SpreadError(IzdatError, ValueError):
    """A scenario, population, year range or edge list that cannot be simulated."""


class LineageError(IzdatError, ValueError):
    """A lineage database that is missing or corrupt, or a copy id it does not hold."""
