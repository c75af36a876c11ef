"""GPTQ: quantize a weight matrix column by column, pushing each column's error onto the columns not
yet quantized through the inverse Hessian of the layer's squared output error (Frantar et al., 2023)."""

from __future__ import annotations

import torch


def hessian_update(hessian: torch.Tensor | None, rows: torch.Tensor, seen: int) -> tuple[torch.Tensor, int]:
    """Running mean of 2·xᵀx over input rows, in float64 so long calibration sets stay exact enough."""
    rows = rows.double()
    batch = rows.T @ rows
    total = seen + len(rows)
    if hessian is None:
        return 2.0 * batch / total, total
    return hessian * (seen / total) + 2.0 * batch / total, total


def gptq_round(
    weight: torch.Tensor,
    hessian: torch.Tensor,
    scale: torch.Tensor,
    qmin: int,
    qmax: int,
    damp: float = 0.01,
    block: int = 128,
) -> torch.Tensor:
    """GPTQ-quantized copy of `weight` (out, in) on the per-row grid `scale`·[qmin, qmax]."""
    weight = weight.double().clone()
    hessian = hessian.clone()
    dead = torch.diag(hessian) == 0
    hessian[dead, dead] = 1.0
    weight[:, dead] = 0.0
    hessian.diagonal().add_(damp * hessian.diagonal().mean())  # in place: no n×n identity, on any device
    inverse = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(hessian)), upper=True)
    scale = scale.double().reshape(-1, 1)
    quantized = torch.zeros_like(weight)
    for start in range(0, weight.shape[1], block):
        end = min(start + block, weight.shape[1])
        w, h_inv = weight[:, start:end].clone(), inverse[start:end, start:end]
        errors = torch.zeros_like(w)
        for j in range(end - start):
            q = torch.clamp(torch.round(w[:, j : j + 1] / scale), qmin, qmax) * scale
            quantized[:, start + j : start + j + 1] = q
            error = (w[:, j : j + 1] - q) / h_inv[j, j]
            w[:, j:] -= error @ h_inv[j : j + 1, j:]
            errors[:, j : j + 1] = error
        weight[:, end:] -= errors @ inverse[start:end, end:]
    return quantized
