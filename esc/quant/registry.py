"""Name → function registries, so calibrators are chosen by config strings and typos fail loudly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

F = TypeVar("F", bound=Callable)


class NameRegistry(Generic[F]):
    """Maps config names to functions; an unknown name lists the valid ones instead of failing later."""

    def __init__(self, kind: str) -> None:
        self._kind = kind
        self._functions: dict[str, F] = {}

    def register(self, name: str) -> Callable[[F], F]:
        """Decorator that makes `name` resolve to the decorated function."""

        def add(function: F) -> F:
            if name in self._functions:
                raise ValueError(f"{self._kind} {name!r} is already registered")
            self._functions[name] = function
            return function

        return add

    def get(self, name: str) -> F:
        """The function registered as `name`; ValueError listing the valid names otherwise."""
        if name not in self._functions:
            raise ValueError(f"unknown {self._kind} {name!r}; valid names: {', '.join(self.names())}")
        return self._functions[name]

    def names(self) -> list[str]:
        """Registered names in registration order, for error messages and CLI choices."""
        return list(self._functions)
