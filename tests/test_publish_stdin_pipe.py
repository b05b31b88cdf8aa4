"""``mqctl publish ... -`` fed by a slow writer through a pipe (``tail -f log | mqctl ...``):
each line reaches the broker while mqctl waits for the next one, on Kafka (the bulk path)
and on RabbitMQ (per message with confirms). mqctl runs as a real subprocess on a real pipe.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import RABBIT_MGMT, run_cli
from tests.test_publish_kafka import peek_all
from tests.test_publish_kafka import topic as topic  # a fixture

MQCTL = str(Path(sys.executable).parent / "mqctl")
DEADLINE = 30.0  # for the broker to show a line: a bound, not a timing assertion


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for: {what}")
        time.sleep(0.2)


def _slow_writer(target: list[str], arrived: Callable[[int], bool]) -> None:
    """Write a line, see it arrive while the pipe stays open, then the next; close."""
    process = subprocess.Popen(
        [MQCTL, "publish", *target, "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None
    try:
        process.stdin.write(b"first\n")
        process.stdin.flush()
        _wait(lambda: arrived(1), "the first line while the pipe is still open")
        assert process.poll() is None  # still waiting for more input
        process.stdin.write(b"second\n")
        _, stderr = process.communicate(timeout=DEADLINE)  # closes stdin: end of input
        assert process.returncode == 0, stderr
        _wait(lambda: arrived(2), "the second line")
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.mark.kafka
def test_kafka_line_by_line_from_a_pipe(topic: str) -> None:
    def arrived(count: int) -> bool:
        return [m["value"] for m in peek_all(topic)] == ["first", "second"][:count]

    _slow_writer([topic], arrived)


@pytest.fixture
def queue(unique: str) -> Iterator[str]:
    name = f"test-pipe-{unique}"
    with httpx.Client(base_url=f"{RABBIT_MGMT}/api", auth=("guest", "guest"), timeout=10) as http:
        http.put(f"/queues/%2F/{name}", json={"durable": False}).raise_for_status()
        try:
            yield name
        finally:
            http.delete(f"/queues/%2F/{name}")


@pytest.mark.rabbitmq
def test_rabbitmq_line_by_line_from_a_pipe(queue: str) -> None:
    def arrived(count: int) -> bool:
        result = run_cli("queues", "describe", queue, "-o", "json")
        return result.exit_code == 0 and f'"messages": {count},' in result.stdout

    _slow_writer(["--queue", queue], arrived)
