"""The arithmetic of ESC's fitness forwards (`es.precision`): float32, or TF32 / bfloat16 for speed.

Only the search's forwards change: the local step and every reported metric keep the machine's default
arithmetic, so a run's accuracy says how good the scales found at that precision are. The fitness's float
references are IEEE float32 on every device, so that es.precision=fp32 compares like with like.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import partial

import torch

PRECISIONS = ("fp32", "tf32", "bf16")


def fitness_precision(name: str, device: torch.device) -> Callable[[], AbstractContextManager]:
    """A factory of the context a fitness forward on `device` runs in at precision `name`.

    Checked here, before any search starts, so a precision the device cannot run fails at once.
    """
    if name not in PRECISIONS:
        raise ValueError(f"es.precision={name!r} is unknown; choose one of {', '.join(PRECISIONS)}")
    if name == "bf16":
        return partial(torch.autocast, device.type, dtype=torch.bfloat16)
    if name == "tf32" and device.type != "cuda":
        raise ValueError(
            f"es.precision=tf32 needs a CUDA device, but the model is on {device.type}; "
            "use es.precision=fp32 or bf16 there"
        )
    return partial(cuda_float32_matmuls, "tf32" if name == "tf32" else "ieee")


@contextmanager
def cuda_float32_matmuls(precision: str) -> Iterator[None]:
    """CUDA float32 matmuls and convolutions in `precision` inside the block: "ieee", or "tf32" (tensor
    cores, 10-bit mantissa inputs). Set both ways, since PyTorch defaults cuDNN convolutions to TF32 and
    some machines' images default matmuls to it too, so fp32 would otherwise mean TF32 there."""
    matmul, conv = torch.backends.cuda.matmul, torch.backends.cudnn.conv
    saved = matmul.fp32_precision, conv.fp32_precision
    matmul.fp32_precision = conv.fp32_precision = precision
    try:
        yield
    finally:
        matmul.fp32_precision, conv.fp32_precision = saved
