"""One rule book (issue 16): the CLI, the TUI and the lag exporter agree on which names are
dead-letter queues, how long a queue takes to drain and what status a backlog has.

The figures table is judged by each view's own code path (CLI lag output, TUI cells,
exporter metrics); the DLQ names table by the real commands against real queues
(``mqctl dlq list``, the ``mqctl lag`` DLQ filter) and by the running TUI's DLQ panel.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mqctl_tui.app import MqctlApp
from mqctl_tui.widgets.common.data_panel import DataPanel
from mqctl_tui.widgets.dashboard.groups_panel import group_row
from mqctl_tui.widgets.dashboard.queues_panel import QueuesPanel

from mqctl.backends.rabbitmq.lag import summary_lag_entry
from mqctl.cli.lag_tables import SUMMARY_COLUMNS
from mqctl.config import load_config, resolve_context
from mqctl.lag.exporter import LagCollector
from mqctl.lag.status import apply_snapshot_status
from mqctl.models.inventory import QueueSummary
from mqctl.models.lag import LagEntry, LagStatus, PartitionLag
from mqctl.rules import consume_rate, drain_seconds, is_dlq_name
from tests.conftest import RABBIT_MGMT, run_cli
from tests.tui.helpers import wait_for

# (ready, consumers, publish/s, ack/s) -> drain seconds (None: never)
FIGURES: list[tuple[int, int, float | None, float | None, float | None]] = [
    (0, 0, None, None, 0.0),  # empty: drained
    (100, 0, 0.0, None, None),  # nobody consumes
    (100, 2, 0.0, 0.0, None),  # consumers idle
    (100, 2, 10.0, 10.0, None),  # not faster than publishers
    (100, 2, 20.0, 10.0, None),  # slower than publishers
    (100, 2, 5.0, 10.0, 20.0),  # 100 / (10 - 5)
    (100, 2, None, 25.0, 4.0),  # no publishers
    (3_000_000_000, 1, 1.0, 2.0, 3_000_000_000.0),  # huge backlog
    (7, 1, float("nan"), 7.0, 1.0),  # an unknown publish rate counts as none
]


def _queue(name: str, ready: int, consumers: int, pub: float | None, ack: float | None):  # type: ignore[no-untyped-def]
    return QueueSummary("/", name, "classic", True, "running", ready, ready, 0, consumers,
                        pub, ack, ack, None, None, None, backend="rabbitmq")  # fmt: skip


def _exporter(entries: list[LagEntry]) -> dict[str, dict[tuple[str, ...], float]]:
    collector = LagCollector("c")
    collector.update(entries)
    found: dict[str, dict[tuple[str, ...], float]] = {}
    for family in collector.collect():
        for sample in family.samples:
            labels = tuple(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            found.setdefault(sample.name, {})[labels] = sample.value
    return found


def _cli_detail(entry: LagEntry) -> str:
    """The CLI's `lag` table cell that carries the drain time."""
    column = next(c for c in SUMMARY_COLUMNS if c.header == "TOPICS / QUEUE DEPTH")
    return str(column.get(entry))


@pytest.mark.parametrize(("ready", "consumers", "pub", "ack", "expected"), FIGURES)
def test_drain_time_agrees(
    ready: int, consumers: int, pub: float | None, ack: float | None, expected: float | None
) -> None:
    assert drain_seconds(ready, consumers, pub, consume_rate(ack)) == expected
    q = _queue("agree", ready, consumers, pub, ack)
    # CLI and exporter: the lag entry the RabbitMQ backend builds from the same listing row
    [entry] = apply_snapshot_status([summary_lag_entry(q, consume_rate(ack), None, [])])
    assert entry.queue is not None and entry.queue.drain_seconds == expected
    cli = _cli_detail(entry)
    metric = _exporter([entry]).get("mqctl_queue_drain_seconds", {})
    tui = QueuesPanel._row(q)[-1]
    if expected is None:
        assert cli.endswith("drain=never")
        assert metric == {}  # the exporter leaves "never" out
        assert tui.text == "never" and tui.sort == math.inf
    else:
        assert "drain=never" not in cli
        assert list(metric.values()) == [expected]
        assert tui.sort == expected


def _group(name: str, lags: list[int], members: int) -> LagEntry:
    parts = [
        PartitionLag("t", i, 10, 0, 10 + lag, lag, None, None, LagStatus.OK)
        for i, lag in enumerate(lags)
    ]
    return LagEntry("kafka", "group", name, LagStatus.OK, sum(lags), None, ["t"], members, "S",
                    parts)  # fmt: skip


