"""``mqctl acls list|create|delete``: Kafka ACLs (kafka-acls), on a cluster with an
authorizer (StandardAuthorizer on KRaft)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mqctl.cli.common import OutputOpt, YesOpt, confirmation, run_with_session
from mqctl.output.render import OutputFormat, field_column, render

if TYPE_CHECKING:
    from rich.console import Console

    from mqctl.models.admin import AclChange, AclQuery

acls_app = typer.Typer(help="Kafka ACLs: list, create, delete.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(acls_app, name="acls")


ACL_COLUMNS = [
    field_column("principal", "PRINCIPAL"),
    field_column("permission", "PERMISSION"),
    field_column("operation", "OPERATION"),
    field_column("resource_type", "RESOURCE"),
    field_column("resource_name", "NAME"),
    field_column("pattern_type", "PATTERN"),
    field_column("host", "HOST"),
]

PrincipalOpt = Annotated[
    str | None, typer.Option("--principal", help="TYPE:NAME, e.g. User:alice.")
]
HostOpt = Annotated[str | None, typer.Option("--host", help="Client host ('*' = any).")]
OperationOpt = Annotated[
    str | None,
    typer.Option(
        "--operation",
        help="read, write, create, delete, alter, describe, describe-configs, alter-configs, "
        "idempotent-write, cluster-action, all.",
    ),
]
PermissionOpt = Annotated[str | None, typer.Option("--permission", help="allow or deny.")]
ResourceTypeOpt = Annotated[
    str | None,
    typer.Option(
        "--resource-type", help="topic, group, cluster, transactional-id, delegation-token, user."
    ),
]
ResourceNameOpt = Annotated[
    str | None, typer.Option("--resource-name", help="Topic/group name, or prefix.")
]
PatternOpt = Annotated[
    str | None, typer.Option("--pattern-type", help="literal or prefixed (match: filters only).")
]


def _query(
    principal: str | None,
    host: str | None,
    operation: str | None,
    permission: str | None,
    resource_type: str | None,
    resource_name: str | None,
    pattern_type: str | None,
) -> AclQuery:
    from mqctl.models.admin import AclQuery

    return AclQuery(
        principal=principal,
        host=host,
        operation=operation or "any",
        permission=permission or "any",
        resource_type=resource_type or "any",
        resource_name=resource_name,
        pattern_type=pattern_type or "any",
    )


@acls_app.command("list")
def acls_list(
    principal: PrincipalOpt = None,
    host: HostOpt = None,
    operation: OperationOpt = None,
    permission: PermissionOpt = None,
    resource_type: ResourceTypeOpt = None,
    resource_name: ResourceNameOpt = None,
    pattern_type: PatternOpt = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """List ACLs, all or those matching the filters (--pattern-type match: every ACL that
    applies to --resource-name, literal, prefixed and wildcard).

    Examples:  mqctl acls list  |  mqctl acls list --principal User:alice -o json  |
    mqctl acls list --resource-type topic --resource-name orders --pattern-type match
    """
    from mqctl.services import acls

    query = _query(
        principal, host, operation, permission, resource_type, resource_name, pattern_type
    )
    found = run_with_session(lambda s: acls.list_acls(s, query))
    render(found, output, columns=ACL_COLUMNS)


def _change_table(change: AclChange, console: Console) -> None:
    from mqctl.output.render import render_table

    if change.dry_run:
        head = f"Dry run (nothing changed): would {change.action}"
    else:
        head = "Created" if change.action == "create" else "Deleted"
    console.print(f"{head} {len(change.acls)} ACL(s)")
    render_table(change.acls, ACL_COLUMNS, console)


@acls_app.command("create")
def acls_create(
    principal: Annotated[str, typer.Option("--principal", help="TYPE:NAME, e.g. User:alice.")],
    operation: Annotated[str, typer.Option("--operation", help="read, write, describe, ...")],
    resource_type: Annotated[
        str, typer.Option("--resource-type", help="topic, group, cluster, transactional-id ...")
    ],
    resource_name: Annotated[
        str, typer.Option("--resource-name", help="Name, prefix, '*' for all, kafka-cluster.")
    ],
    permission: Annotated[str, typer.Option("--permission", help="allow or deny.")] = "allow",
    pattern_type: Annotated[
        str, typer.Option("--pattern-type", help="literal or prefixed.")
    ] = "literal",
    host: Annotated[str, typer.Option("--host", help="Client host ('*' = any).")] = "*",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the names and the authorizer only.")
    ] = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Create one ACL (creating an existing one again is fine).

    \b
    Examples:
      mqctl acls create --principal User:alice --operation read \\
          --resource-type topic --resource-name orders
      mqctl acls create --principal User:etl --operation write \\
          --resource-type topic --resource-name orders. --pattern-type prefixed
    """
    from mqctl.models.admin import AclBinding
    from mqctl.services import acls

    binding = AclBinding(
        principal=principal,
        host=host,
        operation=operation.lower(),
        permission=permission.lower(),
        resource_type=resource_type.lower(),
        resource_name=resource_name,
        pattern_type=pattern_type.lower(),
    )
    change = run_with_session(lambda s: acls.create_acl(s, binding, dry_run=dry_run))
    render(change, output, table=_change_table)


@acls_app.command("delete")
def acls_delete(
    principal: PrincipalOpt = None,
    host: HostOpt = None,
    operation: OperationOpt = None,
    permission: PermissionOpt = None,
    resource_type: ResourceTypeOpt = None,
    resource_name: ResourceNameOpt = None,
    pattern_type: PatternOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what the filter matches; delete nothing.")
    ] = False,
    yes: YesOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Delete every ACL matching the filters (at least --principal or --resource-name);
    shows them and asks first unless --yes. Nothing matching is exit 4.

    Examples:  mqctl acls delete --principal User:alice --dry-run  |
    mqctl acls delete --principal User:alice --resource-type topic --resource-name orders --yes
    """
    from mqctl.services import acls

    query = _query(
        principal, host, operation, permission, resource_type, resource_name, pattern_type
    )

    def question(plan: AclChange) -> str:
        shown = "; ".join(
            f"{a.principal} {a.permission} {a.operation} on {a.resource_type} {a.resource_name}"
            for a in plan.acls[:5]
        )
        more = f" and {len(plan.acls) - 5} more" if len(plan.acls) > 5 else ""
        return f"Delete {len(plan.acls)} ACL(s): {shown}{more}?"

    ask = confirmation(question, yes)
    change = run_with_session(lambda s: acls.delete_acls(s, query, dry_run=dry_run, confirm=ask))
    render(change, output, table=_change_table)
