"""RabbitMQ inventory against the real broker: paginated listings over several vhosts (one
named with '/' and spaces), filters and sorting, describe (bindings in and out, consumers),
exchanges, connections, and the queue admin commands (create / purge / delete)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from mqctl.backends.rabbitmq import management
from tests.conftest import RABBIT_MGMT, mgmt_publish, run_cli

pytestmark = pytest.mark.rabbitmq

AUTH = ("guest", "guest")


def enc(name: str) -> str:
    return quote(name, safe="")


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{RABBIT_MGMT}/api", auth=AUTH, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def vhosts(http: httpx.Client) -> Iterator[dict[str, list[str]]]:
    """Three vhosts (one needing encoding) with four queues each, deleted afterwards."""
    tag = uuid.uuid4().hex[:6]
    layout = {
        f"mqctl test/{tag} a b": [f"q{i}-{tag}" for i in range(4)],
        f"mqctl-test-{tag}-2": [f"q{i}-{tag}" for i in range(4)],
        f"mqctl-test-{tag}-3": [f"q{i}-{tag}" for i in range(4)],
    }
    for vhost, names in layout.items():
        v = enc(vhost)
        http.put(f"/vhosts/{v}").raise_for_status()
        http.put(
            f"/permissions/{v}/guest", json={"configure": ".*", "write": ".*", "read": ".*"}
        ).raise_for_status()
        for i, name in enumerate(names):
            kind = ["classic", "quorum", "stream", "classic"][i]
            http.put(
                f"/queues/{v}/{enc(name)}",
                json={"durable": True, "arguments": {"x-queue-type": kind}},
            ).raise_for_status()
    yield layout
    for vhost in layout:
        http.delete(f"/vhosts/{enc(vhost)}")


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Page size 2 (so every listing takes several pages) and a log of the API requests."""
    monkeypatch.setattr(management, "PAGE_SIZE", 2)
    calls: list[tuple[str, Any]] = []
    original = management.ManagementClient.request

    async def logged(self: Any, method: str, path: str, **kwargs: Any) -> Any:
        calls.append((path, kwargs.get("params")))
        return await original(self, method, path, **kwargs)

    monkeypatch.setattr(management.ManagementClient, "request", logged)
    return calls


