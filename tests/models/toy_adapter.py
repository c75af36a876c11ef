"""A minimal SpeechAdapter family for tests of the adapter base and of what drives any adapter."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from esc.models.adapter import SpeechAdapter


class PaddingPreprocessor:
    """Pads the unpadded clips it is given back into one batch, recording each call's arguments."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[np.ndarray], dict]] = []

    def __call__(self, clips: list[np.ndarray], **kwargs: object) -> dict[str, torch.Tensor]:
        self.calls.append((clips, kwargs))
        width = max(len(clip) for clip in clips)
        return {"input_values": torch.tensor(np.stack([np.pad(c, (0, width - len(c))) for c in clips]))}

    def save_pretrained(self, folder: Path) -> None:
        (folder / "preprocessor.json").write_text(json.dumps({"kind": "padding"}))


class LinearModel(nn.Linear):
    """A linear classifier over 4 samples that saves itself beside the preprocessor."""

    def __init__(self, classes: int = 3) -> None:
        super().__init__(4, classes)

    def save_pretrained(self, folder: Path) -> None:
        torch.save(self.state_dict(), folder / "weights.pt")


class ToyAdapter(SpeechAdapter):
    """Class scores of a model on the padded samples; targets are class indices written as strings."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__(model, PaddingPreprocessor())
        self.predicted: list[torch.Tensor] = []
        self.grad_enabled: list[bool] = []

    def logits(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.model(inputs["input_values"])

    def predictions(self, logits: torch.Tensor, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        self.predicted.append(inputs["input_values"])
        self.grad_enabled.append(torch.is_grad_enabled())
        return logits.argmax(dim=-1)

    def references(self, targets: list[str]) -> torch.Tensor:
        return torch.tensor([int(t) for t in targets])
