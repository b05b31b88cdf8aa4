"""The audit record itself: message data left out of the command line (read with the CLI's
own parameter tables), outcomes of exceptions, one record per action, interrupted publishes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kafka_helpers import kafka_only, scratch_topic


def _redacted(*argv: str) -> tuple[str, bool]:
    import typer

    from mqctl.cli.app import app
    from mqctl.cli.common import describe_command_line
    from mqctl.invocation import Invocation

    root = typer.main.get_command(app)
    assert isinstance(root, typer.core.TyperGroup)
    redact, yes = describe_command_line(root, argv)
    return Invocation(argv=argv, redact=redact).command_line, yes


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("publish", "t", "V"), "mqctl publish t <value>"),
        (("-c", "prod", "publish", "t", "V", "-y"), "mqctl -c prod publish t <value> -y"),
        (("publish", "t", "-", "-k", "K"), "mqctl publish t - -k <value>"),
        (("publish", "t", "--key=K", "-kK", "V"), "mqctl publish t <value> <value> <value>"),
        (("publish", "t", "-H", "a=b", "--header", "c=d", "V"),
         "mqctl publish t -H <value> --header <value> <value>"),
        (("publish", "t", "--property", "priority=1", "--jsonl", "f.jsonl"),
         "mqctl publish t --property <value> --jsonl f.jsonl"),
        (("publish", "--exchange", "x", "V", "-r", "rk"),
         "mqctl publish --exchange x <value> -r rk"),
        (("publish", "V", "--queue", "q"), "mqctl publish <value> --queue q"),
        (("publish", "t", "--", "-V"), "mqctl publish t -- <value>"),
        (("queues", "purge", "q", "--yes"), "mqctl queues purge q --yes"),
        (("topics", "delete", "a", "b"), "mqctl topics delete a b"),
        (("offsets", "reset", "g", "-t", "t", "--shift-by", "-5"),
         "mqctl offsets reset g -t t --shift-by -5"),
    ],
)  # fmt: skip
def test_message_data_left_out_of_the_command_line(argv: tuple[str, ...], expected: str) -> None:
    assert _redacted(*argv)[0] == expected


def test_explicit_yes_is_read_from_the_parameters() -> None:
    assert _redacted("queues", "purge", "q", "-y")[1] is True
    assert _redacted("queues", "purge", "q")[1] is False
    assert _redacted("publish", "t", "--", "--yes")[1] is False  # a value, not the flag


def test_outcome_of_errors() -> None:
    from mqctl.audit import Outcome, outcome_of
    from mqctl.errors import (
        DeclinedError,
        NotFoundError,
        PartialFailure,
        UsageError,
        WriteRefused,
    )

    assert outcome_of(WriteRefused("x")) is Outcome.refused
    assert outcome_of(DeclinedError("x")) is Outcome.declined
    assert outcome_of(PartialFailure("x")) is Outcome.partial
    assert outcome_of(KeyboardInterrupt()) is Outcome.interrupted
    assert outcome_of(asyncio.CancelledError()) is Outcome.interrupted
    assert outcome_of(NotFoundError("x")) is Outcome.failed
    assert outcome_of(UsageError("x")) is Outcome.failed
    assert outcome_of(RuntimeError("x")) is Outcome.failed


def test_one_record_per_block_and_secrets_scrubbed(isolated_config: Path) -> None:
    from mqctl import audit
    from mqctl.config import load_config, resolve_context
    from mqctl.config.secrets import remember
    from mqctl.errors import DeclinedError
    from mqctl.invocation import Invocation
    from mqctl.session import Session

    remember("hunter2-password")
    session = Session(
        resolve_context(load_config(), None),
        invocation=Invocation(argv=("queues", "purge", "q", "--password=hunter2-password")),
    )
    with pytest.raises(DeclinedError), audit.audited(session, "queue purge", "rabbitmq:queue/q"):
        raise DeclinedError("no")
    with audit.audited(session, "queue purge", "rabbitmq:queue/q") as act:
        act.counts["purged"] = 3
    found = audit.read()
    assert [(r["outcome"], r["counts"]) for r in found] == [
        ("declined", {}),
        ("ok", {"purged": 3}),
    ]
    assert "hunter2" not in Path(audit.log_path()).read_text()


@pytest.fixture
def topic(isolated_config: Path, unique: str) -> Iterator[str]:
    kafka_only(isolated_config)
    name = f"audit.interrupt.{unique}"
    with scratch_topic(name, 1):
        yield name


def test_publish_stopped_early_is_interrupted(topic: str) -> None:
    from mqctl import audit
    from mqctl.config import load_config, resolve_context
    from mqctl.models.messages import OutgoingMessage, PublishOptions
    from mqctl.services import messages
    from mqctl.session import Session

    async def publish_one_then_stop() -> None:
        async with Session(resolve_context(load_config(), None)) as session:
            outgoing = (OutgoingMessage(value=b"x") for _ in range(100_000))
            stream = messages.publish(session, f"kafka:{topic}", outgoing, PublishOptions())
            async for _ in stream:
                break
            await stream.aclose()

    asyncio.run(publish_one_then_stop())
    (record,) = audit.read()
    assert record["outcome"] == "interrupted"
    assert record["counts"]["published"] >= 1


def test_every_service_write_is_audited() -> None:
    """THE AUDIT RULE, guarded: a service function that checks it may write also audits,
    in the same function (``audited``, ``audited_on_error`` or a helper named ``*audit*``)."""
    import ast

    services = Path(__file__).resolve().parents[1] / "mqctl" / "services"
    unaudited = []
    for path in sorted(services.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            called = {_name(call.func) for call in ast.walk(node) if isinstance(call, ast.Call)}
            if "check_writable" in called and not any("audit" in name for name in called):
                unaudited.append(f"{path.name}:{node.name}")
    # A dry run meets the same refusals as the run it previews, and changes nothing.
    dry_runs = {"dlq.py:plan"}
    assert sorted(set(unaudited) - dry_runs) == []


def _name(func: object) -> str:
    import ast

    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""
