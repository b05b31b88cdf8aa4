"""``mqctl --version``: mqctl's version and every installed plugin distribution's, read from
the entry point metadata without importing any plugin (so it stays instant)."""

from __future__ import annotations

GROUPS = (
    ("mqctl.backends", "backend"),
    ("mqctl.decoders", "decoder"),
    ("mqctl.schema_tools", "schema-tools"),
)


def plugin_versions() -> list[tuple[str, str, list[str]]]:
    """(distribution, version, ["backend redis", ...]) of each plugin distribution; mqctl's
    own built-in backends are not plugins."""
    from importlib.metadata import entry_points

    found: dict[tuple[str, str], list[str]] = {}
    for group, kind in GROUPS:
        for ep in entry_points(group=group):
            dist = ep.dist
            name = dist.metadata["Name"] if dist is not None else None
            if name is None or name.lower() == "mqctl":
                continue
            found.setdefault((name, dist.version if dist else "?"), []).append(f"{kind} {ep.name}")
    return [(name, version, sorted(what)) for (name, version), what in sorted(found.items())]


def version_text() -> str:
    from mqctl import __version__

    lines = [f"mqctl {__version__}"]
    for name, version, what in plugin_versions():
        lines.append(f"  {name} {version} ({', '.join(what)})")
    return "\n".join(lines) + "\n"
