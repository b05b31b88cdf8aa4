"""``mqctl peek``: read messages from a topic, queue or stream without side effects."""

from __future__ import annotations

import base64
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from mqctl.cli.common import VhostOpt, few_collections, invocation, run_with_session
from mqctl.completion import completer

if TYPE_CHECKING:
    from mqctl.session import Session

EXAMPLES = (
    "Examples:  mqctl peek order.created --last 5  |  "
    "mqctl peek order.created -p 3 --since 15m --grep 'sku-42' -o jsonl  |  "
    "mqctl peek notifications_queue --max 20  |  mqctl peek order_events_stream --offset first"
    "  |  mqctl peek order.created --key order-42 --last 2  |  "
    "mqctl peek order.created -n 0 --format '%p:%o %k %s\\n'  |  "
    "mqctl peek payments --isolation read_uncommitted"
)


def register(app: typer.Typer) -> None:
    app.command("peek", help=_HELP, epilog=EXAMPLES)(peek_cmd)


_HELP = """Show messages without consuming them: nothing is acked, committed or removed.

Kafka: partitions are read directly (no consumer group). RabbitMQ: classic queues get their
messages back in order; quorum queues only with --allow-requeue (each return counts as a
delivery); streams read from --offset. Stops at the end of the data (or after --max) unless
--follow; Ctrl-C ends --follow cleanly with exit 0. With filters, the number of messages
scanned vs matched is printed on stderr.

Kafka --key K reads only the partition K hashes to (the producers' default partitioner) unless
--partition is given; with --last N it finds the last N records with that key. Records of
aborted transactions are hidden unless --isolation read_uncommitted; transaction markers are
never shown. --format takes a kcat-style template (%t %p %o %k %s %h %T %S %K, \\n \\t).
"""


