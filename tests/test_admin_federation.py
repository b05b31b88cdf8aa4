"""`mqctl federation list` / `federation upstreams` on the real broker: an upstream pointing
back at the same broker over loopback (a user of the test's own, so its password is a string
no other output contains), a policy federating a unique exchange from it, the link polled
until running. And a broker without the federation plugin (a loopback HTTP stand-in for the
management API answering 404, as RabbitMQ does for an endpoint of a disabled plugin): empty
list, exit 0, a note on stderr.

Needs rabbitmq_federation and rabbitmq_federation_management on the node (scripts/brokers.sh
enables them, on a running node too); the broker tests skip when they are missing."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import RABBIT_MGMT, run_cli

RABBIT_ONLY = """
current-context = "r"
[contexts.r.rabbitmq]
management-url = "{url}"
password = "guest"
"""


def wait_for(check: Any, what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{RABBIT_MGMT}/api", auth=("guest", "guest"), timeout=10) as c:
        yield c


@pytest.fixture
def federated(isolated_config: Path, unique: str, http: httpx.Client) -> Iterator[dict[str, str]]:
    """A vhost with exchanges ``src`` and ``dst``, a user ``fed-<unique>`` with a unique
    password, an upstream (that user, loopback, same vhost, exchange ``src``) and a policy
    federating ``dst`` from it. Everything is removed afterwards."""
    if http.get("/federation-links").status_code == 404:
        pytest.skip("rabbitmq_federation_management is not enabled (run scripts/brokers.sh up)")
    isolated_config.write_text(RABBIT_ONLY.format(url=RABBIT_MGMT))
    vhost, user, password = f"test-fed-{unique}", f"fed-{unique}", f"pw-{unique}-secret"
    v = quote(vhost, safe="")
    try:
        assert http.put(f"/vhosts/{v}").status_code in (201, 204)
        assert http.put(f"/users/{user}", json={"password": password, "tags": ""}).is_success
        perms = {"configure": ".*", "write": ".*", "read": ".*"}
        assert http.put(f"/permissions/{v}/{user}", json=perms).is_success
        assert http.put(f"/permissions/{v}/guest", json=perms).is_success
        for name in ("src", "dst"):
            body = {"type": "fanout", "durable": False, "auto_delete": False}
            assert http.put(f"/exchanges/{v}/{name}", json=body).is_success
        upstream = {
            "value": {
                "uri": f"amqp://{user}:{password}@127.0.0.1:5672/{v}",
                "exchange": "src",
                "prefetch-count": 50,
                "ack-mode": "on-publish",
            }
        }
        response = http.put(f"/parameters/federation-upstream/{v}/up1", json=upstream)
        assert response.is_success, response.text
        policy = {
            "pattern": "^dst$",
            "definition": {"federation-upstream": "up1"},
            "apply-to": "exchanges",
        }
        assert http.put(f"/policies/{v}/fed", json=policy).is_success
        yield {"vhost": vhost, "user": user, "password": password}
    finally:
        http.delete(f"/policies/{v}/fed")
        http.delete(f"/parameters/federation-upstream/{v}/up1")
        http.delete(f"/vhosts/{v}")
        http.delete(f"/users/{user}")


@pytest.mark.rabbitmq
def test_federation_link_running_and_password_never_shown(federated: dict[str, str]) -> None:
    v = ["--vhost", federated["vhost"]]

    def running() -> Any:
        result = run_cli("federation", "list", *v, "-o", "json")
        assert result.exit_code == 0, result.output
        links = json.loads(result.stdout)
        return links if links and links[0]["status"] == "running" else None

    (link,) = wait_for(running, "the federation link to run")
    assert link["vhost"] == federated["vhost"]
    assert (link["upstream"], link["type"], link["local"]) == ("up1", "exchange", "dst")
    assert link["upstream_name"] == "src"
    assert link["error"] is None

    upstreams = run_cli("federation", "upstreams", *v, "-o", "json")
    assert upstreams.exit_code == 0, upstreams.output
    (up,) = json.loads(upstreams.stdout)
    assert (up["name"], up["prefetch_count"], up["ack_mode"]) == ("up1", 50, "on-publish")
    assert up["max_hops"] == 1  # RabbitMQ's default, filled in
    assert up["uri"].startswith(f"amqp://{federated['user']}:***@127.0.0.1:5672/")

    outputs = [
        run_cli("federation", command, *scope, "-o", fmt)
        for command in ("list", "upstreams")
        for scope in (v, ["--all-vhosts"])
        for fmt in ("table", "json", "jsonl", "yaml")
    ]
    for result in outputs:
        assert result.exit_code == 0, result.output
        assert federated["password"] not in result.output
        assert "note:" not in result.stderr
    assert any("dst" in r.stdout and "running" in r.stdout for r in outputs[:4])


@pytest.mark.rabbitmq
def test_failing_link_shows_error_without_password(
    federated: dict[str, str], http: httpx.Client, closed_port: int
) -> None:
    """An upstream nothing answers for: the link is in ``error`` with the broker's reason."""
    v = quote(federated["vhost"], safe="")
    uri = f"amqp://{federated['user']}:{federated['password']}@127.0.0.1:{closed_port}/"
    dead = {"value": {"uri": uri}}
    assert http.put(f"/parameters/federation-upstream/{v}/dead", json=dead).is_success
    definition = {"federation-upstream": "dead"}
    policy = {"pattern": "^src$", "definition": definition, "apply-to": "exchanges"}
    assert http.put(f"/policies/{v}/dead", json=policy).is_success
    try:

        def failing() -> Any:
            result = run_cli("federation", "list", "--vhost", federated["vhost"], "-o", "json")
            assert result.exit_code == 0, result.output
            assert federated["password"] not in result.output
            found = [k for k in json.loads(result.stdout) if k["upstream"] == "dead"]
            return found if found and found[0]["status"] == "error" else None

        (link,) = wait_for(failing, "the link to the closed port to fail")
        assert link["local"] == "src" and link["error"]
        table = run_cli("federation", "list", "--vhost", federated["vhost"])
        assert "error" in table.stdout and federated["password"] not in table.output
    finally:
        http.delete(f"/policies/{v}/dead")
        http.delete(f"/parameters/federation-upstream/{v}/dead")


