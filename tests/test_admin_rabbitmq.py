"""RabbitMQ admin verbs on the real broker: policies, vhosts, exchanges and bindings, users
and permissions, nodes, shovels, connections close and definitions export/import.

Each test works in a vhost of its own (created and deleted here), so nothing it does is
seen by the seeded scenario or other suites."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import RABBIT_MGMT, run_cli

pytestmark = pytest.mark.rabbitmq

RABBIT_ONLY = """
current-context = "r"
[contexts.r.rabbitmq]
management-url = "http://127.0.0.1:15672"
password = "guest"
"""


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{RABBIT_MGMT}/api", auth=("guest", "guest"), timeout=10) as c:
        yield c


@pytest.fixture
def vhost(isolated_config: Path, unique: str, http: httpx.Client) -> Iterator[str]:
    isolated_config.write_text(RABBIT_ONLY)
    name = f"test-admin-{unique}"
    assert run_cli("vhosts", "create", name).exit_code == 0
    yield name
    http.delete(f"/vhosts/{name}")


def as_json(*args: str) -> Any:
    result = run_cli(*args, "-o", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def wait_for(check: Any, what: str, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_policies_set_list_delete(vhost: str) -> None:
    v = ["--vhost", vhost]
    assert run_cli("queues", "create", "orders.a", *v).exit_code == 0
    assert run_cli("queues", "create", "other", *v).exit_code == 0
    definition = '{"max-length": 1000}'
    args = ["policies", "set", "cap", "--pattern", "^orders\\.", "--definition", definition]
    dry = as_json(*args, *v, "--dry-run")
    assert dry["dry_run"] is True and dry["before"] is None
    assert dry["after"]["definition"] == {"max-length": 1000}
    assert dry["matching_queues"] == ["orders.a"]
    assert as_json("policies", "list", *v) == []  # the dry run changed nothing

    done = as_json(*args, *v, "--priority", "2")
    assert done["changed"] is True and done["after"]["priority"] == 2
    (listed,) = as_json("policies", "list", *v)
    assert (listed["name"], listed["pattern"], listed["apply_to"]) == (
        "cap",
        "^orders\\.",
        "queues",
    )
    same = as_json(*args, *v, "--priority", "2")
    assert same["changed"] is False

    op = as_json("policies", "set", "opcap", "--operator", "--pattern", ".*", "--definition",
                 '{"max-length": 5000}', *v)  # fmt: skip
    assert op["after"]["operator"] is True
    kinds = {(p["name"], p["operator"]) for p in as_json("policies", "list", *v)}
    assert kinds == {("cap", False), ("opcap", True)}
    assert [p["name"] for p in as_json("policies", "list", "--operator", *v)] == ["opcap"]

    kept = as_json("policies", "delete", "cap", *v, "--dry-run")
    assert kept["dry_run"] is True and kept["before"]["name"] == "cap"
    assert len(as_json("policies", "list", "--no-operator", *v)) == 1
    assert run_cli("policies", "delete", "cap", *v).exit_code == 2  # no tty, no --yes
    assert run_cli("policies", "delete", "cap", *v, "--yes").exit_code == 0
    assert run_cli("policies", "delete", "opcap", "--operator", *v, "--yes").exit_code == 0
    assert as_json("policies", "list", *v) == []
    assert run_cli("policies", "delete", "cap", *v, "--yes").exit_code == 4


def test_policy_refusals(vhost: str) -> None:
    v = ["--vhost", vhost]
    bad_regex = run_cli("policies", "set", "p", "--pattern", "(", "--definition", "{}", *v)
    assert bad_regex.exit_code == 2
    not_json = run_cli("policies", "set", "p", "--pattern", ".*", "--definition", "{x", *v)
    assert not_json.exit_code == 2 and "not JSON" in not_json.stderr
    unknown_key = run_cli(
        "policies", "set", "p", "--pattern", ".*", "--definition", '{"max-lenght": 1}', *v
    )
    assert unknown_key.exit_code == 2, unknown_key.output  # the broker's reason
    apply_to = ["--apply-to", "topics"]
    bad_apply = run_cli("policies", "set", "p", "--pattern", ".*", "--definition", "{}", *apply_to)
    assert bad_apply.exit_code == 2
    missing = run_cli("policies", "list", "--vhost", f"{vhost}-missing")
    assert missing.exit_code == 4


def test_vhost_create_delete(isolated_config: Path, unique: str, http: httpx.Client) -> None:
    isolated_config.write_text(RABBIT_ONLY)
    name = f"test-admin-vh-{unique}"
    try:
        created = as_json("vhosts", "create", name, "--description", "scratch")
        assert created["changed"] is True
        assert as_json("vhosts", "create", name)["changed"] is False
        assert run_cli("queues", "create", "q", "--vhost", name).exit_code == 0
        dry = as_json("vhosts", "delete", name, "--dry-run")
        assert dry["impact"] == {"queues": 1, "messages": 0}
        assert http.get(f"/vhosts/{name}").status_code == 200
        assert run_cli("vhosts", "delete", name, "--yes").exit_code == 0
        assert http.get(f"/vhosts/{name}").status_code == 404
        assert run_cli("vhosts", "delete", name, "--yes").exit_code == 4
    finally:
        http.delete(f"/vhosts/{name}")


def test_exchanges_and_bindings(vhost: str, http: httpx.Client) -> None:
    v = ["--vhost", vhost]
    assert as_json("exchanges", "create", "orders", "--type", "topic", *v)["changed"] is True
    assert as_json("exchanges", "create", "orders", "--type", "topic", *v)["changed"] is False
    other_type = run_cli("exchanges", "create", "orders", "--type", "fanout", *v)
    assert other_type.exit_code == 2  # inequivalent: the broker's reason
    assert run_cli("queues", "create", "audit", *v).exit_code == 0
    bound = as_json("bindings", "create", "orders", "audit", "-k", "order.#", *v)
    assert bound["changed"] is True
    assert as_json("bindings", "create", "orders", "audit", "-k", "order.#", *v)["changed"] is False
    listed = as_json("bindings", "list", *v)
    assert any(b["source"] == "orders" and b["routing_key"] == "order.#" for b in listed)

    in_use = run_cli("exchanges", "delete", "orders", "--if-unused", "--yes", *v)
    assert in_use.exit_code == 2 and "binding" in in_use.stderr
    dry = as_json("bindings", "delete", "orders", "audit", "-k", "order.#", "--dry-run", *v)
    assert dry["dry_run"] is True
    assert run_cli("bindings", "delete", "orders", "audit", "-k", "order.#", "--yes", *v)
    assert not any(b["source"] == "orders" for b in as_json("bindings", "list", *v))
    gone = run_cli("bindings", "delete", "orders", "audit", "-k", "order.#", "--yes", *v)
    assert gone.exit_code == 4
    assert run_cli("bindings", "create", "nope", "audit", *v).exit_code == 4

    assert run_cli("exchanges", "delete", "amq.topic", "--yes", *v).exit_code == 2
    assert as_json("exchanges", "delete", "orders", "--dry-run", *v)["impact"] == {"bindings": 0}
    assert run_cli("exchanges", "delete", "orders", "--yes", *v).exit_code == 0
    assert http.get(f"/exchanges/{vhost}/orders").status_code == 404


def test_users_and_permissions_never_show_hashes(vhost: str) -> None:
    for fmt in ("json", "yaml", "table"):
        result = run_cli("users", "list", "-o", fmt)
        assert result.exit_code == 0 and "guest" in result.stdout
        assert "password_hash" not in result.stdout and "hash" not in result.stdout.lower()
    (guest,) = [u for u in as_json("users", "list") if u["name"] == "guest"]
    assert "administrator" in guest["tags"] and guest["has_password"] is True
    mine = as_json("permissions", "list", "--vhost", vhost)
    assert [(p["user"], p["configure"]) for p in mine] == [("guest", ".*")]
    assert any(p["vhost"] == vhost for p in as_json("permissions", "list", "--user", "guest"))
    assert run_cli("permissions", "list", "--user", "nobody-at-all").exit_code == 4


def test_nodes_list() -> None:
    (node, *_) = as_json("nodes", "list")
    assert node["running"] is True and node["rabbitmq_version"]
    assert node["memory_alarm"] is False and node["disk_free_alarm"] is False
    assert node["partitions"] == [] and node["memory_limit"] > 0
    table = run_cli("nodes", "list")
    assert "ALARMS" in table.stdout and "none" in table.stdout


def test_shovels_list(vhost: str, http: httpx.Client) -> None:
    v = ["--vhost", vhost]
    for queue in ("src", "dst"):
        assert run_cli("queues", "create", queue, *v).exit_code == 0
    uri = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    http.put(
        f"/parameters/shovel/{vhost}/move",
        json={
            "value": {
                "src-uri": uri,
                "src-queue": "src",
                "dest-uri": uri,
                "dest-queue": "dst",
            }
        },
    ).raise_for_status()
    try:

        def running() -> Any:
            found = as_json("shovels", "list", *v)
            return found if found and found[0]["state"] == "running" else None

        (shovel,) = wait_for(running, "the shovel to run")
        assert shovel["name"] == "move" and shovel["type"] == "dynamic"
        assert "queue src" in shovel["source"] and "queue dst" in shovel["destination"]
        raw = run_cli("shovels", "list", *v, "-o", "json").stdout
        assert "guest:guest" not in raw  # the password never shows
    finally:
        http.delete(f"/parameters/shovel/{vhost}/move")


def test_connections_client_properties_and_close(vhost: str, unique: str) -> None:
    import asyncio

    import aio_pika

    label = f"admin-test-{unique}"

    async def scenario() -> tuple[dict[str, Any], Any]:
        connection = await aio_pika.connect(
            f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
            client_properties={"connection_name": label},
        )
        closed_with: list[str] = []
        connection.close_callbacks.add(lambda _c, exc: closed_with.append(str(exc)))
        try:

            def listed() -> Any:
                rows = as_json("connections", "list", "--vhost", vhost)
                return next((c for c in rows if c["connection_name"] == label), None)

            mine = await asyncio.to_thread(wait_for, listed, "the connection to show")
            dry = await asyncio.to_thread(
                run_cli, "connections", "close", mine["name"], "--dry-run"
            )
            assert dry.exit_code == 0 and not closed_with
            closed = await asyncio.to_thread(
                run_cli, "connections", "close", mine["name"], "--reason", "test over", "--yes"
            )
            assert closed.exit_code == 0, closed.output
            for _ in range(100):  # the server's connection.close arrives a moment later
                if closed_with:
                    break
                await asyncio.sleep(0.1)
            return mine, closed_with
        finally:
            await connection.close()

    mine, closed_with = asyncio.run(scenario())
    assert mine["client_properties"]["connection_name"] == label
    assert "product" in mine["client_properties"]
    assert closed_with and "test over" in closed_with[0]  # the client got the reason
    gone = run_cli("connections", "close", "no such connection", "--yes")
    assert gone.exit_code == 4


def test_definitions_export_and_import(vhost: str, tmp_path: Path, http: httpx.Client) -> None:
    v = ["--vhost", vhost]
    assert run_cli("queues", "create", "kept", *v).exit_code == 0
    plain = run_cli("definitions", "export")
    assert plain.exit_code == 0 and '"password_hash"' not in plain.stdout
    secret = run_cli("definitions", "export", "--include-secrets")
    assert '"password_hash"' in secret.stdout

    exported = tmp_path / "defs.json"
    assert run_cli("definitions", "export", *v, "-f", str(exported)).exit_code == 0
    assert exported.stat().st_mode & 0o077 == 0  # owner only: may hold secrets
    doc = json.loads(exported.read_text())
    assert [q["name"] for q in doc["queues"]] == ["kept"]
    doc["queues"].append({"name": "added", "durable": True, "auto_delete": False, "arguments": {}})
    doc["queues"][0]["arguments"] = {"x-max-length": 10}
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(doc))

    dry = as_json("definitions", "import", str(changed), *v, "--dry-run")
    actions = {(c["kind"], c["key"].split(" ")[0]): c["action"] for c in dry["changes"]}
    assert any(c["key"] == f"added (vhost {vhost})" for c in dry["changes"])
    assert actions[("queues", "added")] == "add"
    assert actions[("queues", "kept")] == "change"
    assert dry["added"] >= 1 and dry["changed"] >= 1
    assert http.get(f"/queues/{vhost}/added").status_code == 404  # nothing changed

    assert run_cli("definitions", "import", str(changed), *v).exit_code == 2  # needs --yes
    (exported_back := tmp_path / "users.json").write_text(
        json.dumps({"users": [{"name": "guest", "tags": ["administrator"]}]})
    )
    warned = run_cli("definitions", "import", str(exported_back), "--dry-run")
    assert warned.exit_code == 0 and "no password hash" in warned.stderr
    del doc["queues"][0]["arguments"]  # an inequivalent redeclare would be refused
    changed.write_text(json.dumps(doc))
    done = run_cli("definitions", "import", str(changed), *v, "--yes")
    assert done.exit_code == 0, done.output
    assert http.get(f"/queues/{vhost}/added").status_code == 200
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    assert run_cli("definitions", "import", str(bad), "--dry-run").exit_code == 2
    assert run_cli("definitions", "import", str(tmp_path / "none.json")).exit_code == 2


def test_writes_refused_read_only_and_audited(isolated_config: Path, vhost: str) -> None:
    from mqctl import audit

    isolated_config.write_text(
        RABBIT_ONLY.replace('current-context = "r"', 'current-context = "r"\n')
        + "[contexts.ro]\nread-only = true\n[contexts.ro.rabbitmq]\n"
        + 'management-url = "http://127.0.0.1:15672"\npassword = "guest"\n'
    )
    before = len(audit.read())
    for args in (
        ["policies", "set", "p", "--pattern", ".*", "--definition", '{"max-length": 1}'],
        ["exchanges", "create", "x"],
        ["vhosts", "delete", vhost, "--yes"],
        ["connections", "close", "c", "--yes"],
    ):
        result = (
            run_cli("-c", "ro", *args, "--vhost", vhost)
            if args[0]
            in (
                "policies",
                "exchanges",
            )
            else run_cli("-c", "ro", *args)
        )
        assert result.exit_code == 2 and "read-only" in result.stderr, (args, result.output)
    refusals = audit.read()[before:]
    assert [r["outcome"] for r in refusals] == ["refused"] * 4
    assert [r["action"] for r in refusals] == [
        "policy set",
        "exchange create",
        "vhost delete",
        "connection close",
    ]
    ok = run_cli("exchanges", "create", "audited", "--vhost", vhost)
    assert ok.exit_code == 0
    record = audit.read()[-1]
    assert record["outcome"] == "ok" and record["target"] == f"rabbitmq:exchange/{vhost}/audited"
    declined = run_cli("exchanges", "delete", "audited", "--vhost", vhost)  # nobody to ask
    assert declined.exit_code == 2
    assert audit.read()[-1]["outcome"] == "refused"
    assert run_cli("exchanges", "delete", "audited", "--vhost", vhost, "--dry-run").exit_code == 0
    assert audit.read()[-1]["outcome"] == "refused"  # the dry run is not recorded
