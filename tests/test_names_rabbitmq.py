"""Any name RabbitMQ accepts works in every command (issue 14 item 3), on the real broker.

RabbitMQ takes any UTF-8 queue, exchange or vhost name up to 255 bytes; the AMQP client
library checks names against a narrower ASCII pattern (and caps exchange and vhost names at
127 characters), worked around in mqctl/backends/rabbitmq/aiormq_internals.py. Names here are
generated (letters of every script, marks, digits, punctuation, symbols and emoji, spaces,
``/``, ``.``, ``%``; up to the 255-byte limit) and go through create, list, describe, publish,
peek, dlq list, dlq inspect, dlq redrive, purge and delete, in vhosts whose names have spaces,
slashes and ``%``. Set-ups and read-backs use the management HTTP API, independent of the
code under test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from tests.conftest import RABBIT_MGMT, run_cli

pytestmark = pytest.mark.rabbitmq

AUTH = ("guest", "guest")
MAX_BYTES = 255
# No shrinking: each example is a few broker round trips (a failure shows its example as is).
PROPERTY = settings(
    max_examples=8,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Printable characters of every script: letters, marks, numbers, punctuation, symbols (emoji
# are So), spaces; no control characters or surrogates (not valid UTF-8).
_chars = st.characters(categories=("L", "M", "N", "P", "S", "Zs"))
_specials = st.sampled_from([" ", "/", ".", "%", "%2F", "..", "é", "Ж", "名", "😀", "a b/c.d%e"])
_body = st.lists(st.one_of(_chars, _specials), min_size=1, max_size=30).map("".join)


def _fit(name: str, limit: int = MAX_BYTES) -> str:
    """``name`` cut to at most ``limit`` UTF-8 bytes, on a character boundary."""
    while len(name.encode()) > limit:
        name = name[:-1]
    return name


def named(tag: str) -> st.SearchStrategy[str]:
    """A fresh name ``nm-<tag><random>-<generated>``, sometimes padded to exactly 255 bytes
    (the unique ASCII head keeps examples apart and the name clear of ``amq.``)."""

    def build(body: str, long: bool) -> str:
        head = f"nm-{tag}{uuid.uuid4().hex[:6]}-"
        if long:
            body = (body * MAX_BYTES)[:MAX_BYTES]
        return _fit(head + body)

    return st.builds(build, _body, st.booleans())


def enc(name: str) -> str:
    return quote(name, safe="")


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{RABBIT_MGMT}/api", auth=AUTH, timeout=15) as client:
        yield client


def get_messages(http: httpx.Client, queue: str, vhost: str, count: int = 50) -> list[Any]:
    """Messages of ``queue``, read and returned (``ack_requeue_true``) by the management API."""
    answer = http.post(
        f"/queues/{enc(vhost)}/{enc(queue)}/get",
        json={"count": count, "ackmode": "ack_requeue_true", "encoding": "auto"},
    )
    answer.raise_for_status()
    return list(answer.json())


def wait_messages(
    http: httpx.Client, queue: str, want: int, vhost: str, seconds: float = 15.0
) -> list[Any]:
    deadline = time.monotonic() + seconds
    while True:
        found = get_messages(http, queue, vhost)
        if len(found) >= want or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def use_vhost(config: Path, vhost: str) -> None:
    """The current context: the local RabbitMQ with ``vhost`` as its vhost."""
    config.write_text(
        'current-context = "names"\n[contexts.names.rabbitmq]\n'
        'url = "amqp://guest@127.0.0.1:5672/"\n'
        f'management-url = "{RABBIT_MGMT}"\npassword = "guest"\n'
        f"vhost = {json.dumps(vhost)}\n",
        encoding="utf-8",
    )


def create_vhost(http: httpx.Client, vhost: str) -> None:
    http.put(f"/vhosts/{enc(vhost)}").raise_for_status()
    http.put(
        f"/permissions/{enc(vhost)}/guest", json={"configure": ".*", "write": ".*", "read": ".*"}
    ).raise_for_status()


@pytest.fixture(scope="module")
def private_vhost(http: httpx.Client) -> Iterator[str]:
    """A vhost of these tests' own: other suites' ``dlq list`` (which peeks every DLQ of the
    default vhost) never touches its queues, and deleting it cleans up everything."""
    vhost = f"nm names {uuid.uuid4().hex[:8]} a/b %"
    create_vhost(http, vhost)
    try:
        yield vhost
    finally:
        http.delete(f"/vhosts/{enc(vhost)}")


@pytest.fixture
def vhost(private_vhost: str, isolated_config: Path) -> str:
    use_vhost(isolated_config, private_vhost)
    return private_vhost


def delete_queues(http: httpx.Client, names: list[str], vhost: str) -> None:
    for name in names:
        http.delete(f"/queues/{enc(vhost)}/{enc(name)}")


def ok(*args: str) -> Any:
    result = run_cli(*args)
    assert result.exit_code == 0, (args, result.output)
    return json.loads(result.stdout) if "-o" in args else result.stdout


# --- every command on generated queue names -----------------------------------------------------


@PROPERTY
# (values are not JSON, so that peek's JSON output shows them as the same string)
@given(name=named("q"), target=named("t"), value=st.text(_chars, max_size=20).map("v-".__add__))
@example(name="nm-fixed-é Ж 名 😀 a/b.c%d", target="nm-fixed-target 注文/%2F", value="v")
def test_every_command_works_on_any_queue_name(
    http: httpx.Client, vhost: str, name: str, target: str, value: str
) -> None:
    try:
        created = ok("queues", "create", name, "-o", "json")
        assert created["queue"] == name and created["action"] == "created"
        ok("queues", "create", target)
        listed = ok("queues", "list", "-o", "json")
        assert name in {q["name"] for q in listed}
        assert ok("queues", "describe", name, "-o", "json")["queue"]["name"] == name

        ok("publish", f"rabbitmq:{name}", value)
        assert [m["payload"] for m in wait_messages(http, name, 1, vhost)] == [value]
        peeked = ok("peek", f"rabbitmq:{name}", "-o", "json")
        assert [(m["source"], m["value"]) for m in peeked] == [(name, value)]

        inspected = ok("dlq", "inspect", f"rabbitmq:{name}", "-o", "json")
        assert sum(g["count"] for g in inspected["groups"]) == 1
        moved = ok("dlq", "redrive", f"rabbitmq:{name}", "--to", target, "--yes", "-o", "json")
        assert moved["moved"] == 1 and moved["failed"] == 0
        assert get_messages(http, name, vhost) == []
        assert [m["payload"] for m in wait_messages(http, target, 1, vhost)] == [value]

        # (the purge's count comes from the management API's statistics, a few seconds late)
        assert ok("queues", "purge", target, "--yes", "-o", "json")["action"] == "purged"
        assert get_messages(http, target, vhost) == []
        assert ok("queues", "delete", name, "--yes", "-o", "json")["action"] == "deleted"
        assert http.get(f"/queues/{enc(vhost)}/{enc(name)}").status_code == 404
    finally:
        delete_queues(http, [name, target], vhost)


# --- a real dead-letter set-up: DLX exchange, DLQ and source with generated names ----------------


def dead_letter_setup(
    http: httpx.Client, vhost: str, source: str, dlx: str, dlq: str, count: int
) -> None:
    """``count`` messages published to ``source`` expire at once and are dead-lettered by the
    broker through ``dlx`` into ``dlq`` (genuine x-death headers)."""
    v = enc(vhost)
    http.put(f"/exchanges/{v}/{enc(dlx)}", json={"type": "fanout"}).raise_for_status()
    http.put(f"/queues/{v}/{enc(dlq)}", json={"durable": True}).raise_for_status()
    http.post(f"/bindings/{v}/e/{enc(dlx)}/q/{enc(dlq)}", json={}).raise_for_status()
    arguments = {"x-dead-letter-exchange": dlx}
    http.put(
        f"/queues/{v}/{enc(source)}", json={"durable": True, "arguments": arguments}
    ).raise_for_status()
    for n in range(count):
        http.post(
            f"/exchanges/{v}/amq.default/publish",
            json={
                "properties": {"expiration": "0", "message_id": f"m-{n}"},
                "routing_key": source,
                "payload": f"dead {n}",
                "payload_encoding": "string",
            },
        ).raise_for_status()
    assert len(wait_messages(http, dlq, count, vhost)) == count


def dlq_row(dlq: str, depth: int, seconds: float = 20.0) -> Any:
    """``dlq list``'s row for ``dlq`` once it shows ``depth`` (the depth comes from the
    management API's statistics, refreshed every few seconds)."""
    deadline = time.monotonic() + seconds
    while True:
        rows = ok("dlq", "list", "-o", "json")
        row = next(r for r in rows if r["backend"] == "rabbitmq" and r["name"] == dlq)
        if row["depth"] == depth or time.monotonic() > deadline:
            return row
        time.sleep(0.5)


