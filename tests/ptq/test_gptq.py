"""GPTQ against round-to-nearest on one Linear layer, and against the column-by-column reference."""

import pytest
import torch

from esc.ptq.gptq import gptq_round, hessian_update
from esc.quant.fake_quant import fake_quantize

MIXING = torch.randn(64, 64, generator=torch.Generator().manual_seed(7))


def correlated_inputs(rows: int, seed: int) -> torch.Tensor:
    """Samples of one correlated input distribution: what GPTQ's Hessian can exploit."""
    return torch.randn(rows, 64, generator=torch.Generator().manual_seed(seed)) @ MIXING


def test_gptq_gives_lower_output_error_than_rtn_on_held_out_inputs():
    torch.manual_seed(0)
    weight = torch.randn(32, 64)
    scale = weight.abs().amax(dim=1) / 7
    hessian, seen = None, 0
    for batch in correlated_inputs(2048, seed=1).split(256):
        hessian, seen = hessian_update(hessian, batch, seen)
    gptq = gptq_round(weight, hessian, scale, -7, 7).float()
    rtn = fake_quantize(weight, scale.view(-1, 1), None, -7, 7)
    held_out = correlated_inputs(1024, seed=2)
    error = {
        name: (held_out @ (w - weight).T).pow(2).mean() for name, w in {"gptq": gptq, "rtn": rtn}.items()
    }
    assert error["gptq"] < 0.8 * error["rtn"], error


def test_gptq_weights_lie_on_the_grid():
    weight = torch.randn(8, 16)
    scale = weight.abs().amax(dim=1) / 7
    hessian, _ = hessian_update(None, torch.randn(64, 16), 0)
    levels = gptq_round(weight, hessian, scale, -7, 7) / scale.double().view(-1, 1)
    assert torch.allclose(levels, levels.round(), atol=1e-9)
    assert levels.abs().max() <= 7


def test_running_hessian_equals_the_whole_batch_one():
    rows = torch.randn(300, 5)
    running, seen = None, 0
    for batch in rows.split(70):
        running, seen = hessian_update(running, batch, seen)
    whole, _ = hessian_update(None, rows, 0)
    assert seen == 300 and torch.allclose(running, whole)


def reference_gptq(weight: torch.Tensor, hessian: torch.Tensor, scale: torch.Tensor, qmin: int, qmax: int):
    """The OBQ update GPTQ computes, written the slow way: quantize column j, spread its error over the later
    columns through the inverse Hessian, then remove column j from that inverse by Gaussian elimination."""
    weight, scale = weight.double().clone(), scale.double().reshape(-1, 1)
    damped = hessian + 0.01 * hessian.diagonal().mean() * torch.eye(len(hessian), dtype=torch.float64)
    inverse = torch.linalg.inv(damped)
    quantized = torch.zeros_like(weight)
    for j in range(weight.shape[1]):
        quantized[:, j] = (torch.clamp(torch.round(weight[:, j : j + 1] / scale), qmin, qmax) * scale)[:, 0]
        error = (weight[:, j] - quantized[:, j]) / inverse[j, j]
        weight[:, j + 1 :] -= error[:, None] * inverse[j, j + 1 :][None, :]
        inverse = inverse - inverse[:, j : j + 1] @ inverse[j : j + 1, :] / inverse[j, j]
    return quantized


@pytest.mark.parametrize("block", [1, 5, 128])
def test_gptq_picks_the_levels_of_the_column_by_column_reference_for_any_block_size(block):
    generator = torch.Generator().manual_seed(3)
    weight = torch.randn(6, 12, generator=generator, dtype=torch.float64)
    rows = torch.randn(40, 12, generator=generator, dtype=torch.float64) @ torch.randn(
        12, 12, generator=generator, dtype=torch.float64
    )
    hessian, _ = hessian_update(None, rows, 0)
    scale = weight.abs().amax(dim=1) / 7
    expected = reference_gptq(weight, hessian, scale, -7, 7)
    actual = gptq_round(weight, hessian, scale, -7, 7, damp=0.01, block=block)
    torch.testing.assert_close(actual, expected, rtol=0, atol=1e-9)
