"""Names for shell completion (topics, queues, groups, vhosts, contexts), from a short-lived
cache so a TAB never waits on a slow broker for more than a moment.

The cache is one small JSON file per context and kind in the user cache directory. A fresh
entry (younger than :data:`FRESH_SECONDS`) answers at once; otherwise the broker is asked
with a budget of :data:`BUDGET_SECONDS` in total, and when it does not answer in time (down,
slow, wrong password) the stale entry, or nothing, is offered. Completion never prints an
error: a TAB that fails just completes nothing.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

FRESH_SECONDS = 60.0
BUDGET_SECONDS = 1.5
KINDS = ("topic", "queue", "group", "vhost")
ENV_DIR = "MQCTL_CACHE_DIR"


def cache_dir() -> Path:
    override = os.environ.get(ENV_DIR)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_cache_path

    return user_cache_path("mqctl") / "completion"


def _cache_file(context: str, kind: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in context)
    return cache_dir() / f"{safe}.{kind}.json"


def _read(path: Path) -> tuple[float, list[str]] | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return float(doc["time"]), [str(n) for n in doc["names"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(path: Path, names: list[str]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"time": time.time(), "names": names}), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # a cache that cannot be written only makes the next TAB ask again


async def _fetch(session: Any, kind: str) -> list[str]:
    from mqctl.services import groups, inventory

    if kind == "topic":
        from mqctl.admin_capabilities import ClusterMetadataSource

        found = session.backends_with(ClusterMetadataSource, "completing topics")
        # metadata only: listing topics would also ask every partition's offsets
        infos = [await source.describe_cluster(partitions=False) for _, source in found]
        return [t.name for info in infos for t in info.topics]
    if kind == "queue":
        queues = await inventory.list_queues(session, stats=False)
        return [q.name for q in queues]
    if kind == "group":
        return [g.group for g in await groups.list_groups(session)]
    return [v.name for v in await inventory.list_vhosts(session)]


def _ask_broker(context_name: str | None, kind: str) -> tuple[str, list[str]] | None:
    """(context name, names) from the broker within the budget, or None."""
    import asyncio

    from mqctl.config import load_config, resolve_context
    from mqctl.session import Session

    try:
        context = resolve_context(load_config(), context_name)
    except Exception:
        return None

    async def main() -> list[str]:
        async with Session(context, timeout=BUDGET_SECONDS) as session:
            return await asyncio.wait_for(_fetch(session, kind), BUDGET_SECONDS)

    try:
        return context.name, sorted(set(asyncio.run(main())))
    except BaseException:
        return None


def names(
    kind: str,
    incomplete: str,
    context_name: str | None = None,
    *,
    fetch: Callable[[str | None, str], tuple[str, list[str]] | None] | None = None,
    now: Callable[[], float] = time.time,
) -> list[str]:
    """Names of ``kind`` starting with ``incomplete`` on the context (flag, env, config)."""
    if kind == "context":
        return [c for c in context_names() if c.startswith(incomplete)]
    if kind == "destination":  # peek/publish: a topic or a queue
        both = names("topic", incomplete, context_name, fetch=fetch, now=now)
        return sorted({*both, *names("queue", incomplete, context_name, fetch=fetch, now=now)})
    if kind not in KINDS:
        return []
    resolved = context_name or os.environ.get("MQCTL_CONTEXT") or _current_context()
    path = _cache_file(resolved, kind)
    cached = _read(path)
    if cached is not None and now() - cached[0] < FRESH_SECONDS:
        found = cached[1]
    else:
        answer = (fetch or _ask_broker)(context_name, kind)
        if answer is not None:
            found = answer[1]
            _write(path, found)
        else:
            found = cached[1] if cached is not None else []
    return [n for n in found if n.startswith(incomplete)]


def _current_context() -> str:
    try:
        from mqctl.config import load_config, resolve_context

        return resolve_context(load_config(), None).name
    except Exception:
        return "local"


def context_names() -> list[str]:
    try:
        from mqctl.config import load_config

        config = load_config()
    except Exception:
        return []
    return sorted({*config.contexts, "local"})


def completer(kind: str) -> Callable[..., Awaitable[list[str]] | list[str]]:
    """A Typer ``autocompletion`` callback for ``kind``: reads ``--context`` from the
    command line being completed."""

    def complete(ctx: Any, incomplete: str) -> list[str]:
        root = ctx.find_root() if ctx is not None else None
        context = root.params.get("context") if root is not None else None
        return names(kind, incomplete, context if isinstance(context, str) else None)

    return complete
