"""The AMQP-only inventory: one exchange in depth and the client connections.

Vhosts, exchanges and bindings listings are in :mod:`mqctl.services.inventory` (every
:class:`~mqctl.backend.QueueCatalog` has them); these two are optional capabilities.
"""

from __future__ import annotations

from mqctl.backend import ConnectionLister, ExchangeDetails
from mqctl.models.inventory import ConnectionInfo, ExchangeDetail
from mqctl.services.inventory import split_prefix
from mqctl.session import Session


async def describe_exchange(
    session: Session, name: str, *, vhost: str | None = None
) -> ExchangeDetail:
    """``name`` may carry a broker prefix (``rabbitmq:orders``)."""
    backend, bare = split_prefix(name)
    what = "describing exchanges"
    _, exchanges = session.backend_for(ExchangeDetails, what, backend=backend)
    return await exchanges.describe_exchange(bare, vhost=vhost)


async def list_connections(
    session: Session, *, vhost: str | None = None, all_vhosts: bool = False
) -> list[ConnectionInfo]:
    _, lister = session.backend_for(ConnectionLister, "listing connections")
    return await lister.list_connections(vhost=vhost, all_vhosts=all_vhosts)
