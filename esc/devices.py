"""The device that a run's `accelerator` setting names, for calibration and for the keys of its results."""

from __future__ import annotations

import torch

ACCELERATORS = ("auto", "cpu", "gpu")


def accelerator_device(accelerator: str) -> torch.device:
    """The device that `accelerator` (auto | cpu | gpu) names: calibration runs there, as evaluation does.

    Lightning's Trainer moves the model back to the CPU after each test, so calibration must ask for the
    device itself, or a GPU machine would calibrate on its CPU.
    """
    if accelerator not in ACCELERATORS:
        raise ValueError(f"accelerator={accelerator!r} is unknown; choose one of {', '.join(ACCELERATORS)}")
    if accelerator == "gpu" and not torch.cuda.is_available():
        raise ValueError("accelerator=gpu, but no CUDA device is visible; use accelerator=cpu or auto")
    return torch.device("cuda" if accelerator != "cpu" and torch.cuda.is_available() else "cpu")
