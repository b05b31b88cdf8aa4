"""``mqctl cluster describe``, ``topics config get/set/delete``, ``brokers config
get/set/delete``: Kafka cluster metadata and configs (kcat -L, kafka-configs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mqctl.cli.common import OutputOpt, YesOpt, confirmation, run_with_session
from mqctl.completion import completer
from mqctl.output.render import Column, OutputFormat, field_column, render

if TYPE_CHECKING:
    from rich.console import Console

    from mqctl.models.admin import ClusterInfo, ConfigDiff, OffsetsDeleted

cluster_app = typer.Typer(help="Kafka cluster: brokers, controller, health.", no_args_is_help=True)
brokers_app = typer.Typer(help="Kafka brokers: dynamic configs.", no_args_is_help=True)
broker_config_app = typer.Typer(
    help="Broker configs: get, set, delete (dynamic, per broker or cluster-wide default).",
    no_args_is_help=True,
)
topic_config_app = typer.Typer(
    help="Topic configs: get, set, delete (only the named keys change).", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    from mqctl.cli.offsets import offsets_app
    from mqctl.cli.topics import topics_app

    app.add_typer(cluster_app, name="cluster")
    app.add_typer(brokers_app, name="brokers")
    brokers_app.add_typer(broker_config_app, name="config")
    topics_app.add_typer(topic_config_app, name="config")
    offsets_app.command("delete")(offsets_delete)


DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Let the broker validate the change; change nothing.")
]
AllOpt = Annotated[
    bool, typer.Option("--all", help="Every config, defaults included (default: overrides only).")
]


def _cluster_table(info: ClusterInfo, console: Console) -> None:
    from mqctl.output.render import render_table

    console.print(
        f"Cluster {info.cluster_id or '?'} via {info.bootstrap}: {len(info.brokers)} broker(s), "
        f"controller {info.controller if info.controller is not None else '?'}, "
        f"{info.topic_count} topics, {info.partition_count} partitions, "
        f"{info.under_replicated_partitions} under-replicated, "
        f"{info.offline_partitions} offline"
    )
    render_table(
        info.brokers,
        [
            field_column("id", "BROKER", "right"),
            Column("ENDPOINT", lambda b: f"{b.host}:{b.port}"),
            field_column("rack", "RACK"),
            field_column("is_controller", "CONTROLLER"),
            field_column("leader_partitions", "LEADERS", "right"),
            field_column("replica_partitions", "REPLICAS", "right"),
        ],
        console,
    )
    render_table(
        info.topics,
        [
            field_column("name", "TOPIC"),
            field_column("partition_count", "PARTITIONS", "right"),
            field_column("replication_factor", "RF", "right"),
            Column(
                "LEADERS (broker=partitions)",
                lambda t: " ".join(f"{b}={n}" for b, n in t.leaders.items()) or "-",
            ),
            field_column("under_replicated", "UNDER-REPLICATED", "right"),
            field_column("offline", "OFFLINE", "right"),
            field_column("error", "ERROR"),
        ],
        console,
    )


@cluster_app.command("describe")
def cluster_describe(
    topic: Annotated[
        list[str] | None, typer.Option("--topic", "-t", help="Only these topics (repeatable).")
    ] = None,
    internal: Annotated[
        bool, typer.Option("--internal", help="List __internal topics too.")
    ] = False,
    brief: Annotated[
        bool, typer.Option("--brief", help="JSON/YAML without the per-partition detail.")
    ] = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Cluster id, controller, brokers (endpoint, rack, leaders), and per topic the
    partition leaders, under-replicated and offline partitions (what kcat -L shows).

    Health counts cover every topic, internal ones included. JSON/YAML carry each
    partition's leader, replicas, ISR and offline replicas unless --brief. On KRaft clusters
    the "controller" is the broker the metadata names (clients never see the quorum).

    Examples:  mqctl cluster describe  |  mqctl cluster describe -o json  |
    mqctl cluster describe -t orders -o yaml
    """
    from mqctl.services import cluster

    info = run_with_session(
        lambda s: cluster.describe_cluster(
            s, topics=list(topic or []) or None, include_internal=internal, partitions=not brief
        )
    )
    render(info, output, table=_cluster_table)


