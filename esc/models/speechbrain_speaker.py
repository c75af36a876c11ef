"""SpeechBrain ECAPA-TDNN speaker classifiers behind the adapter, in EncoderClassifier folders both ways.

The adapter's `model` is the EncoderClassifier's `mods` (features, normalisation, ECAPA, classifier), so
quantization reaches every Conv1d/Linear module of the embedding model and the classifier, whose cosine
layer (a bare weight in `F.linear`) esc.quant.cosine quantizes as a matmul.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import torch
from hyperpyyaml import load_hyperpyyaml
from speechbrain.dataio.encoder import CategoricalEncoder
from speechbrain.inference.classifiers import EncoderClassifier
from speechbrain.nnet.losses import AdditiveAngularMargin
from torch import nn

from esc.models.adapter import SpeechAdapter
from esc.models.classifier import ClassDecoding, LabelMapping
from esc.models.hub import load_pretrained

HYPERPARAMS_FILE = "hyperparams.yaml"
LABELS_FILE = "label_encoder.txt"
CHECKPOINTS = ("embedding_model", "classifier")

_HYPERPARAMS = """\
# ECAPA-TDNN speaker classifier written by esc: EncoderClassifier.from_hparams(source=<this folder>) reads it.
# pretrained_path is where it was written; after moving the folder, pass
# overrides={{"pretrained_path": <new folder>}} (esc's loader always does).
pretrained_path: {folder}
n_mels: {n_mels}
ecapa: {ecapa}
out_n_neurons: {classes}

compute_features: !new:speechbrain.lobes.features.Fbank
    n_mels: !ref <n_mels>

mean_var_norm: !new:speechbrain.processing.features.InputNormalization
    norm_type: sentence
    std_norm: False

embedding_model: !new:speechbrain.lobes.models.ECAPA_TDNN.ECAPA_TDNN
    input_size: !ref <n_mels>
{ecapa_arguments}

classifier: !new:speechbrain.lobes.models.ECAPA_TDNN.Classifier
    input_size: !ref <ecapa[lin_neurons]>
    out_neurons: !ref <out_n_neurons>

label_encoder: !new:speechbrain.dataio.encoder.CategoricalEncoder

modules:
    compute_features: !ref <compute_features>
    mean_var_norm: !ref <mean_var_norm>
    embedding_model: !ref <embedding_model>
    classifier: !ref <classifier>

pretrainer: !new:speechbrain.utils.parameter_transfer.Pretrainer
    loadables:
        embedding_model: !ref <embedding_model>
        classifier: !ref <classifier>
        label_encoder: !ref <label_encoder>
    paths:
        embedding_model: !ref <pretrained_path>/embedding_model.ckpt
        classifier: !ref <pretrained_path>/classifier.ckpt
        label_encoder: !ref <pretrained_path>/label_encoder.txt
"""


def label_encoder(labels: list[str]) -> CategoricalEncoder:
    """SpeechBrain's label encoder with `labels` as classes 0, 1, ... in order."""
    encoder = CategoricalEncoder()
    encoder.update_from_iterable(labels)
    encoder.expect_len(len(labels))
    return encoder


@dataclass
class EcapaHyperparams:
    """What a SpeechBrain folder holds besides weights: filterbank size, ECAPA sizes and the label encoder.

    `ecapa` holds ECAPA_TDNN's keyword arguments (with `lin_neurons`, the embedding size); it is None for a
    hyperparams.yaml that esc did not write, since SpeechBrain's own files give sizes inline.
    """

    n_mels: int
    ecapa: dict | None
    label_encoder: CategoricalEncoder

    @classmethod
    def read(cls, hparams: SimpleNamespace) -> EcapaHyperparams:
        """The hyperparameters of a loaded EncoderClassifier (its `hparams` namespace)."""
        return cls(hparams.n_mels, getattr(hparams, "ecapa", None), hparams.label_encoder)

    def yaml(self, folder: Path) -> str:
        """hyperparams.yaml for a folder at `folder`, in the layout of SpeechBrain's own speaker models."""
        if self.ecapa is None:
            raise ValueError(
                "this SpeechBrain model's hyperparams.yaml gives no `ecapa` sizes, so esc cannot write it "
                "again; save ECAPA models that esc built (model.architecture) or copy the original folder"
            )
        return _HYPERPARAMS.format(
            folder=json.dumps(str(folder.resolve())),
            n_mels=self.n_mels,
            ecapa=json.dumps(self.ecapa),
            classes=len(self.label_encoder),
            ecapa_arguments="\n".join(f"    {name}: !ref <ecapa[{name}]>" for name in self.ecapa),
        )

    def modules(self) -> nn.ModuleDict:
        """Freshly initialised modules, built by the same yaml that `save_pretrained` writes.

        Only the pretrainer reads pretrained_path, and it is not run here, so any folder will do.
        """
        return nn.ModuleDict(load_hyperpyyaml(self.yaml(Path.cwd()))["modules"])

    def save_pretrained(self, folder: Path) -> None:
        """Write hyperparams.yaml and label_encoder.txt."""
        (folder / HYPERPARAMS_FILE).write_text(self.yaml(folder))
        self.label_encoder.save(folder / LABELS_FILE)


