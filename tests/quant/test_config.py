"""QuantConfig defaults, validation and serialisation."""

import dataclasses
import json

import pytest

from esc.quant import QuantConfig


def test_defaults_are_8_bit_symmetric_minmax_with_nothing_kept_float() -> None:
    config = QuantConfig()
    assert (config.w_bits, config.a_bits, config.a_symmetric) == (8, 8, True)
    assert (config.weight_calibrator, config.keep_float, config.hist_bins) == ("minmax", [], 2048)


def test_config_round_trips_through_asdict_and_json() -> None:
    config = QuantConfig(
        w_bits=4, a_bits=16, a_symmetric=False, weight_calibrator="mse", keep_float=["lm_head"]
    )
    assert QuantConfig(**json.loads(json.dumps(dataclasses.asdict(config)))) == config


@pytest.mark.parametrize(("field", "value"), [("w_bits", 1), ("a_bits", 17), ("w_bits", 0)])
def test_bits_outside_range_raise_naming_field_and_value(field: str, value: int) -> None:
    with pytest.raises(ValueError, match=f"{field}={value} is outside the allowed range 2..16"):
        QuantConfig(**{field: value})


def test_unknown_weight_calibrator_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="unknown weight calibrator 'entropy'; valid names: minmax, mse"):
        QuantConfig(weight_calibrator="entropy")


def test_activation_scheme_follows_a_symmetric() -> None:
    assert QuantConfig().activation_scheme == "symmetric"
    assert QuantConfig(a_symmetric=False).activation_scheme == "asymmetric"


def test_too_few_histogram_bins_raise() -> None:
    with pytest.raises(ValueError, match="hist_bins=1"):
        QuantConfig(hist_bins=1)
