"""`mqctl queues|vhosts|exchanges|bindings` against the real local RabbitMQ."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import RABBIT_MGMT, run_cli

AUTH = ("guest", "guest")


@pytest.fixture(scope="module")
def odd_vhost() -> Iterator[str]:
    """A vhost whose name needs encoding ('/' and a space), with a DLX'd queue in it."""
    import uuid

    vhost = f"team/a b-{uuid.uuid4().hex[:6]}"
    v = quote(vhost, safe="")
    with httpx.Client(base_url=RABBIT_MGMT, auth=AUTH) as http:
        http.put(f"/api/vhosts/{v}").raise_for_status()
        http.put(
            f"/api/permissions/{v}/guest", json={"configure": ".*", "write": ".*", "read": ".*"}
        ).raise_for_status()
        http.put(
            f"/api/queues/{v}/work",
            json={
                "durable": True,
                "arguments": {"x-dead-letter-exchange": "dlx", "x-queue-type": "quorum"},
            },
        ).raise_for_status()
        http.put(
            f"/api/exchanges/{v}/dlx", json={"type": "fanout", "durable": True}
        ).raise_for_status()
        http.put(f"/api/queues/{v}/work.dlq", json={"durable": True}).raise_for_status()
        http.post(
            f"/api/bindings/{v}/e/dlx/q/work.dlq", json={"routing_key": ""}
        ).raise_for_status()
        yield vhost
        http.delete(f"/api/vhosts/{v}")


def test_queues_list_in_odd_vhost(odd_vhost: str) -> None:
    result = run_cli("queues", "list", "--vhost", odd_vhost, "-o", "json")
    assert result.exit_code == 0, result.output
    queues = {q["name"]: q for q in json.loads(result.stdout)}
    assert set(queues) == {"work", "work.dlq"}
    assert queues["work"]["type"] == "quorum"
    assert queues["work"]["dead_letter_exchange"] == "dlx"
    assert queues["work"]["vhost"] == odd_vhost


def test_queues_list_all_vhosts(odd_vhost: str) -> None:
    rows = json.loads(run_cli("queues", "list", "--all-vhosts", "-o", "json").stdout)
    vhosts = {q["vhost"] for q in rows}
    assert {"/", odd_vhost} <= vhosts


def test_seeded_queue_listed_with_dlx() -> None:
    rows = json.loads(run_cli("queues", "list", "-o", "json").stdout)
    queues = {q["name"]: q for q in rows}
    seeded = queues["notifications_queue"]
    assert seeded["durable"] is True
    assert seeded["dead_letter_exchange"] == "notifications.dlx"
    assert seeded["ready"] > 0
    assert queues["notifications_queue.dlq"]["messages"] > 0


def test_queue_describe(odd_vhost: str) -> None:
    result = run_cli("queues", "describe", "work", "--vhost", odd_vhost, "-o", "json")
    assert result.exit_code == 0, result.output
    detail = json.loads(result.stdout)
    assert detail["queue"]["arguments"]["x-dead-letter-exchange"] == "dlx"
    table = run_cli("queues", "describe", "rabbitmq:notifications_queue")
    assert table.exit_code == 0, table.output
    assert "notifications.dlx" in table.stdout


def test_vhosts_exchanges_bindings(odd_vhost: str) -> None:
    vhosts = json.loads(run_cli("vhosts", "list", "-o", "json").stdout)
    assert {"/", odd_vhost} <= {v["name"] for v in vhosts}
    exchanges = json.loads(run_cli("exchanges", "list", "--vhost", odd_vhost, "-o", "json").stdout)
    assert any(e["name"] == "dlx" and e["type"] == "fanout" for e in exchanges)
    bindings = json.loads(run_cli("bindings", "list", "--vhost", odd_vhost, "-o", "json").stdout)
    assert any(b["source"] == "dlx" and b["destination"] == "work.dlq" for b in bindings)
    assert "orders" in run_cli("exchanges", "list").stdout


def test_unknown_queue_and_vhost_are_exit_4() -> None:
    result = run_cli("queues", "describe", "no_such_queue_here")
    assert result.exit_code == 4
    assert "queue 'no_such_queue_here'" in result.stderr
    result = run_cli("queues", "list", "--vhost", "no-such-vhost")
    assert result.exit_code == 4
    assert "vhost 'no-such-vhost' not found" in result.stderr


def test_wrong_password_is_exit_3_without_the_password(isolated_config: Path) -> None:
    isolated_config.write_text(
        '[contexts.bad.rabbitmq]\nurl = "amqp://guest@127.0.0.1:5672/"\n'
        'password = "wrong-Pa55word"\n'
    )
    result = run_cli("-c", "bad", "queues", "list")
    assert result.exit_code == 3
    assert "refused user 'guest'" in result.stderr
    assert "wrong-Pa55word" not in result.output
    debug = run_cli("-c", "bad", "--debug", "queues", "list")
    assert "wrong-Pa55word" not in debug.output


def test_management_unreachable_is_exit_3(isolated_config: Path, closed_port: int) -> None:
    isolated_config.write_text(
        '[contexts.down.rabbitmq]\nurl = "amqp://guest@127.0.0.1:5672/"\n'
        f'management-url = "http://127.0.0.1:{closed_port}"\npassword = "guest"\n'
    )
    result = run_cli("-c", "down", "queues", "list")
    assert result.exit_code == 3
    assert f"management API at http://127.0.0.1:{closed_port}" in result.stderr
    assert len(result.stderr.splitlines()) <= 2  # the error and a hint
