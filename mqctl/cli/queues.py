"""``mqctl queues``: RabbitMQ queues (list, describe, create, delete, purge)."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mqctl.cli import fleet
from mqctl.cli.common import (
    AllVhostsOpt,
    OutputOpt,
    VhostOpt,
    WideOpt,
    YesOpt,
    confirmation,
    run_with_session,
)
from mqctl.completion import completer
from mqctl.errors import UsageError
from mqctl.output.render import Column, OutputFormat, field_column, render

if TYPE_CHECKING:
    from rich.console import Console

    from mqctl.models.inventory import QueueDetail, QueueSummary
    from mqctl.services.queues import QueueRemoval

queues_app = typer.Typer(
    help="RabbitMQ queues: list, describe, create, delete, purge.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(queues_app, name="queues")


class SortKey(enum.StrEnum):
    depth = "depth"
    rate = "rate"
    name = "name"


class QueueType(enum.StrEnum):
    classic = "classic"
    quorum = "quorum"
    stream = "stream"


QUEUE_COLUMNS = [
    field_column("vhost", "VHOST"),
    Column("QUEUE", lambda q: q.name, shrink=True),
    field_column("type", "TYPE"),
    field_column("ready", "READY", "right"),
    field_column("unacked", "UNACKED", "right"),
    field_column("consumers", "CONSUMERS", "right"),
    field_column("publish_rate", "IN/S", "right"),
    field_column("ack_rate", "ACK/S", "right"),
    field_column("policy", "POLICY"),
    field_column("dead_letter_exchange", "DLX"),
]


def select_queues(
    queues: list[QueueSummary],
    *,
    pattern: str | None,
    queue_type: str | None,
    sort: SortKey,
) -> list[QueueSummary]:
    """Filter by name regex (Python syntax, searched anywhere in the name) and type, then
    sort: depth and rate descending (unknown rates last), name ascending."""
    import re

    if pattern is not None:
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise UsageError(f"--filter: invalid regular expression {pattern!r}: {exc}") from None
        queues = [q for q in queues if regex.search(q.name)]
    if queue_type is not None:
        queues = [q for q in queues if q.type == queue_type]
    if sort is SortKey.depth:
        return sorted(queues, key=lambda q: (-q.messages, q.vhost, q.name))
    if sort is SortKey.rate:
        return sorted(
            queues,
            key=lambda q: (q.publish_rate is None, -(q.publish_rate or 0.0), q.vhost, q.name),
        )
    return sorted(queues, key=lambda q: (q.vhost, q.name))


@queues_app.command("list")
def list_cmd(
    output: OutputOpt = OutputFormat.table,
    wide: WideOpt = False,
    vhost: VhostOpt = None,
    all_vhosts: AllVhostsOpt = False,
    pattern: Annotated[
        str | None,
        typer.Option("--filter", metavar="REGEX", help="Only queues whose name matches REGEX."),
    ] = None,
    sort: Annotated[
        SortKey, typer.Option("--sort", help="depth (most messages first), rate (publish), name.")
    ] = SortKey.name,
    queue_type: Annotated[
        QueueType | None, typer.Option("--type", help="Only classic, quorum or stream queues.")
    ] = None,
    contexts: fleet.ContextsOpt = None,
    all_contexts: fleet.AllContextsOpt = False,
) -> None:
    """List queues with type, depth (ready/unacked), consumers, rates, policy and DLX.

    The listing uses the management API's pages (a few requests, even for thousands of
    queues); --filter, --type and --sort apply to what it returns.

    Examples:  mqctl queues list --sort depth  |  mqctl queues list --all-vhosts --filter dlq
    """
    from mqctl.services import inventory

    if fleet.wanted(contexts, all_contexts):

        async def listed(session: Any) -> list[Any]:
            found = await inventory.list_queues(session, vhost=vhost, all_vhosts=all_vhosts)
            kind = queue_type.value if queue_type else None
            return select_queues(found, pattern=pattern, queue_type=kind, sort=sort)

        fleet.listing(listed, contexts, all_contexts, output, QUEUE_COLUMNS)
        return
    queues = run_with_session(
        lambda s: inventory.list_queues(s, vhost=vhost, all_vhosts=all_vhosts)
    )
    selected = select_queues(
        queues,
        pattern=pattern,
        queue_type=queue_type.value if queue_type else None,
        sort=sort,
    )
    render(selected, output, columns=QUEUE_COLUMNS, wide=wide)


def _detail_table(detail: QueueDetail, console: Console) -> None:
    from mqctl.output.render import format_cell, render_table

    q = detail.queue
    extra: dict[str, Any] = {
        f.name: getattr(detail, f.name) for f in _fields(detail) if f.name not in _BASE_FIELDS
    }
    rates = extra.get("message_rates") or {}
    rows = [
        ("vhost", q.vhost),
        ("queue", q.name),
        ("type", q.type),
        ("durable", q.durable),
        ("state", q.state),
        ("ready / unacked", f"{q.ready} / {q.unacked}"),
        ("consumers", q.consumers),
        (
            "rates in / deliver / ack",
            f"{format_cell(q.publish_rate)} / "
            f"{format_cell(q.deliver_rate)} / {format_cell(q.ack_rate)}",
        ),
        ("other rates", {k: v for k, v in rates.items() if k not in ("publish", "ack")}),
        ("head message age (s)", detail.head_message_age_seconds),
        ("policy", q.policy),
        ("effective policy", detail.effective_policy),
        ("dead-letter exchange", q.dead_letter_exchange),
        ("dead-letter routing key", q.dead_letter_routing_key),
        ("delivery limit", detail.delivery_limit),
        ("arguments", q.arguments),
        ("node", detail.node),
    ]
    render_table(rows, [Column("FIELD", lambda r: r[0]), Column("VALUE", lambda r: r[1])], console)
    console.print(f"Consumers ({len(detail.consumer_details)}):")
    render_table(
        detail.consumer_details,
        [
            field_column("consumer_tag", "TAG"),
            field_column("connection"),
            Column("CHANNEL", lambda c: getattr(c, "channel_number", None) or c.channel),
            Column("USER", lambda c: getattr(c, "user", None)),
            field_column("client_host", "HOST"),
            field_column("ack_required", "ACK"),
            field_column("prefetch_count", "PREFETCH", "right"),
            field_column("active", "ACTIVE"),
        ],
        console,
    )
    console.print(f"Bindings in ({len(detail.bindings_in)}):")
    render_table(
        detail.bindings_in,
        [
            Column("EXCHANGE", lambda b: b.source or "(default)"),
            field_column("routing_key", "ROUTING KEY"),
            field_column("arguments", "ARGUMENTS"),
        ],
        console,
    )
    out = extra.get("dead_letter_bindings")
    if out is not None:
        dlx = q.dead_letter_exchange
        label = "(default)" if dlx == "" else dlx
        console.print(f"Dead letters out via {label or '-'} ({len(out)}):")
        render_table(
            out,
            [
                Column("EXCHANGE", lambda b: b.source or "(default)"),
                field_column("destination_type", "TYPE"),
                field_column("destination", "DESTINATION"),
                field_column("routing_key", "ROUTING KEY"),
            ],
            console,
        )


_BASE_FIELDS = {
    "queue",
    "effective_policy",
    "delivery_limit",
    "consumer_details",
    "bindings_in",
    "node",
    "head_message_age_seconds",
}


def _fields(detail: Any) -> tuple[Any, ...]:
    import dataclasses

    return dataclasses.fields(detail)


@queues_app.command("describe")
def describe_cmd(
    name: Annotated[
        str,
        typer.Argument(
            help="Queue name (rabbitmq:NAME to be explicit).", autocompletion=completer("queue")
        ),
    ],
    output: OutputOpt = OutputFormat.table,
    vhost: VhostOpt = None,
) -> None:
    """Arguments, effective policy, DLX route, consumers with channels, bindings and rates.

    Examples:  mqctl queues describe notifications_queue  |  mqctl queues describe q --vhost prod
    """
    from mqctl.services import inventory

    detail = run_with_session(lambda s: inventory.describe_queue(s, name, vhost=vhost))
    render(detail, output, table=_detail_table)


def _parse_argument(text: str) -> tuple[str, Any]:
    """``k=v``: v as JSON when it parses (numbers, true/false, lists), else a string."""
    import json

    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise UsageError(f"--argument {text!r}: expected KEY=VALUE, e.g. x-max-length=1000")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return key, value


@queues_app.command("create")
def create_cmd(
    name: Annotated[str, typer.Argument(help="Queue name.")],
    queue_type: Annotated[
        QueueType, typer.Option("--type", help="classic, quorum or stream.")
    ] = QueueType.classic,
    transient: Annotated[
        bool, typer.Option("--transient", help="Not durable (classic queues only).")
    ] = False,
    dlx: Annotated[
        str | None,
        typer.Option("--dead-letter-exchange", help="x-dead-letter-exchange ('' = default)."),
    ] = None,
    dlrk: Annotated[
        str | None,
        typer.Option("--dead-letter-routing-key", help="x-dead-letter-routing-key."),
    ] = None,
    delivery_limit: Annotated[
        int | None, typer.Option("--delivery-limit", min=0, help="x-delivery-limit (quorum).")
    ] = None,
    arguments: Annotated[
        list[str] | None,
        typer.Option("--argument", "-a", help="Queue argument KEY=VALUE (repeatable)."),
    ] = None,
    vhost: VhostOpt = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Create a queue (idempotent: an identical existing queue is fine, a different one is
    refused by the broker with exit 2).

    Examples:  mqctl queues create work --type quorum --delivery-limit 5 --dead-letter-exchange dlx
    """
    args: dict[str, Any] = dict(_parse_argument(a) for a in arguments or [])
    if dlx is not None:
        args["x-dead-letter-exchange"] = dlx
    if dlrk is not None:
        args["x-dead-letter-routing-key"] = dlrk
    if delivery_limit is not None:
        args["x-delivery-limit"] = delivery_limit

    from mqctl.services import queues

    queue, created = run_with_session(
        lambda s: queues.create_queue(
            s, name, vhost=vhost, queue_type=queue_type.value, durable=not transient, arguments=args
        )
    )
    result = {
        "vhost": queue.vhost,
        "queue": queue.name,
        "action": "created" if created else "exists",
        "type": queue.type,
        "durable": queue.durable,
        "arguments": queue.arguments,
    }
    _render_change(result, output)


