"""The private APIs of the pinned client libraries that mqctl relies on still have the shape
it expects (no broker needed). An upgrade of aiokafka, aiormq or pamqp that changes one of them
fails here, loudly, instead of making mqctl slower or wrong in the field. Each seam lives in
one module: mqctl/backends/kafka/aiokafka_internals.py, mqctl/backends/rabbitmq/aiormq_internals.py,
mqctl/cli/typer_internals.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
from typing import Any

import pytest

from mqctl.errors import MqctlError, UsageError

# --- aiokafka ------------------------------------------------------------------------------------


def _builder() -> Any:
    from aiokafka.producer.message_accumulator import BatchBuilder

    return BatchBuilder(16384, 0)


def _values(builder: Any) -> list[bytes | None]:
    from aiokafka.record.memory_records import MemoryRecords

    buffer = builder._builder.build()
    records = MemoryRecords(bytes(buffer))
    batch = records.next_batch()
    return [record.value for record in batch]


def test_batch_builder_has_the_fast_append_shape() -> None:
    from aiokafka.record.default_records import DefaultRecordBatchBuilder

    from mqctl.backends.kafka.aiokafka_internals import has_fast_append

    builder = _builder()
    assert has_fast_append(builder)
    assert isinstance(builder._builder, DefaultRecordBatchBuilder)
    params = list(inspect.signature(DefaultRecordBatchBuilder.append).parameters)
    assert params[:6] == ["self", "offset", "timestamp", "key", "value", "headers"]


def test_fast_fill_writes_what_the_public_append_writes() -> None:
    from mqctl.backends.kafka import aiokafka_internals

    values = [b"a", b"", b"\x00\xff" * 10, "é".encode()]
    fast = _builder()
    assert aiokafka_internals.fill(fast, values, 0) == len(values)
    assert fast._relative_offset == len(values)  # the builder's own count moved on
    slow = _builder()
    assert aiokafka_internals._fill_public(slow, values, 0) == len(values)
    assert _values(fast) == _values(slow) == values


def test_fast_fill_stamps_the_time_of_the_call() -> None:
    """The clock is read once per fill: every record carries the current time in ms (as the
    builder stamps a record without a timestamp), as CreateTime."""
    import time

    from aiokafka.record.memory_records import MemoryRecords

    from mqctl.backends.kafka.aiokafka_internals import fill

    builder = _builder()
    before = int(time.time() * 1000)
    assert fill(builder, [b"a", b"b", b"c"], 0) == 3
    after = int(time.time() * 1000)
    batch = MemoryRecords(bytes(builder._builder.build())).next_batch()
    assert batch.timestamp_type == 0  # CreateTime
    stamps = [record.timestamp for record in batch]
    assert len(set(stamps)) == 1 and before <= stamps[0] <= after


def test_fill_stops_at_a_full_batch_and_closes_it() -> None:
    from mqctl.backends.kafka.aiokafka_internals import fill

    builder = _builder()
    values = [b"x" * 1000] * 40  # more than 16 KiB
    added = fill(builder, values, 0)
    assert 0 < added < len(values)
    assert builder.closed()
    assert fill(builder, values, added) == 0


def test_fill_falls_back_to_the_public_append(caplog: pytest.LogCaptureFixture) -> None:
    """A builder without the private attributes still gets every value (slower), and the
    fallback is logged once at debug."""
    from mqctl.backends.kafka import aiokafka_internals

    class PublicOnly:
        def __init__(self) -> None:
            self.inner = _builder()

        def closed(self) -> bool:
            return bool(self.inner.closed())

        def append(self, **kwargs: Any) -> Any:
            return self.inner.append(**kwargs)

    aiokafka_internals._fallback_logged = False
    builder = PublicOnly()
    with caplog.at_level(logging.DEBUG, logger=aiokafka_internals.__name__):
        assert aiokafka_internals.fill(builder, [b"1", b"2"], 0) == 2  # type: ignore[arg-type]
        assert aiokafka_internals.fill(builder, [b"3"], 0) == 1  # type: ignore[arg-type]
    assert _values(builder.inner) == [b"1", b"2", b"3"]
    assert sum("public BatchBuilder.append" in r.getMessage() for r in caplog.records) == 1


def test_cluster_metadata_keeps_partitions_by_topic() -> None:
    from aiokafka.cluster import ClusterMetadata
    from aiokafka.structs import PartitionMetadata

    from mqctl.backends.kafka.aiokafka_internals import partitions_metadata

    metadata = ClusterMetadata()
    assert partitions_metadata(metadata, "missing") == {}
    info = PartitionMetadata("t", 0, 1, [1, 2], [1], None)
    metadata._partitions["t"] = {0: info}
    assert partitions_metadata(metadata, "t")[0].isr == [1]
    assert {"leader", "replicas", "isr"} <= set(PartitionMetadata._fields)
    assert metadata.partitions_for_topic("t") == {0}  # the public view reads the same dict


def _produce_struct(version: int, transactional_id: str | None) -> Any:
    from aiokafka.protocol.produce import ProduceRequest

    topics = [
        ("orders", [(0, b"\x01" * 300), (2, None), (1, bytearray(b"batch-\xff"))]),
        ("é-topic", [(7, b"")]),
    ]
    request = ProduceRequest(transactional_id, -1, 30_000, topics)
    return request.prepare({ProduceRequest.API_KEY: (0, version)})


@pytest.mark.parametrize("transactional_id", [None, "txn-é"])
@pytest.mark.parametrize("version", [3, 4, 5, 6, 7])
def test_produce_pieces_are_the_bytes_aiokafka_writes(
    version: int, transactional_id: str | None
) -> None:
    """What AIOKafkaConnection.send writes: size + header + the encoded request."""
    import struct

    from mqctl.backends.kafka.aiokafka_internals import PRODUCE_VERSIONS, produce_pieces

    request_struct = _produce_struct(version, transactional_id)
    assert version == request_struct.API_VERSION
    assert version in PRODUCE_VERSIONS
    assert not request_struct.FLEXIBLE_VERSION
    header = request_struct.build_request_header(correlation_id=42, client_id="mqctl").encode()
    message = header + request_struct.encode()
    pieces = produce_pieces(request_struct, header)
    assert b"".join(pieces) == struct.pack(">i", len(message)) + message
    # the record batches go as they are: the very objects, not copies
    batches = [records for _, parts in request_struct.topics for _, records in parts]
    assert sum(any(piece is batch for piece in pieces) for batch in batches if batch) == 2


def test_aiokafka_speaks_no_produce_version_above_the_pieces() -> None:
    """A newer aiokafka that sends a flexible ProduceRequest (v9+) must not silently fall back
    on every request: this fails first, so that produce_pieces learns the layout."""
    from aiokafka.protocol.produce import ProduceRequest

    from mqctl.backends.kafka.aiokafka_internals import PRODUCE_VERSIONS

    assert max(c.API_VERSION for c in ProduceRequest._CLASSES) in PRODUCE_VERSIONS


def test_producer_client_and_connection_have_the_fast_produce_shape() -> None:
    from aiokafka import AIOKafkaProducer
    from aiokafka.client import AIOKafkaClient
    from aiokafka.conn import AIOKafkaConnection

    from mqctl.backends.kafka import aiokafka_internals

    async def shapes() -> tuple[bool, bool, Any]:
        producer = AIOKafkaProducer(bootstrap_servers="127.0.0.1:1", enable_idempotence=True)
        before = producer.client.send
        installed = aiokafka_internals.fast_produce(producer)
        await producer.stop()  # never started: nothing to stop but the warning
        conn = AIOKafkaConnection("127.0.0.1", 1)
        has_all = all(hasattr(conn, name) for name in aiokafka_internals._CONN_ATTRIBUTES)
        return installed and producer.client.send is not before, has_all, conn

    installed, has_all, conn = asyncio.run(shapes())
    assert installed and has_all
    assert conn._writer is None and isinstance(conn._versions, dict)
    assert conn._next_correlation_id() + 1 == conn._next_correlation_id()
    # what the connection's reader does with a pending request: (id, struct, future)
    assert "correlation_id, request, fut = self._requests[0]" in inspect.getsource(
        AIOKafkaConnection._handle_frame
    )
    # the sender hands its produce requests to the client's send (the one replaced)
    from aiokafka.producer.sender import SendProduceReqHandler

    assert "self._client.send(node_id, request)" in inspect.getsource(SendProduceReqHandler.do)
    params = list(inspect.signature(AIOKafkaClient.send).parameters)
    assert params == ["self", "node_id", "request", "group"]


def test_set_batch_size_sizes_the_batches_created_afterwards() -> None:
    from aiokafka import AIOKafkaProducer

    from mqctl.backends.kafka.aiokafka_internals import fill, set_batch_size

    async def sizes() -> tuple[int, int]:
        producer = AIOKafkaProducer(bootstrap_servers="127.0.0.1:1", max_batch_size=1_000_000)
        try:
            before = fill(producer.create_batch(), [b"v" * 100] * 100, 0)
            assert set_batch_size(producer, 2_000)
            return before, fill(producer.create_batch(), [b"v" * 100] * 100, 0)
        finally:
            await producer.stop()

    before, after = asyncio.run(sizes())
    assert before == 100 and 0 < after < 20
    assert not set_batch_size(object(), 2_000)  # type: ignore[arg-type]


def test_fast_produce_falls_back_to_aiokafkas_send(caplog: pytest.LogCaptureFixture) -> None:
    """A client without the private shape keeps its own send (logged once at debug)."""
    from mqctl.backends.kafka import aiokafka_internals

    class Client:
        async def send(self, node_id: int, request: Any) -> Any:
            return None

    class Producer:
        client = Client()

    aiokafka_internals._fast_produce_missing = False
    producer: Any = Producer()
    before = producer.client.send
    with caplog.at_level(logging.DEBUG, logger=aiokafka_internals.__name__):
        assert not aiokafka_internals.fast_produce(producer)
        assert not aiokafka_internals.fast_produce(producer)
    assert producer.client.send == before
    assert sum("aiokafka's send" in r.getMessage() for r in caplog.records) == 1


# --- aiormq / pamqp ------------------------------------------------------------------------------


def test_aiormq_channel_has_the_taken_over_handlers() -> None:
    from mqctl.backends.rabbitmq.aiormq_internals import missing_channel_api

    assert missing_channel_api() == []


def test_aiormq_channel_reader_dispatches_through_the_handlers() -> None:
    """take_over_frames replaces instance attributes: the reader must look them up on self."""
    from aiormq.channel import Channel

    source = inspect.getsource(Channel._reader)
    for name in ("self._on_deliver_frame(", "self._on_confirm_frame(", "self._on_return_frame("):
        assert name in source
    assert "self.write_queue" in inspect.getsource(Channel)


def test_raw_frames_fit_aiormq_channel_frame() -> None:
    from aiormq.abc import ChannelFrame

    fields = {f.name for f in dataclasses.fields(ChannelFrame)}
    assert {"payload", "should_close"} <= fields


def test_take_over_refuses_a_channel_without_the_handlers() -> None:
    from mqctl.backends.rabbitmq.aiormq_internals import take_over_frames

    async def handler(_frame: Any) -> None:
        return None

    with pytest.raises(MqctlError, match="unsupported aiormq version"):
        take_over_frames(
            object(), object(), on_deliver=handler, on_confirm=handler, on_return=handler
        )


def test_write_raw_queues_one_frame() -> None:
    from mqctl.backends.rabbitmq.aiormq_internals import write_raw

    class FakeChannel:
        write_queue: asyncio.Queue[Any]

    async def run() -> Any:
        channel = FakeChannel()
        channel.write_queue = asyncio.Queue(maxsize=1)
        await write_raw(channel, b"frames", lambda: False)
        return channel.write_queue.get_nowait()

    frame = asyncio.run(run())
    assert frame.payload == b"frames" and frame.should_close is False


NAMES = ["é", "Заказы", "注文 キュー", "😀 orders", "a/b.c%d", "x" * 255, "é" * 127, " "]


def test_pamqp_checks_names_the_way_the_workaround_expects() -> None:
    """The workaround widens ``DOMAIN_REGEX`` and wraps ``validate``: pamqp must still read
    the pattern at each frame, cap exactly these fields, and validate in ``marshal``."""
    from pamqp import base, commands, constants

    from mqctl.backends.rabbitmq.aiormq_internals import SPEC_CAPPED_FIELDS

    assert {"queue-name", "exchange-name"} <= set(constants.DOMAIN_REGEX)
    for command in (commands.Queue.Declare, commands.Basic.Publish, commands.Exchange.Declare):
        validate = getattr(command.validate, "__wrapped__", command.validate)
        assert "DOMAIN_REGEX" in inspect.getsource(validate)
    source = inspect.getsource(commands)
    capped = {
        line.split("self.")[1].split(" ")[0] for line in source.splitlines() if "> 127" in line
    }
    assert capped == set(SPEC_CAPPED_FIELDS)
    assert "self.validate()" in inspect.getsource(base.Frame.marshal)


def test_any_name_rabbitmq_accepts_encodes_after_the_workaround() -> None:
    from pamqp import commands, frame

    from mqctl.backends.rabbitmq.aiormq_internals import allow_any_names

    allow_any_names()
    allow_any_names()  # idempotent
    for name in NAMES:
        for command in (
            commands.Queue.Declare(queue=name, passive=True),
            commands.Basic.Consume(queue=name),
            commands.Basic.Get(queue=name),
            commands.Queue.Purge(queue=name),
            commands.Basic.Publish(exchange=name, routing_key=name),
            commands.Exchange.Declare(exchange=name, passive=True),
            commands.Queue.Bind(queue=name, exchange=name),
            commands.Exchange.Bind(destination=name, source=name),
        ):
            used, _channel, decoded = frame.unmarshal(frame.marshal(command, 1))
            assert used > 0
            fields = ("queue", "exchange", "source", "destination")
            assert name in {getattr(decoded, f, None) for f in fields}
    opened = commands.Connection.Open(virtual_host="v " * 100)
    assert frame.unmarshal(frame.marshal(opened, 0))[2].virtual_host == "v " * 100
    with pytest.raises(TypeError, match="255 bytes"):  # the broker's real limit still holds
        frame.marshal(commands.Basic.Publish(exchange="é" * 128), 1)


def test_names_over_255_bytes_are_usage_errors_naming_them() -> None:
    from mqctl.backends.rabbitmq.names import check_name

    assert check_name("queue", "é" * 127) == "é" * 127  # 254 bytes
    with pytest.raises(UsageError, match="256 bytes") as info:
        check_name("queue", "é" * 128)
    assert "é" * 128 in info.value.message
    assert info.value.exit_code == 2


# --- typer ----------------------------------------------------------------------------------------


def test_typer_click_exceptions_are_where_the_cli_imports_them() -> None:
    import typer

    from mqctl.cli.typer_internals import ClickException, ClickUsageError, NoArgsIsHelpError

    assert issubclass(ClickUsageError, ClickException)
    assert issubclass(NoArgsIsHelpError, ClickUsageError)
    app = typer.Typer(no_args_is_help=True)

    @app.command()
    def one() -> None: ...

    @app.command()
    def two() -> None: ...

    group = typer.main.get_command(app)
    with pytest.raises(ClickUsageError):
        group.make_context("t", ["--no-such-option"])
    with pytest.raises(NoArgsIsHelpError):
        group.make_context("t", [])


# --- textual -------------------------------------------------------------------------------------


def test_textual_app_exception_hook_the_tui_overrides() -> None:
    """tui/mqctl_tui/app.py overrides ``App._handle_exception`` and clears
    ``App._exit_renderables`` (no public hook replaces Textual's crash traceback)."""
    from textual.app import App

    params = list(inspect.signature(App._handle_exception).parameters)
    assert params == ["self", "error"]
    assert "self._exit_renderables" in inspect.getsource(App)
    assert isinstance(App()._exit_renderables, list)
