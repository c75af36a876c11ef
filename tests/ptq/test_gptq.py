"""GPTQ against round-to-nearest on one Linear layer."""

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
