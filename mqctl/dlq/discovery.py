"""Naming conventions for dead-letter queues and deriving the source name from a DLQ name.

This is the one DLQ rule of mqctl (``mqctl dlq list``, the lag view's DLQ filter, the TUI's
DLQ panel and actions all call :func:`is_dlq_name`). Patterns are shell-style (``fnmatch``,
case-sensitive because ``.DLT`` is Spring's spelling and ``.dlq`` another team's). A
pattern with a single ``*`` also tells the source: the part the ``*`` matched
(``orders.dlq`` → ``orders``, ``dlq.orders`` → ``orders``). Contexts add their own patterns
with ``dlq-patterns = ["*.parking-lot"]``.
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase

RABBITMQ_PATTERNS = ("*.dlq", "*.dead", "*-dlq", "*_dlq", "dlq.*", "*.DLT")
KAFKA_PATTERNS = ("*.dlq", "*-dlq", "*_dlq", "*.DLT", "*-dlt", "dlq.*")


def conventions(backend: str) -> tuple[str, ...]:
    return KAFKA_PATTERNS if backend == "kafka" else RABBITMQ_PATTERNS


def is_dlq_name(name: str, backend: str, patterns: Iterable[str] = ()) -> bool:
    """Whether a topic or queue of ``backend`` is a dead-letter destination by its name: a
    naming convention of the broker, or one of the context's ``dlq-patterns``."""
    return matching_pattern(name, (*patterns, *conventions(backend))) is not None


def matching_pattern(name: str, patterns: tuple[str, ...]) -> str | None:
    """The first pattern ``name`` matches, or None."""
    for pattern in patterns:
        if fnmatchcase(name, pattern):
            return pattern
    return None


def source_from_name(name: str, patterns: tuple[str, ...]) -> str | None:
    """What the ``*`` of the first matching single-star pattern stands for (the source)."""
    for pattern in patterns:
        if pattern.count("*") != 1 or not fnmatchcase(name, pattern):
            continue
        prefix, suffix = pattern.split("*")
        if any(c in prefix + suffix for c in "?["):
            continue
        core = name[len(prefix) : len(name) - len(suffix)]
        if core:
            return core
    return None