CONFIG_COLUMNS = [
    field_column("name", "CONFIG"),
    Column("VALUE", lambda e: "(sensitive)" if e.sensitive else e.value),
    field_column("source", "SOURCE"),
    field_column("is_default", "DEFAULT"),
    field_column("read_only", "READ-ONLY"),
]


def _shown(value: str | None, sensitive: bool) -> str | None:
    return "(sensitive)" if sensitive else value


def _diff_table(diff: ConfigDiff, console: Console) -> None:
    from mqctl.output.render import render_table

    label = (
        f"{diff.resource_type} {diff.resource}"
        if diff.resource
        else "the cluster-wide broker default"
    )
    changed = sum(1 for c in diff.changes if c.changed)
    head = "Dry run (validated by the broker, nothing changed)" if diff.dry_run else "Changed"
    console.print(f"{head}: {label}, {changed} of {len(diff.changes)} config(s) change")
    render_table(
        diff.changes,
        [
            field_column("name", "CONFIG"),
            field_column("action", "ACTION"),
            Column("CURRENT", lambda c: _shown(c.value, c.sensitive)),
            Column("NEW", lambda c: _shown(c.new_value, c.sensitive) or "(default)"),
            field_column("source", "CURRENT SOURCE"),
            field_column("changed", "CHANGES"),
        ],
        console,
    )


def _parse_pairs(pairs: list[str]) -> dict[str, str]:
    from mqctl.messages.headers import parse_unique

    return parse_unique(pairs, "KEY=VALUE")


def _get(kind: str, name: str, all_configs: bool, output: OutputFormat) -> None:
    from mqctl.services import cluster

    entries = run_with_session(
        lambda s: cluster.get_configs(s, kind, name, all_configs=all_configs)
    )
    render(entries, output, columns=CONFIG_COLUMNS)


def _change(
    kind: str,
    name: str,
    set_configs: dict[str, str],
    delete_configs: list[str],
    dry_run: bool,
    output: OutputFormat,
) -> None:
    from mqctl.services import cluster

    diff = run_with_session(
        lambda s: cluster.change_configs(
            s, kind, name, set_configs=set_configs, delete_configs=delete_configs, dry_run=dry_run
        )
    )
    render(diff, output, table=_diff_table)


TopicArg = Annotated[str, typer.Argument(help="Topic name.", autocompletion=completer("topic"))]
PairsArg = Annotated[list[str], typer.Argument(help="KEY=VALUE pairs to set.")]
KeysArg = Annotated[list[str], typer.Argument(help="Config keys to delete (back to default).")]


@topic_config_app.command("get")
def topic_config_get(
    name: TopicArg, all_configs: AllOpt = False, output: OutputOpt = OutputFormat.table
) -> None:
    """Show the topic's overridden configs (--all: every config, with its source).

    Examples:  mqctl topics config get orders  |  mqctl topics config get orders --all -o json
    """
    _get("topic", name, all_configs, output)


