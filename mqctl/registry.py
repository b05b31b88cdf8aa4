"""Plugin discovery through entry points. A broken plugin is skipped with a warning.

Entry point groups (one per plugin kind):
``mqctl.backends``  broker backends (see :mod:`mqctl.backend`)
``mqctl.decoders``  value decoders for ``--decode`` (see docs/plugins.md)
``mqctl.schema_tools``  the schema registry for ``mqctl schemas`` and ``publish --schema-subject``
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from mqctl.backend import API_VERSION

BACKENDS_GROUP = "mqctl.backends"
DECODERS_GROUP = "mqctl.decoders"
SCHEMA_TOOLS_GROUP = "mqctl.schema_tools"


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """One entry point and what came of loading it."""

    name: str
    kind: str  # backend | decoder | schema-tools
    target: str  # module:attribute
    distribution: str | None
    version: str | None
    loaded: bool
    error: str | None = None


@dataclass(frozen=True, slots=True)
class LoadedPlugins:
    objects: dict[str, Any]
    infos: list[PluginInfo]

    @property
    def warnings(self) -> list[str]:
        return [f"plugin {i.name!r} ({i.target}) skipped: {i.error}" for i in self.infos if i.error]


def _distribution(ep: EntryPoint) -> tuple[str | None, str | None]:
    dist = ep.dist
    if dist is None:
        return None, None
    return dist.metadata["Name"], dist.version


def _load_group(group: str, kind: str) -> LoadedPlugins:
    objects: dict[str, Any] = {}
    infos: list[PluginInfo] = []
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        dist_name, dist_version = _distribution(ep)
        try:
            obj = ep.load()
            declared = getattr(obj, "api_version", API_VERSION)
            if declared != API_VERSION:
                raise RuntimeError(
                    f"declares api_version {declared}, this mqctl speaks {API_VERSION}"
                )
        except Exception as exc:  # a plugin must never break the CLI
            infos.append(
                PluginInfo(ep.name, kind, ep.value, dist_name, dist_version, False, _describe(exc))
            )
            continue
        if ep.name in objects:
            infos.append(
                PluginInfo(
                    ep.name, kind, ep.value, dist_name, dist_version, False, "duplicate name"
                )
            )
            continue
        objects[ep.name] = obj
        infos.append(PluginInfo(ep.name, kind, ep.value, dist_name, dist_version, True))
    return LoadedPlugins(objects, infos)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _warn(loaded: LoadedPlugins) -> LoadedPlugins:
    """One line on stderr per plugin that failed to load (once per process: cached callers)."""
    import sys

    for warning in loaded.warnings:
        sys.stderr.write(f"warning: {warning} (see `mqctl plugins list`)\n")
    return loaded


@functools.cache
def backends() -> LoadedPlugins:
    """Backend classes by name (cached for the process)."""
    return _warn(_load_group(BACKENDS_GROUP, "backend"))


@functools.cache
def decoders() -> LoadedPlugins:
    """Decoder objects by name (cached for the process)."""
    return _warn(_load_group(DECODERS_GROUP, "decoder"))


@functools.cache
def schema_tools() -> LoadedPlugins:
    """Schema registry tools by name (``registry``; cached for the process)."""
    return _warn(_load_group(SCHEMA_TOOLS_GROUP, "schema-tools"))


def all_plugins() -> list[PluginInfo]:
    return backends().infos + decoders().infos + schema_tools().infos
