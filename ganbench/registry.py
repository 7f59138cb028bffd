"""A name -> object registry filled by a decorator; an unknown name fails with the known ones."""

from __future__ import annotations

from typing import Callable, Generic, Iterator, TypeVar

from .errors import BadInput

T = TypeVar("T")


class Registry(Generic[T]):
    """Small dict of ``name -> entry`` for one kind of part (``"loss"``, ``"net"``, ...)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}

    @property
    def plural(self) -> str:
        k = self.kind
        return k[:-1] + "ies" if k.endswith("y") else k + ("es" if k.endswith(("s", "x")) else "s")

    def add(self, name: str, entry: T) -> T:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} registered twice")
        self._entries[name] = entry
        return entry

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: ``@REGISTRY.register("name")`` adds the decorated object under ``name``."""
        return lambda entry: self.add(name, entry)

    def get(self, name: str) -> T:
        if name not in self._entries:
            raise BadInput(f"unknown {self.kind} {name!r}; known {self.plural}: {', '.join(self._entries)}")
        return self._entries[name]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def items(self):
        return self._entries.items()

    def __len__(self) -> int:
        return len(self._entries)