@settings(PROPERTY, max_examples=4)
@given(source=named("s"), dlx=named("x"), dlq=named("d"))
@example(source="nm-fixed-заказы 😀", dlx="nm-fixed-" + "é" * 123, dlq="nm-fixed-заказы/dlq %")
def test_dead_letter_queues_with_any_name(
    http: httpx.Client, vhost: str, source: str, dlx: str, dlq: str
) -> None:
    try:
        dead_letter_setup(http, vhost, source, dlx, dlq, 3)
        row = dlq_row(dlq, 3)
        assert "dead-letter-exchange" in row["detected_by"]
        assert source in row["sources"]
        assert row["depth"] == 3 and row["sampled"] >= 1
        assert row["top_reasons"][0]["reason"] == "expired"
        assert row["oldest_age_seconds"] is not None

        inspected = ok("dlq", "inspect", f"rabbitmq:{dlq}", "-g", "source", "-o", "json")
        assert [(g["key"], g["count"]) for g in inspected["groups"]] == [(source, 3)]
        moved = ok("dlq", "redrive", f"rabbitmq:{dlq}", "--yes", "-o", "json")
        assert moved["moved"] == 3 and moved["by_destination"] == {source: 3}
        back = wait_messages(http, source, 3, vhost)
        assert sorted(m["payload"] for m in back) == ["dead 0", "dead 1", "dead 2"]
        assert get_messages(http, dlq, vhost) == []
    finally:
        delete_queues(http, [source, dlq], vhost)
        http.delete(f"/exchanges/{enc(vhost)}/{enc(dlx)}")


