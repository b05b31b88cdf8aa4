"""Bounds-checked reads of Kafka's non-flexible encoding (int16-sized strings, int32 counts),
shared by the hand-written answer decoders (offsets_wire.py, metadata_wire.py). A short or
malformed answer is a ``ValueError`` naming the request, never a wrong value."""

from __future__ import annotations

import struct
from collections.abc import Callable
from io import BytesIO
from typing import Any, TypeVar

T = TypeVar("T")
_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")
_INTS: dict[int, struct.Struct] = {}


def ints(count: int) -> struct.Struct:
    """``count`` big-endian int32s (cached: the same few counts recur per answer)."""
    fmt = _INTS.get(count)
    if fmt is None:
        fmt = _INTS[count] = struct.Struct(f">{count}i")
    return fmt


class WireReader:
    __slots__ = ("buf", "pos")

    def __init__(self, data: BytesIO | bytes) -> None:
        self.buf = data if isinstance(data, bytes) else data.read()
        self.pos = 0

    def unpack(self, fmt: struct.Struct) -> tuple[Any, ...]:
        if self.pos + fmt.size > len(self.buf):
            raise ValueError("Buffer underrun")
        value = fmt.unpack_from(self.buf, self.pos)
        self.pos += fmt.size
        return value

    def count(self) -> int:
        """An int32 (array lengths, and any other int32 field)."""
        (value,) = self.unpack(_I32)
        return int(value)

    def take(self, size: int) -> bytes:
        end = self.pos + size
        if end > len(self.buf):
            raise ValueError("Buffer underrun")
        value = self.buf[self.pos : end]
        self.pos = end
        return value

    def string(self) -> str | None:
        (length,) = self.unpack(_I16)
        return None if length < 0 else self.take(length).decode("utf-8")

    def int32_array(self) -> list[int] | None:
        count = self.count()
        return None if count < 0 else list(self.unpack(ints(count)))


def decoding(what: str, read: Callable[[WireReader], T], data: BytesIO | bytes) -> T:
    """``read`` over ``data``, a malformed answer raised as one ``ValueError``."""
    try:
        return read(WireReader(data))
    except (struct.error, UnicodeDecodeError) as exc:
        raise ValueError(f"malformed {what} response: {exc}") from None
