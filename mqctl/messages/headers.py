"""Parsing ``k=v`` arguments (``--header``, ``--property``, ``--config``) with exit-2 errors."""

from __future__ import annotations

from collections.abc import Iterable

from mqctl.errors import UsageError


def parse_pair(arg: str, option: str = "--header") -> tuple[str, str]:
    """``"k=v"`` -> ``("k", "v")``. The value may contain ``=``; the key may not be empty.

    An empty value (``k=``) is allowed: it is a real, empty header value.
    """
    key, sep, value = arg.partition("=")
    if not sep:
        raise UsageError(f"{option} {arg!r}: expected KEY=VALUE")
    key = key.strip()
    if not key:
        raise UsageError(f"{option} {arg!r}: the key before '=' is empty")
    return key, value


def parse_pairs(args: Iterable[str] | None, option: str = "--header") -> list[tuple[str, str]]:
    """All ``k=v`` arguments in order (repeated keys are kept: Kafka allows them)."""
    return [parse_pair(arg, option) for arg in args or ()]


def parse_unique(args: Iterable[str] | None, option: str) -> dict[str, str]:
    """``k=v`` arguments where a key may appear once (configs, AMQP properties)."""
    result: dict[str, str] = {}
    for key, value in parse_pairs(args, option):
        if key in result:
            raise UsageError(f"{option}: {key!r} given more than once")
        result[key] = value
    return result
