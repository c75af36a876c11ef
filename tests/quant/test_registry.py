"""Name registries used to pick calibrators by config string."""

import pytest

from esc.quant.registry import NameRegistry


def test_registered_function_is_returned_by_name() -> None:
    registry: NameRegistry = NameRegistry("widget")
    registry.register("a")(len)
    assert registry.get("a") is len
    assert registry.names() == ["a"]


def test_unknown_name_error_lists_valid_names() -> None:
    registry: NameRegistry = NameRegistry("widget")
    registry.register("a")(len)
    registry.register("b")(abs)
    with pytest.raises(ValueError, match="unknown widget 'c'; valid names: a, b"):
        registry.get("c")


def test_registering_a_name_twice_raises() -> None:
    registry: NameRegistry = NameRegistry("widget")
    registry.register("a")(len)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("a")(abs)
