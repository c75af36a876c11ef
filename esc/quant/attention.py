"""Fake-quantized attention for transformers models, plugged in through the AttentionInterface registry.

Attention modules get q/k/v/probs quantizers and the model is switched to the "esc_fakequant"
implementation. Whenever none of a module's quantizers is active, it delegates to the implementation the
model used before, so quantization-off reproduces the float model bit for bit (eager and sdpa differ in the
last bits, so always computing eager would not).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import torch
from torch import nn
from transformers import AttentionInterface, PreTrainedModel
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
from transformers.models.audio_spectrogram_transformer.modeling_audio_spectrogram_transformer import (
    ASTAttention,
)
from transformers.models.hubert.modeling_hubert import HubertAttention
from transformers.models.wav2vec2.modeling_wav2vec2 import Wav2Vec2Attention
from transformers.models.whisper.modeling_whisper import WhisperAttention

from esc.quant.config import QuantConfig
from esc.quant.fake_quant import fuses_softmax, scaled_masked_scores, softmax_fake_quantize
from esc.quant.quantizers import ActivationQuantizer

ATTENTION_IMPLEMENTATION = "esc_fakequant"
ATTENTION_ROLES = ("q", "k", "v", "probs")
# Float implementations we can delegate to: sdpa takes sdpa_mask's masks as is, eager via additive_mask.
SUPPORTED_FLOAT_IMPLEMENTATIONS = ("sdpa", "eager")

_QUANTIZERS_ATTRIBUTE = "esc_attention_quantizers"
_FLOAT_ATTRIBUTE = "esc_float_attention"
_ATTENTION_CLASSES: list[type[nn.Module]] = [
    ASTAttention,
    Wav2Vec2Attention,
    HubertAttention,
    WhisperAttention,
]


def register_attention_class(attention_class: type[nn.Module]) -> type[nn.Module]:
    """Mark a transformers attention class that calls ALL_ATTENTION_FUNCTIONS as quantizable."""
    _ATTENTION_CLASSES.append(attention_class)
    return attention_class


def is_attention_module(module: nn.Module) -> bool:
    """True for instances of a registered attention class."""
    return isinstance(module, tuple(_ATTENTION_CLASSES))


def attach_attention_quantizers(module: nn.Module, name: str, config: QuantConfig) -> None:
    """Give `module` quantizers `<name>.q/.k/.v` (config scheme) and `<name>.probs` (unsigned)."""
    if hasattr(module, _QUANTIZERS_ATTRIBUTE):
        raise ValueError(f"attention module {name!r} is already quantized")
    quantizers = {
        role: ActivationQuantizer(
            f"{name}.{role}",
            config.a_bits,
            "unsigned" if role == "probs" else config.activation_scheme,
            config.hist_bins,
        )
        for role in ATTENTION_ROLES
    }
    module.add_module(_QUANTIZERS_ATTRIBUTE, nn.ModuleDict(quantizers))


def attention_quantizers_of(module: nn.Module) -> nn.ModuleDict | None:
    """The role → quantizer dict of an attention module, or None when it was left in float."""
    return getattr(module, _QUANTIZERS_ATTRIBUTE, None)


def route_attention(model: nn.Module) -> None:
    """Send every attention module through fakequant_attention, remembering its float implementation."""
    attention_modules = [(path, m) for path, m in model.named_modules() if is_attention_module(m)]
    if not attention_modules:
        return
    for path, module in attention_modules:
        if hasattr(module, _FLOAT_ATTRIBUTE):
            continue
        implementation = module.config._attn_implementation
        if implementation not in SUPPORTED_FLOAT_IMPLEMENTATIONS:
            raise ValueError(
                f"attention module {path!r} uses attn_implementation={implementation!r}; quantization "
                f"supports {', '.join(SUPPORTED_FLOAT_IMPLEMENTATIONS)} (load with 'sdpa')"
            )
        setattr(module, _FLOAT_ATTRIBUTE, implementation)
    for pretrained in _outermost_pretrained_models(model):
        pretrained.set_attn_implementation(ATTENTION_IMPLEMENTATION)


def _outermost_pretrained_models(model: nn.Module) -> list[PreTrainedModel]:
    # set_attn_implementation propagates to nested sub-models, so only the outermost ones need the call.
    roots: list[tuple[str, PreTrainedModel]] = []
    for path, module in model.named_modules():
        nested = any(path.startswith(f"{root}.") or root == "" for root, _ in roots)
        if isinstance(module, PreTrainedModel) and not nested:
            roots.append((path, module))
    return [module for _, module in roots]


def fakequant_attention(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    **kwargs,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Eager attention with quantized q, k, v and softmax probabilities; float delegation when all are off.

    `attention_mask` follows sdpa conventions (boolean, or None meaning "use is_causal"), because the mask
    function registered alongside is sdpa's.
    """
    quantizers = attention_quantizers_of(module)
    if quantizers is None or not any(quantizer.is_active for quantizer in quantizers.values()):
        return _float_attention(
            module, query, key, value, attention_mask, scaling=scaling, dropout=dropout, **kwargs
        )
    is_causal = _is_causal(module, kwargs)
    query = quantizers["q"](query)
    key = quantizers["k"](key)
    value = quantizers["v"](value)
    if scaling is None:
        scaling = query.size(-1) ** -0.5
    scores = torch.matmul(query, key.transpose(2, 3))
    mask = additive_mask(attention_mask, query, key, is_causal)
    probs = _quantized_probabilities(scores, scaling, mask, quantizers, query.dtype)
    probs = nn.functional.dropout(probs, p=dropout, training=module.training)
    output = torch.matmul(probs, value)
    return output.transpose(1, 2).contiguous(), probs


