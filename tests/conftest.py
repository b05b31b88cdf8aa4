"""Shared fixtures. Tests talk to the real local brokers started by `make brokers`.

Rules for tests (several suites share the same brokers):
* never stop the shared brokers or re-seed from a test; for "broker down" use a closed port
  (see ``closed_port``) in a test context;
* objects a test creates get unique names (``unique`` fixture) and are cleaned up;
* the seeded scenario (``make seed``) is read-only for tests.
"""

from __future__ import annotations

import contextlib
import io
import os
import pty
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

KAFKA = "127.0.0.1:9092"
RABBIT_MGMT = "http://127.0.0.1:15672"


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture(autouse=True)
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own (empty) config file and no context from the environment. (A
    file named by MQCTL_CONFIG must exist: an absent one is exit 2, docs/config.md.)"""
    path = tmp_path / "config.toml"
    path.write_text("")
    monkeypatch.setenv("MQCTL_CONFIG", str(path))
    monkeypatch.delenv("MQCTL_CONTEXT", raising=False)
    monkeypatch.delenv("MQCTL_DEBUG", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("MQCTL_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    monkeypatch.setenv("MQCTL_STATE_DIR", str(tmp_path / "state"))  # e.g. quorum peek fences
    return path


def run_cli(*args: str, stdin: str | bytes | None = None) -> CliResult:
    """Run the CLI in-process (fast) and capture what it prints and its exit code."""
    from mqctl.cli.app import run

    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    if stdin is not None:
        data = stdin.encode() if isinstance(stdin, str) else stdin
        sys.stdin = io.TextIOWrapper(io.BytesIO(data))
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                run(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.stdin = old_stdin
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli() -> object:
    return run_cli


@pytest.fixture
def unique() -> str:
    """A short unique suffix for names a test creates."""
    return uuid.uuid4().hex[:8]


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mgmt_publish(
    http: Any,
    queue: str,
    payload: str,
    *,
    vhost: str = "%2F",
    properties: dict[str, Any] | None = None,
) -> None:
    """Test set-up: one message into ``queue`` through the management API (``http``: a
    client whose base URL ends in ``/api``), via the default exchange."""
    http.post(
        f"/exchanges/{vhost}/amq.default/publish",
        json={
            "properties": properties or {},
            "routing_key": queue,
            "payload": payload,
            "payload_encoding": "string",
        },
    ).raise_for_status()


def write_config(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture
def local_context() -> Iterator[object]:
    from mqctl.config.schema import builtin_local_context

    yield builtin_local_context()


def pytest_report_header(config: pytest.Config) -> str:
    return f"brokers: kafka {KAFKA}, rabbitmq {RABBIT_MGMT} (pid {os.getpid()})"


def answer_on_a_terminal(args: list[str], answer: str) -> subprocess.CompletedProcess[bytes]:
    """Run mqctl with a pseudo-terminal as stdin (so it asks) and type ``answer``."""
    primary, secondary = pty.openpty()
    try:
        os.write(primary, answer.encode())
        return subprocess.run(
            [sys.executable, "-m", "mqctl", *args],
            stdin=secondary,
            capture_output=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(secondary)
        os.close(primary)
