"""`make bench`: fake-quantization overhead and ESC throughput, as ratios measured within one run.

For each model it times, on one calibration batch: the float forward, the fake-quantized forward
(W4A4, minmax scales), ESC fitness evaluations of a population batched into one forward, and the
same population evaluated candidate by candidate. Results go to results/bench/<device>.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
from transformers import (
    ASTConfig,
    ASTForAudioClassification,
    AutoConfig,
    AutoFeatureExtractor,
    AutoModelForAudioClassification,
    AutoModelForCTC,
    Wav2Vec2Config,
    Wav2Vec2ForSequenceClassification,
    WhisperConfig,
    WhisperForConditionalGeneration,
)

from esc.calibrate.fitness import kl_rows, repeat_rows
from esc.quant import (
    QuantConfig,
    calibrate_activations,
    collecting_statistics,
    get_activation_scales,
    population_scales,
    quantize,
)


def median_seconds(step: Callable[[], object], repeats: int) -> float:
    """Median wall time of `step` after one warm-up call."""
    step()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def geometries(clips: int) -> dict[str, tuple[Callable[[], torch.nn.Module], dict[str, torch.Tensor]]]:
    """The paper-scale geometries with random weights, and the embedded models shipped in zoo/."""
    models = {
        "ast-base": (
            lambda: ASTForAudioClassification(ASTConfig(num_labels=35, max_length=128)),
            {"input_values": torch.randn(clips, 128, 128)},
        ),
        "wav2vec2-base": (
            lambda: Wav2Vec2ForSequenceClassification(Wav2Vec2Config(num_labels=12)),
            {"input_values": torch.randn(clips, 16000)},
        ),
        "whisper-tiny": (
            lambda: WhisperForConditionalGeneration(
                WhisperConfig(
                    d_model=384,
                    encoder_layers=4,
                    decoder_layers=4,
                    encoder_attention_heads=6,
                    decoder_attention_heads=6,
                    encoder_ffn_dim=1536,
                    decoder_ffn_dim=1536,
                )
            ),
            {
                "input_features": torch.randn(clips, 80, 3000),
                "decoder_input_ids": torch.ones(clips, 16).long(),
            },
        ),
    }
    for card in sorted(Path("zoo").glob("*/card.json")):
        models.update(embedded_model(card.parent, clips))
    return models


def embedded_model(folder: Path, clips: int) -> dict:
    """A zoo model with a batch of its own inputs, for transformers audio classifiers and CTC models."""
    config = AutoConfig.from_pretrained(folder)
    loader = AutoModelForCTC if config.architectures[0].endswith("CTC") else AutoModelForAudioClassification
    extractor = AutoFeatureExtractor.from_pretrained(folder)
    waves = [torch.randn(16000).numpy() * 0.1 for _ in range(clips)]
    inputs = dict(extractor(waves, sampling_rate=16000, return_tensors="pt", padding=True))
    return {folder.name: (lambda: loader.from_pretrained(folder), inputs)}


def measure(name: str, build: Callable, inputs: dict, population: int, repeats: int, device: str) -> dict:
    """fq_over_float, evals_per_s and batched_over_loop for one model."""
    model = build().eval().to(device)
    inputs = {k: v.to(device) for k, v in inputs.items()}
    with torch.no_grad():
        float_seconds = median_seconds(lambda: model(**inputs), repeats)
        reference = model(**inputs).logits
        quantize(model, QuantConfig(w_bits=4, a_bits=4, hist_bins=256))
        with collecting_statistics(model):
            model(**inputs)
        calibrate_activations(model, "minmax")
        quantized_seconds = median_seconds(lambda: model(**inputs), repeats)
        base = get_activation_scales(model).to(device)
        candidates = base * torch.exp2(0.1 * torch.randn(population, len(base), device=device))
        repeated = {k: repeat_rows(v, population) for k, v in inputs.items()}

        def batched() -> torch.Tensor:
            with population_scales(model, candidates):
                return kl_rows(model(**repeated).logits, repeat_rows(reference, population))

        def looped() -> list:
            out = []
            for candidate in candidates:
                with population_scales(model, candidate[None]):
                    out.append(kl_rows(model(**inputs).logits, reference))
            return out

        batched_seconds = median_seconds(batched, repeats)
        looped_seconds = median_seconds(looped, max(1, repeats // 2))
    row = {
        "model": name,
        "fq_over_float": quantized_seconds / float_seconds,
        "evals_per_s": population / batched_seconds,
        "batched_over_loop": looped_seconds / batched_seconds,
        "float_ms": 1000 * float_seconds,
        "clips": len(next(iter(inputs.values()))),
    }
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    """Measure every model on this machine's device and write results/bench/<cpu|gpu>.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clips", type=int, default=None, help="calibration clips per batch")
    parser.add_argument("--population", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", nargs="*", default=None, help="model names to measure")
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    clips = args.clips or (256 if device == "cuda" else 8)
    rows = [
        measure(name, build, inputs, args.population, args.repeats, device)
        for name, (build, inputs) in geometries(clips).items()
        if not args.only or name in args.only
    ]
    out = Path("results/bench") / f"{'gpu' if device == 'cuda' else 'cpu'}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    label = torch.cuda.get_device_name() if device == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
    out.write_text(json.dumps({"device": label, "models": rows}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
