"""Node and edge names made on demand: a million-cell crossbar without millions of strings.

A :class:`GridNames` is a read-only sequence of names such as ``in0 .. in{R-1}``,
``w{i}_{j}``, ``b{i}_{j}``: blocks of a prefix plus the indices of a 1-D or 2-D grid, numbered
row by row (``order="C"``) or column by column (``order="F"``). It behaves as the tuple of
those names (indexing, iteration, ``==``, ``+``) and finds a name's index by parsing it, so a
network built by :func:`memsim.crossbar` holds its names in a few bytes and builds none of them
until someone asks.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from typing import Literal, NamedTuple, SupportsIndex, overload

from memsim.errors import NetworkError

__all__ = ["GridNames", "NameBlock"]

_NAME = re.compile(r"^([A-Za-z]+)(\d+(?:_\d+)*)$")


class NameBlock(NamedTuple):
    """``prefix`` + grid indices joined by ``_``, over ``shape``, numbered in ``order``."""

    prefix: str
    shape: tuple[int, ...]
    order: Literal["C", "F"] = "C"

    @property
    def size(self) -> int:
        return math.prod(self.shape)


class GridNames(Sequence[str]):
    """The names of consecutive :class:`NameBlock` s, generated on demand.

    Raises
    ------
    NetworkError
        If a prefix is not made of letters, is used twice, or a block is not 1-D or 2-D
        (names must stay unique and parse back to their index).

    Examples
    --------
    >>> names = GridNames([NameBlock("in", (2,)), NameBlock("b", (2, 3), "F")])
    >>> list(names)
    ['in0', 'in1', 'b0_0', 'b1_0', 'b0_1', 'b1_1', 'b0_2', 'b1_2']
    >>> names.index("b1_2"), "b2_0" in names
    (7, False)
    """

    def __init__(self, blocks: Sequence[NameBlock]):
        self.blocks = tuple(NameBlock(b.prefix, tuple(int(s) for s in b.shape), b.order)
                            for b in blocks)
        seen: set[str] = set()
        for b in self.blocks:
            if not re.fullmatch(r"[A-Za-z]+", b.prefix) or b.prefix in seen:
                raise NetworkError(f"name prefix {b.prefix!r} must be letters and unique")
            if len(b.shape) not in (1, 2) or min(b.shape, default=0) < 0:
                raise NetworkError(f"name block {b.prefix!r} needs a 1-D or 2-D shape, got "
                                   f"{b.shape}")
            seen.add(b.prefix)
        self._starts = []
        start = 0
        for b in self.blocks:
            self._starts.append(start)
            start += b.size
        self._len = start
        self._by_prefix = {b.prefix: k for k, b in enumerate(self.blocks)}

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, k: SupportsIndex) -> str: ...
    @overload
    def __getitem__(self, k: slice) -> tuple[str, ...]: ...
    def __getitem__(self, k: SupportsIndex | slice) -> str | tuple[str, ...]:
        if isinstance(k, slice):
            return tuple(self._name(i) for i in range(*k.indices(self._len)))
        k = k.__index__()
        if k < 0:
            k += self._len
        if not 0 <= k < self._len:
            raise IndexError(f"name index {k} out of range 0..{self._len - 1}")
        return self._name(k)

    def _name(self, k: int) -> str:
        for b, start in zip(reversed(self.blocks), reversed(self._starts), strict=True):
            if k >= start:
                off = k - start
                if len(b.shape) == 1:
                    return f"{b.prefix}{off}"
                rows, cols = b.shape
                i, j = (divmod(off, cols) if b.order == "C" else divmod(off, rows)[::-1])
                return f"{b.prefix}{i}_{j}"
        raise IndexError(k)  # pragma: no cover (k < 0 is handled above)

    def __iter__(self) -> Iterator[str]:
        for b in self.blocks:
            if len(b.shape) == 1:
                yield from (f"{b.prefix}{i}" for i in range(b.shape[0]))
            elif b.order == "C":
                yield from (f"{b.prefix}{i}_{j}" for i in range(b.shape[0])
                            for j in range(b.shape[1]))
            else:
                yield from (f"{b.prefix}{i}_{j}" for j in range(b.shape[1])
                            for i in range(b.shape[0]))

    def find(self, name: str) -> int | None:
        """Index of ``name``, or None if it is not one of these names."""
        m = _NAME.match(name)
        if m is None or m.group(1) not in self._by_prefix:
            return None
        block = self._by_prefix[m.group(1)]
        b = self.blocks[block]
        parts = m.group(2).split("_")
        if len(parts) != len(b.shape) or any(p != str(int(p)) for p in parts):
            return None  # "w01_2" or "w1" is no name of a 2-D block
        idx = [int(p) for p in parts]
        if any(i >= s for i, s in zip(idx, b.shape, strict=True)):
            return None
        if len(idx) == 1:
            off = idx[0]
        else:
            off = idx[0] * b.shape[1] + idx[1] if b.order == "C" else idx[1] * b.shape[0] + idx[0]
        return self._starts[block] + off

    def index(self, name: object, start: int = 0, stop: int | None = None) -> int:
        k = self.find(name) if isinstance(name, str) else None
        if k is None or k < start or (stop is not None and k >= stop):
            raise ValueError(f"{name!r} is not in the names")
        return k

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.find(name) is not None

    def count(self, name: object) -> int:
        return int(name in self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, GridNames):
            return self.blocks == other.blocks
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(other) == self._len and all(a == b for a, b in zip(self, other,
                                                                            strict=True))
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = None  # type: ignore[assignment]

    def __add__(self, other: Sequence[str]) -> tuple[str, ...]:
        return tuple(self) + tuple(other)

    def __radd__(self, other: Sequence[str]) -> tuple[str, ...]:
        return tuple(other) + tuple(self)

    def __repr__(self) -> str:
        inner = ", ".join(f"{b.prefix}{'x'.join(map(str, b.shape))}" for b in self.blocks)
        return f"GridNames({inner})"
