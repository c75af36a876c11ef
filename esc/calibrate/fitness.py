"""ESC's model-level fitness: how far the quantized outputs are from the cached float outputs.

The float outputs of the calibration clips are computed once. A population of P candidate
scale vectors is scored in batched forwards of the clip batch repeated P times (candidate-major),
chunked so that one forward holds at most `chunk_rows` rows. A forward that runs out of memory halves
`chunk_rows` for the rest of the run and is retried, so the chunk size finds what the device holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import partial

import torch
from torch.utils.data import DataLoader

from esc.calibrate.precision import cuda_float32_matmuls
from esc.config import is_whole_number
from esc.models.adapter import SpeechAdapter, first_targets
from esc.quant import population_scales, quant_enabled

log = logging.getLogger(__name__)


def position_mean(values: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean per row over the positions (every axis after the first) that `mask` keeps; all where None."""
    values = values.reshape(values.shape[0], -1)
    if mask is None:
        return values.mean(dim=1)
    kept = mask.reshape(mask.shape[0], -1).to(values.dtype)
    return (values * kept).sum(dim=1) / kept.sum(dim=1).clamp(min=1)


def peaked_log_softmax(scores: torch.Tensor) -> torch.Tensor:
    """log_softmax over the last axis, exact where the posterior is nearly one-hot.

    log_softmax subtracts log(1 + s), s the other classes' mass relative to the top one, and in float32
    1 + s rounds to 1 once s < 6e-8: the top class's log-probability becomes 0, and a KL between two
    confident posteriors (a trained speaker classifier's, at its training scale) drowns in rounding, even
    below zero. log1p(s) keeps s.
    """
    shifted = scores - scores.amax(dim=-1, keepdim=True)
    others = shifted.exp().scatter_(-1, shifted.argmax(dim=-1, keepdim=True), 0.0).sum(dim=-1, keepdim=True)
    return shifted - torch.log1p(others)


