"""Running a weight-PTQ method over every quantized layer of a model, from one calibration pass."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from omegaconf import DictConfig
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from esc.config import is_whole_number, plain_options
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

    def __call__(self, name: str, rows: torch.Tensor, float_rows: torch.Tensor | None = None) -> None:
        """GPTQ's objective is the output error on the inputs the layer will see: `float_rows` is unused."""
        hessian, seen = self.hessians.get(name, (None, 0))
        self.hessians[name] = hessian_update(hessian, rows, seen)

    def __contains__(self, name: str) -> bool:
        return name in self.hessians

    def round(self, name: str, layer: nn.Module, options: dict) -> torch.Tensor:
        """The layer's GPTQ-rounded weight matrix; its Hessian is freed."""
        quantizer = layer.weight_quantizer
        hessian, _ = self.hessians.pop(name)
        return gptq_round(weight_matrix(layer), hessian, quantizer.scale, *quantizer.grid, **options)


# AdaRound's input rows kept per layer when the config names none.
DEFAULT_MAX_ROWS = 16384


class SampledRows:
    """AdaRound's per-layer input rows: a seeded uniform sample of at most `max_rows`, for bounded memory.

    Every row draws a random key and the `max_rows` smallest keys stay, so each row seen has the same chance
    whatever batch it came in. With `float_rows` (the float model's inputs at the same positions), the same
    rows of both are kept.
    """

    def __init__(self, max_rows: int = DEFAULT_MAX_ROWS, seed: int = 0) -> None:
        self.max_rows = max_rows
        self.generator = torch.Generator().manual_seed(seed)
        self.rows: dict[str, tuple[torch.Tensor, list[torch.Tensor]]] = {}

    def __call__(self, name: str, rows: torch.Tensor, float_rows: torch.Tensor | None = None) -> None:
        parts = [rows] if float_rows is None else [rows, float_rows]
        keys = torch.rand(len(rows), generator=self.generator)
        if name in self.rows:
            kept_keys, kept_parts = self.rows[name]
            keys = torch.cat([kept_keys, keys])
            parts = [torch.cat(pair) for pair in zip(kept_parts, parts, strict=True)]
        if len(keys) > self.max_rows:
            picked = keys.topk(self.max_rows, largest=False).indices
            keys, parts = keys[picked], [part[picked] for part in parts]
        self.rows[name] = keys, parts

    def __contains__(self, name: str) -> bool:
        return name in self.rows

    def round(self, name: str, layer: nn.Module, options: dict) -> torch.Tensor:
        """The layer's AdaRound-rounded weight matrix, fit on its sampled rows; the rows are freed."""
        quantizer = layer.weight_quantizer
        _, (rows, *float_rows) = self.rows.pop(name)
        targets = float_rows[0] if float_rows else None
        return adaround(
            weight_matrix(layer), rows, quantizer.scale, *quantizer.grid, float_rows=targets, **options
        )[0]


LayerStatistics = HessianStatistics | SampledRows  # what a method gathers per layer, then rounds from


# An option's rule: a test of its value, and what the value must be, for the refusal.
Rule = tuple[Callable[[float], bool], str]
AT_LEAST_ONE: Rule = (lambda value: is_whole_number(value) and value >= 1, "an integer ≥ 1")
POSITIVE: Rule = (lambda value: value > 0, "> 0")
NOT_NEGATIVE: Rule = (lambda value: value >= 0, "≥ 0")


@dataclass(frozen=True)
class PtqMethod:
    """What a method gathers per layer, and the rules of the options its rounding takes."""

    statistics: Callable[[dict], LayerStatistics]
    options: dict[str, Rule]


METHODS: dict[str, PtqMethod] = {
    # damp > 0: a layer that sees fewer calibration rows than inputs (ECAPA's fc on 32 clips) has a singular
    # Hessian, and without damping its Cholesky factorisation fails.
    "gptq": PtqMethod(lambda options: HessianStatistics(), {"damp": POSITIVE, "block": AT_LEAST_ONE}),
    "adaround": PtqMethod(
        lambda options: SampledRows(options.pop("max_rows", DEFAULT_MAX_ROWS), options.get("seed", 0)),
        {
            "iters": AT_LEAST_ONE,
            "lr": POSITIVE,
            "reg": NOT_NEGATIVE,
            "beta_start": POSITIVE,
            "beta_end": POSITIVE,
            "warmup": (lambda value: 0 <= value < 1, "in [0, 1): a fraction of the iterations"),
            "batch_rows": AT_LEAST_ONE,
            "max_rows": AT_LEAST_ONE,
            "seed": (is_whole_number, "an integer"),
        },
    ),
}
PTQ_ORDERS = ("weights_first", "activations_first")


