"""Bit-width validation and integer grids."""

import re

import pytest

from esc.quant.bits import check_bits, integer_grid, is_float


@pytest.mark.parametrize("bits", [2, 3, 4, 8, 12, 16])
def test_widths_from_2_to_16_are_accepted(bits: int) -> None:
    assert check_bits("a_bits", bits) == bits


@pytest.mark.parametrize("bits", [0, 1, 17, 32, -8, 2.5, True, "8"])
def test_widths_outside_2_to_16_raise_naming_setting_value_and_range(bits: object) -> None:
    with pytest.raises(ValueError, match=re.escape(f"w_bits={bits!r} is outside the allowed range 2..16")):
        check_bits("w_bits", bits)


@pytest.mark.parametrize(
    ("quant", "named"),
    [
        ({"w_bits": 4, "a_bits": None}, "quant.a_bits=None"),
        ({"w_bits": "4bit", "a_bits": 4}, "quant.w_bits='4bit'"),
    ],
)
def test_whether_a_quant_setting_is_float_refuses_a_width_that_is_not_one_by_name(quant, named) -> None:
    """esc-run asks this first (for the run's config hash): a typo must not surface as a bare TypeError."""
    with pytest.raises(ValueError, match=re.escape(named)):
        is_float(quant)


def test_symmetric_grid_is_narrow_signed_so_it_mirrors_around_zero() -> None:
    assert integer_grid(8, "symmetric") == (-127, 127)
    assert integer_grid(2, "symmetric") == (-1, 1)


def test_unsigned_and_asymmetric_grids_start_at_zero() -> None:
    assert integer_grid(8, "unsigned") == (0, 255)
    assert integer_grid(4, "asymmetric") == (0, 15)


def test_unknown_scheme_raises_listing_valid_schemes() -> None:
    with pytest.raises(ValueError, match="symmetric, asymmetric, unsigned"):
        integer_grid(8, "signed")
