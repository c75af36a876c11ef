"""`from_pretrained` with an error that says what to do when a hub id cannot be reached."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from huggingface_hub.errors import HFValidationError

T = TypeVar("T")


class ModelNotAvailableError(OSError):
    """The checkpoint is neither a local folder nor in the local hub cache."""


def load_pretrained(load: Callable[[str], T], pretrained: str) -> T:
    """Call `load(pretrained)`, turning a network/cache failure into one clear message.

    SpeechBrain, unlike transformers, passes on the hub client's error for a malformed id (a missing folder).
    """
    try:
        return load(pretrained)
    except (OSError, HFValidationError) as error:
        if Path(pretrained).is_dir():
            raise
        raise ModelNotAvailableError(
            f"model.pretrained={pretrained!r} is not a local folder and could not be loaded from the hub "
            f"({type(error).__name__}). Download it first on a machine with network "
            f"(`hf download {pretrained}`, then copy the cache or the folder here), "
            "or point model.pretrained to a local dir"
        ) from None
