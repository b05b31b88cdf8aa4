"""kcat-style peek on the real local Kafka: ``--key`` (the key's partition only, and the last
N with that key), ``--format`` templates and ``--isolation`` with a transactional producer."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import KAFKA, run_cli
from tests.kafka_helpers import create_topic, delete_topics, kafka_only

pytestmark = pytest.mark.kafka


@pytest.fixture
def kafka_cfg(isolated_config: Path) -> Path:
    kafka_only(isolated_config)
    return isolated_config


@pytest.fixture
def topic(unique: str) -> Iterator[str]:
    name = f"peekx-{unique}"
    yield name
    asyncio.run(delete_topics(name))


async def _send(
    topic: str, records: Sequence[tuple[bytes | None, bytes | None]], **extra: Any
) -> None:
    """Records through aiokafka's own producer: no partition given, so its default
    partitioner (not mqctl's code) decides where each keyed record goes."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all", linger_ms=5)
    await producer.start()
    try:
        futures = [await producer.send(topic, value=v, key=k, **extra) for k, v in records]
        for future in futures:
            await future
    finally:
        await producer.stop()


def _jsonl(result: Any) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def _scanned(result: Any) -> int:
    line = next(x for x in result.stderr.splitlines() if x.startswith("scanned "))
    return int(line.split()[1].rstrip(","))


# --- --key --------------------------------------------------------------------------------


def test_key_reads_only_its_partition_and_finds_its_records_in_order(
    kafka_cfg: Path, topic: str
) -> None:
    asyncio.run(create_topic(topic, 4))
    keys = [f"user-{i}".encode() for i in range(8)]
    records = [(keys[n % 8], f"v{n}".encode()) for n in range(80)]
    asyncio.run(_send(topic, records))
    wanted = keys[3]
    expected = [v.decode() for k, v in records if k == wanted]

    everything = _jsonl(run_cli("peek", topic, "-n", "0", "-o", "jsonl"))
    partition = next(r["partition"] for r in everything if r["key"] == "user-3")
    in_partition = sum(1 for r in everything if r["partition"] == partition)
    assert len({r["partition"] for r in everything}) > 1  # the keys really are spread

    result = run_cli("peek", topic, "--key", "user-3", "-n", "0", "-o", "jsonl")
    found = _jsonl(result)
    assert [r["value"] for r in found] == expected
    assert {r["partition"] for r in found} == {partition}
    assert _scanned(result) == in_partition  # no other partition was read

    last_two = _jsonl(run_cli("peek", topic, "--key", "user-3", "--last", "2", "-o", "jsonl"))
    assert [r["value"] for r in last_two] == expected[-2:]
    assert [r["offset"] for r in last_two] == [r["offset"] for r in found][-2:]

    # --partition overrides the hash: another partition has no record with that key
    other = next(p for p in range(4) if p != partition)
    result = run_cli("peek", topic, "--key", "user-3", "-p", str(other), "-n", "0", "-o", "jsonl")
    assert _jsonl(result) == []
    assert "matched 0" in result.stderr

    # --key-base64 names the same key
    by_b64 = run_cli("peek", topic, "--key-base64", "dXNlci0z", "-n", "0", "-o", "jsonl")
    assert [r["value"] for r in _jsonl(by_b64)] == expected


def test_key_last_n_searches_backwards_through_many_windows(
    kafka_cfg: Path, topic: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key is rare and near the start: the backward search must go window by window to
    the beginning and still return the last N with that key, oldest first."""
    from mqctl.backends.kafka import peek as kafka_peek

    monkeypatch.setattr(kafka_peek, "KEY_WINDOW", 4)
    asyncio.run(create_topic(topic, 1))
    records = [(b"noise", b"n%d" % i) for i in range(60)]
    records[2] = (b"rare", b"first")
    records[7] = (b"rare", b"second")
    records[11] = (b"rare", b"third")
    records.append((b"\xff\x00", b"binary-key"))
    asyncio.run(_send(topic, records))

    two = _jsonl(run_cli("peek", topic, "--key", "rare", "--last", "2", "-o", "jsonl"))
    assert [(r["offset"], r["value"]) for r in two] == [(7, "second"), (11, "third")]
    five = _jsonl(run_cli("peek", topic, "--key", "rare", "--last", "5", "-o", "jsonl"))
    assert [r["value"] for r in five] == ["first", "second", "third"]  # all there are
    none = run_cli("peek", topic, "--key", "absent", "--last", "3", "-o", "jsonl")
    assert _jsonl(none) == []
    binary = run_cli("peek", topic, "--key-base64", "/wA=", "--last", "1", "-o", "jsonl")
    assert [r["value"] for r in _jsonl(binary)] == ["binary-key"]


def test_key_base64_must_be_base64(kafka_cfg: Path) -> None:
    result = run_cli("peek", "whatever", "--key-base64", "not base64!")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --key-base64")
    both = run_cli("peek", "whatever", "--key", "a", "--key-base64", "YQ==")
    assert both.exit_code == 2


def test_key_partition_is_the_publish_partitioner(kafka_cfg: Path, topic: str) -> None:
    """mqctl publish --key and peek --key agree (one function) and match aiokafka's
    default partitioner."""
    from aiokafka.partitioner import DefaultPartitioner

    from mqctl.backends.kafka.batch_publisher import key_partition

    for key in (b"", b"a", b"order-42", bytes(range(256))):
        assert key_partition(key, [0, 1, 2, 3, 4]) == DefaultPartitioner()(key, [0, 1, 2, 3, 4], [])
    asyncio.run(create_topic(topic, 5))
    assert run_cli("publish", topic, "hello", "--key", "order-42").exit_code == 0
    found = _jsonl(run_cli("peek", topic, "--key", "order-42", "-o", "jsonl"))
    expected = key_partition(b"order-42", [0, 1, 2, 3, 4])
    assert [(r["partition"], r["value"]) for r in found] == [(expected, "hello")]


# --- --format -----------------------------------------------------------------------------


def test_format_template_writes_each_field(kafka_cfg: Path, topic: str) -> None:
    asyncio.run(create_topic(topic, 1))
    ts = 1_790_000_000_123
    records: list[tuple[bytes | None, bytes | None]] = [
        (b"k1", b"hello"),
        (None, b"x"),  # null key
        (b"t", None),  # tombstone
        (b"", b""),  # empty key and value
        (b"k\xff", b"\x00\x1b[2J\xfe"),  # bytes that are not text
    ]
    asyncio.run(
        _send(
            topic,
            records,
            partition=0,
            timestamp_ms=ts,
            headers=[("h1", b"a"), ("h2", b"b")],
        )
    )
    template = r"%t|%p|%o|%k|%s|%h|%T|%S|%K|%%\n"
    result = run_cli("peek", topic, "-n", "0", "--format", template)
    assert result.exit_code == 0, result.output
    out = result.stdout.encode("utf-8", "surrogateescape")  # (a pipe gets the bytes as they are)
    lines = out.split(b"\n")
    assert lines[-1] == b""
    head = f"{topic}|0|".encode()
    assert lines[:-1] == [
        head + b"0|k1|hello|h1=a,h2=b|1790000000123|5|2|%",
        head + b"1||x|h1=a,h2=b|1790000000123|1|-1|%",
        head + b"2|t||h1=a,h2=b|1790000000123|-1|1|%",
        head + b"3|||h1=a,h2=b|1790000000123|0|0|%",
        head + b"4|k\xff|\x00\x1b[2J\xfe|h1=a,h2=b|1790000000123|6|2|%",
    ]
    tabbed = run_cli("peek", topic, "-n", "1", "--format", r"%o\t%s\n")
    assert tabbed.stdout == "0\thello\n"


def test_format_escapes_data_on_a_terminal() -> None:
    from mqctl.messages.line_format import LineFormat
    from mqctl.models.messages import Message

    message = Message(
        "kafka", "t", b"\x1b[2J\xffok", b"k\x07", [("h", b"\x1b]0;x")], 0, 5,
        datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    shown = LineFormat(r"%k %s %h\n", escape=True).render(message)
    assert shown == b"k\\x07 \\x1b[2J\\xffok h=\\x1b]0;x\n"
    assert LineFormat(r"%k %s\n").render(message) == b"k\x07 \x1b[2J\xffok\n"
    assert LineFormat(r"%s\n", cap=2).render(message) == b"\x1b[\n"


@pytest.mark.parametrize(
    ("template", "named"), [("%x", "'%x'"), ("50%", "'%'"), (r"\q", "'\\\\q'")]
)
def test_format_unknown_placeholder_is_exit_2(kafka_cfg: Path, template: str, named: str) -> None:
    result = run_cli("peek", "whatever", "--format", template)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --format: unknown")
    assert named in result.stderr
    combined = run_cli("peek", "whatever", "--format", "%s", "-o", "json")
    assert combined.exit_code == 2


# --- --isolation --------------------------------------------------------------------------


async def _transactions(topic: str, unique: str) -> None:
    """committed-1 (committed), aborted-1 (aborted), committed-2 (committed)."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(
        bootstrap_servers=KAFKA, transactional_id=f"peekx-{unique}", enable_idempotence=True
    )
    await producer.start()
    try:
        plan = ((b"committed-1", True), (b"aborted-1", False), (b"committed-2", True))
        for value, commit in plan:
            await producer.begin_transaction()
            await producer.send_and_wait(topic, value, key=b"tx", partition=0)
            if commit:
                await producer.commit_transaction()
            else:
                await producer.abort_transaction()
    finally:
        await producer.stop()


def test_isolation_hides_aborted_and_never_shows_markers(
    kafka_cfg: Path, topic: str, unique: str
) -> None:
    asyncio.run(create_topic(topic, 1))
    asyncio.run(_transactions(topic, unique))
    asyncio.run(_send(topic, [(b"plain", b"after")], partition=0))

    default = _jsonl(run_cli("peek", topic, "-n", "0", "-o", "jsonl"))
    assert [r["value"] for r in default] == ["committed-1", "committed-2", "after"]
    committed = _jsonl(
        run_cli("peek", topic, "-n", "0", "--isolation", "read_committed", "-o", "jsonl")
    )
    assert committed == default
    everything = _jsonl(
        run_cli("peek", topic, "-n", "0", "--isolation", "read_uncommitted", "-o", "jsonl")
    )
    # the aborted record is there; the three transaction markers (control records, which
    # take offsets 1, 3 and 5) are never messages
    assert [r["value"] for r in everything] == ["committed-1", "aborted-1", "committed-2", "after"]
    assert [r["offset"] for r in everything] == [0, 2, 4, 6]
    # --last and --key go through the same isolation
    last = _jsonl(run_cli("peek", topic, "--key", "tx", "--last", "2", "-o", "jsonl"))
    assert [r["value"] for r in last] == ["committed-1", "committed-2"]
    raw = run_cli("peek", topic, "-n", "0", "-o", "raw", "--isolation", "read_uncommitted")
    assert raw.stdout == "committed-1\naborted-1\ncommitted-2\nafter\n"

    bad = run_cli("peek", topic, "--isolation", "dirty")
    assert bad.exit_code == 2
    assert "--isolation" in bad.stderr


def test_read_committed_stops_before_an_open_transaction(
    kafka_cfg: Path, topic: str, unique: str
) -> None:
    """An open transaction: read_committed shows what is before it and ends (its end is the
    last stable offset); read_uncommitted shows the open transaction's record too."""
    from aiokafka import AIOKafkaProducer

    asyncio.run(create_topic(topic, 1))
    asyncio.run(_send(topic, [(None, b"before")], partition=0))

    opened, finish = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    async def hold_open() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=KAFKA, transactional_id=f"open-{unique}")
        await producer.start()
        try:
            await producer.begin_transaction()
            await producer.send_and_wait(topic, b"open", partition=0)
            opened.set()
            await asyncio.to_thread(finish.wait, 60)  # the CLI runs on the main thread
            await producer.abort_transaction()
        finally:
            await producer.stop()

    def holder() -> None:
        try:
            asyncio.run(hold_open())
        except BaseException as exc:  # reported by the test below
            failures.append(exc)
            opened.set()

    thread = threading.Thread(target=holder, daemon=True)
    thread.start()
    try:
        assert opened.wait(30)
        assert not failures, failures
        committed = run_cli("peek", topic, "-n", "0", "-o", "jsonl")
        uncommitted = run_cli(
            "peek", topic, "-n", "0", "-o", "jsonl", "--isolation", "read_uncommitted"
        )
    finally:
        finish.set()
        thread.join(30)
    assert not failures, failures
    assert [r["value"] for r in _jsonl(committed)] == ["before"]
    assert [r["value"] for r in _jsonl(uncommitted)] == ["before", "open"]


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(keys=st.lists(st.binary(min_size=0, max_size=24), min_size=1, max_size=6, unique=True))
def test_any_key_is_found_where_the_default_partitioner_put_it(
    kafka_cfg: Path, keys: list[bytes]
) -> None:
    """Whatever the key bytes, peek --key-base64 finds exactly the records an ordinary
    producer (aiokafka, no partition given) wrote with that key, reading one partition."""
    import base64
    import uuid

    name = f"peekx-prop-{uuid.uuid4().hex[:8]}"
    asyncio.run(create_topic(name, 3))
    try:
        records = [(key, b"%d" % n) for n in range(2) for key in keys]
        asyncio.run(_send(name, records))
        for key in keys:
            b64 = base64.b64encode(key).decode()
            result = run_cli("peek", name, "--key-base64", b64, "-n", "0", "-o", "jsonl")
            assert [r["value"] for r in _jsonl(result)] == [0, 1]
            last = run_cli("peek", name, "--key-base64", b64, "--last", "1", "-o", "jsonl")
            assert [r["value"] for r in _jsonl(last)] == [1]
    finally:
        asyncio.run(delete_topics(name))


