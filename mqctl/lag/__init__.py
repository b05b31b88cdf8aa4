"""Broker-neutral lag logic: group models, status rules, runbook checks, exporter.

Nothing here imports a broker client; backends produce :class:`mqctl.models.lag.LagEntry`
snapshots and this package judges them (docs/lag.md documents the rules).
"""