@pytest.mark.rabbitmq
def test_federation_unknown_vhost_is_not_found(isolated_config: Path, unique: str) -> None:
    isolated_config.write_text(RABBIT_ONLY.format(url=RABBIT_MGMT))
    result = run_cli("federation", "list", "--vhost", f"no-such-{unique}")
    assert result.exit_code == 4
    assert result.stderr.startswith("error: ")
    # the plugin is there: a vhost without upstreams is a plain empty list, no note
    for command in ("list", "upstreams"):
        empty = run_cli("federation", command, "--vhost", "/", "-o", "json")
        assert empty.exit_code == 0 and "note:" not in empty.stderr, empty.output


class _NoFederationApi(BaseHTTPRequestHandler):
    """The management API of a broker without the federation plugins: the vhost exists,
    ``/federation-links`` is 404, the parameters listing is empty, no federation.js."""

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        answers: dict[str, Any] = {
            "/api/vhosts/%2F": {"name": "/"},
            "/api/parameters/federation-upstream/%2F": [],
            "/api/extensions": [{"javascript": "shovel.js"}],
        }
        if path in answers:
            body, status = json.dumps(answers[path]).encode(), 200
        else:
            body, status = b'{"error":"Object Not Found","reason":"Not Found"}', 404
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def no_federation_api(isolated_config: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NoFederationApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    isolated_config.write_text(RABBIT_ONLY.format(url=url))
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("command", ["list", "upstreams"])
def test_without_federation_plugin_empty_list_and_note(
    no_federation_api: str, command: str
) -> None:
    result = run_cli("federation", command, "-o", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []
    assert result.stderr.startswith("note: the federation plugin is not enabled")
    assert "rabbitmq_federation_management" in result.stderr

    table = run_cli("federation", command)
    assert table.exit_code == 0 and "note:" in table.stderr


def test_error_text_and_uris_are_redacted() -> None:
    from mqctl.backends.rabbitmq.federation import _link, redact_text

    text = "{auth_failure, amqp://bob:hunter2@127.0.0.1:5672/%2f refused}\n  again"
    assert redact_text(text) == "{auth_failure, amqp://bob:***@127.0.0.1:5672/%2f refused} again"
    link = _link(
        {
            "vhost": "/",
            "upstream": "u",
            "type": "queue",
            "queue": "q",
            "upstream_queue": "q2",
            "status": "error",
            "error": text,
            "uri": "amqps://bob:hunter2@127.0.0.1:5671",
        }
    )
    assert (link.local, link.upstream_name, link.status) == ("q", "q2", "error")
    assert link.uri == "amqps://bob:***@127.0.0.1:5671"
    assert link.error is not None and "hunter2" not in link.error
