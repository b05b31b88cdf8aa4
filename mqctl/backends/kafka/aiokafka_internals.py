"""Every use of aiokafka's private API, in one place (aiokafka is pinned to an exact version).

Partition metadata: aiokafka's ``ClusterMetadata`` keeps each partition's leader, replicas and
in-sync replicas (``PartitionMetadata``) in ``_partitions`` and has no public accessor for the
replicas and the ISR (:func:`partitions_metadata`); there is no slower public way to them.

Plain stdin lines are appended to a record batch through the builder under aiokafka's
``BatchBuilder.append`` (its ``_builder`` and ``_relative_offset``): half the cost per message.
When the installed aiokafka does not have that shape, :func:`fill` uses the public
``BatchBuilder.append`` instead (slower, same records) and says so once in the debug log.

The producers of a publish start before the topic's max.message.bytes is known (all start-up
round trips at once); :func:`set_batch_size` then sizes the batches their ``create_batch()``
makes (the accumulator's ``_batch_size``). Without that attribute the publish restarts its
producers with the right size (slower start, same batches).

Produce requests are written to the connection in pieces (:func:`fast_produce`): aiokafka's
``AIOKafkaConnection.send`` encodes a request by joining its fields level by level and then
prepends the header and the size, copying each ~1 MB record batch four or five times (0.2 ms a
copy; 1M lines of 200 B are 211 batches). Here the small fields are encoded around the batches,
which are handed to the socket's writer as they are. It stands in for the producer client's
``send`` for ProduceRequest v3-v7 with acks, and does what ``AIOKafkaClient.send`` and
``AIOKafkaConnection.send`` do (the node's connection, the correlation id, the pending request
the connection's reader answers, the timeout); everything else, and any other shape, goes
through aiokafka's own ``send``. The producer's sender is unchanged: the batches, their
producer id, epoch and sequence numbers, the retries and the order per partition are
aiokafka's.

tests/test_library_seams.py checks, without a broker, that the pinned aiokafka still has these
shapes (and that the pieces are byte for byte what aiokafka writes): an upgrade that changes
them fails that test instead of silently getting slower.
"""

from __future__ import annotations

import itertools
import logging
import struct
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer
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
    the sequence numbers are still set by the builder when the producer sends the batch. The
    time is read once per call (the builder would read the clock for each record: 12 % of
    its time): one call takes well under a millisecond, the records' unit."""
    if builder.closed():
        return _fill_public(builder, values, start)
    if not has_fast_append(builder):
        _log_fallback()
        return _fill_public(builder, values, start)
    append = builder._builder.append
    offset: int = builder._relative_offset
    index = start
    headers: list[tuple[str, bytes]] = []
    now = int(time.time() * 1000)  # what the builder does for a record without a timestamp
    for value in itertools.islice(values, start, None):
        if append(offset, now, None, value, headers) is None:
            builder.close()  # what BatchBuilder.append does when the batch is full
            break
        offset += 1
        index += 1
    builder._relative_offset = offset
    return index - start


def set_batch_size(producer: AIOKafkaProducer, size: int) -> bool:
    """Make the record batches ``producer.create_batch()`` creates from now on ``size`` bytes
    (its accumulator's ``_batch_size``: what ``max_batch_size`` set), so that a producer can be
    started before the topic's max.message.bytes is known; False if the shape is not there."""
    accumulator = getattr(producer, "_message_accumulator", None)
    if not isinstance(getattr(accumulator, "_batch_size", None), int):
        return False
    accumulator._batch_size = size  # type: ignore[union-attr]
    return True


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


# --- produce requests without copying the record batches --------------------------------------

# ProduceRequest versions whose layout produce_pieces writes (v3-v7: transactional id, acks,
# timeout, topics; not the flexible v9+). aiokafka 0.14 speaks up to v7.
PRODUCE_VERSIONS: Final = range(3, 8)
# What fast_produce needs of a connection (the rest of AIOKafkaConnection.send's state).
_CONN_ATTRIBUTES: Final = (
    "_writer",
    "_versions",
    "_requests",
    "_client_id",
    "_loop",
    "_request_timeout",
)
_INT16, _INT32 = struct.Struct(">h"), struct.Struct(">i")
_ACKS_TIMEOUT_COUNT = struct.Struct(">hii")
_PARTITION = struct.Struct(">ii")  # partition id, length of its record batch bytes
_fast_produce_missing = False


