"""``mqctl exporter``: one Prometheus endpoint for one or many contexts: lag, doctor
findings and a per-backend ``up`` gauge (docs/lag.md, "Exporter for a fleet")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mqctl.cli.fleet import AllContextsOpt, ContextsOpt

if TYPE_CHECKING:
    from mqctl.services.lag import LagQuery


def register(app: typer.Typer) -> None:
    app.command("exporter")(exporter_cmd)


def exporter_cmd(
    listen: Annotated[
        str, typer.Option("--listen", help="HOST:PORT to serve /metrics on (loopback default).")
    ] = "127.0.0.1:9308",
    every: Annotated[
        float, typer.Option("--every", min=0.5, help="Seconds between lag samples.")
    ] = 15.0,
    doctor_every: Annotated[
        float, typer.Option("--doctor-every", min=1.0, help="Seconds between doctor runs.")
    ] = 60.0,
    count: Annotated[
        int | None, typer.Option("--count", min=1, help="Stop after N lag samples (tests).")
    ] = None,
    contexts: ContextsOpt = None,
    all_contexts: AllContextsOpt = False,
) -> None:
    """Serve lag, doctor findings and broker reachability of several contexts to Prometheus.

    Every series carries the context (``cluster_name`` on the lag series, as
    kafka-lag-exporter names it; ``context`` on mqctl_up and the doctor series).

    Examples:  mqctl exporter --all-contexts  |  mqctl exporter --context prod,staging
    --listen 127.0.0.1:9308
    """
    from mqctl.services.lag import LagQuery

    serve_fleet(LagQuery(), listen, every, contexts, all_contexts, doctor_every, count)


def serve_fleet(
    query: LagQuery,
    address: str,
    every: float,
    contexts: str | None,
    all_contexts: bool,
    doctor_every: float = 60.0,
    count: int | None = None,
) -> None:
    import asyncio
    import sys

    from mqctl import fleet
    from mqctl.cli.common import invocation
    from mqctl.config import load_config, resolve_context
    from mqctl.doctor.exporter import FleetExporter

    current = invocation()
    config = load_config()
    names = contexts or current.context
    if fleet.is_fleet(names, all_contexts):
        selected = fleet.select(config, names, all_contexts)
    else:
        selected = [resolve_context(config, names)]
    exporter = FleetExporter(selected, address)
    exporter.start()
    sys.stderr.write(
        f"serving metrics of {', '.join(c.name for c in selected)} on "
        f"http://{exporter.host}:{exporter.port}/metrics (every {every:g}s, Ctrl-C to stop)\n"
    )
    sys.stderr.flush()
    try:
        asyncio.run(exporter.run(query, every, doctor_every, timeout=current.timeout, count=count))
    finally:
        exporter.stop()