def peek_cmd(
    target: Annotated[
        str,
        typer.Argument(
            help="Topic, queue or stream (kafka:NAME / rabbitmq:NAME).",
            autocompletion=completer("destination"),
        ),
    ],
    partition: Annotated[
        list[int] | None,
        typer.Option("--partition", "-p", help="Kafka partition to read (repeatable)."),
    ] = None,
    offset: Annotated[
        str | None,
        typer.Option("--offset", help="Start offset N in each partition, or first | last | next."),
    ] = None,
    from_beginning: Annotated[
        bool, typer.Option("--from-beginning", help="Start at the oldest message (default).")
    ] = False,
    last: Annotated[
        int | None,
        typer.Option("--last", help="The last N messages of EACH partition (see --merge)."),
    ] = None,
    merge: Annotated[
        bool,
        typer.Option("--merge", help="With --last: the last N overall, ordered by timestamp."),
    ] = False,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Start at a time: 2026-11-26T10:00Z, or 15m / 2h / 1d ago."),
    ] = None,
    max_messages: Annotated[
        int | None,
        typer.Option(
            "--max", "-n", help="Stop after N messages (default 10; all with --last; 0 = all)."
        ),
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep waiting for new messages until Ctrl-C.")
    ] = False,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            help="Only messages with this key (UTF-8). Kafka: reads only the key's partition "
            "unless --partition; with --last N: the last N with this key.",
        ),
    ] = None,
    key_base64: Annotated[
        str | None,
        typer.Option("--key-base64", help="--key given as base64 (a key that is not text)."),
    ] = None,
    grep: Annotated[
        str | None, typer.Option("--grep", help="Only messages whose key or value match REGEX.")
    ] = None,
    header: Annotated[
        list[str] | None,
        typer.Option("--header", help="Only messages with header k=v (or just k; repeatable)."),
    ] = None,
    decode: Annotated[
        str,
        typer.Option("--decode", help="auto | json | text | hex | base64 | a decoder plugin."),
    ] = "auto",
    output: Annotated[
        str,
        typer.Option("--output", "-o", help="pretty | table | json | jsonl | yaml | raw."),
    ] = "pretty",
    max_bytes: Annotated[
        int | None,
        typer.Option(
            "--max-bytes",
            help="Show at most N bytes of each value (0 = all; default: 16384 for pretty, "
            "every byte for json/jsonl/yaml/raw).",
        ),
    ] = None,
    line_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="kcat-style line template instead of -o: %t topic, %p partition, %o offset, "
            "%k key, %s value, %h headers, %T timestamp ms, %S/%K value/key size (-1 null), "
            "%% percent; \\n \\t escapes. Null is empty: -o jsonl for exact bytes.",
        ),
    ] = None,
    isolation: Annotated[
        str,
        typer.Option(
            "--isolation",
            help="Kafka: read_committed (default; records of aborted transactions hidden) | "
            "read_uncommitted.",
        ),
    ] = "read_committed",
    vhost: VhostOpt = None,
    allow_requeue: Annotated[
        bool,
        typer.Option(
            "--allow-requeue",
            help="RabbitMQ quorum queues: peek even though returning a message counts as a "
            "delivery (x-delivery-limit).",
        ),
    ] = False,
) -> None:
    from mqctl.errors import UsageError
    from mqctl.messages import decode as decoding
    from mqctl.messages.filters import build_filter
    from mqctl.messages.positions import parse_start
    from mqctl.messages.render import MessageFormat, MessagePrinter
    from mqctl.models.messages import PeekOptions
    from mqctl.services import messages as service

    if output not in MessageFormat.__members__:
        raise UsageError(f"--output {output!r}: choose from {', '.join(MessageFormat.__members__)}")
    if merge and last is None:
        raise UsageError("--merge only applies to --last N")
    if max_messages is not None and max_messages < 0:
        raise UsageError(f"--max {max_messages}: must be 0 (no limit) or more")
    if max_bytes is not None and max_bytes < 0:
        raise UsageError(f"--max-bytes {max_bytes}: must be 0 (no limit) or more")
    if isolation not in ("read_committed", "read_uncommitted"):
        raise UsageError(f"--isolation {isolation!r}: choose from read_committed, read_uncommitted")
    if line_format is not None and output != "pretty":
        raise UsageError(f"--format cannot be combined with -o {output}")
    decoding.check_mode(decode)
    start = parse_start(offset=offset, from_beginning=from_beginning, last=last, since=since)
    wanted_key = _key_bytes(key, key_base64)
    filters = build_filter(wanted_key, grep, header)
    limit = max_messages if max_messages is not None else (0 if last is not None else 10)
    options = PeekOptions(
        max_messages=limit,
        start=start,
        partitions=tuple(partition) if partition else None,
        follow=follow,
        allow_requeue=allow_requeue,
        key=wanted_key,
        isolation=isolation,
    )
    template = None
    if line_format is not None:
        from mqctl.messages.line_format import LineFormat

        template = LineFormat(line_format, escape=sys.stdout.isatty(), cap=max_bytes or None)
    printer = MessagePrinter(output, decode, max_bytes=max_bytes, line_format=template)
    stats = service.PeekStats()

    async def run(session: Session) -> None:
        _configure_decoders(session)
        # In lists (Kafka: one per fetch) so that jsonl writes each fetch at once.
        async for batch in service.peek_batches(
            session, target, options, filters, vhost=vhost, merge=merge, stats=stats
        ):
            printer.write_batch(batch)
            if follow:
                printer.flush()

    interrupted = False
    try:
        with few_collections():
            run_with_session(run)
    except KeyboardInterrupt:
        if not follow:
            raise
        interrupted = True  # Ctrl-C is how --follow is meant to end: exit 0
    printer.close()
    _report(stats, filters.active, printer.count, output, interrupted)


def _key_bytes(key: str | None, key_base64: str | None) -> bytes | None:
    """The key ``--key`` (its UTF-8 bytes; bytes that came as surrogate escapes back as
    they were) or ``--key-base64`` names."""
    import binascii

    from mqctl.errors import UsageError

    if key is not None and key_base64 is not None:
        raise UsageError("--key and --key-base64 cannot be combined")
    if key_base64 is None:
        return None if key is None else key.encode("utf-8", "surrogateescape")
    try:
        return base64.b64decode(key_base64, validate=True)
    except (binascii.Error, ValueError):
        raise UsageError(f"--key-base64 {key_base64[:60]!r}: not valid base64") from None


def _configure_decoders(session: Session) -> None:
    from mqctl.messages.decode import DecoderContext, configure

    kafka = session.context.backends.get("kafka") or {}
    registry = kafka.get("schema-registry") if isinstance(kafka, dict) else None
    configure(
        DecoderContext(session.context.name, registry if isinstance(registry, str) else None),
        session.context.decoders,
    )


def _report(stats: object, filtered: bool, shown: int, output: str, interrupted: bool) -> None:
    from mqctl.services.messages import PeekStats

    assert isinstance(stats, PeekStats)
    where = stats.destination.qualified if stats.destination else "?"
    if filtered:
        sys.stderr.write(f"scanned {stats.scanned}, matched {stats.matched} in {where}\n")
    elif shown == 0 and output in ("pretty", "table") and not invocation().debug:
        sys.stderr.write(f"no messages in {where} at that position\n")
    if interrupted:
        sys.stderr.write("stopped\n")
