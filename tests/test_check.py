"""izdat._check: one way to check a setting (TypeError for the wrong kind, izdat's ValueError for a bad value)."""

import math

import pytest

from izdat._check import check_int, check_number
from izdat.errors import GrooveError, IzdatError


@pytest.mark.parametrize("value", ["78", None, True, [78], 78j])
def test_the_wrong_kind_is_a_type_error_and_izdat_s_own(value):
    with pytest.raises(TypeError) as info:
        check_number("rpm", value, 5, 200, "rev/min", error=GrooveError)
    assert isinstance(info.value, GrooveError) and isinstance(info.value, IzdatError)
    assert str(info.value).startswith("rpm must be a number between 5 and 200 rev/min, not ")


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 4.999, 200.001, 10**400])
def test_a_bad_value_is_a_value_error_naming_the_range(value):
    with pytest.raises(GrooveError) as info:
        check_number("rpm", value, 5, 200, "rev/min", error=GrooveError)
    assert isinstance(info.value, ValueError) and not isinstance(info.value, TypeError)
    assert "rpm must be between 5 and 200 rev/min" in str(info.value)


def test_values_are_returned_as_float_and_int_at_the_bounds():
    assert check_number("x", 5, 5, 200) == 5.0 and type(check_number("x", 200, 5, 200)) is float
    assert check_int("n", 3, 1, 3) == 3
    with pytest.raises(TypeError):
        check_int("n", 3.0, 1, 3)


def test_a_huge_or_long_value_is_shown_short():
    with pytest.raises(IzdatError) as info:
        check_int("n", 10**5000, 1, 5)          # repr() of this int itself raises in Python 3.11
    assert "more than 4300 digits" in str(info.value) and len(str(info.value)) < 100
    with pytest.raises(IzdatError) as info:
        check_number("rpm", "x" * 10_000, 5, 200)
    assert len(str(info.value)) < 120