def from_hparams(source: str) -> EncoderClassifier:
    """EncoderClassifier.from_hparams on a hub id (files stay in the hub cache) or a local folder.

    A local folder is read in place: its pretrained_path is pointed at the folder, because a downloaded
    hyperparams.yaml still names the hub repository there, and without a savedir SpeechBrain links nothing.
    Parameters stay trainable, as transformers leaves them, for PTQ methods that take gradients.
    """
    overrides = {"pretrained_path": str(Path(source).resolve())} if Path(source).is_dir() else {}
    return EncoderClassifier.from_hparams(
        source=source,
        overrides=overrides,
        overrides_must_match=False,
        run_opts={"device": "cpu"},
        freeze_params=False,
    )


class SpeechBrainSpeakerAdapter(ClassDecoding, SpeechAdapter):
    """SpeechBrain's EncoderClassifier (filterbanks → ECAPA-TDNN embedding → cosine classifier).

    Training, and ESC's task fitness, use SpeechBrain's additive angular margin loss: plain cross-entropy on
    cosine scores in [-1, 1] stays near log(speakers) and can barely separate classes or candidates.
    """

    def __init__(
        self,
        model: nn.ModuleDict,
        hyperparams: EcapaHyperparams,
        label_map: dict[str, str] | None = None,
        unknown_label: str | None = None,
        margin: float = 0.2,
        scale: float = 30.0,
    ) -> None:
        super().__init__(model, hyperparams)
        self.labels = LabelMapping(dict(hyperparams.label_encoder.lab2ind), label_map, unknown_label)
        self.margin = AdditiveAngularMargin(margin=margin, scale=scale)

    @classmethod
    def load(cls, pretrained: str, **options) -> SpeechBrainSpeakerAdapter:
        """EncoderClassifier.from_hparams from a hub id or local dir, in eval mode like from_pretrained."""
        classifier = load_pretrained(from_hparams, pretrained)
        return cls(classifier.mods.eval(), EcapaHyperparams.read(classifier.hparams), **options)

    @property
    def architecture(self) -> str:
        return type(self.model.embedding_model).__name__

    @property
    def pads_to_longest_clip(self) -> bool:
        """SpeechBrain computes filterbanks on the padded batch: a shorter clip's tail frames are padding."""
        return True

    @property
    def num_classes(self) -> int:
        return len(self.preprocessor.label_encoder)

    def save_pretrained(self, folder: Path) -> None:
        """A folder that EncoderClassifier.from_hparams reads: yaml, one .ckpt per module, label encoder."""
        folder.mkdir(parents=True, exist_ok=True)
        self.preprocessor.save_pretrained(folder)
        for name in CHECKPOINTS:
            torch.save(self.model[name].state_dict(), folder / f"{name}.ckpt")

    def features(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        """Sentence-normalised filterbanks (batch, time, n_mels) and SpeechBrain's relative lengths."""
        waveforms = waveforms.to(self.device)
        relative = lengths.to(self.device).float() / waveforms.shape[1]
        filterbanks = self.model.compute_features(waveforms)
        return {"input_values": self.model.mean_var_norm(filterbanks, relative), "wav_lens": relative}

    def embeddings(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """Speaker embeddings (batch, lin_neurons), the output that speaker verification compares."""
        return self.model.embedding_model(inputs["input_values"], inputs["wav_lens"]).squeeze(1)

    def logits(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """Cosine similarity of each embedding to every class."""
        return self.model.classifier(self.embeddings(inputs).unsqueeze(1)).squeeze(1)

    def posterior_logits(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """The cosines at the margin loss's scale, as training made them posteriors: a softmax of cosines in
        [-1, 1] is nearly uniform, and a KL of it would weigh every class alike, not the top ones."""
        return self.margin.scale * self.logits(inputs)

    def per_example_loss(
        self, logits: torch.Tensor, inputs: dict[str, torch.Tensor], references: torch.Tensor
    ) -> torch.Tensor:
        """The margin loss per row: cross-entropy on the margined cosine scores at the training scale."""
        targets = nn.functional.one_hot(references, logits.shape[-1]).float()
        return nn.functional.cross_entropy(self.margin(logits, targets), references, reduction="none")