def test_list_queues_paginated_across_vhosts(
    vhosts: dict[str, list[str]], small_pages: list[tuple[str, Any]]
) -> None:
    result = run_cli("queues", "list", "--all-vhosts", "-o", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    found = {(q["vhost"], q["name"]) for q in rows}
    for vhost, names in vhosts.items():
        assert {(vhost, n) for n in names} <= found
    assert len(found) == len(rows)  # no duplicates from page boundaries
    pages = [params for path, params in small_pages if path == "/queues"]
    assert len(pages) >= 6 and all(p and p["page_size"] == 2 for p in pages)
    # Only the paginated collection was requested: never one request per queue.
    assert {path for path, _ in small_pages} == {"/queues"}


def test_list_queues_in_vhost_with_slash_and_spaces(
    vhosts: dict[str, list[str]], small_pages: list[tuple[str, Any]]
) -> None:
    odd = next(v for v in vhosts if "/" in v)
    result = run_cli("queues", "list", "--vhost", odd, "-o", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert sorted(q["name"] for q in rows) == sorted(vhosts[odd])
    assert {q["vhost"] for q in rows} == {odd}
    assert f"/queues/{enc(odd)}" in {path for path, _ in small_pages}
    assert len([1 for path, _ in small_pages if path == f"/queues/{enc(odd)}"]) == 2


def test_filter_type_and_sort(vhosts: dict[str, list[str]], small_pages: object) -> None:
    vhost = next(v for v in vhosts if v.endswith("-2"))
    tag = vhost.split("-")[2]
    result = run_cli(
        "queues", "list", "--vhost", vhost, "--filter", r"^q[12]-", "--type", "quorum", "-o",
        "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [q["name"] for q in json.loads(result.stdout)] == [f"q1-{tag}"]
    by_name = run_cli("queues", "list", "--vhost", vhost, "--sort", "name", "-o", "json")
    names = [q["name"] for q in json.loads(by_name.stdout)]
    assert names == sorted(names)
    by_depth = run_cli("queues", "list", "--vhost", vhost, "--sort", "depth", "-o", "jsonl")
    assert by_depth.exit_code == 0 and len(by_depth.stdout.splitlines()) == 4
    table = run_cli("queues", "list", "--vhost", vhost, "--sort", "rate")
    assert table.exit_code == 0 and f"q3-{tag}" in table.stdout


def test_bad_filter_and_type_are_usage_errors() -> None:
    result = run_cli("queues", "list", "--filter", "(unclosed")
    assert result.exit_code == 2
    assert "invalid regular expression" in result.stderr
    assert run_cli("queues", "list", "--type", "lazy").exit_code == 2


def test_vhosts_exchanges_bindings_connections(
    vhosts: dict[str, list[str]], small_pages: object
) -> None:
    listed = json.loads(run_cli("vhosts", "list", "-o", "json").stdout)
    assert set(vhosts) <= {v["name"] for v in listed}
    odd = next(v for v in vhosts if "/" in v)
    exchanges = json.loads(run_cli("exchanges", "list", "--vhost", odd, "-o", "json").stdout)
    assert {"", "amq.direct", "amq.topic"} <= {e["name"] for e in exchanges}
    bindings = json.loads(run_cli("bindings", "list", "--vhost", odd, "-o", "json").stdout)
    assert {b["destination"] for b in bindings} == set(vhosts[odd])
    result = run_cli("connections", "list", "--all-vhosts", "-o", "json")
    assert result.exit_code == 0, result.output
    assert isinstance(json.loads(result.stdout), list)


def test_unknown_vhost_is_exit_4(unique: str) -> None:
    for args in (
        ("queues", "list"),
        ("exchanges", "list"),
        ("bindings", "list"),
        ("connections", "list"),
        ("queues", "describe", "x"),
        ("exchanges", "describe", "x"),
    ):
        result = run_cli(*args, "--vhost", f"missing-{unique}")
        assert result.exit_code == 4, (args, result.output)
        assert f"vhost 'missing-{unique}'" in result.stderr


@pytest.fixture
def routed(http: httpx.Client, unique: str) -> Iterator[dict[str, str]]:
    """work (DLX -> dlx exchange -> work.dlq), bound from an exchange, with a consumer."""
    names = {
        "exchange": f"mqctl-test-ex-{unique}",
        "dlx": f"mqctl-test-dlx-{unique}",
        "queue": f"mqctl-test-work-{unique}",
        "dlq": f"mqctl-test-work-{unique}.dlq",
    }
    v = "%2F"
    http.put(f"/exchanges/{v}/{names['exchange']}", json={"type": "topic"}).raise_for_status()
    http.put(f"/exchanges/{v}/{names['dlx']}", json={"type": "fanout"}).raise_for_status()
    http.put(
        f"/queues/{v}/{names['queue']}",
        json={"durable": True, "arguments": {"x-dead-letter-exchange": names["dlx"]}},
    ).raise_for_status()
    http.put(f"/queues/{v}/{names['dlq']}", json={"durable": True}).raise_for_status()
    http.post(
        f"/bindings/{v}/e/{names['exchange']}/q/{names['queue']}", json={"routing_key": "o.*"}
    ).raise_for_status()
    http.post(
        f"/bindings/{v}/e/{names['dlx']}/q/{names['dlq']}", json={"routing_key": ""}
    ).raise_for_status()
    yield names
    http.delete(f"/queues/{v}/{names['queue']}")
    http.delete(f"/queues/{v}/{names['dlq']}")
    http.delete(f"/exchanges/{v}/{names['exchange']}")
    http.delete(f"/exchanges/{v}/{names['dlx']}")


def test_describe_queue_bindings_in_and_out_and_consumers(routed: dict[str, str]) -> None:
    import asyncio

    import aio_pika

    async def ignore(message: Any) -> None:
        return None  # prefetch holds the messages; the test only needs the consumer

    async def with_consumer() -> Any:
        connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/")
        async with connection:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=7)
            queue = await channel.declare_queue(routed["queue"], passive=True)
            await queue.consume(ignore, consumer_tag="mqctl-test-tag")
            # Consumer details reach the management API with the next stats emission.
            for _ in range(60):
                result = await asyncio.to_thread(
                    run_cli, "queues", "describe", routed["queue"], "-o", "json"
                )
                if result.exit_code != 0:
                    break
                details = json.loads(result.stdout)["consumer_details"]
                if details and details[0].get("user"):  # channel details may come later
                    break
                await asyncio.sleep(0.25)
            return result

    result = asyncio.run(with_consumer())
    assert result.exit_code == 0, result.output
    detail = json.loads(result.stdout)
    assert detail["queue"]["dead_letter_exchange"] == routed["dlx"]
    sources = {b["source"] for b in detail["bindings_in"]}
    assert sources == {"", routed["exchange"]}
    assert [b["destination"] for b in detail["dead_letter_bindings"]] == [routed["dlq"]]
    [consumer] = detail["consumer_details"]
    assert consumer["consumer_tag"] == "mqctl-test-tag"
    assert consumer["prefetch_count"] == 7
    assert consumer["user"] == "guest"
    assert consumer["channel_number"] >= 1
    assert isinstance(detail["message_rates"], dict)
    table = run_cli("queues", "describe", routed["queue"])
    assert table.exit_code == 0, table.output
    assert "Dead letters out via" in table.stdout and routed["dlq"] in table.stdout


def test_describe_exchange(routed: dict[str, str]) -> None:
    result = run_cli("exchanges", "describe", routed["exchange"], "-o", "json")
    assert result.exit_code == 0, result.output
    detail = json.loads(result.stdout)
    assert detail["exchange"]["type"] == "topic"
    assert [(b["destination"], b["routing_key"]) for b in detail["bindings_out"]] == [
        (routed["queue"], "o.*")
    ]
    assert detail["bindings_in"] == []
    assert run_cli("exchanges", "describe", routed["exchange"]).exit_code == 0
    default = json.loads(run_cli("exchanges", "describe", "(default)", "-o", "json").stdout)
    assert default["exchange"]["name"] == ""
    missing = run_cli("exchanges", "describe", f"{routed['exchange']}-nope")
    assert missing.exit_code == 4


# --- queues create / purge / delete -------------------------------------------------------------


def test_create_purge_delete(http: httpx.Client, unique: str) -> None:
    name = f"mqctl-test-admin-{unique}"
    try:
        created = run_cli(
            "queues", "create", name, "--type", "quorum", "--delivery-limit", "4",
            "--dead-letter-exchange", "", "--dead-letter-routing-key", f"{name}.dlq",
            "-a", "x-max-length=1000", "-o", "json",
        )  # fmt: skip
        assert created.exit_code == 0, created.output
        doc = json.loads(created.stdout)
        assert doc["action"] == "created"
        assert doc["arguments"] == {
            "x-queue-type": "quorum",
            "x-delivery-limit": 4,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": f"{name}.dlq",
            "x-max-length": 1000,
        }
        again = run_cli(
            "queues", "create", name, "--type", "quorum", "--delivery-limit", "4",
            "--dead-letter-exchange", "", "--dead-letter-routing-key", f"{name}.dlq",
            "-a", "x-max-length=1000", "-o", "json",
        )  # fmt: skip
        assert json.loads(again.stdout)["action"] == "exists"
        clash = run_cli("queues", "create", name, "--type", "classic")
        assert clash.exit_code == 2
        assert "inequivalent" in clash.stderr

        for i in range(3):
            mgmt_publish(http, name, f"m{i}")
        refused = run_cli("queues", "purge", name)  # no TTY and no --yes
        assert refused.exit_code == 2 and "--yes" in refused.stderr
        purged = run_cli("queues", "purge", name, "--yes", "-o", "json")
        assert purged.exit_code == 0, purged.output
        assert json.loads(purged.stdout)["action"] == "purged"
        assert http.get(f"/queues/%2F/{name}").json().get("messages_ready", 0) in (0, 3)

        not_now = run_cli("queues", "delete", name)
        assert not_now.exit_code == 2
        deleted = run_cli("queues", "delete", name, "--yes", "-o", "json")
        assert deleted.exit_code == 0, deleted.output
        assert json.loads(deleted.stdout) == {
            "vhost": "/",
            "queue": name,
            "action": "deleted",
            "messages": json.loads(deleted.stdout)["messages"],
        }
        assert http.get(f"/queues/%2F/{name}").status_code == 404
        gone = run_cli("queues", "delete", name, "--yes")
        assert gone.exit_code == 4
        assert run_cli("queues", "purge", name, "--yes").exit_code == 4
    finally:
        http.delete(f"/queues/%2F/{name}")


def test_create_refusals(http: httpx.Client, unique: str) -> None:
    assert run_cli("queues", "create", "amq.mine").exit_code == 2
    stream = run_cli(
        "queues", "create", f"mqctl-test-s-{unique}", "--type", "stream", "--transient"
    )
    assert stream.exit_code == 2 and "always durable" in stream.stderr
    bad_arg = run_cli("queues", "create", f"mqctl-test-x-{unique}", "-a", "novalue")
    assert bad_arg.exit_code == 2
    missing_vhost = run_cli("queues", "create", f"mqctl-test-y-{unique}", "--vhost", f"no-{unique}")
    assert missing_vhost.exit_code == 4


def test_purge_stream_refused(http: httpx.Client, unique: str) -> None:
    name = f"mqctl-test-ps-{unique}"
    try:
        assert run_cli("queues", "create", name, "--type", "stream").exit_code == 0
        result = run_cli("queues", "purge", name, "--yes")
        assert result.exit_code == 2 and "stream" in result.stderr
    finally:
        http.delete(f"/queues/%2F/{name}")


def test_delete_if_empty_refused_for_non_empty_queue(http: httpx.Client, unique: str) -> None:
    name = f"mqctl-test-ie-{unique}"
    try:
        assert run_cli("queues", "create", name).exit_code == 0
        mgmt_publish(http, name, "x")
        result = run_cli("queues", "delete", name, "--if-empty", "--yes")
        assert result.exit_code == 2, result.output
        assert http.get(f"/queues/%2F/{name}").status_code == 200
    finally:
        http.delete(f"/queues/%2F/{name}")


def test_read_only_context_refuses_writes(isolated_config: Path, unique: str) -> None:
    isolated_config.write_text(
        'current-context = "ro"\n[contexts.ro]\nread-only = true\n'
        '[contexts.ro.rabbitmq]\nurl = "amqp://guest@127.0.0.1:5672/"\npassword = "guest"\n'
    )
    result = run_cli("queues", "create", f"mqctl-test-ro-{unique}")
    assert result.exit_code == 2 and "read-only" in result.stderr
    assert run_cli("queues", "purge", "notifications_queue", "--yes").exit_code == 2


def test_management_down_is_exit_3(isolated_config: Path, closed_port: int) -> None:
    isolated_config.write_text(
        'current-context = "t"\n[contexts.t.rabbitmq]\nurl = "amqp://guest@127.0.0.1:5672/"\n'
        f'management-url = "http://127.0.0.1:{closed_port}"\npassword = "guest"\n'
    )
    for args in (("queues", "list"), ("vhosts", "list"), ("connections", "list")):
        result = run_cli(*args)
        assert result.exit_code == 3, result.output
        assert (
            f"cannot connect to the RabbitMQ management API at http://127.0.0.1:{closed_port} "
            "(connection refused)" in result.stderr
        )
