"""AdaRound's learned rounding."""

import torch

from esc.ptq.adaround import adaround
from esc.quant.fake_quant import fake_quantize


def test_rounding_variables_end_at_zero_or_one_and_beat_rtn():
    torch.manual_seed(0)
    weight = torch.randn(16, 32)
    scale = weight.abs().amax(dim=1) / 7
    rows = torch.randn(512, 32) @ torch.randn(32, 32)
    quantized, soft = adaround(weight, rows, scale, -7, 7, iters=800, lr=0.05, batch_rows=256)
    settled = ((soft < 0.01) | (soft > 0.99)).float().mean()
    assert settled > 0.99, f"only {settled:.1%} of rounding variables reached 0 or 1"
    rtn = fake_quantize(weight, scale.view(-1, 1), None, -7, 7)
    error = {
        name: (rows @ (w - weight).T).pow(2).mean() for name, w in {"ada": quantized, "rtn": rtn}.items()
    }
    assert error["ada"] < error["rtn"], error


def test_adaround_rounds_each_weight_down_or_up_only():
    weight = torch.randn(4, 8)
    scale = weight.abs().amax(dim=1) / 7
    quantized, _ = adaround(weight, torch.randn(64, 8), scale, -7, 7, iters=20)
    levels = quantized / scale.view(-1, 1)
    floor = torch.floor(weight / scale.view(-1, 1))
    assert torch.allclose(levels, levels.round(), atol=1e-5)
    assert ((levels - floor).round().abs() <= 1).all() and (levels - floor >= -1e-5).all()


def test_float_targets_let_the_rounding_absorb_an_input_error():
    """Asymmetric reconstruction: with the float inputs as the target, the rounding compensates a systematic
    error in the inputs it sees, which plain AdaRound on those inputs cannot know about."""
    torch.manual_seed(0)
    weight = torch.randn(16, 32)
    scale = weight.abs().amax(dim=1) / 7
    float_rows = torch.randn(2048, 32) @ torch.randn(32, 32)
    seen_rows = float_rows * torch.linspace(0.85, 1.0, 32)  # inputs shrunk by upstream quantization
    target = float_rows @ weight.T
    error = {}
    for name, targets in {"asymmetric": float_rows, "plain": None}.items():
        quantized, _ = adaround(
            weight, seen_rows, scale, -7, 7, iters=800, batch_rows=512, float_rows=targets
        )
        error[name] = (seen_rows @ quantized.T - target).pow(2).mean()
    assert error["asymmetric"] < 0.9 * error["plain"], error


def test_rows_without_energy_leave_round_to_nearest_instead_of_flooring_every_weight():
    # All-zero rows: the relative loss was 0 / 0, the rounding logits NaN, and every weight rounded down.
    weight = torch.randn(4, 8, generator=torch.Generator().manual_seed(1))
    scale = weight.abs().amax(dim=1) / 7
    quantized, _ = adaround(weight, torch.zeros(64, 8), scale, -7, 7, iters=20)
    assert torch.equal(quantized, fake_quantize(weight, scale.view(-1, 1), None, -7, 7))
