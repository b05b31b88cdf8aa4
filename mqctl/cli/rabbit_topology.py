"""``vhosts create/delete``, ``exchanges create/delete``, ``bindings create/delete``: the
RabbitMQ topology verbs, added to the listing groups of cli/amqp.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from mqctl.cli.common import OutputOpt, VhostOpt, YesOpt, confirmation, run_with_session
from mqctl.cli.rabbit_admin import DryRunOpt
from mqctl.output.render import OutputFormat, render

if TYPE_CHECKING:
    from rich.console import Console

    from mqctl.models.rabbitmq_admin import BindingSpec, TopologyChange


def register(app: typer.Typer) -> None:
    from mqctl.cli.amqp import bindings_app, exchanges_app, vhosts_app

    vhosts_app.command("create")(vhost_create)
    vhosts_app.command("delete")(vhost_delete)
    exchanges_app.command("create")(exchange_create)
    exchanges_app.command("delete")(exchange_delete)
    bindings_app.command("create")(binding_create)
    bindings_app.command("delete")(binding_delete)


ArgumentOpt = Annotated[
    list[str] | None,
    typer.Option("--argument", "-a", help="Argument KEY=VALUE, VALUE as JSON if it parses."),
]


def _arguments(values: list[str] | None) -> dict[str, Any]:
    import json

    from mqctl.errors import UsageError

    found: dict[str, Any] = {}
    for text in values or []:
        key, sep, raw = text.partition("=")
        if not sep or not key:
            raise UsageError(f"--argument {text!r}: expected KEY=VALUE, e.g. x-match=all")
        try:
            found[key] = json.loads(raw)
        except ValueError:
            found[key] = raw
    return found


def _topology_table(change: TopologyChange, console: Console) -> None:
    if change.dry_run:
        head = f"dry run, nothing changed: would {change.action}"
    elif change.changed:
        head = "created" if change.action == "create" else "deleted"
    else:
        head = "already exists, unchanged:"
    where = "" if change.kind == "vhost" else f" in vhost {change.vhost}"
    impact = ", ".join(f"{v} {k}" for k, v in change.impact.items())
    console.print(f"{head} {change.kind} {change.name}{where}" + (f" ({impact})" if impact else ""))


def vhost_create(
    name: Annotated[str, typer.Argument(help="New vhost name.")],
    description: Annotated[str | None, typer.Option("--description", help="Free text.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Tag (repeatable).")] = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Create a vhost (an existing one is left as is, exit 0). Grant users access with the
    management UI or rabbitmqctl set_permissions.

    Examples:  mqctl vhosts create staging --description "staging apps"
    """
    from mqctl.services import rabbit_admin

    change = run_with_session(
        lambda s: rabbit_admin.create_vhost(s, name, description=description, tags=tag or [])
    )
    render(change, output, table=_topology_table)


