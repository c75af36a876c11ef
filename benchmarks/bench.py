"""`make bench`: fake-quantization overhead and ESC throughput, as ratios measured within one run.

For each model it times, on one calibration batch: the statistics pass and the MSE calibration, the float
forward, the fake-quantized forward (W4A4, MSE scales), and ESC's own fitness (its PopulationFitness, KL of
the logits) on a population batched into one forward, and on the same population candidate by candidate.
The embedded models are measured on a batch of 256 one-second noise clips, their calibration set's size
(timing needs shapes, not speech: the corpora need not exist); the paper-scale geometries on
`--clips` (8 on a CPU, where 256 clips of AST-base take half a minute per forward). A population is
evaluated in forwards of at most `--chunk-rows` rows, as ESC does. On a GPU every model is measured at each
es.precision: float32, TF32 and bf16 autocast.
Results go to results/bench/<device>.json.
"""

from __future__ import annotations

# First, before anything allocates: it prepares CPU memory as every esc app does.
import esc.apps  # noqa: F401

# isort: split
import argparse
import json
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch
from hydra import compose, initialize_config_dir
from transformers import (
    ASTConfig,
    ASTForAudioClassification,
    Wav2Vec2Config,
    Wav2Vec2ForSequenceClassification,
    WhisperConfig,
    WhisperForConditionalGeneration,
)

from esc.calibrate.fitness import FITNESS, PopulationFitness
from esc.calibrate.precision import PRECISIONS, fitness_precision
from esc.config import CONFIG_DIR
from esc.models.registry import build_adapter
from esc.quant import (
    QuantConfig,
    calibrate_activations,
    collecting_statistics,
    fused_kernel_enabled,
    get_activation_scales,
    quantize,
    use_fused_kernel,
)
from esc.records import device_name, git_revision


