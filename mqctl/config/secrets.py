"""Secrets: read from ``password``, ``password-env`` or ``password-command``, never shown.

Every secret value that is resolved is remembered in-process so that :func:`scrub` can remove
it from any text before it is printed or logged (defence in depth: error messages from client
libraries sometimes echo URLs or credentials).
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from mqctl.errors import ConfigError

REDACTED = "***"
_known_secrets: set[str] = set()


@dataclass(frozen=True, slots=True)
class Secret:
    """A secret value; its repr and str never show it."""

    _value: str

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return REDACTED


# RabbitMQ's public default password: scrubbing it would also hide the user name "guest".
_PUBLIC_DEFAULTS = {"guest"}


def remember(value: str) -> Secret:
    # Scrubbing one- or two-letter strings would mangle every message.
    if len(value) >= 3 and value not in _PUBLIC_DEFAULTS:
        _known_secrets.add(value)
    return Secret(value)


def scrub(text: str) -> str:
    """Replace every known secret in ``text`` with ``***``."""
    for secret in sorted(_known_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


SECRET_KEYS = ("password", "password-env", "password-command")


def read_secret(section: Mapping[str, Any], where: str, prefix: str = "password") -> Secret | None:
    """Resolve ``<prefix>``, ``<prefix>-env`` or ``<prefix>-command`` from a config section."""
    given = [k for k in (prefix, f"{prefix}-env", f"{prefix}-command") if k in section]
    if len(given) > 1:
        raise ConfigError(f"{where}: set only one of {', '.join(given)}")
    if not given:
        return None
    key = given[0]
    raw = section[key]
    if not isinstance(raw, str) or not raw:
        raise ConfigError(f"{where}.{key}: expected a non-empty string")
    if key == prefix:
        return remember(raw)
    if key.endswith("-env"):
        value = os.environ.get(raw)
        if value is None:
            raise ConfigError(f"{where}.{key}: environment variable {raw} is not set")
        return remember(value)
    try:
        done = subprocess.run(
            shlex.split(raw), capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(
            f"{where}.{key}: could not run the command ({type(exc).__name__})"
        ) from None
    if done.returncode != 0:
        raise ConfigError(f"{where}.{key}: the command exited with {done.returncode}")
    value = done.stdout.rstrip("\n")
    if not value:
        raise ConfigError(f"{where}.{key}: the command printed nothing")
    return remember(value)


def redact_url(url: str) -> str:
    """The URL without its password (user kept), e.g. ``amqp://guest@host:5672/``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid url>"
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    if parts.username:
        netloc = f"{parts.username}:{REDACTED}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
