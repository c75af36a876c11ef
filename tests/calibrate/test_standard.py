"""The quant config group becomes the quantizer's settings, or a clear error before any work."""

from __future__ import annotations

import logging

import pytest
import torch
from omegaconf import OmegaConf

from esc.calibrate.standard import collect_statistics, quant_config
from esc.data.datamodule import EmptyCalibrationError
from esc.models.classifier import AudioClassifierAdapter
from esc.quant import quantize
from esc.quant.bits import is_float
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


def _batch(peaks: list[float]) -> dict:
    """One-second clips of noise scaled to each peak."""
    noise = torch.rand(len(peaks), 16000, generator=torch.Generator().manual_seed(3)) * 2 - 1
    waveforms = noise / noise.abs().amax(dim=1, keepdim=True) * torch.tensor(peaks)[:, None]
    lengths = torch.full((len(peaks),), 16000)
    return {"waveforms": waveforms, "lengths": lengths, "targets": ["yes"] * len(peaks)}


@pytest.fixture
def quantized_tiny_ast(tiny_ast_dir) -> AudioClassifierAdapter:
    adapter = AudioClassifierAdapter.load(str(tiny_ast_dir)).eval()
    quantize(adapter.model, quant_config(compose_config("run", ["quant=w4a4"]).quant))
    return adapter


def test_a_calibration_set_of_silence_only_is_refused(quantized_tiny_ast) -> None:
    with pytest.raises(EmptyCalibrationError, match="all 3 calibration clips are silent"):
        collect_statistics(quantized_tiny_ast, [_batch([0.0, 1e-6]), _batch([2.0**-16])])


def test_a_loader_without_clips_is_refused_as_empty(quantized_tiny_ast) -> None:
    with pytest.raises(EmptyCalibrationError, match="yielded no clip"):
        collect_statistics(quantized_tiny_ast, [])


def test_silent_clips_among_others_are_counted_in_a_warning(quantized_tiny_ast, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="esc.calibrate.standard"):
        clips = collect_statistics(quantized_tiny_ast, [_batch([0.0, 0.5]), _batch([0.3, 0.0, 2.0**-14])])
    assert clips == 5
    assert "2 of 5 calibration clips are silent" in caplog.text
