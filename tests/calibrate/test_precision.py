"""es.precision: the context a fitness forward runs in, checked against the device before any search."""

import pytest
import torch

from esc.calibrate.precision import fitness_precision, tf32_matmuls

CPU = torch.device("cpu")


def test_fp32_changes_nothing_and_bf16_autocasts_the_forward() -> None:
    layer = torch.nn.Linear(4, 3)
    x = torch.randn(2, 4)
    with torch.no_grad():
        with fitness_precision("fp32", CPU)():
            assert layer(x).dtype == torch.float32
        with fitness_precision("bf16", CPU)():
            assert layer(x).dtype == torch.bfloat16
    assert not torch.is_autocast_enabled("cpu")


def test_an_unknown_precision_and_tf32_off_cuda_are_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match=r"es.precision='fp16' is unknown; choose one of fp32, tf32, bf16"):
        fitness_precision("fp16", CPU)
    with pytest.raises(ValueError, match="es.precision=tf32 needs a CUDA device, but the model is on cpu"):
        fitness_precision("tf32", CPU)


def test_tf32_matmuls_switch_matmuls_and_convolutions_and_restore_them() -> None:
    matmul, conv = torch.backends.cuda.matmul, torch.backends.cudnn.conv
    before = matmul.fp32_precision, conv.fp32_precision
    with tf32_matmuls():
        assert (matmul.fp32_precision, conv.fp32_precision) == ("tf32", "tf32")
    assert (matmul.fp32_precision, conv.fp32_precision) == before
