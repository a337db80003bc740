"""One way to check a setting: the right kind (``TypeError``) and a finite value in range (izdat's own ``ValueError``)."""

from __future__ import annotations

import math
import sys
import numbers

from izdat.errors import IzdatError

__all__ = ["check_number", "check_int"]


def check_number(name: str, value, lo: float, hi: float, unit: str = "", *,
                 error: type[IzdatError] = IzdatError) -> float:
    """Return ``value`` as a float if it is a real number within ``lo``…``hi`` (inclusive).

    Raises ``TypeError`` (as ``error``, which is also a ``TypeError``) for something that is not a
    number (a bool, a string, None) and ``error`` (an :class:`IzdatError` and ``ValueError``) for NaN,
    infinity or a value outside the range; the message names the parameter, the range and its unit.
    """
    unit_text = f" {unit}" if unit else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _typed(error)(f"{name} must be a number between {lo:g} and {hi:g}{unit_text}, not {_shown(value)}")
    try:
        number = float(value)
    except (OverflowError, ValueError):
        number = math.inf
    if not math.isfinite(number) or not lo <= number <= hi:
        raise error(f"{name} must be between {lo:g} and {hi:g}{unit_text}, not {_shown(value)}")
    return number


def check_int(name: str, value, lo: int, hi: int, unit: str = "", *,
              error: type[IzdatError] = IzdatError) -> int:
    """Like :func:`check_number`, for a whole number (an ``int`` or an integral NumPy scalar)."""
    unit_text = f" {unit}" if unit else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise _typed(error)(f"{name} must be a whole number between {lo} and {hi}{unit_text}, not {_shown(value)}")
    if not lo <= int(value) <= hi:
        raise error(f"{name} must be between {lo} and {hi}{unit_text}, not {_shown(value)}")
    return int(value)


def _shown(value) -> str:
    """``value`` as a message shows it: its repr, cut short (a 5000-digit int's repr itself raises)."""
    try:
        text = repr(value)
    except ValueError:              # int too large to turn into a string (Python's 4300-digit guard)
        return f"an integer of more than {sys.get_int_max_str_digits() or 4300} digits"
    return text if len(text) <= 40 else text[:37] + "..."


def _typed(error: type[IzdatError]) -> type:
    """``error`` made a ``TypeError`` too, so the wrong kind is both izdat's error and Python's."""
    if issubclass(error, TypeError):
        return error
    return _TYPED.setdefault(error, type(error.__name__, (error, TypeError), {"__module__": error.__module__}))


_TYPED: dict[type, type] = {}
