"""RabbitMQ peek and publish against the real local broker (backend methods and the CLI).

Every test makes its own queues (unique names) and deletes them; the seeded scenario is only
read (the seeded stream, by a non-destructive peek).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from mqctl.config.schema import Context, builtin_local_context
from mqctl.errors import ConnectError, NotFoundError, UsageError
from mqctl.models.inventory import Destination
from mqctl.models.messages import (
    Message,
    OutgoingMessage,
    PeekOptions,
    PublishOptions,
    PublishResult,
    StartPosition,
)
from mqctl.session import Session
from tests.conftest import RABBIT_MGMT, CliResult, run_cli

pytestmark = pytest.mark.rabbitmq

AUTH = ("guest", "guest")
V = "%2F"


@pytest.fixture
def mgmt() -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{RABBIT_MGMT}/api", auth=AUTH, timeout=10) as http:
        yield http


@pytest.fixture
def queues(mgmt: httpx.Client) -> Iterator[list[str]]:
    """Names appended here are deleted after the test."""
    created: list[str] = []
    yield created
    for name in created:
        mgmt.delete(f"/queues/{V}/{quote(name, safe='')}")


def make_queue(
    mgmt: httpx.Client, queues: list[str], name: str, arguments: dict[str, Any] | None = None
) -> str:
    mgmt.put(
        f"/queues/{V}/{quote(name, safe='')}",
        json={"durable": True, "arguments": arguments or {}},
    ).raise_for_status()
    queues.append(name)
    return name


async def amqp_depth(name: str) -> int:
    import aio_pika

    connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/")
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(name, passive=True)
        return int(queue.declaration_result.message_count or 0)


async def drain_all(name: str) -> list[bytes]:
    """Consume (ack) everything: the real queue order, for comparing with what peek saw."""
    import aio_pika

    connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/")
    found: list[bytes] = []
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(name, passive=True)
        while (msg := await queue.get(no_ack=True, fail=False)) is not None:
            found.append(msg.body)
    return found


async def outgoing(values: list[bytes], **kwargs: Any) -> AsyncIterator[OutgoingMessage]:
    for value in values:
        yield OutgoingMessage(value, **kwargs)


@contextlib.asynccontextmanager
async def rabbit(context: Context | None = None) -> AsyncIterator[Any]:
    async with Session(context or builtin_local_context(), timeout=5) as session:
        yield session.backend("rabbitmq")


async def cli(*args: str) -> CliResult:
    """The CLI runs its own event loop, so from an async test it runs in a thread."""
    return await asyncio.to_thread(run_cli, *args)


def bind(mgmt: httpx.Client, exchange: str, queue: str, key: str) -> None:
    mgmt.post(f"/bindings/{V}/e/{exchange}/q/{queue}", json={"routing_key": key}).raise_for_status()


def dest(name: str, kind: str = "queue") -> Destination:
    return Destination("rabbitmq", kind, name, "/")


async def publish_all(
    backend: Any, destination: Destination, values: list[bytes], **kw: Any
) -> list[PublishResult]:
    options = kw.pop("options", PublishOptions())
    return [r async for r in backend.publish(destination, outgoing(values, **kw), options)]


async def peek_all(backend: Any, destination: Destination, **kw: Any) -> list[Message]:
    options = PeekOptions(**{"idle_timeout": 0.5, **kw})
    return [m async for m in backend.peek(destination, options)]


# --- publish ------------------------------------------------------------------------------


async def test_publish_every_property_and_header_round_trips(
    mgmt: httpx.Client, queues: list[str], unique: str
) -> None:
    name = make_queue(mgmt, queues, f"mqctl-test-props-{unique}")
    stamp = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    properties = {
        "content_type": "application/json",
        "content_encoding": "utf-8",
        "message_id": f"msg-{unique}",
        "correlation_id": "corr-1",
        "timestamp": stamp,
        "priority": 7,
        "expiration": "600000",
        "type": "order.created",
        "app_id": "mqctl-tests",
        "user_id": "guest",
        "reply_to": "replies",
        "delivery_mode": 1,
    }
    headers: list[tuple[str, Any]] = [
        ("text", "héllo"),
        ("number", 42),
        ("flag", True),
        ("nested", {"a": 1, "b": ["x", 2]}),
        ("list", [1, "two"]),
        ("when", stamp),
    ]
    async with rabbit() as backend:
        results = await publish_all(
            backend, dest(name), [b'{"id": 1}'], properties=properties, headers=headers
        )
        assert [r.ok for r in results] == [True]
        [message] = await peek_all(backend, dest(name), max_messages=5)
    assert message.value == b'{"id": 1}'
    assert message.exchange == ""
    assert message.routing_key == name
    assert message.vhost == "/"
    for key, value in properties.items():
        assert message.properties[key] == value, key
    got = dict(message.headers)
    assert got["text"] == "héllo"
    assert got["number"] == 42
    assert got["flag"] is True
    assert got["nested"] == {"a": 1, "b": ["x", 2]}
    assert got["list"] == [1, "two"]
    assert got["when"] == stamp


async def test_publish_persistent_by_default_and_confirms_counted(
    mgmt: httpx.Client, queues: list[str], unique: str
) -> None:
    name = make_queue(mgmt, queues, f"mqctl-test-confirm-{unique}")
    values = [f"m{i}".encode() for i in range(600)]  # more than the in-flight window
    async with rabbit() as backend:
        results = await publish_all(backend, dest(name), values)
        assert [r.index for r in results] == list(range(600))
        assert all(r.ok for r in results)
        assert await amqp_depth(name) == 600
        [first] = await peek_all(backend, dest(name), max_messages=1)
    assert first.properties["delivery_mode"] == 2
    assert first.value == b"m0"


async def test_publish_to_exchange_with_routing_key_and_mandatory(
    mgmt: httpx.Client, queues: list[str], unique: str
) -> None:
    name = make_queue(mgmt, queues, f"mqctl-test-route-{unique}")
    bind(mgmt, "amq.direct", name, f"rk-{unique}")
    async with rabbit() as backend:
        routed = await publish_all(
            backend,
            dest("amq.direct", "exchange"),
            [b"a", b"b"],
            options=PublishOptions(routing_key=f"rk-{unique}", mandatory=True),
        )
        assert [r.ok for r in routed] == [True, True]
        lost = await publish_all(
            backend,
            dest("amq.direct", "exchange"),
            [b"c", b"d", b"e"],
            options=PublishOptions(routing_key=f"nowhere-{unique}", mandatory=True),
        )
        assert [r.ok for r in lost] == [False, False, False]
        assert all("unroutable" in (r.error or "") for r in lost)
        # Per-message routing keys win over the option.
        mixed = [
            r
            async for r in backend.publish(
                dest("amq.direct", "exchange"),
                _keyed([(b"x", f"rk-{unique}"), (b"y", "nope")]),
                PublishOptions(routing_key="ignored", mandatory=True),
            )
        ]
        assert [r.ok for r in mixed] == [True, False]
    assert await amqp_depth(name) == 3


async def _keyed(items: list[tuple[bytes, str]]) -> AsyncIterator[OutgoingMessage]:
    for value, key in items:
        yield OutgoingMessage(value, routing_key=key)


async def test_publish_unroutable_without_mandatory_is_confirmed(unique: str) -> None:
    async with rabbit() as backend:
        results = await publish_all(
            backend,
            dest("amq.direct", "exchange"),
            [b"gone"],
            options=PublishOptions(routing_key=f"nowhere-{unique}"),
        )
    assert [r.ok for r in results] == [True]  # the broker accepted it (and dropped it)


async def test_publish_cli_mandatory_unroutable_exit_5(unique: str) -> None:
    result = await cli(
        "publish", "--exchange", "amq.direct", "--routing-key", f"none-{unique}",
        "--mandatory", "hello", "-o", "json",
    )  # fmt: skip
    assert result.exit_code == 5, result.output
    assert "unroutable" in result.output


async def test_publish_cli_queue_with_properties(
    mgmt: httpx.Client, queues: list[str], unique: str
) -> None:
    name = make_queue(mgmt, queues, f"mqctl-test-cli-{unique}")
    result = await cli(
        "publish", "--queue", name, "--content-type", "text/plain", "--message-id", "m-1",
        "--correlation-id", "c-1", "--property", "priority=3", "-H", "k=v", "--count", "3",
        "hello", "-o", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["published"] == 3
    peek = await cli("peek", f"rabbitmq:{name}", "-o", "json")
    assert peek.exit_code == 0, peek.output
    shown = json.loads(peek.stdout)
    assert len(shown) == 3
    first = shown[0]
    assert first["properties"]["content_type"] == "text/plain"
    assert first["properties"]["correlation_id"] == "c-1"
    assert first["properties"]["priority"] == 3
    assert await amqp_depth(name) == 3


async def test_publish_bad_property_is_usage_error(
    mgmt: httpx.Client, queues: list[str], unique: str
) -> None:
    name = make_queue(mgmt, queues, f"mqctl-test-badprop-{unique}")
    async with rabbit() as backend:
        with pytest.raises(UsageError, match="unknown AMQP property"):
            await publish_all(backend, dest(name), [b"x"], properties={"colour": "red"})
        with pytest.raises(UsageError, match="priority"):
            await publish_all(backend, dest(name), [b"x"], properties={"priority": "high"})
    assert await amqp_depth(name) == 0


async def test_publish_wrong_user_id_is_refused(
    mgmt: httpx.Client, queues: list[str], unique: str
) -> None:
    name = make_queue(mgmt, queues, f"mqctl-test-userid-{unique}")
    async with rabbit() as backend:
        results: list[PublishResult] = []
        with pytest.raises(UsageError, match="user_id"):
            async for r in backend.publish(
                dest(name), outgoing([b"x"], properties={"user_id": "mallory"}), PublishOptions()
            ):
                results.append(r)
    assert all(not r.ok for r in results)
    assert await amqp_depth(name) == 0


async def test_publish_missing_queue_or_exchange_is_not_found(unique: str) -> None:
    async with rabbit() as backend:
        with pytest.raises(NotFoundError, match="no queue"):
            await publish_all(backend, dest(f"missing-{unique}"), [b"x"])
        with pytest.raises(NotFoundError, match="no exchange"):
            await publish_all(backend, dest(f"missing-{unique}", "exchange"), [b"x"])
    result = await cli("publish", "--exchange", f"missing-{unique}", "x")
    assert result.exit_code == 4, result.output


# --- peek -------------------------------------------------------------------------------------


async def test_classic_peek_keeps_depth_and_order(
    mgmt: httpx.Client, queues: list[str], unique: str
) -> None:
    name = make_queue(mgmt, queues, f"mqctl-test-peek-{unique}")
    values = [f"m{i}".encode() for i in range(20)]
    async with rabbit() as backend:
        await publish_all(backend, dest(name), values)
        seen = await peek_all(backend, dest(name), max_messages=8)
        assert [m.value for m in seen] == values[:8]
        assert all(m.redelivered is False for m in seen)
        assert await amqp_depth(name) == 20
        # A second peek sees the returned ones marked redelivered, in the same order.
        again = await peek_all(backend, dest(name), max_messages=0)
        assert [m.value for m in again] == values
        assert [m.redelivered for m in again] == [True] * 8 + [False] * 12
    assert await drain_all(name) == values


async def test_classic_peek_returns_messages_when_caller_stops_early(
    mgmt: httpx.Client, queues: list[str], unique: str
) -> None:
    name = make_queue(mgmt, queues, f"mqctl-test-early-{unique}")
    values = [f"m{i}".encode() for i in range(5)]
    async with rabbit() as backend:
        await publish_all(backend, dest(name), values)
        reader = backend.peek(dest(name), PeekOptions(max_messages=5))
        first = await reader.__anext__()
        assert first.value == b"m0"
        second = await reader.__anext__()
        assert second.value == b"m1"
        await reader.aclose()  # what `async for ... break` + aclosing does
        assert await amqp_depth(name) == 5
    assert await drain_all(name) == values


async def test_classic_peek_only_reads_what_was_there(
    mgmt: httpx.Client, queues: list[str], unique: str
) -> None:
    """With no limit, peek stops at the depth it found (it never waits for new messages)."""
    name = make_queue(mgmt, queues, f"mqctl-test-snap-{unique}")
    async with rabbit() as backend:
        assert await peek_all(backend, dest(name), max_messages=0) == []
        await publish_all(backend, dest(name), [b"a", b"b"])
        assert [m.value for m in await peek_all(backend, dest(name), max_messages=0)] == [
            b"a",
            b"b",
        ]
        with pytest.raises(UsageError, match="--follow works on streams only"):
            await peek_all(backend, dest(name), follow=True)


async def test_peek_cli_classic_notes_redelivered(
    mgmt: httpx.Client, queues: list[str], unique: str, caplog: pytest.LogCaptureFixture
) -> None:
    name = make_queue(mgmt, queues, f"mqctl-test-note-{unique}")
    async with rabbit() as backend:
        await publish_all(backend, dest(name), [b"one", b"two"])
    with caplog.at_level(logging.WARNING, logger="mqctl.rabbitmq"):
        result = await cli("peek", name, "-o", "jsonl")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["value"] for line in lines] == ["one", "two"]
    assert [line["exchange"] for line in lines] == ["", ""]
    assert "priority" not in lines[0]["properties"]  # nothing the publisher did not set
    assert any("marked redelivered" in r.getMessage() for r in caplog.records)
    assert await amqp_depth(name) == 2


async def test_quorum_peek_refused_without_allow_requeue(
    mgmt: httpx.Client, queues: list[str], unique: str
) -> None:
    name = make_queue(
        mgmt, queues, f"mqctl-test-qq-{unique}", {"x-queue-type": "quorum", "x-delivery-limit": 3}
    )
    async with rabbit() as backend:
        await publish_all(backend, dest(name), [b"a"])
        with pytest.raises(UsageError, match="delivery limit 3") as info:
            await peek_all(backend, dest(name))
        assert "--allow-requeue" in (info.value.hint or "")
    result = await cli("peek", name)
    assert result.exit_code == 2
    assert "quorum queue" in result.stderr and "--allow-requeue" in result.stderr
    assert await amqp_depth(name) == 1


async def test_quorum_peek_with_allow_requeue_never_reaches_the_limit(
    mgmt: httpx.Client, queues: list[str], unique: str
) -> None:
    """Delivery limit 3: peeks show messages with count 0, 1, then stop before the one whose
    return would leave it at 3 (one more return dead-letters it) and fence the queue: the
    next peek is refused. Nothing is dead-lettered (issue 17)."""
    dlq = make_queue(mgmt, queues, f"mqctl-test-qq-dlq-{unique}")
    name = make_queue(
        mgmt,
        queues,
        f"mqctl-test-qq-{unique}",
        {
            "x-queue-type": "quorum",
            "x-delivery-limit": 3,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": dlq,
        },
    )
    async with rabbit() as backend:
        await publish_all(backend, dest(name), [b"a", b"b", b"c"])
        first = await peek_all(backend, dest(name), allow_requeue=True, max_messages=10)
        assert [m.value for m in first] == [b"a", b"b", b"c"]
        second = await peek_all(backend, dest(name), allow_requeue=True, max_messages=10)
        assert [m.header("x-delivery-count") for m in second] == [1, 1, 1]
        # Third round: "a" has count 2, returning it makes 3 = the limit: a fourth peek
        # would dead-letter it, so it is not shown and the queue is fenced.
        third = await peek_all(backend, dest(name), allow_requeue=True, max_messages=10)
        assert [m.value for m in third] == []
        with pytest.raises(UsageError, match="earlier peek left a message at delivery count 3"):
            await peek_all(backend, dest(name), allow_requeue=True, max_messages=10)
        assert await amqp_depth(name) == 3
        assert await amqp_depth(dlq) == 0
    # Nothing lost or dead-lettered. (The broker serves returned messages first, in the order
    # they were returned, so the partial third peek put "a" behind "b" and "c": documented.)
    assert sorted(await drain_all(name)) == [b"a", b"b", b"c"]


async def test_quorum_peek_refused_when_limit_too_small(
    mgmt: httpx.Client, queues: list[str], unique: str
) -> None:
    name = make_queue(
        mgmt, queues, f"mqctl-test-qq1-{unique}", {"x-queue-type": "quorum", "x-delivery-limit": 1}
    )
    async with rabbit() as backend:
        with pytest.raises(UsageError, match="even with --allow-requeue"):
            await peek_all(backend, dest(name), allow_requeue=True)


async def test_stream_peek_by_offset(mgmt: httpx.Client, queues: list[str], unique: str) -> None:
    name = make_queue(mgmt, queues, f"mqctl-test-stream-{unique}", {"x-queue-type": "stream"})
    values = [f"s{i}".encode() for i in range(30)]
    async with rabbit() as backend:
        await publish_all(backend, dest(name), values)
        first = await peek_all(backend, dest(name), max_messages=3)
        assert [(m.offset, m.value) for m in first] == [(0, b"s0"), (1, b"s1"), (2, b"s2")]
        at = await peek_all(backend, dest(name), max_messages=4, start=StartPosition("offset", 17))
        assert [m.offset for m in at] == [17, 18, 19, 20]
        assert [m.value for m in at] == values[17:21]
        last = await peek_all(backend, dest(name), max_messages=0, start=StartPosition("last", 2))
        assert [m.value for m in last] == [b"s28", b"s29"]
        nothing_new = await peek_all(backend, dest(name), start=StartPosition("end"))
        assert nothing_new == []
        since = await peek_all(
            backend,
            dest(name),
            max_messages=2,
            start=StartPosition("timestamp", int((datetime.now(UTC).timestamp() - 3600) * 1000)),
        )
        assert [m.value for m in since] == [b"s0", b"s1"]
        # Streams never lose anything: the whole stream is still there.
        everything = await peek_all(backend, dest(name), max_messages=0)
        assert [m.value for m in everything] == values


async def test_stream_peek_cli_offset(mgmt: httpx.Client, queues: list[str], unique: str) -> None:
    name = make_queue(mgmt, queues, f"mqctl-test-stream-cli-{unique}", {"x-queue-type": "stream"})
    async with rabbit() as backend:
        await publish_all(backend, dest(name), [f"v{i}".encode() for i in range(10)])
    result = await cli("peek", name, "--offset", "5", "--max", "2", "-o", "json")
    assert result.exit_code == 0, result.output
    assert [m["offset"] for m in json.loads(result.stdout)] == [5, 6]


async def test_peek_unknown_queue_is_not_found(unique: str) -> None:
    async with rabbit() as backend:
        with pytest.raises(NotFoundError):
            await peek_all(backend, dest(f"missing-{unique}"))
    result = await cli("peek", f"rabbitmq:missing-{unique}")
    assert result.exit_code == 4, result.output


async def test_peek_exchange_is_usage_error() -> None:
    async with rabbit() as backend:
        with pytest.raises(UsageError, match="peek reads queues"):
            await peek_all(backend, dest("amq.direct", "exchange"))


# --- connection problems ------------------------------------------------------------------------


def _context(**section: Any) -> Context:
    base = {
        "url": "amqp://guest@127.0.0.1:5672/",
        "management-url": RABBIT_MGMT,
        "password": "guest",
    }
    return Context(name="t", backends={"rabbitmq": {**base, **section}})


def _write_config(path: Path, **section: str) -> None:
    lines = ['current-context = "t"', "[contexts.t.rabbitmq]"]
    base = {"url": "amqp://guest@127.0.0.1:5672/", "management-url": RABBIT_MGMT}
    for key, value in {**base, **section}.items():
        lines.append(f'{key} = "{value}"')
    path.write_text("\n".join(lines) + "\n")


async def test_wrong_password_is_exit_3_without_the_password(
    isolated_config: Path, unique: str
) -> None:
    secret = f"wrong-{unique}-pw"
    async with rabbit(_context(password=secret)) as backend:
        with pytest.raises(ConnectError) as info:
            await publish_all(backend, dest("amq.direct", "exchange"), [b"x"])
    assert "ACCESS_REFUSED" in str(info.value)
    assert secret not in str(info.value) and secret not in (info.value.hint or "")
    _write_config(isolated_config, password=secret)
    for args in (
        ("publish", "--exchange", "amq.direct", "x"),
        ("queues", "list"),
        ("peek", "rabbitmq:whatever"),
    ):
        result = await cli(*args)
        assert result.exit_code == 3, (args, result.output)
        assert secret not in result.output
        assert "refused user 'guest'" in result.stderr


async def test_unknown_vhost_is_exit_4(unique: str) -> None:
    vhost = f"no-such-vhost-{unique}"
    async with rabbit() as backend:
        with pytest.raises(NotFoundError, match="vhost"):
            await publish_all(
                backend, Destination("rabbitmq", "exchange", "amq.direct", vhost), [b"x"]
            )
    result = await cli("queues", "list", "--vhost", vhost)
    assert result.exit_code == 4
    assert vhost in result.stderr


async def test_management_down_amqp_up(
    isolated_config: Path, closed_port: int, mgmt: httpx.Client, queues: list[str], unique: str
) -> None:
    name = make_queue(mgmt, queues, f"mqctl-test-mgmtdown-{unique}")
    context = _context(**{"management-url": f"http://127.0.0.1:{closed_port}"})
    async with rabbit(context) as backend:
        # Publishing needs only AMQP.
        results = await publish_all(backend, dest(name), [b"still works"])
        assert [r.ok for r in results] == [True]
        # Peek learns a classic queue's type from the queue itself (issue 17; quorum queues
        # are refused: tests/test_rabbit_amqp_only.py).
        peeked = await peek_all(backend, dest(name))
        assert [m.value for m in peeked] == [b"still works"]
    assert await amqp_depth(name) == 1
    _write_config(
        isolated_config,
        password="guest",
        **{"management-url": f"http://127.0.0.1:{closed_port}"},
    )
    result = await cli("queues", "list")
    assert result.exit_code == 3
    assert f"cannot connect to the RabbitMQ management API at http://127.0.0.1:{closed_port}" in (
        result.stderr
    )


async def test_amqp_down_management_up(
    isolated_config: Path, closed_port: int, mgmt: httpx.Client, queues: list[str], unique: str
) -> None:
    name = make_queue(mgmt, queues, f"mqctl-test-amqpdown-{unique}")
    address = f"amqp://guest@127.0.0.1:{closed_port}/"
    async with rabbit(_context(url=address)) as backend:
        with pytest.raises(ConnectError, match=f"cannot connect to RabbitMQ at {address}"):
            await publish_all(backend, dest(name), [b"x"])
        with pytest.raises(ConnectError, match="connection refused"):
            await peek_all(backend, dest(name))
        # The inventory still works through the management API.
        assert any(q.name == name for q in await backend.list_queues())
    _write_config(isolated_config, url=address, password="guest")
    result = await cli("publish", "--queue", name, "x")
    assert result.exit_code == 3
    assert f"cannot connect to RabbitMQ at {address} (connection refused)" in result.stderr
    listing = await cli("queues", "list", "-o", "json")
    assert listing.exit_code == 0, listing.output


async def test_stream_peek_leaves_seeded_stream_alone() -> None:
    """The seeded stream is read-only for tests; a peek is exactly that."""
    async with rabbit() as backend:
        try:
            before = await backend.describe_queue("order_events_stream")
        except NotFoundError:
            pytest.skip("seeded scenario not present")
        seen = await peek_all(backend, dest("order_events_stream"), max_messages=2)
        after = await backend.describe_queue("order_events_stream")
    assert len(seen) == 2 and seen[0].offset is not None
    assert after.queue.messages >= before.queue.messages
