"""``--template`` placeholders, expanded per message in key, headers and value.

==================  ==========================================================
``{{seq}}``         1, 2, 3 ... (the message's number in this publish)
``{{uuid}}``        a random UUID4
``{{now}}``         current UTC time, ISO 8601 with milliseconds (``...Z``)
``{{now_ms}}``      current time in epoch milliseconds
``{{randint A B}}`` a random integer with A <= n <= B
``{{choice a b}}``  one of the words, picked at random
==================  ==========================================================

A template is compiled once (unknown placeholders and bad arguments are exit-2 errors naming
the placeholder) and rendered per message; text without ``{{`` is returned unchanged.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from mqctl.errors import UsageError
from mqctl.output.sanitize import safe_text

PLACEHOLDERS = ("seq", "uuid", "now", "now_ms", "randint A B", "choice a b c")

Part = str | Callable[[int], str]


def _now(_seq: int) -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _now_ms(_seq: int) -> str:
    return str(time.time_ns() // 1_000_000)


def _uuid(_seq: int) -> str:
    return str(uuid.uuid4())


def _seq(seq: int) -> str:
    return str(seq)


def _randint(rng: random.Random, low: int, high: int) -> Callable[[int], str]:
    return lambda _seq: str(rng.randint(low, high))


def _choice(rng: random.Random, words: list[str]) -> Callable[[int], str]:
    return lambda _seq: rng.choice(words)


_SIMPLE: dict[str, Callable[[int], str]] = {
    "seq": _seq,
    "uuid": _uuid,
    "now": _now,
    "now_ms": _now_ms,
}


def _compile_placeholder(body: str, rng: random.Random) -> Callable[[int], str]:
    words = body.split()
    # The placeholder is shown in the error: escaped (it may hold newlines or ESC) and short.
    shown = safe_text("{{" + (body if len(body) <= 60 else body[:57] + "...") + "}}")
    if not words:
        raise UsageError(f"empty template placeholder {shown}")
    name, args = words[0], words[1:]
    if name in _SIMPLE:
        if args:
            raise UsageError(f"template placeholder {shown}: {name} takes no arguments")
        return _SIMPLE[name]
    if name == "randint":
        try:
            low, high = (int(a) for a in args)
        except ValueError:
            raise UsageError(
                f"template placeholder {shown}: expected {{{{randint A B}}}} with integers"
            ) from None
        if low > high:
            raise UsageError(f"template placeholder {shown}: A must not be greater than B")
        return _randint(rng, low, high)
    if name == "choice":
        if not args:
            raise UsageError(f"template placeholder {shown}: choice needs at least one word")
        return _choice(rng, args)
    raise UsageError(
        f"unknown template placeholder {shown}",
        hint="placeholders: " + ", ".join("{{" + p + "}}" for p in PLACEHOLDERS),
    )


@dataclass(frozen=True, slots=True)
class Template:
    parts: tuple[Part, ...]

    @property
    def static(self) -> bool:
        return all(isinstance(p, str) for p in self.parts)

    def render(self, seq: int) -> str:
        return "".join(p if isinstance(p, str) else p(seq) for p in self.parts)


def compile_template(text: str, rng: random.Random | None = None) -> Template:
    """Parse ``text`` once; raise :class:`UsageError` naming any unknown placeholder."""
    rng = rng or random.Random()
    parts: list[Part] = []
    pos = 0
    # A linear scan, same result as ``\{\{(.*?)\}\}``: that regex took quadratic time on a
    # value with many ``{{`` and no ``}}`` (a 100 kB file: minutes).
    while (start := text.find("{{", pos)) != -1:
        end = text.find("}}", start + 2)
        if end == -1:
            break  # no later "{{" can be closed either
        if start > pos:
            parts.append(text[pos:start])
        parts.append(_compile_placeholder(text[start + 2 : end], rng))
        pos = end + 2
    if pos < len(text):
        parts.append(text[pos:])
    return Template(tuple(parts))
