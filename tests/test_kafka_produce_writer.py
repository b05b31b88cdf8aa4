"""The produce-request writer of aiokafka_internals (no broker): what it does when the
connection is gone, breaks while writing, or never answers, is what aiokafka's own
``AIOKafkaClient.send`` / ``AIOKafkaConnection.send`` do, so that the producer's sender
retries (or fails) the batches exactly as before. The happy path against the real broker is
in tests/test_publish_kafka_batching.py; the byte layout in tests/test_library_seams.py.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any

import pytest


class FakeWriter:
    def __init__(self, error: OSError | None = None) -> None:
        self.error = error
        self.pieces: list[Any] = []

    def write(self, data: Any) -> None:
        if self.error is not None:
            raise self.error
        self.pieces.append(data)


class FakeConn:
    """The private state ``AIOKafkaConnection.send`` uses, and a record of ``close``."""

    host, port = "127.0.0.1", 1

    def __init__(self, writer: FakeWriter | None, timeout: float = 5.0) -> None:
        self._writer = writer
        self._versions = {0: (0, 7)}  # ProduceRequest up to v7
        self._requests: collections.deque[Any] = collections.deque()
        self._client_id = "mqctl-test"
        self._loop = asyncio.get_running_loop()
        self._request_timeout = timeout
        self._correlation_id = 0
        self.closed: list[Any] = []

    def _next_correlation_id(self) -> int:
        self._correlation_id += 1
        return self._correlation_id

    def close(self, reason: Any = None) -> None:
        self.closed.append(reason)


class FakeClient:
    def __init__(self, conn: FakeConn) -> None:
        self._conns = {(0, 0): conn}
        self.original: list[Any] = []

    async def ready(self, node_id: int, *, group: Any = 0) -> bool:
        return (node_id, group) in self._conns

    async def send(self, node_id: int, request: Any, *, group: Any = 0) -> Any:
        self.original.append(request)
        return "aiokafka's send"


class FakeProducer:
    def __init__(self, client: FakeClient) -> None:
        self.client = client


BATCH = bytearray(100)  # a record batch's buffer, as aiokafka's builder returns it


def _request(acks: int = -1) -> Any:
    from aiokafka.protocol.produce import ProduceRequest

    return ProduceRequest(None, acks, 30_000, [("t", [(0, BATCH)])])


def _installed(conn: FakeConn) -> tuple[FakeClient, Any]:
    from mqctl.backends.kafka.aiokafka_internals import fast_produce

    client = FakeClient(conn)
    assert fast_produce(FakeProducer(client))  # type: ignore[arg-type]
    return client, client.send


def test_a_request_is_written_in_pieces_and_answered_through_the_pending_list() -> None:
    async def go() -> tuple[FakeConn, Any]:
        conn = FakeConn(FakeWriter())
        _, send = _installed(conn)
        answer = asyncio.ensure_future(send(0, _request()))
        await asyncio.sleep(0)
        correlation_id, request_struct, future = conn._requests[0]
        assert correlation_id == 1 and request_struct.API_VERSION == 7
        future.set_result("the decoded answer")  # what the connection's reader does
        return conn, await answer

    conn, answer = asyncio.run(go())
    assert answer == "the decoded answer"
    writer = conn._writer
    assert writer is not None
    assert len(writer.pieces) == 2  # size, header and fields; the batch (nothing after it)
    assert writer.pieces[1] is BATCH  # not a copy


def test_acks_0_and_other_requests_go_through_aiokafkas_send() -> None:
    from aiokafka.protocol.metadata import MetadataRequest

    async def go() -> FakeClient:
        conn = FakeConn(FakeWriter())
        client, send = _installed(conn)
        assert await send(0, _request(acks=0)) == "aiokafka's send"
        assert await send(0, MetadataRequest([])) == "aiokafka's send"
        return client

    assert len(asyncio.run(go()).original) == 2


def test_no_connection_is_a_connection_error() -> None:
    from aiokafka.errors import KafkaConnectionError

    async def go() -> None:
        _, send = _installed(FakeConn(None))
        await send(0, _request())

    with pytest.raises(KafkaConnectionError, match="No connection"):
        asyncio.run(go())


def test_a_node_not_ready_is_node_not_ready() -> None:
    from aiokafka.errors import NodeNotReadyError

    async def go() -> None:
        _, send = _installed(FakeConn(FakeWriter()))
        await send(5, _request())

    with pytest.raises(NodeNotReadyError):
        asyncio.run(go())


def test_a_write_that_breaks_closes_the_connection() -> None:
    from aiokafka.conn import CloseReason
    from aiokafka.errors import KafkaConnectionError

    conns: list[FakeConn] = []

    async def go() -> None:
        conn = FakeConn(FakeWriter(BrokenPipeError("gone")))
        conns.append(conn)
        _, send = _installed(conn)
        await send(0, _request())

    with pytest.raises(KafkaConnectionError, match="broken"):
        asyncio.run(go())
    assert conns[0].closed == [CloseReason.CONNECTION_BROKEN]
    assert not conns[0]._requests  # nothing left waiting for an answer


def test_no_answer_in_time_is_a_request_timeout_and_closes_the_connection() -> None:
    from aiokafka.conn import CloseReason
    from aiokafka.errors import RequestTimedOutError

    conns: list[FakeConn] = []

    async def go() -> None:
        conn = FakeConn(FakeWriter(), timeout=0.01)
        conns.append(conn)
        _, send = _installed(conn)
        await send(0, _request())

    with pytest.raises(RequestTimedOutError):
        asyncio.run(go())
    assert conns[0].closed == [CloseReason.CONNECTION_TIMEOUT]


def test_an_unknown_version_goes_through_aiokafkas_send() -> None:
    """A broker that only speaks a ProduceRequest version the pieces do not lay out."""

    async def go() -> FakeClient:
        conn = FakeConn(FakeWriter())
        conn._versions = {0: (0, 2)}  # v0-v2: no transactional id
        client, send = _installed(conn)
        assert await send(0, _request()) == "aiokafka's send"
        assert conn._correlation_id == 0  # no correlation id taken
        return client

    assert len(asyncio.run(go()).original) == 1
