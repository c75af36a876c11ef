"""One LightningDataModule for every task: splits from a reader, plus a seeded calibration subset."""

from __future__ import annotations

import logging
from collections.abc import Callable

import lightning as L
import numpy as np
from torch.utils.data import DataLoader

from esc.config import is_whole_number
from esc.data.dataset import SpeechDataset, pad_collate
from esc.data.readers import Example


class EmptyCalibrationError(ValueError):
    """No calibration clip to compute statistics on: every calibrator would be meaningless."""


class EmptySplitError(ValueError):
    """A split that the reader found no clip of: evaluating or calibrating on it would mean nothing."""


EVAL_SPLITS = ("validation", "test")
log = logging.getLogger(__name__)


def check_counts(counts: dict[str, tuple[int | None, int]]) -> None:
    """Refuse a `data.<name>` count that is not an integer of at least its minimum, by name: `1e2` reaches
    the code as the float 100.0, which numpy or the DataLoader would refuse later, without the setting's
    name. None stands for "all" where a count allows it."""
    for name, (value, minimum) in counts.items():
        if value is not None and (not is_whole_number(value) or value < minimum):
            raise ValueError(
                f"data.{name}={value!r} must be an integer ≥ {minimum} (write 100, not 1e2 or 100.0)"
            )


class SpeechDataModule(L.LightningDataModule):
    """Train/validation/test loaders over `read(split)`, and `calibration_dataloader()`.

    The calibration subset is drawn from the training split with its own seed, so every
    calibrator of one config sees the same clips. Evaluation reads `eval_split`: `validation` lets a
    researcher choose settings without looking at the test split that the tables report.
    """

    def __init__(
        self,
        read: Callable[[str], list[Example]],
        batch_size: int = 32,
        num_workers: int = 0,
        calib_size: int = 256,
        calib_seed: int = 0,
        test_limit: int | None = None,
        eval_split: str = "test",
    ) -> None:
        super().__init__()
        check_counts(
            {
                "batch_size": (batch_size, 1),
                "num_workers": (num_workers, 0),
                "calib_size": (calib_size, 0),
                "calib_seed": (calib_seed, 0),
                "test_limit": (test_limit, 1),
            }
        )
        self.read = read
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.calib_size = calib_size
        self.calib_seed = calib_seed
        self.test_limit = test_limit
        if eval_split not in EVAL_SPLITS:
            raise ValueError(
                f"data.eval_split={eval_split!r} is not a split to evaluate on; choose one of {EVAL_SPLITS}"
            )
        self.eval_split = eval_split
        self._splits: dict[str, list[Example]] = {}
        self._calibration: list[Example] | None = None

    def split(self, name: str) -> list[Example]:
        """The examples of one split, read once."""
        if name not in self._splits:
            examples = self.read(name)
            if not examples:
                raise EmptySplitError(
                    f"the {name} split has no clips; check data.root, and for a real dataset that the "
                    f"{name} split's list or folder is filled (a synthetic corpus: rebuild it with esc-data)"
                )
            if name == self.eval_split and self.test_limit is not None:
                examples = _seeded_subset(examples, self.test_limit, seed=0)
            self._splits[name] = examples
        return self._splits[name]

    def calibration_examples(self) -> list[Example]:
        """A seeded subset of the training split, of `calib_size` clips (or all of them)."""
        if self.calib_size < 1:
            raise EmptyCalibrationError(
                f"data.calib_size={self.calib_size}: the calibration set is empty; set a positive clip count"
            )
        if self._calibration is None:
            train = self.split("train")
            if self.calib_size > len(train):
                log.warning(
                    "data.calib_size=%d exceeds the %d clips of the training split: calibrating on all of "
                    "them, which is what data.calib_size=%d would do",
                    self.calib_size,
                    len(train),
                    len(train),
                )
            self._calibration = _seeded_subset(train, self.calib_size, self.calib_seed)
        return self._calibration

    def loader(self, examples: list[Example], shuffle: bool = False) -> DataLoader:
        """A padded-batch loader over any list of examples (a split, or part of the calibration set)."""
        return DataLoader(
            SpeechDataset(examples),
            batch_size=self.batch_size,
            shuffle=shuffle,
            num_workers=self.num_workers,
            collate_fn=pad_collate,
        )

    def train_dataloader(self) -> DataLoader:
        return self.loader(self.split("train"), shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self.loader(self.split("validation"))

    def test_dataloader(self) -> DataLoader:
        """The evaluated split: `test` unless `eval_split` says `validation`."""
        return self.loader(self.evaluated_examples())

    def evaluated_examples(self) -> list[Example]:
        """The clips that the metric is computed on (`eval_split`, cut to `test_limit`)."""
        return self.split(self.eval_split)

    def leave_out_targets(self, targets: set[str]) -> int:
        """Evaluate without the clips of these targets (a model's unknown speakers); returns how many went."""
        evaluated = self.evaluated_examples()
        kept = [example for example in evaluated if example.target not in targets]
        if not kept:
            raise EmptySplitError(
                f"the {self.eval_split} split has no clip left once the {len(targets)} targets that the "
                "model has no class for are left out: this model cannot be scored on this data"
            )
        self._splits[self.eval_split] = kept
        return len(evaluated) - len(kept)

    def calibration_dataloader(self) -> DataLoader:
        """The calibration clips, in a fixed order."""
        return self.loader(self.calibration_examples())


def _seeded_subset(examples: list[Example], size: int, seed: int) -> list[Example]:
    if size >= len(examples):
        return list(examples)
    picked = np.random.default_rng(seed).choice(len(examples), size=size, replace=False)
    return [examples[i] for i in sorted(picked)]
