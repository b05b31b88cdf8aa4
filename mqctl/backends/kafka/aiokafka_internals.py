"""Every use of aiokafka's private API, in one place (aiokafka is pinned to an exact version).

Partition metadata: aiokafka's ``ClusterMetadata`` keeps each partition's leader, replicas and
in-sync replicas (``PartitionMetadata``) in ``_partitions`` and has no public accessor for the
replicas and the ISR (:func:`partitions_metadata`); there is no slower public way to them.

Plain stdin lines are appended to a record batch through the builder under aiokafka's
``BatchBuilder.append`` (its ``_builder`` and ``_relative_offset``): half the cost per message.
When the installed aiokafka does not have that shape, :func:`fill` uses the public
``BatchBuilder.append`` instead (slower, same records) and says so once in the debug log.

tests/test_library_seams.py checks, without a broker, that the pinned aiokafka still has that
shape: an upgrade that changes it fails that test instead of silently getting slower.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from aiokafka.producer.message_accumulator import BatchBuilder

log = logging.getLogger(__name__)
_NO_HEADERS: Final[list[tuple[str, bytes]]] = []
_fallback_logged = False


def partitions_metadata(metadata: Any, topic: str) -> Mapping[int, Any]:
    """``topic``'s ``PartitionMetadata`` (leader, replicas, isr) by partition id, from an
    aiokafka ``ClusterMetadata``; empty for a topic it does not know."""
    partitions: Mapping[str, Mapping[int, Any]] = metadata._partitions
    return partitions.get(topic, {})


def has_fast_append(builder: BatchBuilder) -> bool:
    """Whether ``builder`` has the private attributes :func:`fill` uses."""
    inner = getattr(builder, "_builder", None)
    return callable(getattr(inner, "append", None)) and isinstance(
        getattr(builder, "_relative_offset", None), int
    )


def fill(builder: BatchBuilder, values: list[bytes], start: int) -> int:
    """Append ``values[start:]`` (no key, no headers, the current time) to ``builder`` until it
    is full; return how many went in. Calls the record batch builder under aiokafka's
    ``BatchBuilder.append`` directly (half the cost per message): the CRC, the producer id and
    the sequence numbers are still set by the builder when the producer sends the batch."""
    if builder.closed():
        return _fill_public(builder, values, start)
    if not has_fast_append(builder):
        _log_fallback()
        return _fill_public(builder, values, start)
    append = builder._builder.append
    offset: int = builder._relative_offset
    index = start
    headers: list[tuple[str, bytes]] = []
    for value in itertools.islice(values, start, None):
        if append(offset, None, None, value, headers) is None:
            builder.close()  # what BatchBuilder.append does when the batch is full
            break
        offset += 1
        index += 1
    builder._relative_offset = offset
    return index - start


def _fill_public(builder: BatchBuilder, values: list[bytes], start: int) -> int:
    append = builder.append
    index = start
    for value in itertools.islice(values, start, None):
        if append(timestamp=None, key=None, value=value, headers=_NO_HEADERS) is None:
            break
        index += 1
    return index - start


def _log_fallback() -> None:
    global _fallback_logged
    if not _fallback_logged:
        _fallback_logged = True
        log.debug(
            "aiokafka's BatchBuilder has no _builder/_relative_offset: "
            "appending through the public BatchBuilder.append (slower)"
        )
