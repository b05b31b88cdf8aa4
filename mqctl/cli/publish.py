"""``mqctl publish``: send messages (test events, replays) with broker confirmation."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mqctl.cli.common import OutputOpt, VhostOpt, YesOpt, few_collections, run_with_session
from mqctl.output.render import OutputFormat

if TYPE_CHECKING:
    from mqctl.cli.schemas import SchemaEncoding
    from mqctl.messages.sources import SourceSpec
    from mqctl.services.messages import PublishSummary
    from mqctl.session import Session

EXAMPLES = (
    "Examples:  mqctl publish order.created '{\"id\": 1}' --key o-1 -H source=test  |  "
    "mqctl publish order.created --template --count 1000 --rate 200/s "
    '\'{"id": "{{uuid}}", "qty": {{randint 1 5}}}\'  |  '
    "mqctl publish order.created --jsonl events.jsonl -o jsonl  |  "
    "mqctl publish --exchange orders --routing-key order.created '{\"id\": 2}'"
)

_HELP = """Publish messages and wait for the broker to confirm each one (Kafka acks=all with an
idempotent producer; RabbitMQ publisher confirms).

Sources: VALUE, '-' (stdin, one message per line), --file F (the file's bytes as one value) or
--jsonl F (one JSON object per line: value, key, headers, partition, routing_key, properties;
`peek -o jsonl` output is sent back byte for byte, nulls and header order included).
--count repeats the input; --template expands {{seq}} {{uuid}} {{now}} {{now_ms}}
{{randint A B}} {{choice a b c}} in key, headers and value for every message. Prints a summary
(or one line per message with -o jsonl); exit 5 if any message failed.
"""

INT_PROPERTIES = {"priority", "delivery_mode", "timestamp"}


def register(app: typer.Typer) -> None:
    app.command("publish", help=_HELP, epilog=EXAMPLES)(publish_cmd)


def publish_cmd(
    target: Annotated[
        str | None,
        typer.Argument(help="Topic or queue (kafka:NAME / rabbitmq:NAME); omit with --exchange."),
    ] = None,
    value: Annotated[
        str | None, typer.Argument(help="The message value, or '-' to read lines from stdin.")
    ] = None,
    key: Annotated[str | None, typer.Option("--key", "-k", help="Message key.")] = None,
    header: Annotated[
        list[str] | None, typer.Option("--header", "-H", help="Header k=v (repeatable).")
    ] = None,
    partition: Annotated[
        int | None, typer.Option("--partition", "-p", min=0, help="Kafka partition.")
    ] = None,
    file: Annotated[
        str | None, typer.Option("--file", help="Send this file's bytes as one value.")
    ] = None,
    jsonl: Annotated[
        str | None, typer.Option("--jsonl", help="One message per JSON line ('-' = stdin).")
    ] = None,
    keep_timestamps: Annotated[
        bool,
        typer.Option(
            "--keep-timestamps",
            help="--jsonl: send each line's timestamp as the record's time (Kafka CreateTime); "
            "by default Kafka stamps the time of the publish.",
        ),
    ] = False,
    keep_partitions: Annotated[
        bool,
        typer.Option(
            "--keep-partitions/--ignore-partitions",
            help="--jsonl: send each line to its partition (default), or let the key (or "
            "--partition) choose.",
        ),
    ] = True,
    count: Annotated[
        int | None,
        typer.Option(
            "--count",
            "-n",
            min=0,
            max=sys.maxsize,
            help="Total messages to send (repeats input).",
        ),
    ] = None,
    rate: Annotated[
        str | None, typer.Option("--rate", help="At most R messages per second, e.g. 200/s.")
    ] = None,
    template: Annotated[
        bool, typer.Option("--template", "-t", help="Expand {{placeholders}} per message.")
    ] = False,
    compression: Annotated[
        str | None,
        typer.Option("--compression", help="Kafka: none | gzip | snappy | lz4 | zstd."),
    ] = None,
    vhost: VhostOpt = None,
    exchange: Annotated[
        str | None,
        typer.Option("--exchange", "-e", help="RabbitMQ: publish to this exchange ('' = default)."),
    ] = None,
    queue: Annotated[
        str | None,
        typer.Option("--queue", "-q", help="RabbitMQ: publish to this queue (default exchange)."),
    ] = None,
    routing_key: Annotated[
        str | None, typer.Option("--routing-key", "-r", help="RabbitMQ routing key.")
    ] = None,
    content_type: Annotated[
        str | None, typer.Option("--content-type", help="RabbitMQ content_type property.")
    ] = None,
    message_id: Annotated[
        str | None, typer.Option("--message-id", help="RabbitMQ message_id property.")
    ] = None,
    correlation_id: Annotated[
        str | None, typer.Option("--correlation-id", help="RabbitMQ correlation_id property.")
    ] = None,
    prop: Annotated[
        list[str] | None,
        typer.Option("--property", help="Other AMQP property k=v (priority, expiration, ...)."),
    ] = None,
    persistent: Annotated[
        bool,
        typer.Option(
            "--persistent/--transient", help="RabbitMQ delivery mode (default persistent)."
        ),
    ] = True,
    mandatory: Annotated[
        bool, typer.Option("--mandatory", help="RabbitMQ: unroutable messages count as failed.")
    ] = False,
    schema_subject: Annotated[
        str | None,
        typer.Option(
            "--schema-subject",
            help="Encode each JSON value with this registry subject's Avro/Protobuf schema "
            "(wire format: magic byte, schema id). Needs the mqctl-schemas plugin.",
        ),
    ] = None,
    schema_version: Annotated[
        str, typer.Option("--schema-version", help="With --schema-subject: version or 'latest'.")
    ] = "latest",
    output: OutputOpt = OutputFormat.table,
    yes: YesOpt = False,
) -> None:
    del yes  # read from the command line by the protected-context check
    from mqctl.errors import UsageError
    from mqctl.messages.headers import parse_pairs
    from mqctl.messages.rate import parse_rate
    from mqctl.messages.sources import SourceSpec
    from mqctl.models.messages import PublishOptions

    if exchange is not None or queue is not None:
        if value is not None:
            raise UsageError("with --exchange or --queue give only the VALUE, not a TARGET")
        target, value = None, target
    per_second = parse_rate(rate) if rate is not None else None
    spec = SourceSpec(
        value=value,
        file=file,
        jsonl=jsonl,
        key=key,
        headers=parse_pairs(header, "--header"),
        partition=partition,
        routing_key=routing_key,
        properties=_properties(content_type, message_id, correlation_id, prop),
        count=count,
        template=template,
        keep_timestamps=keep_timestamps,
        keep_partitions=keep_partitions,
    )
    options = PublishOptions(
        partition=partition,
        exchange=exchange,
        routing_key=routing_key,
        mandatory=mandatory,
        persistent=persistent,
        compression=compression,
    )
    schema = None
    if schema_subject is not None:
        from mqctl.cli.schemas import SchemaEncoding

        schema = SchemaEncoding(schema_subject, schema_version)
    _publish(spec, options, target, exchange, queue, vhost, per_second, output, schema)


def _properties(
    content_type: str | None,
    message_id: str | None,
    correlation_id: str | None,
    extra: list[str] | None,
) -> dict[str, Any]:
    from mqctl.errors import UsageError
    from mqctl.messages.headers import parse_unique

    props: dict[str, Any] = dict(parse_unique(extra, "--property"))
    for name in INT_PROPERTIES & props.keys():
        try:
            props[name] = int(props[name])
        except ValueError:
            raise UsageError(f"--property {name}={props[name]}: expected an integer") from None
    for name, given in (
        ("content_type", content_type),
        ("message_id", message_id),
        ("correlation_id", correlation_id),
    ):
        if given is not None:
            props[name] = given
    return props


def _publish(
    spec: SourceSpec,
    options: Any,
    target: str | None,
    exchange: str | None,
    queue: str | None,
    vhost: str | None,
    per_second: float | None,
    output: str,
    schema: SchemaEncoding | None = None,
) -> None:
    from mqctl.errors import PartialFailure
    from mqctl.messages.render import json_line
    from mqctl.messages.sources import build_messages
    from mqctl.output.render import render, to_jsonable
    from mqctl.services import messages as service

    stdin = getattr(sys.stdin, "buffer", None)
    messages, total = build_messages(spec, stdin)
    summary = service.PublishSummary(destination="?")
    progress = _Progress(total) if output != "jsonl" else None

    async def run(session: Session) -> None:
        destination = await service.publish_target(
            session, target, exchange=exchange, queue=queue, vhost=vhost
        )
        summary.destination = destination.qualified
        nonlocal messages
        if schema is not None:  # Avro/Protobuf from JSON (the mqctl-schemas plugin)
            messages = schema.wrap(session.context, messages)
        started = time.monotonic()
        try:
            if output == "jsonl":
                async for result in service.publish(
                    session, destination, messages, options, rate=per_second
                ):
                    summary.add(result)
                    sys.stdout.write(json_line(to_jsonable(result)) + "\n")
            else:  # a summary: counts are enough (no object per message)
                async for confirmed, failed in service.publish_tallies(
                    session, destination, messages, options, rate=per_second
                ):
                    summary.add_tally(confirmed, failed)
                    if progress is not None:
                        progress.advance(confirmed + len(failed))
        finally:
            summary.seconds = round(time.monotonic() - started, 3)
            done = summary.published + summary.failed
            summary.rate = round(done / summary.seconds, 1) if summary.seconds > 0 else 0.0
            if progress is not None:
                progress.close()

    with few_collections():
        run_with_session(run)
    if output == "table":
        _print_summary(summary)
    elif output != "jsonl":
        render(summary, output)
    if schema is not None:
        schema.raise_if_stopped(summary.published)
    if summary.failed:
        first = summary.errors[0] if summary.errors else None
        detail = f" (first: message {first.index}: {first.error})" if first else ""
        raise PartialFailure(
            f"{summary.failed} of {summary.failed + summary.published} messages were not "
            f"published to {summary.destination}{detail}"
        )


def _print_summary(summary: PublishSummary) -> None:
    from mqctl.output.sanitize import safe_text

    line = (
        f"published {summary.published} message{'s' if summary.published != 1 else ''} to "
        f"{summary.destination} in {summary.seconds:.2f}s ({summary.rate:,.1f} msg/s), "
        f"{summary.failed} failed"
    )
    sys.stdout.write(safe_text(line) + "\n")
    for error in summary.errors[:10]:
        sys.stdout.write(safe_text(f"  message {error.index}: {error.error}") + "\n")


class _Progress:
    """A rich progress bar on stderr, only on a terminal and only for long publishes."""

    MIN_MESSAGES = 500

    def __init__(self, total: int | None) -> None:
        self._bar: Any = None
        self._task: Any = None
        if not sys.stderr.isatty() or (total is not None and total < self.MIN_MESSAGES):
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        from mqctl.output.render import make_console

        self._bar = Progress(
            TextColumn("publishing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=make_console(stderr=True),
            transient=True,
        )
        self._task = self._bar.add_task("publish", total=total)
        self._bar.start()

    def advance(self, count: int = 1) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, count)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
