"""`esc-train`: train an embedded model on its synthetic corpus and write `zoo/<name>/`."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path

import hydra
import lightning as L
from omegaconf import DictConfig, OmegaConf

from esc.config import CONFIG_DIR, group_options, plain_options
from esc.data.audio import load_audio
from esc.data.build import build_datamodule
from esc.data.datamodule import SpeechDataModule
from esc.data.synth.manifest import read_manifest
from esc.evaluation import evaluate
from esc.models.adapter import SpeechAdapter, first_targets
from esc.models.embedded import build_embedded
from esc.models.registry import FAMILIES
from esc.models.zoo_card import refuse_existing_entry, write_zoo_entry
from esc.pipeline import check_task
from esc.training import EpochSummary, SpecAugment, TrainingModule

log = logging.getLogger(__name__)


def embedded_models() -> list[str]:
    """The model configs that describe an architecture for esc-train to build."""
    models = group_options("model")
    return [name for name, option in models.items() if OmegaConf.select(option, "model.architecture")]


def check_labels_seen_in_training(adapter: SpeechAdapter, datamodule: SpeechDataModule) -> None:
    """Refuse, by name, validation or test labels that the training split lacks: the model built from the
    training labels has no class for them, and the metric would fail after the first epoch or at the end."""
    for split in ("validation", "test"):
        unseen = adapter.targets_without_a_class([example.target for example in datamodule.split(split)])
        if unseen:
            raise ValueError(
                f"the {split} split holds {len(unseen)} labels that the training split lacks "
                f"({first_targets(unseen)}); a model trained on it has no class for them; check the split "
                "lists of the data at data.root"
            )


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="train")
def main(cfg: DictConfig) -> None:
    """Build the model that `model.architecture` describes, fit it, test it, ship it."""
    if "architecture" not in cfg.model:
        raise ValueError(
            f"model={cfg.model.name} loads trained weights from {cfg.model.pretrained} and describes no "
            f"architecture to build; esc-train trains the embedded models: {', '.join(embedded_models())}"
        )
    check_task(cfg)  # before an overwrite=true run replaces the zoo entry with a model of another task
    refuse_existing_entry(Path(cfg.model.pretrained), cfg.overwrite)
    if cfg.data.get("eval_split", "test") != "test":
        raise ValueError(
            f"data.eval_split={cfg.data.eval_split}: esc-train records the test split's metric in card.json "
            "(float_test); drop the override (training already reports the validation metric per epoch)"
        )
    L.seed_everything(cfg.seed, workers=True)
    arch = plain_options(cfg.model.architecture)
    datamodule = build_datamodule(cfg.data)
    sample = datamodule.calibration_examples()
    clips = [load_audio(e.path) for e in sample]
    targets = [e.target for e in datamodule.split("train")]
    model, extractor = build_embedded(arch, targets, clips, cfg.seed)
    family = FAMILIES[cfg.model.family]
    adapter = family(model, extractor, **plain_options(cfg.model.get("options")))
    check_labels_seen_in_training(adapter, datamodule)
    train = cfg.model.train
    specaugment = SpecAugment(**train.specaugment) if train.get("specaugment") else None
    module = TrainingModule(
        adapter, cfg.task.metric, train.lr, train.weight_decay, train.warmup_fraction, specaugment
    )
    trainer = L.Trainer(
        max_epochs=train.epochs,
        accelerator=cfg.accelerator,
        devices=1,
        precision=cfg.precision,
        logger=False,
        enable_checkpointing=False,
        callbacks=[EpochSummary(cfg.task.metric)],
        gradient_clip_val=train.get("grad_clip", 1.0),
        max_time=timedelta(minutes=cfg.max_minutes) if cfg.max_minutes else None,
    )
    datamodule.evaluated_examples()  # read before training, so that an empty test split is refused first
    started = time.perf_counter()
    trainer.fit(module, datamodule.train_dataloader(), datamodule.val_dataloader())
    seconds = time.perf_counter() - started
    adapter.eval()
    metric = evaluate(adapter, datamodule, cfg.task.metric, cfg.accelerator)
    log.info("%s: test %s %.2f after %.0f s of training", cfg.model.name, cfg.task.metric, metric, seconds)
    manifest = read_manifest(Path(cfg.data.root)) or {}
    write_zoo_entry(
        Path(cfg.model.pretrained),
        adapter,
        cfg,
        metric,
        len(datamodule.split("test")),
        manifest.get("corpus_sha256"),
        seconds,
    )


if __name__ == "__main__":
    main()
