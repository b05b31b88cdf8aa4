"""Every legal Kafka topic name works in create, list, describe, publish and peek (issue 14
item 3), on the real broker; an illegal one is exit 2 naming it.

Kafka's legal set: 1 to 249 of ``a-z A-Z 0-9 . _ -``, except ``.`` and ``..``. Names are
generated from it (a unique head keeps examples apart; ``.`` and ``_`` collide in Kafka's
metric names, so two examples never differ only by those).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from tests.conftest import run_cli

pytestmark = pytest.mark.kafka

LEGAL = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
MAX_CHARS = 249


def topic_names() -> st.SearchStrategy[str]:
    def build(body: str, long: bool) -> str:
        name = f"nm-{uuid.uuid4().hex[:8]}-{body}"
        return (name + body * MAX_CHARS)[:MAX_CHARS] if long else name

    return st.builds(build, st.text(LEGAL, min_size=1, max_size=40), st.booleans())


def listed_topics(seconds: float = 20.0) -> set[str]:
    """``topics list``'s names. The listing fails while any partition of the shared broker
    has no leader (another suite's topic being created): ask again, bounded."""
    deadline = time.monotonic() + seconds
    while True:
        result = run_cli("topics", "list", "-o", "json")
        if result.exit_code == 0 or time.monotonic() > deadline:
            assert result.exit_code == 0, result.output
            return {t["name"] for t in json.loads(result.stdout)}
        time.sleep(0.5)


def ok(*args: str) -> Any:
    result = run_cli(*args)
    assert result.exit_code == 0, (args, result.output)
    return json.loads(result.stdout) if "-o" in args else result.stdout


@settings(
    max_examples=8,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=topic_names())
@example(name="nm-fixed-" + "a.b_c-D9" * 30)  # over 249: cut below
def test_every_command_works_on_any_legal_topic_name(name: str) -> None:
    name = name[:MAX_CHARS]
    try:
        ok("topics", "create", name, "--partitions", "1")
        assert name in listed_topics()
        assert ok("topics", "describe", name, "-o", "json")["name"] == name
        ok("publish", name, "v-1")
        peeked = ok("peek", f"kafka:{name}", "--from-beginning", "-o", "json")
        assert [(m["source"], m["value"]) for m in peeked] == [(name, "v-1")]
    finally:
        run_cli("topics", "delete", name, "--yes")


@pytest.mark.parametrize("name", ["bad name", "é", "a/b", "x%y", "y" * 250, ".", ".."])
def test_an_illegal_topic_name_is_exit_2_naming_it(name: str) -> None:
    for args in (("topics", "create", name), ("topics", "describe", name)):
        result = run_cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert repr(name) in result.stderr
        assert "Traceback" not in result.output
