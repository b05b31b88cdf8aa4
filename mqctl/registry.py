"""Plugin discovery through entry points. A broken plugin is skipped with a warning.

Entry point groups (one per plugin kind):
``mqctl.backends``  broker backends (see :mod:`mqctl.backend`)
``mqctl.decoders``  value decoders for ``--decode`` (see docs/plugins.md)
``mqctl.schema_tools``  the schema registry for ``mqctl schemas`` and ``publish --schema-subject``

Built-in backends are found without the scan: a command on a context that names only
``kafka``/``rabbitmq`` sections imports its backend's module by path (:func:`backend_class`).
Scanning entry points reads every installed distribution's metadata and imports every backend
plugin, ~10-20 ms of a ~0.2 s `mqctl lag` (docs/benchmarks.md, "Start-up"). The scan runs when
a context names any other backend, for `mqctl plugins list` and `mqctl doctor`; a broken
plugin is skipped with a warning whenever the scan loads it. The built-in names are reserved:
an entry point of another distribution that reuses one is the "duplicate name".
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

# mqctl's own backends (pyproject.toml's entry points, which the scan lists too).
BUILTIN_BACKENDS = {
    "kafka": "mqctl.backends.kafka:KafkaBackend",
    "rabbitmq": "mqctl.backends.rabbitmq:RabbitMQBackend",
}

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


def _builtin_first(ep: EntryPoint) -> tuple[str, bool]:
    """Sort key: by name, and mqctl's own entry point before another one of the same name."""
    return ep.name, ep.value != BUILTIN_BACKENDS.get(ep.name)


def _load_group(group: str, kind: str) -> LoadedPlugins:
    from importlib.metadata import entry_points

    from mqctl.backend import API_VERSION

    objects: dict[str, Any] = {}
    infos: list[PluginInfo] = []
    for ep in sorted(entry_points(group=group), key=_builtin_first):
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


def is_backend_name(name: str) -> bool:
    """Whether a backend of this name is installed (scans entry points unless built-in)."""
    return name in BUILTIN_BACKENDS or name in backends().objects


def backend_class(name: str) -> Any | None:
    """The class of the backend named ``name``, ``None`` when none is installed (or it failed
    to load: the scan warned). A built-in is imported by its module path, without the scan."""
    target = BUILTIN_BACKENDS.get(name)
    if target is None:
        return backends().objects.get(name)
    module, _, attribute = target.partition(":")
    try:
        return getattr(import_module(module), attribute)
    except Exception:  # a broken install: the scan reports it like any plugin that fails
        return backends().objects.get(name)


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