def finish_device_work() -> None:
    """CUDA runs asynchronously: a timer must wait for the queued kernels."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def interleaved_median_seconds(steps: list[Callable[[], object]], repeats: int) -> list[float]:
    """Median wall time of each step after one warm-up call, the steps taking turns.

    Taking turns exposes every step to the same drift of a shared machine, so their ratio stays honest
    when the absolute times wander.
    """
    for step in steps:
        step()
    times: list[list[float]] = [[] for _ in steps]
    for _ in range(repeats):
        for step, step_times in zip(steps, times, strict=True):
            finish_device_work()
            started = time.perf_counter()
            step()
            finish_device_work()
            step_times.append(time.perf_counter() - started)
    return [statistics.median(step_times) for step_times in times]


def median_seconds(step: Callable[[], object], repeats: int) -> float:
    """Median wall time of `step` after one warm-up call."""
    return interleaved_median_seconds([step], repeats)[0]


Forward = Callable[[dict[str, torch.Tensor]], torch.Tensor]
Subject = tuple[Callable[[], tuple[torch.nn.Module, Forward]], dict[str, torch.Tensor]]


def transformers_subject(build: Callable[[], torch.nn.Module], inputs: dict[str, torch.Tensor]) -> Subject:
    """A transformers model with random weights: its module and its logits."""

    def model_and_forward() -> tuple[torch.nn.Module, Forward]:
        torch.manual_seed(0)  # every copy gets the same weights
        model = build()
        return model, lambda batch: model(**batch).logits

    return model_and_forward, inputs


def geometries(clips: int) -> dict[str, Subject]:
    """The paper-scale geometries with random weights, on `clips` inputs."""

    def whisper_tiny() -> WhisperForConditionalGeneration:
        # A fresh config per model: quantize() routes attention through the config it was built with.
        dims = {"encoder_layers": 4, "decoder_layers": 4, "encoder_attention_heads": 6}
        dims |= {"decoder_attention_heads": 6, "encoder_ffn_dim": 1536, "decoder_ffn_dim": 1536}
        return WhisperForConditionalGeneration(WhisperConfig(d_model=384, **dims))

    return {
        "ast-base": transformers_subject(
            lambda: ASTForAudioClassification(ASTConfig(num_labels=35, max_length=128)),
            {"input_values": torch.randn(clips, 128, 128)},
        ),
        "wav2vec2-base": transformers_subject(
            lambda: Wav2Vec2ForSequenceClassification(Wav2Vec2Config(num_labels=12)),
            {"input_values": torch.randn(clips, 16000)},
        ),
        "whisper-tiny": transformers_subject(
            whisper_tiny,
            {
                "input_features": torch.randn(clips, 80, 3000),
                "decoder_input_ids": torch.ones(clips, 16).long(),
            },
        ),
    }


def embedded_models(clips: int) -> dict[str, Subject]:
    """Every model shipped in zoo/, loaded by its conf/model entry, on `clips` one-second clips."""
    subjects = {}
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        for card in sorted(Path("zoo").glob("*/card.json")):
            model_cfg = compose("run", [f"model={card.parent.name}"]).model
            waveforms = 0.1 * torch.randn(clips, 16000)
            inputs = build_adapter(model_cfg).features(waveforms, torch.full((clips,), 16000))
            subjects[card.parent.name] = (lambda model_cfg=model_cfg: fresh_model(model_cfg), inputs)
    return subjects


def fresh_model(model_cfg) -> tuple[torch.nn.Module, Forward]:
    """A newly loaded, unquantized copy of a zoo model: each measurement quantizes its own."""
    adapter = build_adapter(model_cfg)
    return adapter.model, adapter.logits


def measure(
    name: str, subject: Subject, population: int, repeats: int, device: str, chunk_rows: int, precision: str
) -> dict:
    """fq_over_float, evals_per_s, batched_over_loop and the calibration times for one model."""
    build, inputs = subject
    float_model, float_forward = build()
    model, forward = build()
    float_model.eval().to(device)
    model.eval().to(device)
    inputs = {k: v.to(device) for k, v in inputs.items()}
    clips = len(next(iter(inputs.values())))
    precise = fitness_precision(precision, torch.device(device))
    with torch.no_grad():
        # As in esc-run: the float reference and the local step at the machine's default arithmetic, the
        # fitness forwards at `precision`.
        reference = float_forward(inputs)
        quantize(model, QuantConfig(w_bits=4, a_bits=4))
        started = time.perf_counter()
        with collecting_statistics(model):
            forward(inputs)
        finish_device_work()
        statistics_seconds = time.perf_counter() - started
        started = time.perf_counter()
        calibrate_activations(model, "mse", num_candidates=256)
        finish_device_work()
        mse_seconds = time.perf_counter() - started
        with precise():
            float_seconds, quantized_seconds = interleaved_median_seconds(
                [partial(float_forward, inputs), partial(forward, inputs)], repeats
            )
        del float_model, float_forward  # the forward holds the model too
        base = get_activation_scales(model)  # on the CPU, where ESC's search hands candidates over
        candidates = base * torch.exp2(0.1 * torch.randn(population, len(base)))
        kl = partial(FITNESS["kl"].rows, None)  # ESC's default fitness rows, which need no adapter
        fitness = PopulationFitness(model, forward, kl, [(inputs, reference, None)], chunk_rows, precise)
        batched_seconds = median_seconds(partial(fitness, candidates), repeats)
        looped_seconds = median_seconds(lambda: [fitness(c[None]) for c in candidates], max(1, repeats // 2))
    group = min(population, max(1, fitness.chunk_rows // clips))  # after any out-of-memory halving
    row = {
        "model": name,
        "precision": precision,
        "fq_over_float": quantized_seconds / float_seconds,
        "evals_per_s": population / batched_seconds,
        "batched_over_loop": looped_seconds / batched_seconds,
        "float_ms": 1000 * float_seconds,
        "statistics_s": statistics_seconds,
        "mse_calibration_s": mse_seconds,
        "clips": clips,
        "candidates_per_forward": group,
        "fused_fake_quant": fused_kernel_enabled(device),
    }
    print(json.dumps(row), flush=True)
    return row


def announce_replacement(out: Path) -> None:
    """Name the measurement that this run's file replaces, so that no result goes silently: results/bench is
    committed, and `git diff` shows what changed."""
    if out.is_file():
        previous = json.loads(out.read_text())
        rows, made_by, device = len(previous.get("models", [])), previous.get("git"), previous.get("device")
        print(f"replacing {out}: {rows} rows measured at {made_by} on {device}", flush=True)


def main() -> None:
    """Measure every model on this machine's device and write results/bench/<cpu|gpu>.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clips", type=int, default=None, help="batch of the paper-scale geometries")
    parser.add_argument("--calib-clips", type=int, default=256, help="batch of the embedded models")
    parser.add_argument("--population", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--chunk-rows", type=int, default=1024, help="rows per forward, as es.chunk_rows")
    parser.add_argument("--only", nargs="*", default=None, help="model names to measure, in this order")
    parser.add_argument(
        "--fused-fake-quant",
        nargs="*",
        default=["cpu", "cuda"],
        help="as esc-run's fused_fake_quant (default: cpu cuda; none named: eager everywhere)",
    )
    parser.add_argument(
        "--precisions",
        nargs="+",
        choices=PRECISIONS,
        default=None,
        help="es.precision values to measure, in this order (default: all of them on a GPU, fp32 on a CPU)",
    )
    parser.add_argument("--out", type=Path, default=None, help="default: results/bench/<cpu|gpu>.json")
    args = parser.parse_args()
    use_fused_kernel(args.fused_fake_quant)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    clips = args.clips or (256 if device == "cuda" else 8)
    precisions = args.precisions or (PRECISIONS if device == "cuda" else ["fp32"])
    out = args.out or Path("results/bench") / f"{'gpu' if device == 'cuda' else 'cpu'}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    announce_replacement(out)
    measured_on = {"device": device_name(torch.device(device)), "git": git_revision()}
    subjects = geometries(clips) | embedded_models(args.calib_clips)
    unknown = set(args.only or []) - set(subjects)
    if unknown:
        parser.error(f"--only names unknown models {sorted(unknown)}; choose from {sorted(subjects)}")
    rows = []
    for name in args.only or subjects:
        subject = subjects[name]
        for precision in precisions:
            try:
                settings = (args.population, args.repeats, device, args.chunk_rows, precision)
                row = measure(name, subject, *settings)
            except RuntimeError as error:  # out-of-memory included
                print(f"{name} ({precision}) failed, the other models go on: {error}", flush=True)
                continue
            rows.append(row)
            out.write_text(json.dumps(measured_on | {"models": rows}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