@topic_config_app.command("set")
def topic_config_set(
    name: TopicArg,
    pairs: PairsArg,
    dry_run: DryRunOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Set topic configs (only these keys change) and show the diff.

    Examples:  mqctl topics config set orders retention.ms=86400000 --dry-run  |
    mqctl topics config set orders cleanup.policy=compact min.insync.replicas=2
    """
    _change("topic", name, _parse_pairs(pairs), [], dry_run, output)


@topic_config_app.command("delete")
def topic_config_delete(
    name: TopicArg,
    keys: KeysArg,
    dry_run: DryRunOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Remove topic config overrides (back to the broker's value) and show the diff.

    Examples:  mqctl topics config delete orders retention.ms --dry-run  |
    mqctl topics config delete orders retention.ms cleanup.policy
    """
    _change("topic", name, {}, list(keys), dry_run, output)


BrokerArg = Annotated[
    str | None,
    typer.Argument(help="Broker id (see `mqctl cluster describe`); omit with --default."),
]
DefaultOpt = Annotated[
    bool,
    typer.Option("--default", help="The cluster-wide dynamic default of every broker."),
]


def _broker_name(broker: str | None, default: bool) -> str:
    from mqctl.errors import UsageError

    if default == (broker is not None):
        raise UsageError("give a broker id or --default (one of them)")
    return "" if default else str(broker)


@broker_config_app.command("get")
def broker_config_get(
    broker: BrokerArg = None,
    default: DefaultOpt = False,
    all_configs: AllOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Show a broker's configs that are not defaults (--all: every config with its source:
    dynamic-broker, dynamic-default-broker, static-broker, default).

    Examples:  mqctl brokers config get 1  |  mqctl brokers config get 1 --all -o json  |
    mqctl brokers config get --default
    """
    _get("broker", _broker_name(broker, default), all_configs, output)


@broker_config_app.command("set")
def broker_config_set(
    pairs: Annotated[list[str], typer.Argument(help="[BROKER] KEY=VALUE ... (see examples).")],
    default: DefaultOpt = False,
    dry_run: DryRunOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Set dynamic broker configs (only these keys change; the broker refuses configs that
    are not dynamically updatable) and show the diff.

    Examples:  mqctl brokers config set 1 log.cleaner.threads=2 --dry-run  |
    mqctl brokers config set --default log.retention.ms=604800000
    """
    broker, rest = _split_broker(pairs)
    _change("broker", _broker_name(broker, default), _parse_pairs(rest), [], dry_run, output)


@broker_config_app.command("delete")
def broker_config_delete(
    keys: Annotated[list[str], typer.Argument(help="[BROKER] KEY ... (see examples).")],
    default: DefaultOpt = False,
    dry_run: DryRunOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Remove dynamic broker config overrides (back to the next source) and show the diff.

    Examples:  mqctl brokers config delete 1 log.cleaner.threads --dry-run  |
    mqctl brokers config delete --default log.retention.ms
    """
    broker, rest = _split_broker(keys)
    _change("broker", _broker_name(broker, default), {}, rest, dry_run, output)


def _split_broker(words: list[str]) -> tuple[str | None, list[str]]:
    """A leading all-digits word is the broker id; the rest are configs."""
    from mqctl.errors import UsageError

    if words and words[0].isdigit():
        broker, rest = words[0], words[1:]
    else:
        broker, rest = None, list(words)
    if not rest:
        raise UsageError("name at least one config")
    return broker, rest


def offsets_delete(
    group: Annotated[
        str, typer.Argument(help="Consumer group id.", autocompletion=completer("group"))
    ],
    topic: Annotated[str, typer.Option("--topic", "-t", help="Topic (TOPIC or TOPIC:P,P...).")],
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Delete a group's committed offsets for one topic (all its partitions, or the listed
    ones). Refused while a member of the group is subscribed to the topic; asks first unless
    --yes. The group starts that topic again from its auto.offset.reset position.

    Examples:  mqctl offsets delete orders-group --topic old.orders --dry-run  |
    mqctl offsets delete orders-group -t old.orders:0,1 --yes
    """
    from mqctl.lag.parsing import parse_topic_selection
    from mqctl.services import cluster

    name, parts = parse_topic_selection(topic)
    partitions = list(parts) if parts is not None else None

    def question(plan: OffsetsDeleted) -> str:
        where = ",".join(map(str, plan.partitions))
        return f"Delete the committed offsets of group {plan.group!r} for {plan.topic}/{where}?"

    ask = confirmation(question, yes)
    result = run_with_session(
        lambda s: cluster.delete_offsets(s, group, name, partitions, dry_run=dry_run, confirm=ask)
    )
    if output != OutputFormat.table:
        render(result, output)
        return
    verb = "would delete (dry run, nothing changed)" if dry_run else "deleted"
    where = ",".join(map(str, result.partitions))
    typer.echo(f"{verb} committed offsets of group {result.group} for {result.topic}/{where}")


def warn_keyed_ordering(topic: str, before: int, after: int) -> None:
    import sys

    if after > before:
        sys.stderr.write(
            f"warning: topic {topic} grows from {before} to {after} partitions: keys hash to "
            "other partitions from now on, so records of one key are no longer in order with "
            "the ones before the change (and consumers of keyed state may need a rebuild)\n"
        )


def grow_partitions(name: str, total: int, dry_run: bool) -> None:
    """``topics alter --partitions N``: grow to N in total (refuses to shrink)."""
    from mqctl.services import cluster

    before, after = run_with_session(
        lambda s: cluster.set_partition_count(s, name, total, dry_run=dry_run)
    )
    if before == after:
        typer.echo(f"topic {name} already has {after} partitions: nothing to change")
        return
    warn_keyed_ordering(name, before, after)
    prefix = "dry run, nothing changed: would grow" if dry_run else "grew"
    typer.echo(f"{prefix} topic {name} from {before} to {after} partitions")
