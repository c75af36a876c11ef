"""SpeechBrain's cosine Classifier, ECAPA-TDNN's last layer, as a quantized matmul.

Its forward scores F.normalize(x) against F.normalize(weight), a bare Parameter rather than a Linear, after
the optional `blocks` (lin_blocks > 0). Quantized, its input quantizer sits on the cosine's input, after
the blocks.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from speechbrain.lobes.models.ECAPA_TDNN import Classifier
from torch import nn

from esc.quant.layers import register_layer


def cosine_input(x: torch.Tensor) -> torch.Tensor:
    """The normalised embeddings that the cosine's matmul multiplies, exactly as SpeechBrain computes them."""
    return F.normalize(x.squeeze(1))


def _run_blocks(classifier: nn.Module, x: torch.Tensor) -> torch.Tensor:
    for block in classifier.blocks:
        x = block(x)
    return x


@register_layer(Classifier, prologue=_run_blocks)
def _cosine_forward(classifier: nn.Module, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Cosine scores of the already quantized input and weight, normalised after quantization.

    That order is what an integer kernel computes: normalize(s·q) = q / ‖q‖, so the scores are the integer
    matmul of q_x and q_W times one factor per embedding (1/‖q_x‖) and one per class (1/‖q_W‖).
    """
    return F.linear(cosine_input(x), F.normalize(weight)).unsqueeze(1)
