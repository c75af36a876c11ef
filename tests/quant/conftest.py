"""Fixtures shared by the quantization tests."""

from __future__ import annotations

import pytest
from torch import nn
from transformers import AttentionInterface

from esc.quant import ATTENTION_IMPLEMENTATION


@pytest.fixture
def attention_calls(monkeypatch: pytest.MonkeyPatch) -> list[nn.Module]:
    """Records the module of every call transformers makes to the esc_fakequant attention function."""
    calls: list[nn.Module] = []
    registered = AttentionInterface._global_mapping[ATTENTION_IMPLEMENTATION]

    def counting(module: nn.Module, *args, **kwargs):
        calls.append(module)
        return registered(module, *args, **kwargs)

    monkeypatch.setitem(AttentionInterface._global_mapping, ATTENTION_IMPLEMENTATION, counting)
    return calls
