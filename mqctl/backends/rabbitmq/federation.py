"""Federation status through the management API: links (``/federation-links``, served by
rabbitmq_federation_management) and upstreams (``federation-upstream`` runtime parameters).

Read only. A broker without the federation plugins answers 404 for the links; that is not
an error for mqctl but an empty listing marked ``plugin_enabled=False``, so a runbook asking
"are my links running?" on a broker that has none gets ``[]`` and a note, not a failure.
Passwords never leave this module: every URI is redacted, error texts too.
"""

from __future__ import annotations

import re
from typing import Any

from mqctl.backends.rabbitmq.management import ManagementClient, enc
from mqctl.config.secrets import REDACTED, redact_url, scrub
from mqctl.errors import NotFoundError
from mqctl.models.rabbitmq_admin import FederationLink, FederationUpstream, PluginListing

PLUGIN = "rabbitmq_federation_management"
# RabbitMQ's defaults for an upstream's optional keys (federation reference guide).
DEFAULT_PREFETCH = 1000
DEFAULT_ACK_MODE = "on-confirm"
DEFAULT_RECONNECT_DELAY = 5.0
DEFAULT_MAX_HOPS = 1

# user:password@ inside any URI of a free text (an error reason may quote the URI)
_URI_PASSWORD = re.compile(r"(\b[a-zA-Z][\w+.-]*://[^\s:/@]*:)[^\s@/]*@")


def redact_text(text: str) -> str:
    """One line, passwords of embedded URIs and mqctl's known secrets replaced, bounded."""
    line = " ".join(text.split())
    return scrub(_URI_PASSWORD.sub(rf"\g<1>{REDACTED}@", line))[:300]


def _uris(value: Any) -> str:
    uris = value if isinstance(value, list) else [value] if value else []
    return ", ".join(redact_url(str(u)) for u in uris)


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _link(doc: dict[str, Any]) -> FederationLink:
    kind = str(doc.get("type", "exchange"))
    status = doc.get("status", "unknown")
    error = doc.get("error")
    return FederationLink(
        vhost=str(doc.get("vhost", "/")),
        upstream=str(doc.get("upstream", "")),
        type=kind,
        local=str(doc.get(kind, doc.get("exchange", doc.get("queue", "")))),
        upstream_name=_text(doc.get(f"upstream_{kind}")),
        status=str(status),
        error=redact_text(str(error)) if error not in (None, "") else None,
        node=_text(doc.get("node")),
        uri=_uris(doc.get("uri")) or None,
        since=_text(doc.get("timestamp")),
    )


async def _ensure_vhost(api: ManagementClient, vhost: str | None, all_vhosts: bool) -> str:
    target = vhost or api.settings.vhost
    if not all_vhosts:
        await api.ensure_vhost(target)
    return target


async def list_links(
    api: ManagementClient, *, vhost: str | None, all_vhosts: bool
) -> PluginListing[FederationLink]:
    """The links of one vhost (default: the context's) or of all; sorted by vhost,
    upstream, local name."""
    target = await _ensure_vhost(api, vhost, all_vhosts)
    try:
        docs = await api.get(
            "/federation-links" if all_vhosts else f"/federation-links/{enc(target)}"
        )
    except NotFoundError:
        return PluginListing([], plugin_enabled=False, plugin=PLUGIN)
    links = [_link(d) for d in docs or [] if isinstance(d, dict)]
    return PluginListing(sorted(links, key=lambda k: (k.vhost, k.upstream, k.type, k.local)))


def _number(value: Any, default: float) -> float:
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default
    )


def _upstream(doc: dict[str, Any]) -> FederationUpstream:
    value = doc.get("value") if isinstance(doc.get("value"), dict) else {}
    assert isinstance(value, dict)
    return FederationUpstream(
        name=str(doc.get("name", "")),
        vhost=str(doc.get("vhost", "/")),
        uri=_uris(value.get("uri")),
        prefetch_count=int(_number(value.get("prefetch-count"), DEFAULT_PREFETCH)),
        ack_mode=str(value.get("ack-mode") or DEFAULT_ACK_MODE),
        reconnect_delay=_number(value.get("reconnect-delay"), DEFAULT_RECONNECT_DELAY),
        max_hops=int(_number(value.get("max-hops"), DEFAULT_MAX_HOPS)),
        exchange=_text(value.get("exchange")),
        queue=_text(value.get("queue")),
    )


async def _plugin_enabled(api: ManagementClient) -> bool:
    """Whether the management API serves federation (its extension list names
    ``federation.js``). Asked only when no upstream is defined, to explain the empty list."""
    try:
        extensions = await api.get("/extensions")
    except NotFoundError:
        return True  # cannot tell: do not claim the plugin is missing
    if not isinstance(extensions, list):
        return True
    return any(
        "federation" in str(e.get("javascript", "")) for e in extensions if isinstance(e, dict)
    )


async def list_upstreams(
    api: ManagementClient, *, vhost: str | None, all_vhosts: bool
) -> PluginListing[FederationUpstream]:
    """The ``federation-upstream`` parameters of one vhost or all, URIs without passwords."""
    target = await _ensure_vhost(api, vhost, all_vhosts)
    path = "/parameters/federation-upstream"
    try:
        docs = await api.get(path if all_vhosts else f"{path}/{enc(target)}")
    except NotFoundError:
        return PluginListing([], plugin_enabled=False, plugin=PLUGIN)
    upstreams = [_upstream(d) for d in docs or [] if isinstance(d, dict)]
    if not upstreams and not await _plugin_enabled(api):
        return PluginListing([], plugin_enabled=False, plugin=PLUGIN)
    return PluginListing(sorted(upstreams, key=lambda u: (u.vhost, u.name)))
