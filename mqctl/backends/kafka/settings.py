"""The ``[contexts.NAME.kafka]`` section, validated."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mqctl.config.schema import (
    SaslSettings,
    TlsSettings,
    expect_str,
    optional_str,
    parse_sasl,
    parse_tls,
    reject_unknown,
)
from mqctl.errors import ConfigError

KEYS = {"bootstrap-servers", "client-id", "tls", "sasl", "schema-registry"}


@dataclass(frozen=True, slots=True)
class KafkaSettings:
    bootstrap_servers: list[str]
    client_id: str
    tls: TlsSettings
    sasl: SaslSettings | None
    schema_registry: str | None = None

    @property
    def address(self) -> str:
        return ",".join(self.bootstrap_servers)

    @property
    def security_protocol(self) -> str:
        if self.sasl is not None:
            return "SASL_SSL" if self.tls.enabled else "SASL_PLAINTEXT"
        return "SSL" if self.tls.enabled else "PLAINTEXT"


def parse_kafka_settings(section: Mapping[str, Any], where: str) -> KafkaSettings:
    reject_unknown(section, KEYS, where)
    raw = expect_str(section, "bootstrap-servers", where)
    servers = [s.strip() for s in raw.split(",") if s.strip()]
    if not servers:
        raise ConfigError(f"{where}.bootstrap-servers: expected host:port[,host:port...]")
    for server in servers:
        host, sep, port = server.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(
                f"{where}.bootstrap-servers: {server!r} is not host:port (e.g. 127.0.0.1:9092)"
            )
    return KafkaSettings(
        bootstrap_servers=servers,
        client_id=expect_str(section, "client-id", where, "mqctl"),
        tls=parse_tls(section, where),
        sasl=parse_sasl(section, where),
        schema_registry=optional_str(section, "schema-registry", where),
    )
