"""`from_pretrained` with an error that says what to do when a hub id cannot be reached."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from huggingface_hub.errors import HFValidationError
from transformers import PreTrainedModel

from esc.config import PROJECT_ROOT

T = TypeVar("T")
ZOO = PROJECT_ROOT / "zoo"


class ModelNotAvailableError(OSError):
    """The checkpoint is neither a local folder nor in the local hub cache."""


class IncompleteCheckpointError(ValueError):
    """The checkpoint lacks weights of the model built from it, which transformers would draw at random."""


def every_weight_from(model_class: type[PreTrainedModel]) -> Callable[[str], PreTrainedModel]:
    """`model_class.from_pretrained`, refusing a checkpoint that lacks any of the model's weights.

    transformers fills missing weights at random with a note in the log: a pretraining checkpoint loaded
    with a classification head, say, would be evaluated as a chance-level model whose head follows the seed.
    """

    def load(pretrained: str) -> PreTrainedModel:
        model, info = model_class.from_pretrained(pretrained, output_loading_info=True)
        missing = sorted(info["missing_keys"])
        if missing:
            shown = ", ".join(missing[:4]) + (", …" if len(missing) > 4 else "")
            raise IncompleteCheckpointError(
                f"the checkpoint holds no weights for {len(missing)} tensors of {model_class.__name__} "
                f"({shown}), which would start random: point model.pretrained to a checkpoint trained "
                "with this head (a fine-tuned one, or what esc-train writes)"
            )
        return model

    return load


def load_pretrained(load: Callable[[str], T], pretrained: str) -> T:
    """Call `load(pretrained)`, turning a failure into one message that says what to do.

    A local folder that fails to load is named with the loader's error (an empty or cut-short checkpoint,
    another family's files); a path that does not exist is named as such, not sent to the hub; a hub id
    that cannot be reached says how to fetch it. SpeechBrain, unlike transformers, passes on the hub
    client's error for a malformed id.
    """
    folder = Path(pretrained)
    if folder.is_dir():
        try:
            return load(pretrained)
        except Exception as error:
            reason = next(iter(str(error).strip().splitlines()), "")
            raise ModelNotAvailableError(
                f"model.pretrained={pretrained} is a folder that cannot be loaded as this model "
                f"({type(error).__name__}: {reason}); it must hold the checkpoint that save_pretrained or "
                "esc-train writes for the config's model.family"
            ) from error
    if folder.parent == ZOO:
        raise ModelNotAvailableError(
            f"model.pretrained={pretrained} is an embedded model that zoo/ does not ship yet: train it "
            f"with `esc-train model={folder.name}`, or pick a shipped one "
            f"({', '.join(sorted(p.name for p in ZOO.iterdir() if p.is_dir()))})"
        )
    if folder.is_absolute() or pretrained.startswith((".", "~")):
        raise ModelNotAvailableError(
            f"model.pretrained={pretrained} is a path, and no such folder exists; point it to a checkpoint "
            "folder or give a hub id (owner/name)"
        )
    try:
        return load(pretrained)
    except (OSError, HFValidationError) as error:
        raise ModelNotAvailableError(
            f"model.pretrained={pretrained!r} is not a local folder and could not be loaded from the hub "
            f"({type(error).__name__}). Download it first on a machine with network "
            f"(`hf download {pretrained}`, then copy the cache or the folder here), "
            "or point model.pretrained to a local dir"
        ) from None
