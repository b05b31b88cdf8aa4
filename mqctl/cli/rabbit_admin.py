"""``mqctl policies``, ``users list``, ``permissions list``: RabbitMQ administration
(rabbitmqadmin's everyday verbs); the topology verbs are in cli/rabbit_topology.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

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

    from mqctl.models.rabbitmq_admin import PolicyChange

policies_app = typer.Typer(
    help="RabbitMQ policies and operator policies: list, set, delete.", no_args_is_help=True
)
users_app = typer.Typer(help="RabbitMQ users (never their password hashes).", no_args_is_help=True)
permissions_app = typer.Typer(help="RabbitMQ user permissions per vhost.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    from mqctl.cli import rabbit_topology

    app.add_typer(policies_app, name="policies")
    app.add_typer(users_app, name="users")
    app.add_typer(permissions_app, name="permissions")
    rabbit_topology.register(app)


DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Show what would change; change nothing.")
]
OperatorOpt = Annotated[
    bool, typer.Option("--operator", help="Operator policies (caps the operator enforces).")
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
    from mqctl.models.rabbitmq_admin import PolicySpec
    from mqctl.services import rabbit_admin

    try:
        parsed = json.loads(definition)
    except ValueError as exc:
        raise UsageError(f"--definition is not JSON: {exc}") from None
    spec = PolicySpec(name, vhost, pattern, parsed, priority, apply_to, operator)
    change = run_with_session(lambda s: rabbit_admin.set_policy(s, spec, dry_run=dry_run))
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