def vhost_delete(
    name: Annotated[str, typer.Argument(help="Vhost to delete.")],
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Delete a vhost with every queue, exchange and message in it (asks first unless
    --yes; --dry-run shows how many queues and messages would go).

    Examples:  mqctl vhosts delete staging --dry-run  |  mqctl vhosts delete staging --yes
    """
    from mqctl.services import rabbit_admin

    def question(plan: TopologyChange) -> str:
        queues, messages = plan.impact.get("queues", 0), plan.impact.get("messages", 0)
        return f"Delete vhost {name!r} with its {queues} queue(s) and {messages} message(s)?"

    ask = confirmation(question, yes)
    change = run_with_session(
        lambda s: rabbit_admin.delete_vhost(s, name, dry_run=dry_run, confirm=ask)
    )
    render(change, output, table=_topology_table)


def exchange_create(
    name: Annotated[str, typer.Argument(help="Exchange name.")],
    exchange_type: Annotated[
        str, typer.Option("--type", help="direct, fanout, topic, headers or an x-... type.")
    ] = "direct",
    transient: Annotated[bool, typer.Option("--transient", help="Not durable.")] = False,
    auto_delete: Annotated[
        bool, typer.Option("--auto-delete", help="Deleted when its last binding goes.")
    ] = False,
    internal: Annotated[
        bool, typer.Option("--internal", help="Only other exchanges may publish to it.")
    ] = False,
    arguments: ArgumentOpt = None,
    vhost: VhostOpt = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Create an exchange (an identical existing one is fine; a different one is refused by
    the broker with exit 2).

    Examples:  mqctl exchanges create orders --type topic  |
    mqctl exchanges create alt --type fanout -a alternate-exchange=unrouted
    """
    from mqctl.models.rabbitmq_admin import ExchangeSpec
    from mqctl.services import rabbit_admin

    spec = ExchangeSpec(
        name, vhost, exchange_type, not transient, auto_delete, internal, _arguments(arguments)
    )
    change = run_with_session(lambda s: rabbit_admin.create_exchange(s, spec))
    render(change, output, table=_topology_table)


def exchange_delete(
    name: Annotated[str, typer.Argument(help="Exchange name.")],
    if_unused: Annotated[
        bool, typer.Option("--if-unused", help="Only if it has no bindings.")
    ] = False,
    vhost: VhostOpt = None,
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Delete an exchange and its bindings (asks first unless --yes).

    Examples:  mqctl exchanges delete orders --dry-run  |  mqctl exchanges delete orders --yes
    """
    from mqctl.services import rabbit_admin

    def question(plan: TopologyChange) -> str:
        return f"Delete exchange {name!r} and its {plan.impact.get('bindings', 0)} binding(s)?"

    ask = confirmation(question, yes)
    change = run_with_session(
        lambda s: rabbit_admin.delete_exchange(
            s, name, vhost=vhost, if_unused=if_unused, dry_run=dry_run, confirm=ask
        )
    )
    render(change, output, table=_topology_table)


SourceArg = Annotated[str, typer.Argument(help="Source exchange.")]
DestinationArg = Annotated[str, typer.Argument(help="Destination queue (or exchange).")]
ToExchangeOpt = Annotated[
    bool, typer.Option("--to-exchange", help="The destination is an exchange, not a queue.")
]
RoutingKeyOpt = Annotated[str, typer.Option("--routing-key", "-k", help="Binding key.")]


def _binding(
    source: str,
    destination: str,
    to_exchange: bool,
    routing_key: str,
    arguments: list[str] | None,
    vhost: str | None,
) -> BindingSpec:
    from mqctl.models.rabbitmq_admin import BindingSpec

    kind = "exchange" if to_exchange else "queue"
    return BindingSpec(source, destination, vhost, kind, routing_key, _arguments(arguments))


def binding_create(
    source: SourceArg,
    destination: DestinationArg,
    routing_key: RoutingKeyOpt = "",
    to_exchange: ToExchangeOpt = False,
    arguments: ArgumentOpt = None,
    vhost: VhostOpt = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Bind a queue (or exchange) to an exchange; an identical binding is left as is.

    Examples:  mqctl bindings create orders orders.audit -k 'order.#'  |
    mqctl bindings create headers-x q1 -a x-match=all -a region=eu
    """
    from mqctl.services import rabbit_admin

    spec = _binding(source, destination, to_exchange, routing_key, arguments, vhost)
    change = run_with_session(lambda s: rabbit_admin.create_binding(s, spec))
    render(change, output, table=_topology_table)


def binding_delete(
    source: SourceArg,
    destination: DestinationArg,
    routing_key: RoutingKeyOpt = "",
    to_exchange: ToExchangeOpt = False,
    arguments: ArgumentOpt = None,
    vhost: VhostOpt = None,
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Remove one binding (same routing key and arguments; asks first unless --yes).

    Examples:  mqctl bindings delete orders orders.audit -k 'order.#' --dry-run
    """
    from mqctl.services import rabbit_admin

    spec = _binding(source, destination, to_exchange, routing_key, arguments, vhost)

    def question(plan: TopologyChange) -> str:
        return f"Delete binding {plan.name} in vhost {plan.vhost}?"

    ask = confirmation(question, yes)
    change = run_with_session(
        lambda s: rabbit_admin.delete_binding(s, spec, dry_run=dry_run, confirm=ask)
    )
    render(change, output, table=_topology_table)