# --- a vhost named with a space and a slash -------------------------------------------------------


@pytest.fixture
def odd_vhost(http: httpx.Client, isolated_config: Path) -> Iterator[str]:
    """A vhost ``nm <unique> a/b é`` (guest may use it) and the current context pointing at it."""
    vhost = f"nm {uuid.uuid4().hex[:8]} a/b é"
    create_vhost(http, vhost)
    try:
        use_vhost(isolated_config, vhost)
        yield vhost
    finally:
        http.delete(f"/vhosts/{enc(vhost)}")


def test_a_vhost_with_a_space_and_a_slash(http: httpx.Client, odd_vhost: str) -> None:
    vhost = odd_vhost
    queue, dlq, dlx = "nm-src 名/%", "nm-src 名/%.dlq", "nm-dlx é"
    ok("queues", "create", queue, "--vhost", vhost, "--dead-letter-exchange", dlx)
    http.put(f"/exchanges/{enc(vhost)}/{enc(dlx)}", json={"type": "fanout"}).raise_for_status()
    ok("queues", "create", dlq, "--vhost", vhost)
    http.post(f"/bindings/{enc(vhost)}/e/{enc(dlx)}/q/{enc(dlq)}", json={}).raise_for_status()
    assert {q["name"] for q in ok("queues", "list", "--vhost", vhost, "-o", "json")} == {
        queue,
        dlq,
    }
    described = ok("queues", "describe", queue, "--vhost", vhost, "-o", "json")
    assert described["queue"]["vhost"] == vhost

    ok("publish", f"rabbitmq:{queue}", "--vhost", vhost, "--property", "expiration=0", "gone")
    assert [m["payload"] for m in wait_messages(http, dlq, 1, vhost)] == ["gone"]
    peeked = ok("peek", f"rabbitmq:{dlq}", "--vhost", vhost, "-o", "json")
    assert [(m["vhost"], m["value"]) for m in peeked] == [(vhost, "gone")]
    assert dlq_row(dlq, 1)["sources"] == [queue]
    inspected = ok("dlq", "inspect", f"rabbitmq:{dlq}", "-o", "json")
    assert [(g["key"], g["count"]) for g in inspected["groups"]] == [("expired", 1)]

    # The redrive in a process of its own: nothing may be printed at interpreter exit
    # (an unclosed AMQP connection shows up as "Exception ignored ... Event loop is closed").
    env = {**os.environ, "MQCTL_CONTEXT": "names"}
    redrive = subprocess.run(
        [sys.executable, "-m", "mqctl", "dlq", "redrive", f"rabbitmq:{dlq}", "--yes"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert redrive.returncode == 0, redrive.stderr
    assert "Exception ignored" not in redrive.stderr and "Traceback" not in redrive.stderr
    assert [m["payload"] for m in wait_messages(http, queue, 1, vhost)] == ["gone"]
    ok("queues", "purge", queue, "--vhost", vhost, "--yes")
    assert get_messages(http, queue, vhost) == []
    for name in (queue, dlq):
        ok("queues", "delete", name, "--vhost", vhost, "--yes")


# --- names RabbitMQ refuses -------------------------------------------------------------------

LONG = "nm-long-" + "é" * 124  # 256 bytes


@pytest.mark.parametrize(
    "args",
    [
        ("queues", "create", LONG),
        ("queues", "describe", LONG),
        ("queues", "purge", LONG, "--yes"),
        ("queues", "delete", LONG, "--yes"),
        ("exchanges", "describe", LONG),
        ("peek", f"rabbitmq:{LONG}"),
        ("publish", f"rabbitmq:{LONG}", "v"),
        ("dlq", "inspect", f"rabbitmq:{LONG}"),
        ("dlq", "redrive", f"rabbitmq:{LONG}", "--yes"),
    ],
)
def test_a_name_over_255_bytes_is_exit_2_naming_it(args: tuple[str, ...]) -> None:
    result = run_cli(*args)
    assert result.exit_code == 2, result.output
    assert LONG in result.stderr and "255" in result.stderr
    assert "Traceback" not in result.output


# --- --vhost on the DLQ commands (the context stays on the default vhost) ----------------------


def test_dlq_commands_take_vhost(
    http: httpx.Client, private_vhost: str, isolated_config: Path
) -> None:
    """A runbook names the vhost on the command line, as with peek and publish: inspect, the
    dry run, the redrive and its status find the DLQ there, and the audit record says where."""
    use_vhost(isolated_config, "/")
    vhost, tag = private_vhost, uuid.uuid4().hex[:6]
    source, dlx, dlq = f"nm-vs {tag} 注文", f"nm-vs-x {tag}", f"nm-vs {tag} 注文.dlq"
    try:
        dead_letter_setup(http, vhost, source, dlx, dlq, 2)
        name, where = f"rabbitmq:{dlq}", ("--vhost", vhost)
        assert run_cli("dlq", "inspect", name).exit_code == 4  # not in the context's vhost
        inspected = ok("dlq", "inspect", name, *where, "-o", "json")
        assert [(g["key"], g["count"]) for g in inspected["groups"]] == [("expired", 2)]
        planned = ok("dlq", "redrive", name, *where, "--dry-run", "-o", "json")
        assert planned["moved"] == 2 and planned["by_destination"] == {source: 2}
        moved = ok("dlq", "redrive", name, *where, "--yes", "-o", "json")
        assert moved["moved"] == 2 and moved["by_destination"] == {source: 2}
        assert len(wait_messages(http, source, 2, vhost)) == 2
        assert get_messages(http, dlq, vhost) == []
        status = ok("dlq", "status", name, *where, "-o", "json")
        assert status["audit"] and status["audit"][0]["moved"] == 2
        records = ok("audit", "--action", "dlq redrive", "-o", "json")
        assert records[-1]["details"]["vhost"] == vhost and records[-1]["outcome"] == "ok"
    finally:
        delete_queues(http, [source, dlq], vhost)
        http.delete(f"/exchanges/{enc(vhost)}/{enc(dlx)}")


def test_tui_dlq_actions_keep_the_queues_vhost(
    http: httpx.Client, private_vhost: str, isolated_config: Path
) -> None:
    """The TUI's queues panel lists every vhost: a DLQ opened there is planned, redriven and
    inspected in its own vhost, not in the context's."""
    import asyncio

    mqctl_tui = pytest.importorskip("mqctl_tui.services")
    from mqctl.config import load_config, resolve_context
    from mqctl.dlq.plan import RedriveOptions
    from mqctl.models.inventory import Destination

    use_vhost(isolated_config, "/")
    vhost, tag = private_vhost, uuid.uuid4().hex[:6]
    source, dlx, dlq = f"nm-tv {tag} é", f"nm-tv-x {tag}", f"nm-tv {tag} é.dlq"

    async def run() -> tuple[Any, Any, Any]:
        services = mqctl_tui.Services(resolve_context(load_config(), None))
        try:
            where = Destination("rabbitmq", "queue", dlq, vhost)
            inspected = await services.dlq_inspect(where)
            planned = await services.dlq_plan(where, RedriveOptions())
            moved = await services.dlq_redrive(where, RedriveOptions(), shown=planned)
            return inspected, planned, moved
        finally:
            await services.close()

    try:
        dead_letter_setup(http, vhost, source, dlx, dlq, 2)
        inspected, planned, moved = asyncio.run(run())
        assert inspected.examined == 2
        assert planned.moved == 2 and moved.moved == 2 and moved.failed == 0
        assert len(wait_messages(http, source, 2, vhost)) == 2
    finally:
        delete_queues(http, [source, dlq], vhost)
        http.delete(f"/exchanges/{enc(vhost)}/{enc(dlx)}")
