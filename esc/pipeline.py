"""One esc-run, as data flows in DESIGN.md: model + data → float evaluation → quantize (weights: RTN or
PTQ) → calibrate → quantized evaluation → record."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import lightning as L
import torch
from omegaconf import DictConfig

from esc.calibrate.esc import calibrate_esc, checked_settings
from esc.calibrate.optimizers import check_dimension
from esc.calibrate.standard import CalibrationResult, calibrate_standard, quant_config
from esc.config import group_options, plain_options
from esc.data.build import build_datamodule
from esc.data.datamodule import SpeechDataModule
from esc.data.readers import READER_TASKS
from esc.devices import accelerator_device
from esc.evaluation import evaluate
from esc.float_cache import cached_float_metric
from esc.models.adapter import SpeechAdapter, first_targets
from esc.models.registry import build_adapter
from esc.ptq.apply import apply_ptq, check_ptq
from esc.ptq.cache import cached_rounding
from esc.quant import quantize, scales_record, use_fused_kernel
from esc.quant.bits import OFF_BITS, is_float
from esc.quant.calibrate import check_activation_calibrator
from esc.records import (
    SEARCHING_CALIBRATOR,
    config_hash,
    device_name,
    finished_now,
    git_revision,
    inputs_hash,
    write_json,
)

log = logging.getLogger(__name__)
FLOAT_BITS = 32


@dataclass
class Quantization:
    """What quantizing one model cost: the activation calibration and the weight PTQ."""

    calibration: CalibrationResult
    ptq_seconds: float = 0.0


CLIPS_WITHOUT_A_CLASS = ("refuse", "leave_out")


def check_evaluated_targets(
    model_cfg: DictConfig, adapter: SpeechAdapter, datamodule: SpeechDataModule
) -> None:
    """Refuse, by name, an evaluated clip whose label the model has no class for; or, where the model config
    says `clips_without_a_class: leave_out` (a speaker model trained on other speakers than the test
    split's), evaluate without those clips and log how many."""
    policy = model_cfg.get("clips_without_a_class", "refuse")
    if policy not in CLIPS_WITHOUT_A_CLASS:
        raise ValueError(
            f"model.clips_without_a_class={policy!r} is unknown; choose one of "
            f"{', '.join(CLIPS_WITHOUT_A_CLASS)}"
        )
    targets = [example.target for example in datamodule.evaluated_examples()]
    unknown = adapter.targets_without_a_class(targets) if policy == "leave_out" else set()
    if unknown:
        left_out = datamodule.leave_out_targets(unknown)
        log.warning(
            "model.clips_without_a_class=leave_out: evaluating without %d of %d %s clips, whose %d labels "
            "(%s) are not classes of the model",
            left_out,
            len(targets),
            datamodule.eval_split,
            len(unknown),
            first_targets(unknown),
        )
    adapter.references([example.target for example in datamodule.evaluated_examples()])


def check_task(cfg: DictConfig) -> None:
    """Refuse a model, or data, of another task: the metric would be meaningless (a keyword model's labels
    mapped onto speaker identities, say)."""
    if cfg.model.task != cfg.task.name:
        raise ValueError(
            f"model={cfg.model.name} is a {cfg.model.task} model but task={cfg.task.name}; "
            f"pick a {cfg.task.name} model or task={cfg.model.task}"
        )
    data_task = READER_TASKS.get(cfg.data.reader)
    if data_task not in (None, cfg.task.name):
        fitting = [
            name
            for name, option in group_options("data").items()
            if READER_TASKS.get(option.get("reader")) == cfg.task.name
        ]
        raise ValueError(
            f"data={cfg.data.name} holds {data_task} data (the {cfg.data.reader} layout) but "
            f"model={cfg.model.name} is a {cfg.task.name} model; pick one of data={','.join(fitting)}"
        )


def recorded_bits(bits: int) -> int:
    """metrics.json writes float as 32 bits, whatever value switched quantization off."""
    return FLOAT_BITS if bits >= OFF_BITS else int(bits)


def calibrate(
    cfg: DictConfig, adapter: SpeechAdapter, datamodule: SpeechDataModule, output_dir: Path
) -> CalibrationResult:
    """ESC for `calibrator=esc`; a standard calibrator (one statistics pass) otherwise."""
    if cfg.calibrator.name == SEARCHING_CALIBRATOR:
        return calibrate_esc(
            adapter, datamodule, cfg.calibrator, cfg.es, config_hash(cfg), output_dir, cfg.force
        )
    return calibrate_standard(adapter, datamodule.calibration_dataloader(), cfg.calibrator)


def quantize_model(
    cfg: DictConfig,
    adapter: SpeechAdapter,
    datamodule: SpeechDataModule,
    output_dir: Path,
    device: torch.device,
) -> Quantization:
    """Insert quantizers, then PTQ and activation calibration in the order `ptq.order` says, on `device`."""
    adapter.model.to(device)
    quantize(adapter.model, quant_config(cfg.quant))
    if cfg.ptq.name == "none":
        return Quantization(calibrate(cfg, adapter, datamodule, output_dir))
    loader = datamodule.calibration_dataloader()
    if cfg.ptq.order == "weights_first":
        ptq_seconds = cached_rounding(
            cfg, adapter.model, lambda: apply_ptq(adapter, loader, cfg.ptq, activations_quantized=False)
        )
        return Quantization(calibrate(cfg, adapter, datamodule, output_dir), ptq_seconds)
    calibration = calibrate(cfg, adapter, datamodule, output_dir)
    return Quantization(calibration, apply_ptq(adapter, loader, cfg.ptq, activations_quantized=True))


def run(cfg: DictConfig, output_dir: Path) -> dict:
    """Evaluate float, quantize and calibrate as configured, evaluate again, and write the records."""
    check_task(cfg)
    check_ptq(cfg.ptq)
    quant_config(cfg.quant)  # impossible bits or patterns are refused before the model loads
    device = accelerator_device(cfg.accelerator)
    use_fused_kernel(cfg.fused_fake_quant)
    L.seed_everything(cfg.seed, workers=True)
    adapter = build_adapter(cfg.model)
    datamodule = build_datamodule(cfg.data)
    # The splits this run reads, their labels, and the ESC settings, checked first: before minutes of
    # evaluating (a label the model has no class for is refused by name).
    check_evaluated_targets(cfg.model, adapter, datamodule)
    if not is_float(cfg.quant):
        clips = datamodule.calibration_examples()
        if cfg.calibrator.name == SEARCHING_CALIBRATOR:
            checked = checked_settings(cfg.calibrator, cfg.es, adapter, device, clips)
            if cfg.quant.a_bits >= OFF_BITS:  # float activations leave ESC no scale, whatever the model
                check_dimension(checked.search.optimizer, 0)
        else:
            check_activation_calibrator(cfg.calibrator.name, plain_options(cfg.calibrator.get("options")))
    float_metric = cached_float_metric(
        cfg, lambda: evaluate(adapter, datamodule, cfg.task.metric, cfg.accelerator)
    )
    log.info("float %s: %.2f", cfg.task.metric, float_metric)
    if is_float(cfg.quant):
        quantization, quantized_metric, calibrator, ptq = (
            Quantization(CalibrationResult(0.0, 0)),
            float_metric,
            "fp",
            "none",
        )
    else:
        quantization = quantize_model(cfg, adapter, datamodule, output_dir, device)
        quantized_metric = evaluate(adapter, datamodule, cfg.task.metric, cfg.accelerator)
        log.info("%s/%s %s: %.2f", cfg.quant.name, cfg.calibrator.name, cfg.task.metric, quantized_metric)
        write_json(output_dir / "scales.json", scales_record(adapter.model))
        calibrator, ptq = cfg.calibrator.name, cfg.ptq.name
    calibration = quantization.calibration
    record = {
        "task": cfg.task.name,
        "model": cfg.model.name,
        "data": cfg.data.name,
        "w_bits": recorded_bits(cfg.quant.w_bits),
        "a_bits": recorded_bits(cfg.quant.a_bits),
        "calibrator": calibrator,
        "ptq": ptq,
        "ptq_order": cfg.ptq.order,
        "seed": int(cfg.seed),
        "metric": cfg.task.metric,
        "higher_is_better": bool(cfg.task.higher_is_better),
        "float": float_metric,
        "quantized": quantized_metric,
        "split": datamodule.eval_split,
        "n_test": len(datamodule.evaluated_examples()),
        "n_calib": calibration.n_calib,
        "calib_seconds": round(calibration.seconds, 3),
        "ptq_seconds": round(quantization.ptq_seconds, 3),
        "fitness_evals": calibration.fitness_evals,
        "fitness_init": calibration.fitness_init,
        "fitness_best": calibration.fitness_best,
        "table": cfg.table,
        "config_hash": config_hash(cfg),
        "inputs_hash": inputs_hash(cfg),
        "device": device_name(device),
        "git": git_revision(),
        "finished_at": finished_now(),
    }
    write_json(output_dir / "metrics.json", record)
    return record
