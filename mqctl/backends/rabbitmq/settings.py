"""The ``[contexts.NAME.rabbitmq]`` section, validated."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from mqctl.config.schema import TlsSettings, expect_str, optional_str, parse_tls, reject_unknown
from mqctl.config.secrets import Secret, read_secret, redact_url, remember
from mqctl.errors import ConfigError

KEYS = {"url", "management-url", "password", "password-env", "password-command", "vhost", "tls"}


@dataclass(frozen=True, slots=True)
class RabbitSettings:
    amqp_url: str  # without password
    management_url: str
    username: str
    password: Secret | None
    vhost: str
    host: str
    port: int
    tls: TlsSettings

    @property
    def address(self) -> str:
        return redact_url(self.amqp_url)


def parse_rabbit_settings(section: Mapping[str, Any], where: str) -> RabbitSettings:
    reject_unknown(section, KEYS, where)
    url = expect_str(section, "url", where, "amqp://guest@127.0.0.1:5672/")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ConfigError(f"{where}.url: not a valid URL") from None
    if parts.scheme not in ("amqp", "amqps"):
        raise ConfigError(f"{where}.url: expected an amqp:// or amqps:// URL")
    if not parts.hostname:
        raise ConfigError(f"{where}.url: the URL has no host")
    password = read_secret(section, where)
    if parts.password is not None:
        if password is not None:
            raise ConfigError(f"{where}.url: a password is in the URL and in {where}.password*")
        password = remember(unquote(parts.password))
    username = unquote(parts.username or "guest")
    path_vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
    vhost = optional_str(section, "vhost", where) or path_vhost
    tls = parse_tls(section, where)
    if parts.scheme == "amqps" and not tls.enabled:
        tls = TlsSettings(enabled=True, where=f"{where}.tls")
    default_port = 5671 if parts.scheme == "amqps" else 5672
    host = parts.hostname
    default_mgmt = (
        f"{'https' if tls.enabled else 'http'}://{host}:{15671 if tls.enabled else 15672}"
    )
    management = optional_str(section, "management-url", where) or default_mgmt
    mparts = urlsplit(management)
    if mparts.scheme not in ("http", "https") or not mparts.hostname:
        raise ConfigError(f"{where}.management-url: expected an http(s)://host:port URL")
    if mparts.password is not None:
        raise ConfigError(f"{where}.management-url: put the password in {where}.password*")
    netloc = f"[{host}]" if ":" in host else host
    clean_url = f"{parts.scheme}://{username}@{netloc}:{port or default_port}/"
    return RabbitSettings(
        amqp_url=clean_url,
        management_url=management.rstrip("/"),
        username=username,
        password=password,
        vhost=vhost,
        host=host,
        port=port or default_port,
        tls=tls,
    )
