"""What the refresh workers deliver: one :class:`Outcome` per data kind and refresh.

The app runs one background worker per kind on every tick and posts a
:class:`DataUpdated` message to each widget that subscribed to that kind. Widgets keep
the last good data when a refresh fails and show why in their status line.
"""

from __future__ import annotations

import enum
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from textual.message import Message

from mqctl.errors import ConnectError, MqctlError
from mqctl.models.lag import LagEntry

HISTORY = 60  # refreshes kept for sparklines and charts (5 minutes at the default 5 s)
DISCONNECTED = "disconnected, retrying"


class Kind(enum.StrEnum):
    STATUS = "status"
    TOPICS = "topics"
    QUEUES = "queues"
    LAG = "lag"


@dataclass(slots=True)
class Outcome:
    kind: Kind
    data: Any = None
    error: BaseException | None = None
    seconds: float = 0.0
    generation: int = 0
    at: float = field(default_factory=time.monotonic)
    # More of this data is being read and comes in a later outcome (the queues' consumers
    # and rates after their lean listing): what is missing shows as not known meanwhile.
    partial: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def disconnected(self) -> bool:
        return isinstance(self.error, ConnectError)

    def describe_error(self) -> str:
        error = self.error
        if error is None:
            return ""
        if isinstance(error, ConnectError):
            return f"{DISCONNECTED}: {error}"
        if isinstance(error, MqctlError):
            return str(error)
        return f"{type(error).__name__}: {error}"


class DataUpdated(Message, bubble=False):
    """Posted by the refresh workers to every subscriber of ``outcome.kind``."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__()
        self.outcome = outcome


class RefreshTick(Message, bubble=False):
    """Posted to subscribers of ticks (detail screens refresh their own data on it)."""


class ContextChanged(Message, bubble=False):
    """Posted to every subscriber when the user switched context (clear what you show)."""


def group_key(entry: LagEntry) -> str:
    """Stable identity of a lag entry across refreshes."""
    vhost = entry.queue.vhost if entry.queue is not None else ""
    return f"{entry.backend}|{entry.kind}|{vhost}|{entry.group}"


class LagHistory:
    """Total lag per group and lag per partition over the last refreshes."""

    def __init__(self, size: int = HISTORY) -> None:
        self.size = size
        self.groups: dict[str, deque[int]] = {}
        self.partitions: dict[tuple[str, str, int], deque[int]] = {}

    def clear(self) -> None:
        self.groups.clear()
        self.partitions.clear()

    def add(self, entries: list[LagEntry]) -> None:
        seen: set[str] = set()
        for entry in entries:
            key = group_key(entry)
            seen.add(key)
            self.groups.setdefault(key, deque(maxlen=self.size)).append(entry.total_lag)
            for p in entry.partitions:
                pkey = (key, p.topic, p.partition)
                self.partitions.setdefault(pkey, deque(maxlen=self.size)).append(p.lag)
        for key in [k for k in self.groups if k not in seen]:
            del self.groups[key]  # a group that disappeared starts afresh if it comes back

    def group(self, key: str) -> list[int]:
        return list(self.groups.get(key, ()))

    def partition(self, key: str, topic: str, partition: int) -> list[int]:
        return list(self.partitions.get((key, topic, partition), ()))
