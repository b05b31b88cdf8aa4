"""``mqctl topics``: Kafka topics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mqctl.cli import fleet
from mqctl.cli.common import OutputOpt, WideOpt, YesOpt, confirmation, run_with_session
from mqctl.completion import completer
from mqctl.output.render import Column, OutputFormat, field_column, render

if TYPE_CHECKING:
    from rich.console import Console

    from mqctl.models.inventory import TopicDetail

topics_app = typer.Typer(
    help="Kafka topics: list, describe, create, alter, delete.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(topics_app, name="topics")


TOPIC_COLUMNS = [
    Column("TOPIC", lambda t: t.name, shrink=True),
    field_column("partitions", "PARTITIONS", "right"),
    field_column("replication_factor", "RF", "right"),
    field_column("messages", "MESSAGES", "right"),
]


@topics_app.command("list")
def list_cmd(
    output: OutputOpt = OutputFormat.table,
    wide: WideOpt = False,
    internal: Annotated[
        bool, typer.Option("--internal", help="Include __internal topics.")
    ] = False,
    contexts: fleet.ContextsOpt = None,
    all_contexts: fleet.AllContextsOpt = False,
) -> None:
    """List topics with partition count, replication factor and message count.

    Examples:  mqctl topics list  |  mqctl topics list -o json --internal  |
    mqctl topics list --all-contexts
    """
    from mqctl.services import inventory

    if fleet.wanted(contexts, all_contexts):
        fleet.listing(
            lambda s: inventory.list_topics(s, include_internal=internal),
            contexts,
            all_contexts,
            output,
            TOPIC_COLUMNS,
        )
        return

    topics = run_with_session(lambda s: inventory.list_topics(s, include_internal=internal))
    render(topics, output, columns=TOPIC_COLUMNS, wide=wide)


def _detail_table(detail: TopicDetail, console: Console, all_configs: bool = False) -> None:
    from mqctl.output.render import render_table

    console.print(
        f"Topic {detail.name}: {len(detail.partitions)} partitions, "
        f"replication factor {detail.replication_factor}, {detail.messages} messages"
    )
    render_table(
        detail.partitions,
        [
            field_column("partition", "PARTITION", "right"),
            field_column("leader", "LEADER", "right"),
            field_column("replicas", "REPLICAS"),
            field_column("isr", "ISR"),
            field_column("log_start_offset", "START", "right"),
            field_column("end_offset", "END", "right"),
            Column("MESSAGES", lambda p: p.messages, "right"),
        ],
        console,
    )
    shown = detail.configs if all_configs else [c for c in detail.configs if not c.is_default]
    if all_configs:
        console.print(f"Configs ({len(shown)}; DEFAULT=no means overridden):")
    else:
        console.print(f"Configs overridden for this topic ({len(shown)}; --all-configs for all):")
    render_table(
        shown or [],
        [
            field_column("name", "CONFIG"),
            field_column("value", "VALUE"),
            field_column("is_default", "DEFAULT"),
            field_column("source", "SOURCE"),
        ],
        console,
    )


@topics_app.command("describe")
def describe_cmd(
    name: Annotated[
        str,
        typer.Argument(
            help="Topic name (kafka:NAME to be explicit).", autocompletion=completer("topic")
        ),
    ],
    output: OutputOpt = OutputFormat.table,
    all_configs: Annotated[
        bool,
        typer.Option("--all-configs", help="Show every config, marking defaults (table output)."),
    ] = False,
) -> None:
    """Partitions with leaders, replicas, ISR and offsets, plus the topic's configs.

    The table shows the configs overridden for this topic (source topic or broker); JSON/YAML
    always carry every config with is_default and source.

    Examples:  mqctl topics describe order.created  |  mqctl topics describe order.created -o yaml
    """
    from mqctl.services import inventory

    detail = run_with_session(lambda s: inventory.describe_topic(s, name))
    render(detail, output, table=lambda d, c: _detail_table(d, c, all_configs))


ConfigOpt = Annotated[
    list[str] | None,
    typer.Option("--config", help="Topic config k=v, e.g. retention.ms=86400000 (repeatable)."),
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Let the broker validate the change, apply nothing.")
]


@topics_app.command("create")
def create_cmd(
    name: Annotated[str, typer.Argument(help="New topic name.")],
    partitions: Annotated[
        int | None,
        typer.Option("--partitions", min=1, help="Partition count (default: broker default)."),
    ] = None,
    replication_factor: Annotated[
        int | None,
        typer.Option(
            "--replication-factor", "-r", min=1, help="Replicas (default: broker default)."
        ),
    ] = None,
    config: ConfigOpt = None,
    dry_run: DryRunOpt = False,
) -> None:
    """Create a topic. Existing names and invalid configs are refused with exit 2.

    Examples:  mqctl topics create orders.v2 --partitions 6 --config retention.ms=86400000  |
    mqctl topics create orders.v2 --partitions 6 --dry-run
    """
    from mqctl.messages.headers import parse_unique
    from mqctl.services import topics

    configs = parse_unique(config, "--config")
    bare = run_with_session(
        lambda s: topics.create_topic(
            s,
            name,
            partitions=partitions,
            replication_factor=replication_factor,
            configs=configs,
            dry_run=dry_run,
        )
    )
    verb = "would create (dry run, nothing changed)" if dry_run else "created"
    typer.echo(f"{verb} topic {bare}")


@topics_app.command("delete")
def delete_cmd(
    names: Annotated[
        list[str], typer.Argument(help="Topics to delete.", autocompletion=completer("topic"))
    ],
    yes: YesOpt = False,
    dry_run: DryRunOpt = False,
) -> None:
    """Delete topics and all their messages (asks first unless --yes). If any name does not
    exist nothing is deleted (exit 4).

    Examples:  mqctl topics delete orders.tmp  |  mqctl topics delete a b c --yes
    """
    from mqctl.services import topics

    def question(bare: list[str]) -> str:
        return f"Delete topic(s) {', '.join(bare)} and all their messages?"

    ask = confirmation(question, yes)
    deleted = run_with_session(
        lambda s: topics.delete_topics(s, names, dry_run=dry_run, confirm=ask)
    )
    verb = "would delete (dry run, nothing changed)" if dry_run else "deleted"
    typer.echo(f"{verb} topic{'s' if len(deleted) > 1 else ''} {', '.join(deleted)}")


@topics_app.command("alter")
def alter_cmd(
    name: Annotated[
        str, typer.Argument(help="Topic to change.", autocompletion=completer("topic"))
    ],
    config: ConfigOpt = None,
    delete_config: Annotated[
        list[str] | None,
        typer.Option("--delete-config", help="Remove an override: back to the default."),
    ] = None,
    add_partitions: Annotated[
        int | None,
        typer.Option("--add-partitions", min=1, help="Add N partitions (never removes any)."),
    ] = None,
    partitions: Annotated[
        int | None,
        typer.Option("--partitions", min=1, help="Grow to N partitions in total (never shrinks)."),
    ] = None,
    dry_run: DryRunOpt = False,
) -> None:
    """Change topic configs (only the named ones) and/or add partitions.

    Examples:  mqctl topics alter orders --config retention.ms=3600000 --dry-run  |
    mqctl topics alter orders --add-partitions 6  |
    mqctl topics alter orders --delete-config retention.ms  |
    mqctl topics alter orders --partitions 12

    Adding partitions changes which partition a key hashes to: records with the same key may
    land in another partition than before, so per-key ordering holds only for new records.
    """
    from mqctl.messages.headers import parse_unique
    from mqctl.services import topics

    configs = parse_unique(config, "--config")
    if partitions is not None:
        from mqctl.cli.kafka_admin import grow_partitions

        if add_partitions is not None:
            from mqctl.errors import UsageError

            raise UsageError("--partitions and --add-partitions exclude each other")
        grow_partitions(name, partitions, dry_run)
        if not configs and not delete_config:
            return
    result = run_with_session(
        lambda s: topics.alter_topic(
            s,
            name,
            set_configs=configs,
            delete_configs=list(delete_config or []),
            add_partitions=add_partitions,
            dry_run=dry_run,
        )
    )
    prefix = "dry run, nothing changed: would " if dry_run else ""
    changes = [f"{k}={v}" for k, v in configs.items()] + [
        f"{k} (back to default)" for k in delete_config or []
    ]
    if changes:
        typer.echo(f"{prefix}set {', '.join(changes)} on topic {name}")
    if result is not None:
        from mqctl.cli.kafka_admin import warn_keyed_ordering

        warn_keyed_ordering(name, *result)
        typer.echo(
            f"{prefix}{'grow' if dry_run else 'grew'} topic {name} "
            f"from {result[0]} to {result[1]} partitions"
        )
