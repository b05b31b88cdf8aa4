"""``mqctl policies``, ``vhosts create/delete``, ``exchanges create/delete``, ``bindings
create/delete``, ``users list``, ``permissions list``: RabbitMQ administration
(rabbitmqadmin's everyday verbs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from mqctl.cli.common import (
    AllVhostsOpt,
    OutputOpt,
    VhostOpt,
    YesOpt,
    confirmation,
    run_with_session,
)
from mqctl.output.render import Column, OutputFormat, field_column, render

if TYPE_CHECKING:
    from rich.console import Console

    from mqctl.models.rabbitmq_admin import PolicyChange, TopologyChange

policies_app = typer.Typer(
    help="RabbitMQ policies and operator policies: list, set, delete.", no_args_is_help=True
)
users_app = typer.Typer(help="RabbitMQ users (never their password hashes).", no_args_is_help=True)
permissions_app = typer.Typer(help="RabbitMQ user permissions per vhost.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    from mqctl.cli.amqp import bindings_app, exchanges_app, vhosts_app

    app.add_typer(policies_app, name="policies")
    app.add_typer(users_app, name="users")
    app.add_typer(permissions_app, name="permissions")
    vhosts_app.command("create")(vhost_create)
    vhosts_app.command("delete")(vhost_delete)
    exchanges_app.command("create")(exchange_create)
    exchanges_app.command("delete")(exchange_delete)
    bindings_app.command("create")(binding_create)
    bindings_app.command("delete")(binding_delete)


DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Show what would change; change nothing.")
]
OperatorOpt = Annotated[
    bool, typer.Option("--operator", help="Operator policies (caps the operator enforces).")
]
ArgumentOpt = Annotated[
    list[str] | None,
    typer.Option("--argument", "-a", help="Argument KEY=VALUE, VALUE as JSON if it parses."),
]

POLICY_COLUMNS = [
    field_column("vhost", "VHOST"),
    field_column("name", "NAME"),
    Column("KIND", lambda p: "operator" if p.operator else "policy"),
    field_column("pattern", "PATTERN"),
    field_column("apply_to", "APPLY TO"),
    field_column("priority", "PRIORITY", "right"),
    field_column("definition", "DEFINITION"),
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


@policies_app.command("list")
def policies_list(
    vhost: VhostOpt = None,
    all_vhosts: AllVhostsOpt = False,
    operator: Annotated[
        bool | None,
        typer.Option("--operator/--no-operator", help="Only operator policies / only policies."),
    ] = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """List policies and operator policies (highest priority first per vhost).

    Examples:  mqctl policies list  |  mqctl policies list --all-vhosts -o json  |
    mqctl policies list --operator
    """
    from mqctl.services import rabbit_admin

    found = run_with_session(
        lambda s: rabbit_admin.list_policies(
            s, vhost=vhost, all_vhosts=all_vhosts, operator=operator
        )
    )
    render(found, output, columns=POLICY_COLUMNS)


def _policy_table(change: PolicyChange, console: Console) -> None:
    from mqctl.output.render import render_table

    policy = change.after or change.before
    assert policy is not None
    kind = "operator policy" if policy.operator else "policy"
    head = "Dry run (nothing changed): would" if change.dry_run else "Did"
    verb = change.action if change.changed else f"{change.action} (no change)"
    console.print(f"{head} {verb} {kind} {policy.name} in vhost {policy.vhost}")
    rows = [r for r in (("before", change.before), ("after", change.after)) if r[1] is not None]
    render_table(
        rows,
        [
            Column("", lambda r: r[0]),
            Column("PATTERN", lambda r: r[1].pattern),
            Column("APPLY TO", lambda r: r[1].apply_to),
            Column("PRIORITY", lambda r: r[1].priority, "right"),
            Column("DEFINITION", lambda r: r[1].definition),
        ],
        console,
    )
    shown = ", ".join(change.matching_queues[:20]) or "none"
    more = len(change.matching_queues) - 20
    console.print(
        f"Queues it matches now ({len(change.matching_queues)}): {shown}"
        + (f" and {more} more" if more > 0 else "")
    )


@policies_app.command("set")
def policies_set(
    name: Annotated[str, typer.Argument(help="Policy name.")],
    pattern: Annotated[str, typer.Option("--pattern", help="Regex on queue/exchange names.")],
    definition: Annotated[
        str, typer.Option("--definition", help='JSON object, e.g. {"max-length": 1000}.')
    ],
    priority: Annotated[int, typer.Option("--priority", help="Higher wins.")] = 0,
    apply_to: Annotated[
        str,
        typer.Option(
            "--apply-to",
            help="queues, exchanges, all, classic_queues, quorum_queues or streams.",
        ),
    ] = "queues",
    operator: OperatorOpt = False,
    vhost: VhostOpt = None,
    dry_run: DryRunOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Create or replace a policy; shows it before and after and the queues it matches.

    The dry run checks the pattern and definition shape here (the management API has no
    validate-only mode); the broker checks the definition's keys on the real set.

    \b
    Examples:
      mqctl policies set cap --pattern '^orders\\.' --definition '{"max-length": 100000}' --dry-run
      mqctl policies set dlx --pattern '.*' --definition '{"dead-letter-exchange": "dlx"}'
      mqctl policies set limit --operator --pattern '.*' \\
          --definition '{"max-length-bytes": 1000000000}'
    """
    import json

    from mqctl.errors import UsageError
    from mqctl.services import rabbit_admin

    try:
        parsed = json.loads(definition)
    except ValueError as exc:
        raise UsageError(f"--definition is not JSON: {exc}") from None
    change = run_with_session(
        lambda s: rabbit_admin.set_policy(
            s,
            name,
            vhost=vhost,
            pattern=pattern,
            definition=parsed,
            priority=priority,
            apply_to=apply_to,
            operator=operator,
            dry_run=dry_run,
        )
    )
    render(change, output, table=_policy_table)