def test_key_last_then_follow_shows_new_records_with_that_key(topic: str) -> None:
    """--key a --last 1 --follow: the last record with the key, then the new ones only."""
    from mqctl.config.schema import Context
    from mqctl.messages.filters import build_filter
    from mqctl.models.messages import PeekOptions, StartPosition
    from mqctl.services import messages as service
    from mqctl.session import Session

    asyncio.run(create_topic(topic, 2))
    asyncio.run(_send(topic, [(k, b"%s-%d" % (k, i)) for i in range(3) for k in (b"a", b"b")]))

    async def follow() -> list[bytes | None]:
        got: list[bytes | None] = []
        context = Context(name="k", backends={"kafka": {"bootstrap-servers": KAFKA}})
        options = PeekOptions(max_messages=2, start=StartPosition("last", 1), follow=True, key=b"a")
        async with Session(context) as session:
            stream = service.peek(session, topic, options, build_filter(key="a"))
            try:
                async with asyncio.timeout(60):
                    async for message in stream:
                        got.append(message.value)
                        if len(got) == 1:  # the backward search is done: now write more
                            await _send(topic, [(b"b", b"b-new"), (b"a", b"a-new")])
            finally:
                await stream.aclose()  # type: ignore[attr-defined]
        return got

    assert asyncio.run(follow()) == [b"a-2", b"a-new"]