def test_lag_status_agrees() -> None:
    entries = apply_snapshot_status(
        [
            _group("idle", [0, 0], 1),
            _group("behind", [5, 0], 1),
            _group("stopped", [5, 3], 0),
            *(
                summary_lag_entry(_queue(n, r, c, None, a), consume_rate(a), None, [])
                for n, r, c, a in [("q-ok", 0, 0, None), ("q-stop", 9, 0, None), ("q-lag", 9, 1, 1)]
            ),
        ]
    )
    statuses = {e.group: e.status.value for e in entries}
    assert statuses == {
        "idle": "OK",
        "behind": "LAGGING",
        "stopped": "STOPPED",
        "q-ok": "OK",
        "q-stop": "STOPPED",
        "q-lag": "LAGGING",
    }
    status_column = next(c for c in SUMMARY_COLUMNS if c.header == "STATUS")
    cli = {e.group: status_column.get(e) for e in entries}
    assert cli == statuses
    exported = {
        dict(pair.split("=", 1) for pair in labels)["group"]: dict(
            pair.split("=", 1) for pair in labels
        )["status"]
        for labels in _exporter(entries)["mqctl_lag_status"]
    }
    assert exported == statuses
    tui = {e.group: group_row(e, [])[1].text for e in entries if e.kind == "group"}
    assert tui == {k: v for k, v in statuses.items() if not k.startswith("q-")}


# --- DLQ names: `mqctl dlq list`, the `mqctl lag` filter and the TUI's DLQ panel -----------

# name (the {u} prefix makes it unique) -> a dead-letter queue by the rule?
NAMES = {
    "{u}-orders.dlq": True,
    "{u}-orders_dlq": True,
    "{u}-orders-dlq": True,
    "dlq.{u}-orders": True,
    "{u}-orders.DLT": True,
    "{u}-orders.dead": True,
    "{u}-orders.parking-lot": True,  # the context's dlq-patterns
    "{u}-orders_DLQ": False,  # conventions are case-sensitive
    "{u}-orders.dead-letter-office": False,
    "{u}-ordersdlq": False,
    "{u}-orders": False,
}


@pytest.fixture
def dlq_names(unique: str, isolated_config: Path) -> Iterator[dict[str, bool]]:
    vhost = f"agree-{unique}"
    names = {n.format(u=f"agree{unique}"): dlq for n, dlq in NAMES.items()}
    isolated_config.write_text(
        'current-context = "r"\n[contexts.r]\ndlq-patterns = ["*.parking-lot"]\n'
        '[contexts.r.rabbitmq]\nurl = "amqp://guest@127.0.0.1:5672/"\n'
        f'management-url = "{RABBIT_MGMT}"\npassword = "guest"\nvhost = "{vhost}"\n'
    )
    with httpx.Client(base_url=f"{RABBIT_MGMT}/api", auth=("guest", "guest"), timeout=10) as api:
        api.put(f"/vhosts/{vhost}").raise_for_status()
        try:
            api.put(
                f"/permissions/{vhost}/guest", json={"configure": ".*", "write": ".*", "read": ".*"}
            ).raise_for_status()
            for name in names:
                api.put(f"/queues/{vhost}/{name}", json={"durable": True}).raise_for_status()
            yield names
        finally:
            api.delete(f"/vhosts/{vhost}")


@pytest.mark.rabbitmq
def test_dlq_names_agree(dlq_names: dict[str, bool]) -> None:
    expected = {name for name, dlq in dlq_names.items() if dlq}
    assert {n for n in dlq_names if is_dlq_name(n, "rabbitmq", ("*.parking-lot",))} == expected

    listed = run_cli("dlq", "list", "-o", "json")
    assert listed.exit_code == 0, listed.output
    assert {d["name"] for d in json.loads(listed.stdout)} & set(dlq_names) == expected

    every = run_cli("lag", "--include-dlq", "-o", "json")
    default = run_cli("lag", "-o", "json")
    assert every.exit_code == 0 and default.exit_code == 0, every.output + default.output
    left_out = {e["group"] for e in json.loads(every.stdout)} - {
        e["group"] for e in json.loads(default.stdout)
    }
    assert left_out == expected

    assert asyncio.run(_tui_dlq_panel(set(dlq_names))) == expected


async def _tui_dlq_panel(names: set[str]) -> set[str]:
    """Which of ``names`` the running TUI's DLQ panel lists (it shows every vhost)."""
    app = MqctlApp(resolve_context(load_config(), None), refresh=3600)
    async with app.run_test(size=(160, 50)) as pilot:
        queues = app.screen.query_one("#queues", DataPanel)
        await wait_for(
            pilot, lambda: names <= {q.name for q in queues.payload.values()}, "the queues"
        )
        panel = app.screen.query_one("#dlq", DataPanel)
        await pilot.pause()
        return {dest.name for dest in panel.payload.values()} & names
