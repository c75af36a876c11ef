"""The quant config group becomes the quantizer's settings, or a clear error before any work."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from esc.calibrate.standard import is_float, quant_config
from tests.test_configs import compose_config


def test_the_shipped_quant_configs_become_quantizer_settings():
    for name, bits, floating in (("w4a4", (4, 4), False), ("w8a8", (8, 8), False), ("fp", (16, 16), True)):
        quant = compose_config("run", [f"quant={name}"]).quant
        settings = quant_config(quant)
        assert (settings.w_bits, settings.a_bits) == bits and is_float(quant) is floating


def test_keep_float_given_as_one_string_is_refused_with_the_list_form():
    quant = compose_config("run", ["quant=w4a4"]).quant
    quant.keep_float = "classifier*"
    with pytest.raises(
        ValueError, match=r"quant.keep_float='classifier\*' is one string.*'\[classifier\*\]'"
    ):
        quant_config(quant)
    quant.keep_float = OmegaConf.create(["classifier*"])
    assert quant_config(quant).keep_float == ["classifier*"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("a_bits", 1, "a_bits=1 is outside"),
        ("hist_bins", 1, "hist_bins=1"),
        ("weight_calibrator", "kl", "unknown weight calibrator 'kl'"),
    ],
)
def test_an_impossible_setting_is_refused_naming_the_quant_group(field: str, value, message: str) -> None:
    quant = compose_config("run", ["quant=w4a4"]).quant
    quant[field] = value
    with pytest.raises(ValueError, match=rf"quant config group \(set as quant.<field>\): .*{message}"):
        quant_config(quant)