def _quantized_probabilities(
    scores: torch.Tensor,
    scaling: float,
    mask: torch.Tensor | None,
    quantizers: nn.ModuleDict,
    out_dtype: torch.dtype,
) -> torch.Tensor:
    """The probs quantizer applied to softmax(scores·scaling + mask) in float32, as `out_dtype`."""
    quantizer = quantizers["probs"]
    # The device check first: it is False on a CPU, which then skips the rest on every forward.
    if (
        fuses_softmax(scores.device.type)
        and not torch.is_grad_enabled()
        and quantizer.is_quantizing
        and quantizer.is_calibrated
        and not any(role.collecting for role in quantizers.values())
    ):
        qmin, qmax = quantizer.grid
        scale, inverse_scale = quantizer.population or (quantizer.scale, quantizer.inverse_scale)
        return softmax_fake_quantize(scores, scaling, mask, scale, inverse_scale, qmin, qmax, out_dtype)
    # The float32 probabilities are quantized before the cast to the matmul's dtype: under autocast the
    # quantizer writes bfloat16 itself, which saves a pass over the largest tensor of the layer.
    probs = nn.functional.softmax(scaled_masked_scores(scores, scaling, mask), dim=-1, dtype=torch.float32)
    return quantizer(probs).to(out_dtype)


def _is_causal(module: nn.Module, kwargs: dict) -> bool:
    # Same precedence as transformers' sdpa integration: an explicit kwarg beats the module attribute.
    explicit = kwargs.get("is_causal")
    return explicit if explicit is not None else getattr(module, "is_causal", True)


def additive_mask(
    mask: torch.Tensor | None, query: torch.Tensor, key: torch.Tensor, is_causal: bool
) -> torch.Tensor | None:
    """Turn an sdpa-style mask into the additive float mask eager attention adds to the scores.

    None with is_causal and several queries means sdpa's top-left causal mask; booleans become 0 / dtype-min
    exactly as transformers' eager_mask builds them.
    """
    if mask is None:
        if not (is_causal and query.shape[2] > 1):
            return None
        mask = torch.ones(query.shape[2], key.shape[2], dtype=torch.bool, device=query.device).tril()
    if mask.dtype != torch.bool:
        return mask
    zero = torch.zeros((), dtype=query.dtype, device=query.device)
    return torch.where(mask, zero, torch.finfo(query.dtype).min)


def _float_attention(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    **kwargs,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    implementation = getattr(module, _FLOAT_ATTRIBUTE, None)
    if implementation is None:
        raise RuntimeError(
            f"{type(module).__name__} reached the {ATTENTION_IMPLEMENTATION!r} attention without being "
            "routed; register its class with register_attention_class before quantize()"
        )
    if implementation == "eager":
        attention_mask = additive_mask(attention_mask, query, key, _is_causal(module, kwargs))
    return _implementation_function(module, implementation)(
        module, query, key, value, attention_mask, **kwargs
    )


def _implementation_function(module: nn.Module, implementation: str) -> Callable:
    if implementation == "eager":  # "eager" is each model file's own function, not a registry entry
        return sys.modules[type(module).__module__].eager_attention_forward
    return ALL_ATTENTION_FUNCTIONS[implementation]


AttentionInterface.register(ATTENTION_IMPLEMENTATION, fakequant_attention)
# Without a mask function for our name, transformers silently drops causal and padding masks.
AttentionMaskInterface.register(ATTENTION_IMPLEMENTATION, sdpa_mask)
