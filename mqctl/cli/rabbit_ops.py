"""``mqctl nodes list``, ``shovels list``, ``connections close``, ``definitions
export/import``: RabbitMQ operations (health, data movement, clients, topology as a file)."""

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

    from mqctl.models.rabbitmq_admin import ConnectionClose, DefinitionsImport, NodeInfo

nodes_app = typer.Typer(help="RabbitMQ cluster nodes: alarms, partitions.", no_args_is_help=True)
shovels_app = typer.Typer(help="RabbitMQ shovels: status.", no_args_is_help=True)
definitions_app = typer.Typer(
    help="RabbitMQ definitions (topology as JSON): export, import.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    from mqctl.cli.amqp import connections_app

    app.add_typer(nodes_app, name="nodes")
    app.add_typer(shovels_app, name="shovels")
    app.add_typer(definitions_app, name="definitions")
    connections_app.command("close")(connection_close)


def _bytes(value: int | None) -> str:
    if value is None:
        return "-"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def _alarms(node: NodeInfo) -> str:
    found = [n for n, on in (("memory", node.memory_alarm), ("disk", node.disk_free_alarm)) if on]
    return ",".join(found) or "none"


@nodes_app.command("list")
def nodes_list(output: OutputOpt = OutputFormat.table) -> None:
    """Cluster nodes: running, versions, memory and disk against their alarm limits, active
    alarms (a memory or disk alarm blocks every publisher) and network partitions.

    Examples:  mqctl nodes list  |  mqctl nodes list -o json
    """
    from mqctl.services import rabbit_admin

    nodes = run_with_session(rabbit_admin.list_nodes)
    render(
        nodes,
        output,
        columns=[
            field_column("name", "NODE"),
            field_column("running", "RUNNING"),
            field_column("rabbitmq_version", "VERSION"),
            field_column("erlang_version", "ERLANG"),
            Column("MEMORY", lambda n: f"{_bytes(n.memory_used)} / {_bytes(n.memory_limit)}"),
            Column(
                "DISK FREE", lambda n: f"{_bytes(n.disk_free)} (min {_bytes(n.disk_free_limit)})"
            ),
            Column("ALARMS", _alarms),
            Column("PARTITIONS", lambda n: ",".join(n.partitions) or "none"),
        ],
    )


@shovels_app.command("list")
def shovels_list(
    vhost: VhostOpt = None, all_vhosts: AllVhostsOpt = False, output: OutputOpt = OutputFormat.table
) -> None:
    """Shovels with their state (running, starting, terminated; "unknown" when defined but
    not running on any node), source and destination (passwords never shown).

    Examples:  mqctl shovels list --all-vhosts  |  mqctl shovels list -o json
    """
    from mqctl.services import rabbit_admin

    found = run_with_session(
        lambda s: rabbit_admin.list_shovels(s, vhost=vhost, all_vhosts=all_vhosts)
    )
    render(
        found,
        output,
        columns=[
            field_column("vhost", "VHOST"),
            field_column("name", "SHOVEL"),
            field_column("type", "TYPE"),
            field_column("state", "STATE"),
            field_column("source", "SOURCE"),
            field_column("destination", "DESTINATION"),
            field_column("node", "NODE"),
            field_column("reason", "REASON"),
        ],
    )


def connection_close(
    name: Annotated[str, typer.Argument(help="Connection name (see `connections list -o json`).")],
    reason: Annotated[
        str, typer.Option("--reason", help="What the client is told.")
    ] = "closed by an operator (mqctl)",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show the connection.")] = False,
    yes: YesOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Close a client connection; the client gets the reason in its connection.close.

    \b
    Examples:
      mqctl connections list -o json     # the NAME is the "name" field
      mqctl connections close '127.0.0.1:50412 -> 127.0.0.1:5672' --reason "INC-42" --yes
    """
    from mqctl.services import rabbit_admin

    def question(found: ConnectionClose) -> str:
        return f"Close connection {name!r} of user {found.user!r} ({found.channels} channels)?"

    ask = confirmation(question, yes)
    result = run_with_session(
        lambda s: rabbit_admin.close_connection(
            s, name, reason=reason, dry_run=dry_run, confirm=ask
        )
    )
    if output != OutputFormat.table:
        render(result, output)
        return
    verb = "would close (dry run, nothing changed)" if dry_run else "closed"
    typer.echo(
        f"{verb} connection {name} (user {result.user}, vhost {result.vhost}, "
        f"{result.channels} channel(s)): {reason}"
    )


@definitions_app.command("export")
def definitions_export(
    vhost: Annotated[
        str | None, typer.Option("--vhost", help="Only this vhost (default: the whole broker).")
    ] = None,
    include_secrets: Annotated[
        bool,
        typer.Option(
            "--include-secrets", help="Keep password hashes and passwords in shovel URIs."
        ),
    ] = False,
    file: Annotated[
        str | None, typer.Option("--file", "-f", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Export the broker's (or one vhost's) definitions as JSON: vhosts, users,
    permissions, policies, queues, exchanges, bindings, parameters.

    Users' password hashes and passwords in shovel/federation URIs are left out unless
    --include-secrets (then keep the file like a password).

    Examples:  mqctl definitions export > defs.json  |  mqctl definitions export --vhost /
    -f root.json  |  mqctl definitions export --include-secrets -f backup.json
    """
    import os

    from mqctl.output.render import dump_json
    from mqctl.services import rabbit_admin

    doc = run_with_session(
        lambda s: rabbit_admin.export_definitions(s, vhost=vhost, include_secrets=include_secrets)
    )
    if file is None:
        import sys

        dump_json(doc, sys.stdout)
        return
    from mqctl.errors import UsageError

    try:
        # Secrets may be inside: readable by the owner only.
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            dump_json(doc, out)
    except OSError as exc:
        raise UsageError(f"cannot write {file}: {exc.strerror or exc}") from None
    typer.echo(f"wrote the definitions to {file}", err=True)


def _import_table(result: DefinitionsImport, console: Console) -> None:
    from mqctl.output.render import render_table

    head = "Dry run (nothing changed)" if result.dry_run else "Imported"
    where = f"vhost {result.vhost}" if result.vhost is not None else "the broker"
    console.print(
        f"{head}: {result.file} into {where}: {result.added} to add, {result.changed} to "
        f"change, {result.unchanged} unchanged (import never deletes)"
    )
    shown = [c for c in result.changes if c.action != "same"]
    render_table(
        shown,
        [
            field_column("kind", "KIND"),
            field_column("key", "NAME"),
            field_column("action", "ACTION"),
            Column(
                "DIFFERENCES (now -> file)",
                lambda c: (
                    "; ".join(f"{k}: {v[0]} -> {v[1]}" for k, v in c.differences.items()) or "-"
                ),
            ),
        ],
        console,
    )


@definitions_app.command("import")
def definitions_import(
    file: Annotated[str, typer.Argument(help="Definitions JSON (from `definitions export`).")],
    vhost: Annotated[
        str | None, typer.Option("--vhost", help="Into this vhost (a per-vhost export).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be added or changed.")
    ] = False,
    yes: YesOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Import definitions: objects in the file are created or updated, nothing is deleted.
    --dry-run compares the file with the broker object by object. Users without a password
    hash and URIs with a redacted password (a secret-free export) are left out, with a
    warning.

    Examples:  mqctl definitions import defs.json --dry-run  |
    mqctl definitions import defs.json --yes  |  mqctl definitions import root.json --vhost /
    """
    import sys
    from pathlib import Path

    from mqctl.errors import UsageError
    from mqctl.services import rabbit_admin

    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {file}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{file}: not UTF-8 text (byte {exc.start})") from None
    doc = rabbit_admin.parse_definitions(text, file)

    def question(plan: DefinitionsImport) -> str:
        return f"Import {file}: add {plan.added}, change {plan.changed} object(s) (never deletes)?"

    ask = confirmation(question, yes)
    result = run_with_session(
        lambda s: rabbit_admin.import_definitions(
            s, doc, source=file, vhost=vhost, dry_run=dry_run, confirm=ask
        )
    )
    for warning in result.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    render(result, output, table=_import_table)
