"""``mqctl federation list`` and ``federation upstreams``: RabbitMQ federation status, read
only. A broker without the federation plugin is not a failure: an empty listing (exit 0) and
a note on stderr, so stdout stays parseable (``[]`` with ``-o json``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from mqctl.cli.common import AllVhostsOpt, OutputOpt, VhostOpt, run_with_session
from mqctl.output.render import Column, OutputFormat, field_column, render

if TYPE_CHECKING:
    from mqctl.models.rabbitmq_admin import PluginListing

federation_app = typer.Typer(help="RabbitMQ federation: links and upstreams.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(federation_app, name="federation")


def _note_missing_plugin(listing: PluginListing[Any]) -> None:
    if not listing.plugin_enabled:
        typer.echo(
            f"note: the federation plugin is not enabled on this broker ({listing.plugin}); "
            "nothing to list",
            err=True,
        )


@federation_app.command("list")
def federation_list(
    vhost: VhostOpt = None, all_vhosts: AllVhostsOpt = False, output: OutputOpt = OutputFormat.table
) -> None:
    """Federation links with their status (starting, running, error, shutdown) and the
    error text of a failing link; upstream URIs never show a password. Without the
    federation plugin on the broker: an empty list, exit 0, and a note on stderr.

    \b
    Examples:
      mqctl federation list --all-vhosts
      mqctl federation list -o json | jq '.[] | select(.status != "running")'
    """
    from mqctl.services import rabbit_admin

    listing = run_with_session(
        lambda s: rabbit_admin.list_federation_links(s, vhost=vhost, all_vhosts=all_vhosts)
    )
    _note_missing_plugin(listing)
    render(
        listing.items,
        output,
        columns=[
            field_column("vhost", "VHOST"),
            field_column("upstream", "UPSTREAM"),
            field_column("type", "TYPE"),
            field_column("local", "LOCAL"),
            field_column("status", "STATUS"),
            Column("ERROR", lambda link: link.error or ""),
            field_column("node", "NODE"),
        ],
    )


@federation_app.command("upstreams")
def federation_upstreams(
    vhost: VhostOpt = None, all_vhosts: AllVhostsOpt = False, output: OutputOpt = OutputFormat.table
) -> None:
    """Federation upstreams: URI (password redacted), prefetch, ack mode, reconnect delay,
    max hops (RabbitMQ's defaults filled in when the upstream does not set them).

    \b
    Examples:
      mqctl federation upstreams
      mqctl federation upstreams --all-vhosts -o yaml
    """
    from mqctl.services import rabbit_admin

    listing = run_with_session(
        lambda s: rabbit_admin.list_federation_upstreams(s, vhost=vhost, all_vhosts=all_vhosts)
    )
    _note_missing_plugin(listing)
    render(
        listing.items,
        output,
        columns=[
            field_column("vhost", "VHOST"),
            field_column("name", "UPSTREAM"),
            field_column("uri", "URI"),
            field_column("prefetch_count", "PREFETCH"),
            field_column("ack_mode", "ACK MODE"),
            field_column("max_hops", "MAX HOPS"),
        ],
    )
