"""Naming conventions for dead-letter queues and deriving the source name from a DLQ name.

Patterns are shell-style (``fnmatch``, case-sensitive because ``.DLT`` is Spring's spelling
and ``.dlq`` another team's). A pattern with a single ``*`` also tells the source: the part
the ``*`` matched (``orders.dlq`` → ``orders``, ``dlq.orders`` → ``orders``). Contexts add
their own patterns with ``dlq-patterns = ["*.parking-lot"]``.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

RABBITMQ_PATTERNS = ("*.dlq", "*.dead", "*-dlq", "dlq.*", "*.DLT")
KAFKA_PATTERNS = ("*.dlq", "*-dlq", "*.DLT", "*-dlt", "dlq.*")


def conventions(backend: str) -> tuple[str, ...]:
    return KAFKA_PATTERNS if backend == "kafka" else RABBITMQ_PATTERNS


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
