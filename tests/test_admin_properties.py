"""Properties of the admin verbs: the definitions diff (pure) and topic config set/delete
round trips on the real Kafka (small, bounded example counts)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mqctl.backends.rabbitmq.definitions import _importable, diff
from tests.conftest import run_cli
from tests.kafka_helpers import cleanup, create_topic, kafka_only

Document = dict[str, list[dict[str, object]]]
names = st.text(alphabet="abcdefgh.-_", min_size=1, max_size=8)
queue = st.fixed_dictionaries(
    {
        "name": names,
        "vhost": st.sampled_from(["/", "a"]),
        "durable": st.booleans(),
        "arguments": st.dictionaries(st.sampled_from(["x-max-length", "x-queue-type"]),
                                     st.integers(0, 9) | st.just("quorum"), max_size=2),
    }
)  # fmt: skip
user = st.fixed_dictionaries(
    {
        "name": names,
        "password_hash": st.text(alphabet="ABCxyz019", min_size=8, max_size=12),
        "tags": st.lists(st.sampled_from(["administrator", "monitoring"]), max_size=2),
    }
)
documents = st.fixed_dictionaries(
    {"queues": st.lists(queue, max_size=5), "users": st.lists(user, max_size=3)}
)


@settings(max_examples=25, deadline=None)
@given(documents, documents)
def test_definitions_diff_properties(now: Document, file: Document) -> None:
    assert all(c.action == "same" for c in diff(file, file, None))
    assert all(c.action == "add" for c in diff({}, file, None))
    changes = diff(now, file, None)
    rendered = json.dumps([c.differences for c in changes])
    for u in [*now["users"], *file["users"]]:
        assert str(u["password_hash"]) not in rendered  # hashes never shown, only "differs"
    kept, warnings = _importable({"users": [{k: v for k, v in u.items() if k != "password_hash"}
                                            for u in file["users"]]})  # fmt: skip
    assert kept["users"] == [] and len(warnings) == len(file["users"])


@pytest.fixture
def topic(isolated_config: Path, unique: str) -> Iterator[str]:
    kafka_only(isolated_config)
    name = f"test-kprop-{unique}"
    asyncio.run(create_topic(name, 1))
    yield name
    asyncio.run(cleanup([name]))


@pytest.mark.kafka
@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(retention=st.integers(60_000, 10**11), dry=st.booleans())
def test_topic_config_round_trip(topic: str, retention: int, dry: bool) -> None:
    args = ["topics", "config", "set", topic, f"retention.ms={retention}", "-o", "json"]
    result = run_cli(*args, *(["--dry-run"] if dry else []))
    assert result.exit_code == 0, result.output
    (change,) = json.loads(result.stdout)["changes"]
    assert change["new_value"] == str(retention)
    got = json.loads(run_cli("topics", "config", "get", topic, "-o", "json").stdout)
    if dry:
        assert all(c["name"] != "retention.ms" or c["value"] == change["value"] for c in got)
        return
    assert [(c["name"], c["value"]) for c in got] == [("retention.ms", str(retention))]
    removed = run_cli("topics", "config", "delete", topic, "retention.ms", "-o", "json")
    assert removed.exit_code == 0
    assert json.loads(removed.stdout)["changes"][0]["value"] == str(retention)
    assert json.loads(run_cli("topics", "config", "get", topic, "-o", "json").stdout) == []
