"""Writing a trained embedded model into `zoo/<name>/` with its card.json (DESIGN.md's keys)."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from esc.devices import accelerator_device
from esc.models.adapter import SpeechAdapter
from esc.records import device_name, write_json


def refuse_existing_entry(folder: Path, overwrite: bool) -> None:
    """A shipped model is a finished result: replace it only when asked, and say so before training."""
    if (folder / "card.json").exists() and not overwrite:
        raise FileExistsError(
            f"{folder} already holds a trained model; pass overwrite=true to replace it, "
            "or model.pretrained=<another dir> to keep both"
        )


def write_zoo_entry(
    folder: Path,
    adapter: SpeechAdapter,
    cfg: DictConfig,
    float_test: float,
    n_test: int,
    corpus_sha256: str | None,
    train_seconds: float,
) -> None:
    """Save weights (safetensors for transformers models, SpeechBrain's checkpoint files for ECAPA), config
    and preprocessor, then the card that describes them."""
    folder.mkdir(parents=True, exist_ok=True)
    adapter.save_pretrained(folder)
    card = {
        "name": cfg.model.name,
        "task": cfg.task.name,
        "architecture": adapter.architecture,
        "params": sum(p.numel() for p in adapter.model.parameters()),
        "metric": cfg.task.metric,
        "higher_is_better": bool(cfg.task.higher_is_better),
        "float_test": float_test,
        "n_test": n_test,
        "corpus_sha256": corpus_sha256,
        "train_seconds": round(train_seconds, 1),
        "train_device": device_name(accelerator_device(cfg.accelerator)),
    }
    write_json(folder / "card.json", card)