def _render_change(result: dict[str, Any], output: OutputFormat) -> None:
    from operator import itemgetter

    columns = [Column(key.upper().replace("_", " "), itemgetter(key)) for key in result]
    render(result, output, columns=columns)


def _render_removal(removal: QueueRemoval, output: OutputFormat) -> None:
    import dataclasses

    _render_change(dataclasses.asdict(removal), output)


@queues_app.command("delete")
def delete_cmd(
    name: Annotated[str, typer.Argument(help="Queue name.")],
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Only if it holds no messages.")
    ] = False,
    if_unused: Annotated[
        bool, typer.Option("--if-unused", help="Only if it has no consumers.")
    ] = False,
    yes: YesOpt = False,
    vhost: VhostOpt = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Delete a queue and every message in it (asks first unless --yes).

    Examples:  mqctl queues delete scratch --yes  |  mqctl queues delete old --if-empty
    """

    from mqctl.services import queues

    def question(queue: QueueSummary) -> str:
        return (
            f"Delete queue {queue.name!r} in vhost {queue.vhost!r} and its {queue.messages} "
            "message(s)?"
        )

    ask = confirmation(question, yes)
    removal = run_with_session(
        lambda s: queues.delete_queue(
            s, name, vhost=vhost, if_empty=if_empty, if_unused=if_unused, confirm=ask
        )
    )
    _render_removal(removal, output)


@queues_app.command("purge")
def purge_cmd(
    name: Annotated[str, typer.Argument(help="Queue name.")],
    yes: YesOpt = False,
    vhost: VhostOpt = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Remove every ready message from a queue (asks first unless --yes). Unacknowledged
    messages stay with their consumers; streams cannot be purged.

    Examples:  mqctl queues purge scratch --yes  |  mqctl queues purge q --vhost test -o json
    """

    from mqctl.services import queues

    def question(queue: QueueSummary) -> str:
        return (
            f"Purge {queue.ready} ready message(s) from queue {queue.name!r} in vhost "
            f"{queue.vhost!r}?"
        )

    ask = confirmation(question, yes)
    removal = run_with_session(lambda s: queues.purge_queue(s, name, vhost=vhost, confirm=ask))
    _render_removal(removal, output)