def check_ptq(ptq_cfg: DictConfig) -> None:
    """Refuse an unknown method, order or option, or an option value that cannot round, before any work.

    An order other than weights_first used to mean activations-first silently: a typo changed the method.
    The order is checked under ptq=none too, where it rounds nothing, so that a typo in a sweep over
    methods is refused on its first job.
    """
    if ptq_cfg.name != "none" and ptq_cfg.name not in METHODS:
        raise ValueError(f"ptq={ptq_cfg.name!r} is unknown; choose one of {sorted(METHODS)} or none")
    if ptq_cfg.order not in PTQ_ORDERS:
        raise ValueError(f"ptq.order={ptq_cfg.order!r} is unknown; choose one of {', '.join(PTQ_ORDERS)}")
    if ptq_cfg.name == "none":
        return
    rules = METHODS[ptq_cfg.name].options
    for name, value in plain_options(ptq_cfg.get("options")).items():
        if name not in rules:
            raise ValueError(
                f"ptq.options.{name} is not an option of ptq={ptq_cfg.name}; it takes {', '.join(rules)}"
            )
        holds, must = rules[name]
        if not holds(value):
            raise ValueError(f"ptq.options.{name}={value} must be {must}")


def _layer_rows(
    adapter: SpeechAdapter, inputs: dict, name: str, layer: nn.Module, quantized: bool
) -> torch.Tensor | None:
    """The rows one layer sees in one scoring forward pass, its input quantizer applied when `quantized`;
    None when the forward does not reach it."""
    seen: list[torch.Tensor] = []
    with (
        quant_enabled(adapter.model, quantized),
        observing_inputs({name: layer}, lambda _, rows: seen.append(rows), quantized),
    ):
        adapter.logits(inputs)
    return torch.cat(seen) if seen else None


@torch.no_grad()
def _observe_paired(
    adapter: SpeechAdapter, loader: DataLoader, name: str, layer: nn.Module, statistics: LayerStatistics
) -> None:
    """The layer's inputs in the quantized model, paired with the float model's at the same positions.

    Both passes score the same inputs: a decoder is teacher-forced on the float model's own transcript,
    since two generations (float, quantized) can decode other tokens, or other lengths, row by row.
    """
    for batch in adapter.watched_batches(loader):
        with quant_enabled(adapter.model, False):
            inputs = adapter.reference_inputs(adapter.features(batch["waveforms"], batch["lengths"]))
        float_rows = _layer_rows(adapter, inputs, name, layer, quantized=False)
        if float_rows is not None:
            statistics(name, _layer_rows(adapter, inputs, name, layer, quantized=True), float_rows)


def _set_rounding(statistics: LayerStatistics, name: str, layer: nn.Module, options: dict) -> None:
    with torch.enable_grad():
        rounded = statistics.round(name, layer, dict(options))
    layer.weight_quantizer.set_quantized_weight(rounded.reshape(layer.weight.shape).to(layer.weight.dtype))


def apply_ptq(
    adapter: SpeechAdapter, loader: DataLoader, ptq_cfg: DictConfig, activations_quantized: bool
) -> float:
    """Round every quantized layer's weights with `ptq.name`; returns the seconds it took.

    Weights-first (the default) rounds every layer on its float inputs, from one pass. Activations-first
    rounds the layers in order, each on its inputs in the quantized model (upstream layers already rounded)
    with the float model's output as AdaRound's target: the rounding then also absorbs the activation error
    that reaches the layer. That costs two calibration passes per layer. A layer that no calibration
    forward reaches (a head the model's inference skips) keeps its round-to-nearest weight, with a warning,
    as activation calibration skips its quantizer.
    """
    check_ptq(ptq_cfg)
    started = time.perf_counter()
    options = plain_options(ptq_cfg.get("options"))
    statistics = METHODS[ptq_cfg.name].statistics(options)
    layers = rounding_layers(adapter.model)
    if not activations_quantized:  # one float pass: every layer's float input rows at once
        with quant_enabled(adapter.model, False), observing_inputs(layers, statistics, quantized=False):
            adapter.infer_clips(loader)
    unreached = []
    for name, layer in tqdm(layers.items(), desc=ptq_cfg.name, unit="layer", dynamic_ncols=True):
        if activations_quantized:
            _observe_paired(adapter, loader, name, layer, statistics)
        if name in statistics:
            _set_rounding(statistics, name, layer, options)
        else:
            unreached.append(name)
    if unreached:
        log.warning(
            "no calibration data reached %d layers, whose weights stay round-to-nearest: %s",
            len(unreached),
            unreached,
        )
    seconds = time.perf_counter() - started
    log.info("%s rounded %d layers in %.1f s", ptq_cfg.name, len(layers), seconds)
    return seconds
