"""Every hub model config, pointed at a tiny random-init copy of its architecture, runs through esc-run.

Each copy is saved the way its hub checkpoint is stored (and with the checkpoint's published labels), so
these runs take the same from_pretrained / from_hparams path as the real models, offline.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.apps.commands import METRICS_KEYS, esc_run
from tests.tiny_models import (
    published_labels,
    save_tiny_ast,
    save_tiny_ecapa,
    save_tiny_hubert_classifier,
    save_tiny_wav2vec2_classifier,
    save_tiny_wav2vec2_ctc,
    save_tiny_whisper,
)

TEST_CLIPS = {"kws": 35, "asr": 4, "sid": 8}
METRICS = {"kws": "accuracy", "asr": "wer", "sid": "accuracy"}


def synth_identities(root: Path) -> list[str]:
    """The speaker folders of a VoxCeleb1-layout corpus, as a checkpoint trained on them would name them."""
    return sorted(folder.name for folder in (root / "wav").iterdir())


SaveCopy = Callable[[Path, str, Path], Path]


@dataclass(frozen=True)
class HubCase:
    """A hub model config, the corpus of its task, and how to save a tiny copy of its architecture."""

    model: str
    corpus: str
    save: SaveCopy
    quant: str = "fp"
    overrides: tuple[str, ...] = ()


def with_published_labels(save: Callable[[Path, list[str]], Path]) -> SaveCopy:
    """A classifier copy whose classes are the ones the model config records for the real checkpoint."""
    return lambda folder, model, _root: save(folder, published_labels(model))


CASES = [
    HubCase("ast_speech_commands", "kws", with_published_labels(save_tiny_ast)),
    HubCase("wav2vec2_superb_ks", "kws", with_published_labels(save_tiny_wav2vec2_classifier)),
    HubCase("hubert_superb_ks", "kws", with_published_labels(save_tiny_hubert_classifier)),
    HubCase("wav2vec2_superb_sid", "sid", with_published_labels(save_tiny_wav2vec2_classifier)),
    HubCase(
        "wav2vec2_librispeech",
        "asr",
        lambda folder, _model, _root: save_tiny_wav2vec2_ctc(folder, [string.ascii_uppercase + "'"]),
    ),
    HubCase(
        "whisper_tiny_en",
        "asr",
        lambda folder, _model, _root: save_tiny_whisper(folder),
        quant="w8a8",
        overrides=("model.options.max_new_tokens=8",),
    ),
    HubCase(
        "ecapa_voxceleb",
        "sid",
        lambda folder, _model, root: save_tiny_ecapa(folder, synth_identities(root)),
        quant="w8a8",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.model for case in CASES])
def test_hub_config_evaluates_a_local_copy_of_its_architecture(case: HubCase, tiny_corpora, tmp_path):
    root = tiny_corpora[case.corpus]
    checkpoint = case.save(tmp_path / "checkpoint", case.model, root)
    result = esc_run(
        tmp_path / "run",
        f"model={case.model}",
        f"model.pretrained={checkpoint}",
        f"data=synth_{case.corpus}",
        f"data.root={root}",
        f"quant={case.quant}",
        "accelerator=cpu",
        f"float_cache={tmp_path / 'float_cache'}",
        *case.overrides,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert set(metrics) == METRICS_KEYS
    assert (metrics["model"], metrics["task"]) == (case.model, case.corpus)
    assert metrics["data"] == f"synth_{case.corpus}"
    assert metrics["metric"] == METRICS[case.corpus] and metrics["n_test"] == TEST_CLIPS[case.corpus]
    ceiling = float("inf") if metrics["metric"] == "wer" else 100.0  # WER counts insertions too
    assert 0.0 <= metrics["float"] <= ceiling and 0.0 <= metrics["quantized"] <= ceiling
    if case.quant == "fp":
        assert metrics["quantized"] == metrics["float"]
    else:
        assert (metrics["w_bits"], metrics["a_bits"]) == (8, 8) and metrics["n_calib"] > 0
        scales = json.loads((tmp_path / "run" / "scales.json").read_text())
        activations = [entry for entry in scales if entry["kind"] == "activation"]
        assert activations and all(entry["scale"] > 0 for entry in activations), "every input calibrated"


def test_the_voxceleb_ecapa_is_scored_without_the_speakers_it_has_no_class_for(tiny_corpora, tmp_path):
    """spkrec-ecapa-voxceleb has no class for VoxCeleb1's 40 test identities: its config leaves their clips
    out of the evaluation, counted in the record's n_test, where any other model would refuse them."""
    root = tiny_corpora["sid"]
    unknown, *known = synth_identities(root)
    split_lines = (root / "iden_split.txt").read_text().split()
    unknown_test_clips = sum(
        1
        for split, path in zip(split_lines[::2], split_lines[1::2], strict=True)
        if split == "3" and path.startswith(f"{unknown}/")
    )
    result = esc_run(
        tmp_path / "run",
        "model=ecapa_voxceleb",
        f"model.pretrained={save_tiny_ecapa(tmp_path / 'checkpoint', known)}",
        "data=synth_sid",
        f"data.root={root}",
        "quant=fp",
        "accelerator=cpu",
        f"float_cache={tmp_path / 'float_cache'}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert unknown_test_clips > 0
    assert (
        json.loads((tmp_path / "run" / "metrics.json").read_text())["n_test"]
        == TEST_CLIPS["sid"] - unknown_test_clips
    )
    assert f"whose 1 labels ({unknown}) are not classes of the model" in result.stdout
