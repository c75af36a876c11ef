"""Running a weight-PTQ method over every quantized layer of a model, from one calibration pass."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import torch
from omegaconf import DictConfig
from torch import nn
from torch.utils.data import DataLoader

from esc.config import plain_options
from esc.models.adapter import SpeechAdapter
from esc.ptq.adaround import adaround
from esc.ptq.gptq import gptq_round, hessian_update
from esc.ptq.layer_inputs import observing_inputs, rounding_layers, weight_matrix
from esc.quant import quant_enabled

log = logging.getLogger(__name__)


class HessianStatistics:
    """GPTQ's per-layer 2·E[xᵀx], accumulated batch by batch."""

    def __init__(self) -> None:
        self.hessians: dict[str, tuple[torch.Tensor, int]] = {}

    def __call__(self, name: str, rows: torch.Tensor) -> None:
        hessian, seen = self.hessians.get(name, (None, 0))
        self.hessians[name] = hessian_update(hessian, rows, seen)

    def round(self, name: str, layer: nn.Module, options: dict) -> torch.Tensor:
        quantizer = layer.weight_quantizer
        return gptq_round(
            weight_matrix(layer), self.hessians[name][0], quantizer.scale, *quantizer.grid, **options
        )


class SampledRows:
    """AdaRound's per-layer input rows: a seeded sample of at most `max_rows`, so memory stays bounded."""

    def __init__(self, max_rows: int = 4096, seed: int = 0) -> None:
        self.max_rows = max_rows
        self.generator = torch.Generator().manual_seed(seed)
        self.rows: dict[str, torch.Tensor] = {}

    def __call__(self, name: str, rows: torch.Tensor) -> None:
        kept = torch.cat([self.rows[name], rows]) if name in self.rows else rows
        if len(kept) > self.max_rows:
            kept = kept[torch.randperm(len(kept), generator=self.generator)[: self.max_rows]]
        self.rows[name] = kept

    def round(self, name: str, layer: nn.Module, options: dict) -> torch.Tensor:
        quantizer = layer.weight_quantizer
        return adaround(weight_matrix(layer), self.rows[name], quantizer.scale, *quantizer.grid, **options)[0]


METHODS: dict[str, Callable[[dict], HessianStatistics | SampledRows]] = {
    "gptq": lambda options: HessianStatistics(),
    "adaround": lambda options: SampledRows(options.pop("max_rows", 4096), options.get("seed", 0)),
}


@torch.no_grad()
def _observe(adapter: SpeechAdapter, loader: DataLoader, layers: dict, statistics, quantized: bool) -> None:
    with observing_inputs(layers, statistics, quantized):
        for batch in loader:
            adapter.predict(adapter.features(batch["waveforms"], batch["lengths"]))


def apply_ptq(
    adapter: SpeechAdapter, loader: DataLoader, ptq_cfg: DictConfig, activations_quantized: bool
) -> float:
    """Round every quantized layer's weights with `ptq.name`; returns the seconds it took.

    Weights-first (the default) observes float inputs; activations-first observes the quantized ones.
    """
    if ptq_cfg.name not in METHODS:
        raise ValueError(f"ptq={ptq_cfg.name!r} is unknown; choose one of {sorted(METHODS)} or none")
    started = time.perf_counter()
    options = plain_options(ptq_cfg.get("options"))
    statistics = METHODS[ptq_cfg.name](options)
    layers = rounding_layers(adapter.model)
    if activations_quantized:
        _observe(adapter, loader, layers, statistics, quantized=True)
    else:
        with quant_enabled(adapter.model, False):
            _observe(adapter, loader, layers, statistics, quantized=False)
    with torch.enable_grad():
        for name, layer in layers.items():
            rounded = statistics.round(name, layer, dict(options))
            layer.weight_quantizer.set_quantized_weight(
                rounded.reshape(layer.weight.shape).to(layer.weight.dtype)
            )
    seconds = time.perf_counter() - started
    log.info("%s rounded %d layers in %.1f s", ptq_cfg.name, len(layers), seconds)
    return seconds
