"""The TUI's writes go through the same auditing services as the CLI's: one record each,
with command ``mqctl tui``, the real outcome and counts, no message value (issue 16)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.kafka_helpers import commit, committed, kafka_only, produce, scratch_topic

pytest.importorskip("mqctl_tui")

SECRET = "tui-s3cr3t-payload"


def _services() -> Any:
    from mqctl_tui.services import Services

    from mqctl.config import load_config, resolve_context

    return Services(resolve_context(load_config(), None))


def _one_record() -> dict[str, object]:
    from mqctl import audit

    found = audit.read()
    assert len(found) == 1, found
    assert SECRET not in json.dumps(found[0])
    return found[0]


def test_tui_publish_is_audited(isolated_config: Path, unique: str) -> None:
    from mqctl.models.inventory import Destination
    from mqctl.models.messages import OutgoingMessage, PublishOptions

    kafka_only(isolated_config)
    topic = f"audit.tui.{unique}"

    async def publish() -> list[bool]:
        services = _services()
        try:
            messages = [OutgoingMessage(value=SECRET.encode()) for _ in range(2)]
            stream = services.publish(
                Destination("kafka", "topic", topic), messages, PublishOptions()
            )
            return [r.ok async for r in stream]
        finally:
            await services.close()

    with scratch_topic(topic, 1):
        assert asyncio.run(publish()) == [True, True]
    record = _one_record()
    assert record["command"] == "mqctl tui"
    assert record["action"] == "publish" and record["outcome"] == "ok"
    assert record["target"] == f"kafka:topic/{topic}"
    assert record["counts"] == {"published": 2, "failed": 0}


def test_tui_offsets_reset_is_audited(isolated_config: Path, unique: str) -> None:
    from mqctl.lag.model import ResetSpec
    from mqctl.lag.parsing import parse_topic_selection

    kafka_only(isolated_config)
    topic, group = f"audit.tui.reset.{unique}", f"audit-tui-{unique}"

    async def reset() -> None:
        services = _services()
        try:
            spec = ResetSpec("earliest", (parse_topic_selection(topic),))
            plan = await services.offsets_plan(group, spec)
            from mqctl import audit

            assert audit.read() == []  # planning is not a write
            await services.offsets_apply(plan)
        finally:
            await services.close()

    with scratch_topic(topic, 1, group):
        asyncio.run(produce(topic, {0: [0] * 3}))
        asyncio.run(commit(group, topic, {0: 3}))
        asyncio.run(reset())
        assert asyncio.run(committed(group, topic)) == {0: 0}
    record = _one_record()
    assert record["command"] == "mqctl tui"
    assert record["action"] == "offsets reset" and record["outcome"] == "ok"
    assert record["target"] == f"kafka:group/{group}"
    assert record["counts"] == {"partitions": 1}


def test_tui_publish_refused_in_read_only_context(isolated_config: Path, unique: str) -> None:
    from mqctl.errors import WriteRefused
    from mqctl.models.inventory import Destination
    from mqctl.models.messages import OutgoingMessage, PublishOptions

    isolated_config.write_text(
        'current-context = "ro"\n[contexts.ro]\nread-only = true\n[contexts.ro.kafka]\n'
        'bootstrap-servers = "127.0.0.1:9092"\n'
    )

    async def publish() -> None:
        services = _services()
        try:
            stream = services.publish(
                Destination("kafka", "topic", f"audit.tui.ro.{unique}"),
                [OutgoingMessage(value=SECRET.encode())],
                PublishOptions(),
            )
            async for _ in stream:
                pass
        finally:
            await services.close()

    with pytest.raises(WriteRefused):
        asyncio.run(publish())
    record = _one_record()
    assert record["outcome"] == "refused" and record["context"] == "ro"
