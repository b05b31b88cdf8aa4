"""Where schemas come from: a schema registry and/or local schema files.

Sources, later ones winning:
1. the context's ``schema-registry`` URL (``[contexts.NAME.kafka] schema-registry = URL``),
   handed to the plugin by mqctl (``DecoderContext``); a ``user:password@`` in the URL is
   used for basic auth and never shown;
2. the decoder's table of the config file, handed over by mqctl (``DecoderContext.options``:
   ``[decoders.avro]`` / ``[decoders.protobuf]``, a context's ``[contexts.X.decoders.NAME]``
   keys winning; same keys as below without the ``MQCTL_`` prefix, lower-case with dashes);
3. environment variables:

``MQCTL_SCHEMA_REGISTRY``           registry URL (overrides the context's)
``MQCTL_SCHEMA_REGISTRY_USER``      basic-auth user; ``MQCTL_SCHEMA_REGISTRY_PASSWORD`` its password
``MQCTL_SCHEMA_REGISTRY_TOKEN``     bearer token (instead of basic auth)
``MQCTL_SCHEMA_REGISTRY_CA``        CA bundle for an https registry
``MQCTL_SCHEMAS``                   local schema files/dirs, separated by ``:`` (.avsc, .desc,
                                    .pb, .protoset; .proto when grpcio-tools is installed)
``MQCTL_AVRO_SCHEMA``               schema for Avro values without a schema id (full name or
                                    file name without .avsc)
``MQCTL_PROTOBUF_MESSAGE``          message type for Protobuf values without a schema id
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from mqctl.config.secrets import Secret, remember
from mqctl.errors import ConfigError


@dataclass(frozen=True, slots=True)
class SchemaSettings:
    registry_url: str | None = None  # without credentials
    username: str | None = None
    password: Secret | None = None
    token: Secret | None = None
    ca_file: str | None = None
    paths: tuple[str, ...] = ()
    avro_schema: str | None = None
    protobuf_message: str | None = None
    timeout: float = 10.0


def _split_credentials(url: str, where: str) -> tuple[str, str | None, Secret | None]:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        raise ConfigError(f"{where}: not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where}: expected an http(s)://host:port URL")
    user = unquote(parts.username) if parts.username else None
    password = remember(unquote(parts.password)) if parts.password else None
    host = parts.hostname
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    clean = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
    return clean, user, password


def load_settings(
    registry_url: str | None = None,
    options: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> SchemaSettings:
    """Combine the context's registry URL, plugin options and the environment."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for key, value in (options or {}).items():
        values[key.replace("_", "-").lower()] = value
    for key, value in env.items():
        if key.startswith("MQCTL_") and value:
            values[key[len("MQCTL_") :].replace("_", "-").lower()] = value

    def text(key: str) -> str | None:
        value = values.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ConfigError(f"schemas plugin: {key}: expected a string")
        return value

    url = text("schema-registry") or registry_url
    username = password = None
    clean = None
    if url:
        clean, username, password = _split_credentials(url, "schema-registry")
    if text("schema-registry-user"):
        username = text("schema-registry-user")
    if text("schema-registry-password"):
        password = remember(text("schema-registry-password") or "")
    token_text = text("schema-registry-token")
    raw_paths = values.get("schemas") or ()
    if isinstance(raw_paths, str):
        raw_paths = [p for p in raw_paths.split(os.pathsep) if p]
    if not isinstance(raw_paths, list | tuple) or not all(isinstance(p, str) for p in raw_paths):
        raise ConfigError("schemas plugin: schemas: expected paths")
    return SchemaSettings(
        registry_url=clean,
        username=username,
        password=password,
        token=remember(token_text) if token_text else None,
        ca_file=text("schema-registry-ca"),
        paths=tuple(os.path.expanduser(p) for p in raw_paths),
        avro_schema=text("avro-schema"),
        protobuf_message=text("protobuf-message"),
    )
