"""`from_pretrained` with an error that says what to do when a hub id cannot be reached."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from huggingface_hub.errors import HFValidationError

from esc.config import PROJECT_ROOT

T = TypeVar("T")
ZOO = PROJECT_ROOT / "zoo"


class ModelNotAvailableError(OSError):
    """The checkpoint is neither a local folder nor in the local hub cache."""


def load_pretrained(load: Callable[[str], T], pretrained: str) -> T:
    """Call `load(pretrained)`, turning a network/cache failure into one clear message.

    SpeechBrain, unlike transformers, passes on the hub client's error for a malformed id (a missing folder).
    """
    try:
        return load(pretrained)
    except (OSError, HFValidationError) as error:
        folder = Path(pretrained)
        if folder.is_dir():
            raise
        if folder.parent == ZOO:
            raise ModelNotAvailableError(
                f"model.pretrained={pretrained} is an embedded model that zoo/ does not ship yet: train it "
                f"with `esc-train model={folder.name}`, or pick a shipped one "
                f"({', '.join(sorted(p.name for p in ZOO.iterdir() if p.is_dir()))})"
            ) from None
        raise ModelNotAvailableError(
            f"model.pretrained={pretrained!r} is not a local folder and could not be loaded from the hub "
            f"({type(error).__name__}). Download it first on a machine with network "
            f"(`hf download {pretrained}`, then copy the cache or the folder here), "
            "or point model.pretrained to a local dir"
        ) from None
