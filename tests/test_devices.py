"""The device that `accelerator` names, which calibration runs on."""

import pytest
import torch

from esc.devices import accelerator_device


def test_cpu_and_auto_without_a_gpu_calibrate_on_the_cpu(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert accelerator_device("cpu") == accelerator_device("auto") == torch.device("cpu")


def test_auto_and_gpu_with_a_gpu_calibrate_on_it_and_cpu_stays_on_the_cpu(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert accelerator_device("auto") == accelerator_device("gpu") == torch.device("cuda")
    assert accelerator_device("cpu") == torch.device("cpu")


def test_gpu_without_one_and_an_unknown_accelerator_are_named(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="accelerator=gpu, but no CUDA device is visible"):
        accelerator_device("gpu")
    with pytest.raises(ValueError, match=r"accelerator='tpu' is unknown; choose one of auto, cpu, gpu"):
        accelerator_device("tpu")
