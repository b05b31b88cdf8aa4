"""Finding, reading, writing the config file and choosing the context.

Precedence for the context: ``--context/-c``, then ``MQCTL_CONTEXT``, then ``current-context``
in the file, then the built-in ``local`` context.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from mqctl.config.schema import (
    DEFAULT_REFRESH,
    MIN_REFRESH,
    Config,
    Context,
    TuiSettings,
    builtin_local_context,
    decoder_tables,
    merge_decoders,
    parse_context,
)
from mqctl.errors import ConfigError, NotFoundError

CONFIG_ENV = "MQCTL_CONFIG"
CONTEXT_ENV = "MQCTL_CONTEXT"


def config_path() -> Path:
    """``$MQCTL_CONFIG`` or ``<user config dir>/mqctl/config.toml``."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_config_path

    return user_config_path("mqctl") / "config.toml"


def _read_raw(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config {path}: invalid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config {path}: not UTF-8 text (byte {exc.start})") from None
    except IsADirectoryError:
        raise ConfigError(f"config {path}: is a directory, expected a TOML file") from None
    except OSError as exc:
        raise ConfigError(f"config {path}: cannot read: {exc.strerror}") from None


TOP_LEVEL_KEYS = ("current-context", "contexts", "decoders", "tui", "doctor")


def load_config(path: Path | None = None, *, create: bool = False) -> Config:
    """Load and validate the config; a missing file at the default place gives just the
    built-in ``local`` context. A file named explicitly with ``MQCTL_CONFIG`` must exist
    (exit 2): a typo there must not silently fall back to the built-in context. ``create``
    (commands that write the file, e.g. ``context add``) accepts it missing."""
    explicit = path is None and bool(os.environ.get(CONFIG_ENV))
    path = path or config_path()
    if explicit and not create and not path.exists():
        raise ConfigError(
            f"config file {path} (from {CONFIG_ENV}) does not exist",
            hint=f"create it with `mqctl context add`, or unset {CONFIG_ENV} to use the "
            "default config",
        )
    raw = _read_raw(path)
    where = f"config {path}"
    for key in raw:
        if key not in TOP_LEVEL_KEYS:
            known = ", ".join(TOP_LEVEL_KEYS)
            raise ConfigError(f"{where}: unknown top-level key {key!r} (known: {known})")
    current = raw.get("current-context")
    if current is not None and not isinstance(current, str):
        raise ConfigError(f"{where}: current-context: expected a string")
    contexts_raw = raw.get("contexts", {})
    if not isinstance(contexts_raw, dict):
        raise ConfigError(f"{where}: contexts: expected a table")
    decoders = decoder_tables(raw.get("decoders", {}), f"{where}: decoders")
    doctor = raw.get("doctor", {})
    if not isinstance(doctor, dict):
        raise ConfigError(f"{where}: doctor: expected a table")
    local = builtin_local_context()
    contexts: dict[str, Context] = {
        "local": replace(local, decoders=merge_decoders(decoders, {}), doctor=dict(doctor))
    }
    for name, section in contexts_raw.items():
        contexts[name] = parse_context(
            name, section, f"{where}: contexts.{name}", str(path), decoders, doctor
        )
    tui = _tui_settings(raw.get("tui", {}), f"{where}: tui")
    return Config(path=path, current_context=current, contexts=contexts, raw=raw, tui=tui)


def _tui_settings(section: Any, where: str) -> TuiSettings:
    if not isinstance(section, dict):
        raise ConfigError(f"{where}: expected a table")
    for key in section:
        if key != "refresh":
            raise ConfigError(f"{where}.{key}: unknown key (known: refresh)")
    refresh = section.get("refresh", DEFAULT_REFRESH)
    if isinstance(refresh, bool) or not isinstance(refresh, int | float):
        raise ConfigError(f"{where}.refresh: expected a number of seconds")
    if not refresh >= MIN_REFRESH:  # (also refuses nan)
        raise ConfigError(f"{where}.refresh: must be at least {MIN_REFRESH:g} seconds")
    return TuiSettings(refresh=float(refresh))


def resolve_context(config: Config, explicit: str | None = None) -> Context:
    """The context to use, by the documented precedence."""
    name = explicit or os.environ.get(CONTEXT_ENV) or config.current_context or "local"
    try:
        return config.contexts[name]
    except KeyError:
        known = ", ".join(sorted(config.contexts))
        raise NotFoundError(
            f"context {name!r} not found (known: {known})",
            hint="add it with `mqctl context add` or check MQCTL_CONTEXT / --context",
        ) from None


def write_raw(path: Path, raw: dict[str, Any]) -> None:
    """Write the config atomically (file mode 0600: it may hold passwords)."""
    import tomli_w

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        tomli_w.dump(raw, fh)
    os.replace(tmp, path)