def produce_pieces(request_struct: Any, header: bytes) -> list[Any]:
    """A ProduceRequest (v3-v7, ``request.prepare()``'s struct) framed for the wire: the
    size, ``header`` and the fields in small pieces, each record batch's buffer as it is.
    Joined they are exactly ``size + header + request_struct.encode()``."""
    pieces: list[Any] = []
    small: list[bytes] = [header]
    txn = request_struct.transactional_id
    if txn is None:
        small.append(_INT16.pack(-1))
    else:
        name = txn.encode("utf-8")
        small += (_INT16.pack(len(name)), name)
    topics = request_struct.topics
    acks, timeout = request_struct.required_acks, request_struct.timeout
    small.append(_ACKS_TIMEOUT_COUNT.pack(acks, timeout, len(topics)))
    for topic, partitions in topics:
        name = topic.encode("utf-8")
        small += (_INT16.pack(len(name)), name, _INT32.pack(len(partitions)))
        for partition, records in partitions:
            if records is None:
                small.append(_PARTITION.pack(partition, -1))
                continue
            small.append(_PARTITION.pack(partition, len(records)))
            pieces += (b"".join(small), records)
            small = []
    if small:
        pieces.append(b"".join(small))
    pieces[0] = _INT32.pack(sum(map(len, pieces))) + pieces[0]
    return pieces


def has_fast_produce(producer: AIOKafkaProducer) -> bool:
    """Whether the producer's client and aiokafka's connection have what :func:`fast_produce`
    uses (the connection's instance attributes are checked again at each request)."""
    from aiokafka import conn as aiokafka_conn

    client = producer.client
    return (
        isinstance(getattr(client, "_conns", None), dict)
        and callable(getattr(client, "ready", None))
        and callable(getattr(aiokafka_conn.AIOKafkaConnection, "_next_correlation_id", None))
        and callable(getattr(aiokafka_conn, "wait_for", None))
        and hasattr(aiokafka_conn, "CloseReason")
    )


def fast_produce(producer: AIOKafkaProducer) -> bool:
    """Let ``producer`` write its produce requests with :func:`produce_pieces` (see the module's
    docstring); False (and aiokafka's own way, logged once at debug) if the shape is not there."""
    if not has_fast_produce(producer):
        _log_produce_fallback()
        return False
    from aiokafka.client import ConnectionGroup
    from aiokafka.protocol.produce import ProduceRequest

    client = producer.client
    original: Callable[..., Awaitable[Any]] = client.send

    async def send(node_id: int, request: Any, *, group: Any = ConnectionGroup.DEFAULT) -> Any:
        if type(request) is not ProduceRequest or request.required_acks == 0:
            return await original(node_id, request, group=group)
        from aiokafka import errors

        if not await client.ready(node_id, group=group):
            raise errors.NodeNotReadyError(
                f"Attempt to send a request to node which is not ready (node id {node_id})."
            )
        conn = client._conns[(node_id, group)]
        answer = _write_produce(conn, request)
        if answer is None:  # a version or connection this does not know: aiokafka's way
            return await original(node_id, request, group=group)
        try:
            return await answer
        except TimeoutError as exc:  # what AIOKafkaClient.send does
            from aiokafka.conn import CloseReason

            conn.close(reason=CloseReason.CONNECTION_TIMEOUT)
            raise errors.RequestTimedOutError() from exc

    client.send = send
    return True


def _write_produce(conn: Any, request: Any) -> Awaitable[Any] | None:
    """``AIOKafkaConnection.send`` for a ProduceRequest, the batches written uncopied; None
    when this connection or the negotiated version is not one this knows."""
    from aiokafka import conn as aiokafka_conn
    from aiokafka import errors

    if not all(hasattr(conn, name) for name in _CONN_ATTRIBUTES):
        _log_produce_fallback()
        return None
    writer = conn._writer
    if writer is None:
        raise errors.KafkaConnectionError(f"No connection to broker at {conn.host}:{conn.port}")
    request_struct = request.prepare(conn._versions)
    if request_struct.API_VERSION not in PRODUCE_VERSIONS:
        return None
    correlation_id = conn._next_correlation_id()
    header = request_struct.build_request_header(
        correlation_id=correlation_id, client_id=conn._client_id
    ).encode()
    try:
        for piece in produce_pieces(request_struct, header):
            writer.write(piece)  # no copy while the socket takes it (asyncio's transport)
    except OSError as err:
        conn.close(reason=aiokafka_conn.CloseReason.CONNECTION_BROKEN)
        raise errors.KafkaConnectionError(
            f"Connection at {conn.host}:{conn.port} broken: {err}"
        ) from err
    future = conn._loop.create_future()
    conn._requests.append((correlation_id, request_struct, future))
    wait: Callable[[Any, float], Awaitable[Any]] = aiokafka_conn.wait_for
    return wait(future, conn._request_timeout)


def _log_produce_fallback() -> None:
    global _fast_produce_missing
    if not _fast_produce_missing:
        _fast_produce_missing = True
        log.debug(
            "aiokafka's client or connection has not the expected private shape: "
            "produce requests go through aiokafka's send (copies each record batch)"
        )
