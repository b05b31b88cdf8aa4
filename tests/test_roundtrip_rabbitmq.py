"""RabbitMQ: `peek -o jsonl` -> `publish --jsonl` into a fresh queue gives the same messages,
read back raw with aio-pika: body bytes (empty kept), header tables in order with their types
(text, binary, numbers, booleans, void, nested arrays and tables) and the AMQP properties.
The messages are generated (hypothesis) and published raw with aio-pika first.

Known limits (docs/output.md): AMQP has no null body; timestamp and decimal header values
come back as text and float; floats go as 32-bit (pamqp has no double in tables); a timestamp
property above 2**32 (some clients write milliseconds) is read by pamqp as milliseconds and
sent back as seconds."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import run_cli

pytestmark = pytest.mark.rabbitmq

URL = "amqp://guest:guest@127.0.0.1:5672/"
PROPERTIES = (
    "content_type",
    "content_encoding",
    "message_id",
    "correlation_id",
    "type",
    "app_id",
    "timestamp",
    "priority",
    "expiration",
    "delivery_mode",
)

words = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
scalars = st.one_of(
    st.none(),
    words,
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    st.floats(width=32, allow_nan=False, allow_infinity=False),  # (pamqp sends floats as 32-bit)
    st.binary(max_size=12).map(bytearray),  # a byte array (UTF-8 or not: still a byte array)
)
header_tables = st.dictionaries(
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8),
    st.one_of(
        scalars,
        st.lists(scalars, max_size=3),
        st.dictionaries(st.text("abc", min_size=1, max_size=3), scalars, max_size=2),
    ),
    max_size=5,
)
bodies = st.one_of(
    st.just(b""),
    st.binary(max_size=64),
    st.sampled_from([b'{"a": 1}', b'"\\u00e9"', b'{\n "x": [1, 2]\n}', b"\xff\xfe", b"null"]),
    st.builds(lambda n: bytes(range(256)) * n, st.integers(1, 2000)),  # up to ~500 KB
)
property_sets = st.fixed_dictionaries(
    {},
    optional={
        "content_type": st.sampled_from(["application/json", "text/plain; charset=utf-8"]),
        "content_encoding": st.just("gzip"),
        "message_id": words.filter(bool),
        "correlation_id": words.filter(bool),
        "type": st.just("order.created"),
        "app_id": st.just("svc"),
        # (seconds: pamqp reads values above 2**32 as milliseconds, see the module docstring)
        "timestamp": st.integers(0, 2**32 - 1).map(lambda s: datetime.fromtimestamp(s, UTC)),
        "priority": st.integers(1, 9),
        "expiration": st.integers(60_000, 10**8),
        "delivery_mode": st.sampled_from([1, 2]),
    },
)


async def _publish_raw(
    queue: str, messages: list[tuple[bytes, dict[str, Any], dict[str, Any]]]
) -> None:
    import aio_pika

    connection = await aio_pika.connect(URL)
    async with connection:
        channel = await connection.channel()
        for body, headers, props in messages:
            kwargs = dict(props)
            if "expiration" in kwargs:
                kwargs["expiration"] = kwargs["expiration"] / 1000  # aio-pika takes seconds
            message = aio_pika.Message(body, headers=headers or None, **kwargs)
            if "priority" not in props:
                message.priority = None
            await channel.default_exchange.publish(message, routing_key=queue)


async def _drain_raw(queue: str) -> list[tuple[Any, ...]]:
    import aio_pika

    connection = await aio_pika.connect(URL)
    found = []
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        while (msg := await declared.get(no_ack=True, fail=False)) is not None:
            props = {name: getattr(msg, name) for name in PROPERTIES}
            found.append((bytes(msg.body), list((msg.headers or {}).items()), props))
    return found


async def _peek_raw(queue: str) -> list[tuple[Any, ...]]:
    """What _drain_raw gives, without removing anything (got, then all returned in order)."""
    import aio_pika

    connection = await aio_pika.connect(URL)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        found, held = [], []
        while (msg := await declared.get(no_ack=False, fail=False)) is not None:
            props = {name: getattr(msg, name) for name in PROPERTIES}
            found.append((bytes(msg.body), list((msg.headers or {}).items()), props))
            held.append(msg)
        for msg in reversed(held):  # (requeued ones go back to the head: last first)
            await msg.reject(requeue=True)
    return found


async def _declare(*names: str) -> None:
    import aio_pika

    connection = await aio_pika.connect(URL)
    async with connection:
        channel = await connection.channel()
        for name in names:
            await channel.declare_queue(name, durable=True, arguments={"x-max-priority": 10})


async def _delete(*names: str) -> None:
    import aio_pika

    connection = await aio_pika.connect(URL)
    async with connection:
        channel = await connection.channel()
        for name in names:
            await channel.queue_delete(name)


@pytest.fixture
def queue_pair() -> Iterator[Any]:
    made: list[str] = []

    def pair() -> tuple[str, str]:
        unique = uuid.uuid4().hex[:10]  # per example: hypothesis runs a test many times
        names = (f"rt-src-{unique}", f"rt-copy-{unique}")
        asyncio.run(_declare(*names))
        made.extend(names)
        return names

    yield pair
    asyncio.run(_delete(*made))


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(messages=st.lists(st.tuples(bodies, header_tables, property_sets), min_size=1, max_size=5))
def test_peek_jsonl_publish_jsonl_is_identical(queue_pair: Any, messages: list[Any]) -> None:
    source, copy = queue_pair()
    asyncio.run(_publish_raw(source, messages))
    peeked = run_cli("peek", f"rabbitmq:{source}", "--max", "0", "-o", "jsonl")
    assert peeked.exit_code == 0, peeked.output
    assert len(peeked.stdout.splitlines()) == len(messages)
    published = run_cli("publish", "--queue", copy, "--jsonl", "-", stdin=peeked.stdout)
    assert published.exit_code == 0, published.output
    original, replayed = asyncio.run(_drain_raw(source)), asyncio.run(_drain_raw(copy))
    assert replayed == original


def test_null_value_is_an_empty_body(queue_pair: Any) -> None:
    _, copy = queue_pair()
    line = '{"value": null, "headers": [["n", null]]}\n'
    published = run_cli("publish", "--queue", copy, "--jsonl", "-", stdin=line)
    assert published.exit_code == 0, published.output
    ((body, headers, _),) = asyncio.run(_drain_raw(copy))
    assert body == b"" and headers == [("n", None)]


def test_byte_arrays_and_strings_keep_their_type(queue_pair: Any) -> None:
    source, copy = queue_pair()
    headers = {"s": "text", "b": bytearray(b"text"), "t": {"inner": bytearray(b"\xff")}}
    asyncio.run(_publish_raw(source, [(b"v", headers, {})]))
    peeked = run_cli("peek", f"rabbitmq:{source}", "-o", "jsonl")
    assert '["b",{"base64":"dGV4dA=="}]' in peeked.stdout
    published = run_cli("publish", "--queue", copy, "--jsonl", "-", stdin=peeked.stdout)
    assert published.exit_code == 0, published.output
    ((_, original, _),) = asyncio.run(_drain_raw(source))
    ((_, replayed, _),) = asyncio.run(_drain_raw(copy))
    assert [(k, type(v)) for k, v in replayed] == [(k, type(v)) for k, v in original]
    assert dict(replayed) == {"s": "text", "b": b"text", "t": {"inner": b"\xff"}}
    assert isinstance(dict(replayed)["b"], bytearray) and isinstance(dict(replayed)["s"], str)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(messages=st.lists(st.tuples(bodies, header_tables, property_sets), min_size=1, max_size=4))
def test_redrive_keeps_bodies_headers_and_properties(queue_pair: Any, messages: list[Any]) -> None:
    """The redrive's own AMQP encoder (not aio-pika's) sends the same bytes and types; only
    its record of the move (``x-mqctl-*`` headers) is added, and ``expiration`` is left out
    on purpose (docs/dlq.md)."""
    dlq, target = queue_pair()
    asyncio.run(_publish_raw(dlq, messages))
    original = asyncio.run(_peek_raw(dlq))
    result = run_cli("dlq", "redrive", f"rabbitmq:{dlq}", "--to", target, "--yes", "-o", "json")
    assert result.exit_code == 0, result.output
    moved = asyncio.run(_drain_raw(target))
    without_ours = [
        (body, [(k, v) for k, v in headers if not k.startswith("x-mqctl-")], props)
        for body, headers, props in moved
    ]
    for _, _, props in original:
        props["expiration"] = None
    assert without_ours == original
