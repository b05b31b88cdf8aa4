"""The ``[contexts.NAME.redis-streams]`` section, validated (errors name the key)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from mqctl.config.schema import TlsSettings, expect_str, optional_str, parse_tls, reject_unknown
from mqctl.config.secrets import Secret, read_secret, remember
from mqctl.errors import ConfigError

DEFAULT_URL = "redis://127.0.0.1:6379/0"
KEYS = {
    "url",
    "username",
    "password",
    "password-env",
    "password-command",
    "tls",
    "streams",
    "value-field",
    "key-field",
}


@dataclass(frozen=True, slots=True)
class RedisSettings:
    url: str  # without password
    host: str
    port: int
    db: int
    username: str | None
    password: Secret | None
    tls: TlsSettings
    streams: str  # SCAN MATCH pattern for the streams to list
    value_field: str  # the entry field that holds the message value
    key_field: str  # the entry field that holds the message key

    @property
    def address(self) -> str:
        return self.url


def parse_redis_settings(section: Mapping[str, Any], where: str) -> RedisSettings:
    reject_unknown(section, KEYS, where)
    url = expect_str(section, "url", where, DEFAULT_URL)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ConfigError(f"{where}.url: not a valid URL") from None
    if parts.scheme not in ("redis", "rediss"):
        raise ConfigError(f"{where}.url: expected a redis:// or rediss:// URL")
    if not parts.hostname:
        raise ConfigError(f"{where}.url: the URL has no host")
    if parts.query or parts.fragment:
        raise ConfigError(f"{where}.url: options in the URL are not supported; use the keys")
    path = parts.path.strip("/")
    if path and not path.isdigit():
        raise ConfigError(f"{where}.url: the path must be a database number, e.g. /0")
    db = int(path) if path else 0
    password = read_secret(section, where)
    if parts.password is not None:
        if password is not None:
            raise ConfigError(f"{where}.url: a password is in the URL and in {where}.password*")
        password = remember(unquote(parts.password))
    username = optional_str(section, "username", where)
    if parts.username:
        if username is not None:
            raise ConfigError(f"{where}.url: a user is in the URL and in {where}.username")
        username = unquote(parts.username)
    tls = parse_tls(section, where)
    if parts.scheme == "rediss" and not tls.enabled:
        tls = TlsSettings(enabled=True)
    host = parts.hostname
    port = port or 6379
    netloc = f"[{host}]" if ":" in host else host
    user = f"{username}@" if username else ""
    scheme = "rediss" if tls.enabled else "redis"
    value_field = expect_str(section, "value-field", where, "value")
    key_field = expect_str(section, "key-field", where, "key")
    if not value_field or not key_field or value_field == key_field:
        raise ConfigError(f"{where}: value-field and key-field must be different, non-empty")
    streams = expect_str(section, "streams", where, "*")
    if not streams:
        raise ConfigError(f"{where}.streams: expected a non-empty key pattern")
    return RedisSettings(
        url=f"{scheme}://{user}{netloc}:{port}/{db}",
        host=host,
        port=port,
        db=db,
        username=username,
        password=password,
        tls=tls,
        streams=streams,
        value_field=value_field,
        key_field=key_field,
    )
