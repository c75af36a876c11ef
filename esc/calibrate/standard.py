"""Quantize a model and set its activation scales with a standard calibrator (minmax, percentile, mse, kl)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from omegaconf import DictConfig
from torch.utils.data import DataLoader

from esc.config import plain_options
from esc.data.datamodule import EmptyCalibrationError
from esc.models.adapter import SpeechAdapter
from esc.quant import QuantConfig, calibrate_activations, collecting_statistics

log = logging.getLogger(__name__)

# Below one step of 16-bit audio: such a clip holds no signal for the activation ranges to describe.
SILENT_PEAK = 2.0**-15


@dataclass
class CalibrationResult:
    """What a calibration cost and, for ESC, how far its search went."""

    seconds: float
    n_calib: int
    fitness_evals: int = 0
    fitness_init: float | None = None
    fitness_best: float | None = None


def quant_config(quant_cfg: DictConfig) -> QuantConfig:
    """The `quant/` config group as the quantizer's dataclass, which refuses impossible settings.

    A pattern given on the command line as `quant.keep_float=classifier*` is one string, which `list` would
    split into one-letter patterns that match nothing: it is refused with the list form. Other refusals name
    the quant group, since QuantConfig's own messages name only its fields.
    """
    if isinstance(quant_cfg.keep_float, str):
        raise ValueError(
            f"quant.keep_float={quant_cfg.keep_float!r} is one string, not a list of patterns; "
            f"write quant.keep_float='[{quant_cfg.keep_float}]'"
        )
    try:
        return QuantConfig(
            w_bits=quant_cfg.w_bits,
            a_bits=quant_cfg.a_bits,
            a_symmetric=quant_cfg.a_symmetric,
            weight_calibrator=quant_cfg.weight_calibrator,
            keep_float=list(quant_cfg.keep_float),
            hist_bins=quant_cfg.hist_bins,
        )
    except ValueError as error:
        # QuantConfig names its own fields (a_bits); the command line reaches them as quant.a_bits.
        raise ValueError(f"quant config group (set as quant.<field>): {error}") from None


def collect_statistics(adapter: SpeechAdapter, loader: DataLoader) -> int:
    """Every activation quantizer's statistics from one inference pass over the calibration clips; returns
    the clip count.

    Silence gives ranges of the model's response to nothing, and every scale set from them would clip real
    speech: a calibration set of silent clips only is refused, and silent clips among others are counted
    in a warning.
    """
    silent = 0

    def counting_silence(batches: Iterable[dict]) -> Iterator[dict]:
        nonlocal silent
        for batch in batches:
            silent += int((batch["waveforms"].abs().amax(dim=-1) < SILENT_PEAK).sum())  # padding is zeros
            yield batch

    with collecting_statistics(adapter.model):
        clips = adapter.infer_clips(counting_silence(loader))
    if clips == 0:
        raise EmptyCalibrationError("the calibration loader yielded no clip; check data.calib_size")
    if silent == clips:
        raise EmptyCalibrationError(
            f"all {clips} calibration clips are silent (peak below 2^-15): the activation ranges would "
            "describe silence; check the clips under data.root"
        )
    if silent:
        log.warning("%d of %d calibration clips are silent (peak below 2^-15)", silent, clips)
    return clips


def calibrate_standard(
    adapter: SpeechAdapter, loader: DataLoader, calibrator_cfg: DictConfig
) -> CalibrationResult:
    """Gather statistics of the quantized model once, and let the named calibrator set every scale."""
    started = time.perf_counter()
    clips = collect_statistics(adapter, loader)
    calibrate_activations(adapter.model, calibrator_cfg.name, **plain_options(calibrator_cfg.get("options")))
    return CalibrationResult(seconds=time.perf_counter() - started, n_calib=clips)
