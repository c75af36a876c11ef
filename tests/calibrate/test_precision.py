"""es.precision: the context a fitness forward runs in, checked against the device before any search."""

import pytest
import torch

from esc.calibrate.precision import cuda_float32_matmuls, fitness_precision

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


@pytest.mark.parametrize("precision", ["ieee", "tf32"])
def test_cuda_float32_matmuls_switch_matmuls_and_convolutions_and_restore_them(precision: str) -> None:
    matmul, conv = torch.backends.cuda.matmul, torch.backends.cudnn.conv
    before = matmul.fp32_precision, conv.fp32_precision
    with cuda_float32_matmuls(precision):
        assert (matmul.fp32_precision, conv.fp32_precision) == (precision, precision)
    assert (matmul.fp32_precision, conv.fp32_precision) == before


def test_fp32_holds_cuda_matmuls_to_ieee_float32_where_the_default_is_tf32() -> None:
    with cuda_float32_matmuls("tf32"), fitness_precision("fp32", CPU)():  # an image defaulting to TF32
        assert torch.backends.cuda.matmul.fp32_precision == "ieee"