@policies_app.command("delete")
def policies_delete(
    name: Annotated[str, typer.Argument(help="Policy name.")],
    operator: OperatorOpt = False,
    vhost: VhostOpt = None,
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Delete a policy (asks first unless --yes); shows it and the queues it applied to.

    Examples:  mqctl policies delete cap --dry-run  |  mqctl policies delete cap --yes
    """
    from mqctl.services import rabbit_admin

    kind = "operator policy" if operator else "policy"

    def question(plan: PolicyChange) -> str:
        return f"Delete {kind} {name!r} (it matches {len(plan.matching_queues)} queue(s) now)?"

    ask = confirmation(question, yes)
    change = run_with_session(
        lambda s: rabbit_admin.delete_policy(
            s, name, vhost=vhost, operator=operator, dry_run=dry_run, confirm=ask
        )
    )
    render(change, output, table=_policy_table)


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


@users_app.command("list")
def users_list(output: OutputOpt = OutputFormat.table) -> None:
    """List users with their tags (never password hashes).

    Examples:  mqctl users list  |  mqctl users list -o json
    """
    from mqctl.services import rabbit_admin

    users = run_with_session(rabbit_admin.list_users)
    render(
        users,
        output,
        columns=[
            field_column("name", "USER"),
            field_column("tags", "TAGS"),
            field_column("has_password", "PASSWORD"),
            field_column("limits", "LIMITS"),
        ],
    )


@permissions_app.command("list")
def permissions_list(
    vhost: Annotated[str | None, typer.Option("--vhost", help="Only this vhost.")] = None,
    user: Annotated[str | None, typer.Option("--user", help="Only this user.")] = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """List permissions: per user and vhost, the configure/write/read patterns.

    Examples:  mqctl permissions list  |  mqctl permissions list --vhost / -o json  |
    mqctl permissions list --user app
    """
    from mqctl.services import rabbit_admin

    found = run_with_session(lambda s: rabbit_admin.list_permissions(s, vhost=vhost, user=user))
    render(
        found,
        output,
        columns=[
            field_column("user", "USER"),
            field_column("vhost", "VHOST"),
            field_column("configure", "CONFIGURE"),
            field_column("write", "WRITE"),
            field_column("read", "READ"),
        ],
    )


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
    from mqctl.services import rabbit_admin

    args = _arguments(arguments)
    change = run_with_session(
        lambda s: rabbit_admin.create_exchange(
            s,
            name,
            vhost=vhost,
            exchange_type=exchange_type,
            durable=not transient,
            auto_delete=auto_delete,
            internal=internal,
            arguments=args,
        )
    )
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

    args = _arguments(arguments)
    change = run_with_session(
        lambda s: rabbit_admin.create_binding(
            s,
            source,
            destination,
            vhost=vhost,
            destination_type="exchange" if to_exchange else "queue",
            routing_key=routing_key,
            arguments=args,
        )
    )
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

    args = _arguments(arguments)

    def question(plan: TopologyChange) -> str:
        return f"Delete binding {plan.name} in vhost {plan.vhost}?"

    ask = confirmation(question, yes)
    change = run_with_session(
        lambda s: rabbit_admin.delete_binding(
            s,
            source,
            destination,
            vhost=vhost,
            destination_type="exchange" if to_exchange else "queue",
            routing_key=routing_key,
            arguments=args,
            dry_run=dry_run,
            confirm=ask,
        )
    )
    render(change, output, table=_topology_table)