def kl_rows(
    quantized: torch.Tensor, reference: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """KL(float ‖ quantized) of the output posteriors, averaged over the frames/tokens that `mask` keeps."""
    log_q = peaked_log_softmax(quantized.float())
    log_p = peaked_log_softmax(reference.float())
    return position_mean((log_p.exp() * (log_p - log_q)).sum(dim=-1), mask)


def mse_rows(
    quantized: torch.Tensor, reference: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean squared error per row between quantized and float outputs (or embeddings); with a `mask` of
    their frames/tokens, over the kept ones only."""
    squared = (quantized.float() - reference.float()).pow(2)
    return position_mean(squared if mask is None else squared.mean(dim=-1), mask)


@dataclass(frozen=True)
class FitnessKind:
    """Which outputs a fitness compares, what it caches from the float model, and the row loss (given the
    mask of the output positions that carry each clip, or None)."""

    outputs: Callable[[SpeechAdapter, dict], torch.Tensor]
    reference: Callable[[SpeechAdapter, dict, list[str]], torch.Tensor]
    rows: Callable[[SpeechAdapter, torch.Tensor, dict, torch.Tensor, torch.Tensor | None], torch.Tensor]


FITNESS: dict[str, FitnessKind] = {
    "kl": FitnessKind(
        lambda a, x: a.posterior_logits(x),
        lambda a, x, t: a.posterior_logits(x),
        lambda a, q, x, r, m: kl_rows(q, r, m),
    ),
    "mse": FitnessKind(
        lambda a, x: a.embeddings(x), lambda a, x, t: a.embeddings(x), lambda a, q, x, r, m: mse_rows(q, r, m)
    ),
    "task": FitnessKind(
        lambda a, x: a.logits(x),
        lambda a, x, t: a.references(t),
        # In float32, as kl_rows and mse_rows score: bfloat16 logits would round each loss to 8 bits.
        lambda a, q, x, r, m: a.per_example_loss(q.float(), x, r),
    ),
}


def repeat_rows(value: torch.Tensor, times: int) -> torch.Tensor:
    """The batch repeated `times` times along rows, candidate-major."""
    return value.repeat(times, *([1] * (value.dim() - 1)))


def check_fitness_settings(kind: str, chunk_rows: int) -> None:
    """Refuse an unknown `es.fitness` or an `es.chunk_rows` that holds no row, naming the value."""
    if kind not in FITNESS:
        raise ValueError(f"es.fitness={kind!r} is unknown; choose one of {sorted(FITNESS)}")
    if not is_whole_number(chunk_rows) or chunk_rows < 1:
        raise ValueError(
            f"es.chunk_rows={chunk_rows!r} must be an integer ≥ 1: it is the rows (clips × candidates) of "
            "one forward"
        )


def check_fitness_targets(kind: str, adapter: SpeechAdapter, targets: list[str]) -> None:
    """Refuse, by name, a task fitness that cannot score these calibration clips: it compares the quantized
    model with their labels, so transcripts or labels outside the model's classes (a speaker model's
    calibration speakers, trained on others) would otherwise stop it with a bare error mid-calibration."""
    if kind != "task":
        return
    unknown = adapter.targets_without_a_class(targets)
    if unknown:
        raise ValueError(
            f"es.fitness=task scores calibration clips against their labels, but {len(unknown)} of their "
            f"labels ({first_targets(unknown)}) are not classes of the model; use es.fitness=kl or "
            "es.fitness=mse, which compare with the float model's outputs and need no label"
        )
    if not isinstance(adapter.references(targets[:1]), torch.Tensor):
        raise ValueError(
            "es.fitness=task needs class targets, but this model's targets are transcripts; use "
            "es.fitness=kl or es.fitness=mse for ASR models"
        )


def _numbered_parts(adapter: SpeechAdapter, loader: DataLoader) -> Iterator[tuple[int, dict]]:
    """The adapter's scored batches of `loader`, each with the number of the loader batch it came from."""
    for number, batch in enumerate(loader, start=1):
        for part in adapter.scored_batches([batch]):
            yield number, part


FitnessBatch = tuple[dict, torch.Tensor, torch.Tensor | None]  # model inputs, float reference, output mask
RowLoss = Callable[[torch.Tensor, dict, torch.Tensor, torch.Tensor | None], torch.Tensor]


class PopulationFitness:
    """Scores candidate scale vectors on fixed batches against their cached float references.

    `outputs` runs the quantized model on a batch's inputs, and `rows` turns its outputs into one loss per
    row. The forwards run inside `precision()` (see esc.calibrate.precision); the references were computed
    outside it (IEEE float32 outputs, or labels). ESC builds one with `on_clips`; benchmarks/bench.py builds
    one on random inputs, so that it times this code.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        outputs: Callable[[dict], torch.Tensor],
        rows: RowLoss,
        batches: list[FitnessBatch],
        chunk_rows: int,
        precision: Callable[[], AbstractContextManager] = nullcontext,
    ) -> None:
        self.model = model
        self.outputs = outputs
        self.rows = rows
        self.batches = batches
        self.chunk_rows = chunk_rows
        self.precision = precision
        self.clips = sum(len(reference) for _, reference, _ in batches)
        if not self.clips:
            raise ValueError("the ESC fitness set is empty: no calibration clip to score candidates on")

    @classmethod
    def on_clips(
        cls,
        adapter: SpeechAdapter,
        loader: DataLoader,
        kind: str,
        chunk_rows: int,
        precision: Callable[[], AbstractContextManager] = nullcontext,
    ) -> PopulationFitness:
        """The `es.fitness` named `kind` on the clips of `loader`, their float references computed once, in
        IEEE float32 on every device (CUDA would otherwise run cuDNN's convolutions in TF32)."""
        check_fitness_settings(kind, chunk_rows)
        fitness_kind = FITNESS[kind]
        batches = []
        with torch.no_grad(), quant_enabled(adapter.model, False), cuda_float32_matmuls("ieee"):
            for number, batch in _numbered_parts(adapter, loader):
                inputs = adapter.reference_inputs(adapter.features(batch["waveforms"], batch["lengths"]))
                check_fitness_targets(kind, adapter, batch["targets"])
                reference = fitness_kind.reference(adapter, inputs, batch["targets"])
                if not torch.isfinite(reference).all():
                    raise FloatingPointError(
                        f"the float model's es.fitness={kind} reference is NaN or Inf on calibration batch "
                        f"{number} of {len(loader)}: the float model itself overflows on those clips; check "
                        "the model's weights and the clips' levels"
                    )
                # Frames and tokens past a clip's end would dilute its loss by the batch's longest clip.
                batches.append((inputs, reference, adapter.output_mask(inputs, batch["lengths"])))
        return cls(
            adapter.model,
            partial(fitness_kind.outputs, adapter),
            partial(fitness_kind.rows, adapter),
            batches,
            chunk_rows,
            precision,
        )

    @torch.no_grad()
    def __call__(self, candidates: torch.Tensor) -> torch.Tensor:
        """Mean fitness over the clips for each row of `candidates` (P, N); lower is better."""
        total = torch.zeros(len(candidates), dtype=torch.float64)
        for inputs, reference, mask in self.batches:
            rows = len(reference)
            start = 0
            while start < len(candidates):
                chunk = candidates[start : start + max(1, self.chunk_rows // rows)]
                try:
                    losses = self.chunk_losses(inputs, reference, mask, chunk)
                except torch.OutOfMemoryError:
                    self.shrink_chunk(rows, len(chunk))
                    continue
                total[start : start + len(chunk)] += losses
                start += len(chunk)
        if not torch.isfinite(total).all():
            raise FloatingPointError(
                f"ESC fitness is NaN or Inf for {int((~torch.isfinite(total)).sum())} of {len(candidates)} "
                "candidates, though the float references are finite: the quantized forward overflows at "
                "those scales; try es.precision=fp32 or smaller es.bounds"
            )
        return total / self.clips

    def chunk_losses(
        self, inputs: dict, reference: torch.Tensor, mask: torch.Tensor | None, chunk: torch.Tensor
    ) -> torch.Tensor:
        """Summed loss over this batch's clips for each candidate of `chunk`, in one forward."""
        rows = len(reference)
        repeated = {k: repeat_rows(v, len(chunk)) for k, v in inputs.items()}
        with population_scales(self.model, chunk), self.precision():
            outputs = self.outputs(repeated)
        if mask is not None:
            mask = repeat_rows(mask, len(chunk))
        losses = self.rows(outputs, repeated, repeat_rows(reference, len(chunk)), mask)
        return losses.reshape(len(chunk), rows).sum(dim=1).double().cpu()

    def shrink_chunk(self, rows: int, candidates: int) -> None:
        """After an out-of-memory forward of `candidates` × `rows`, halve the rows per forward for good."""
        if candidates == 1:
            raise torch.OutOfMemoryError(
                f"one candidate on a batch of {rows} clips does not fit in memory; lower data.batch_size"
            )
        self.chunk_rows = rows * (candidates // 2)
        log.warning("ESC forward ran out of memory: es.chunk_rows lowered to %d", self.chunk_rows)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
