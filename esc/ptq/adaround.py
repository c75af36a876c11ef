"""AdaRound: learn, per weight, whether to round down or up, so that the layer's output on calibration
inputs stays close to the float output (Nagel et al., 2020). Rounding variables are annealed to 0/1.

Given the float model's inputs as well, the target is the float layer's output on them while the rounded
weight sees the quantized model's inputs (the paper's asymmetric reconstruction)."""

from __future__ import annotations

import torch

ZETA, GAMMA = 1.1, -0.1


def rectified_sigmoid(v: torch.Tensor) -> torch.Tensor:
    """h(V) ∈ [0, 1], stretched so it reaches 0 and 1 exactly (the regulariser then pushes it there)."""
    return torch.clamp(torch.sigmoid(v) * (ZETA - GAMMA) + GAMMA, 0.0, 1.0)


def initial_logits(remainder: torch.Tensor) -> torch.Tensor:
    """V such that h(V) equals the fractional part of W/s: training starts from the float weight."""
    p = torch.clamp((remainder - GAMMA) / (ZETA - GAMMA), 1e-4, 1 - 1e-4)
    return torch.log(p / (1 - p))


def adaround(
    weight: torch.Tensor,
    rows: torch.Tensor,
    scale: torch.Tensor,
    qmin: int,
    qmax: int,
    iters: int = 500,
    lr: float = 0.05,
    reg: float = 0.1,
    beta_start: float = 20.0,
    beta_end: float = 2.0,
    warmup: float = 0.2,
    batch_rows: int = 1024,
    seed: int = 0,
    float_rows: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The AdaRound-quantized weight (out, in) and the final soft rounding h(V) (for inspection).

    `float_rows`, row for row the float model's version of `rows`, sets the target; `rows` by default.
    """
    generator = torch.Generator().manual_seed(seed)
    scale = scale.float().reshape(-1, 1)
    scaled = weight.float() / scale
    floor = torch.floor(scaled)
    v = initial_logits(scaled - floor).requires_grad_(True)
    optimizer = torch.optim.Adam([v], lr=lr)
    target = (rows if float_rows is None else float_rows) @ weight.float().T
    energy = target.pow(2).mean()
    if energy == 0:  # rows or weights all zero: no output to match, and the relative loss would be NaN
        nearest = (scaled - floor >= 0.5).float()  # round to nearest, as the final rounding below decides
        return (torch.clamp(floor + nearest, qmin, qmax) * scale).to(weight.dtype), nearest
    for step in range(iters):
        picked = torch.randint(len(rows), (min(batch_rows, len(rows)),), generator=generator)
        soft = torch.clamp(floor + rectified_sigmoid(v), qmin, qmax) * scale
        # Relative output error: the regulariser weight then means the same for every layer's scale.
        loss = (rows[picked] @ soft.T - target[picked]).pow(2).mean() / energy
        progress = (step / iters - warmup) / (1 - warmup)
        if progress > 0:
            beta = beta_end + 0.5 * (beta_start - beta_end) * (
                1 + torch.cos(torch.tensor(progress * torch.pi))
            )
            loss = loss + reg * (1 - (2 * rectified_sigmoid(v) - 1).abs().pow(beta)).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        soft = rectified_sigmoid(v)
        quantized = torch.clamp(floor + (soft >= 0.5).float(), qmin, qmax) * scale
    return quantized.to(weight.dtype), soft
