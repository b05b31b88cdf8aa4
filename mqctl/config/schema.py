"""Typed config: the file's shape (docs/config.md) as dataclasses, with strict validation.

Backend sections (``[contexts.NAME.kafka]``, ``[contexts.NAME.rabbitmq]``, plugin sections)
stay raw mappings here; each backend validates its own section in ``from_config`` so plugins
can add options without touching the core.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mqctl.config.secrets import Secret, read_secret
from mqctl.errors import ConfigError

if TYPE_CHECKING:
    import ssl

DEFAULT_TIMEOUT = 10.0
CONTEXT_KEYS = {
    "read-only",
    "protected",
    "timeout",
    "dlq-patterns",
    "description",
    "decoders",
    "doctor",
}


@dataclass(frozen=True, slots=True)
class Context:
    name: str
    backends: dict[str, dict[str, Any]]
    read_only: bool = False
    protected: bool = False
    timeout: float = DEFAULT_TIMEOUT
    dlq_patterns: tuple[str, ...] = ()
    description: str = ""
    builtin: bool = False
    source: str = "built-in"  # the config file it came from, for error messages
    # Options of decoder plugins by decoder name: the file's [decoders.NAME] tables, with
    # the context's own [contexts.NAME.decoders.NAME] keys winning.
    decoders: dict[str, dict[str, Any]] = field(default_factory=dict)
    # `mqctl doctor` thresholds: the file's [doctor] table with the context's own
    # [contexts.NAME.doctor] keys winning; validated by mqctl.doctor.settings when used.
    doctor: dict[str, Any] = field(default_factory=dict)


DEFAULT_REFRESH = 5.0  # seconds between the TUI's auto-refreshes
MIN_REFRESH = 0.5  # the least the config's [tui] refresh or `mqctl tui --refresh` may say


@dataclass(frozen=True, slots=True)
class TuiSettings:
    """The ``[tui]`` table: defaults of ``mqctl tui`` (its options win)."""

    refresh: float = DEFAULT_REFRESH


@dataclass(frozen=True, slots=True)
class Config:
    path: Path | None
    current_context: str | None
    contexts: dict[str, Context]
    raw: dict[str, Any] = field(default_factory=dict)
    tui: TuiSettings = field(default_factory=TuiSettings)


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """TLS options shared by every backend's ``tls`` sub-table."""

    enabled: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure_skip_verify: bool = False
    where: str = "tls"  # the config path of the table, for messages


@dataclass(frozen=True, slots=True)
class SaslSettings:
    mechanism: str
    username: str
    password: Secret | None


def builtin_local_context() -> Context:
    """The ``local`` context: the brokers ``make brokers`` starts, so the demo needs no set-up."""
    return Context(
        name="local",
        description="local brokers started by `make brokers`",
        builtin=True,
        backends={
            "kafka": {"bootstrap-servers": "127.0.0.1:9092"},
            "rabbitmq": {
                "url": "amqp://guest@127.0.0.1:5672/",
                "management-url": "http://127.0.0.1:15672",
                # RabbitMQ's well-known default account, accepted on loopback only.
                "password": "guest",
            },
        },
    )


def _type_name(value: object) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def expect_str(section: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = section.get(key, default)
    if value is None:
        raise ConfigError(f"{where}: missing required key {key!r}")
    if not isinstance(value, str):
        raise ConfigError(f"{where}.{key}: expected a string, got {_type_name(value)}")
    return value


def optional_str(section: Mapping[str, Any], key: str, where: str) -> str | None:
    if key not in section:
        return None
    return expect_str(section, key, where)


def expect_bool(section: Mapping[str, Any], key: str, where: str, default: bool = False) -> bool:
    value = section.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}.{key}: expected true or false, got {_type_name(value)}")
    return value


def expect_number(section: Mapping[str, Any], key: str, where: str, default: float) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{where}.{key}: expected a positive number of seconds")
    return float(value)


def reject_unknown(section: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for key in section:
        if key not in allowed:
            known = ", ".join(sorted(allowed))
            raise ConfigError(f"{where}: unknown key {key!r} (known keys: {known})")


def parse_tls(section: Mapping[str, Any], where: str) -> TlsSettings:
    raw = section.get("tls")
    if raw is None:
        return TlsSettings()
    where = f"{where}.tls"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table")
    reject_unknown(
        raw, {"enabled", "ca-file", "cert-file", "key-file", "insecure-skip-verify"}, where
    )
    return TlsSettings(
        enabled=expect_bool(raw, "enabled", where, True),
        ca_file=optional_str(raw, "ca-file", where),
        cert_file=optional_str(raw, "cert-file", where),
        key_file=optional_str(raw, "key-file", where),
        insecure_skip_verify=expect_bool(raw, "insecure-skip-verify", where, False),
        where=where,
    )


_warned_insecure: set[str] = set()


def _no_key_password() -> bytes:
    return b""  # never prompt on the terminal for an encrypted key: fail instead


def tls_context(tls: TlsSettings) -> ssl.SSLContext:
    """The client SSL context for ``tls``: the server's certificate and host name are verified
    against ``ca-file`` (or the system CAs). ``insecure-skip-verify = true`` turns that off,
    only when set explicitly, with a warning on stderr (once per table). Unreadable files are
    ConfigErrors naming the key."""
    import ssl
    import sys

    where = tls.where
    try:
        ctx = ssl.create_default_context(cafile=tls.ca_file)
    except ssl.SSLError:
        raise ConfigError(
            f"{where}.ca-file: {tls.ca_file} holds no PEM certificate (expected the CA that "
            f"signed the broker's certificate)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{where}.ca-file: cannot read {tls.ca_file} ({exc.strerror})") from None
    if tls.key_file and not tls.cert_file:
        raise ConfigError(f"{where}: key-file is set but cert-file is not")
    if tls.cert_file:
        try:
            ctx.load_cert_chain(tls.cert_file, tls.key_file, password=_no_key_password)
        except ssl.SSLError as exc:
            raise ConfigError(
                f"{where}.cert-file: cannot load the client certificate and key "
                f"({exc.reason or 'invalid'}; encrypted keys are not supported)"
            ) from None
        except OSError as exc:
            raise ConfigError(
                f"{where}.cert-file: cannot read {exc.filename or tls.cert_file} ({exc.strerror})"
            ) from None
    if tls.insecure_skip_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        if where not in _warned_insecure:
            _warned_insecure.add(where)
            sys.stderr.write(
                f"warning: {where}.insecure-skip-verify = true: the broker's TLS certificate "
                f"is NOT verified; anyone on the network path can impersonate it\n"
            )
    return ctx


def tls_error_reason(exc: BaseException) -> str | None:
    """Why a TLS handshake failed (``certificate verify failed: self-signed certificate in
    certificate chain``), found in ``exc`` or its causes; None when it is not a TLS error."""
    import ssl

    seen: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 12:
        item = todo.pop(0)
        if any(item is s for s in seen):
            continue
        seen.append(item)
        if isinstance(item, ssl.SSLCertVerificationError):
            return f"certificate verify failed: {item.verify_message or item.reason}"
        if isinstance(item, ssl.SSLError):
            reason = item.reason or item.strerror or type(item).__name__
            if reason == "WRONG_VERSION_NUMBER":
                return "the server did not answer in TLS (is this a TLS port?)"
            return f"TLS handshake failed: {reason}"
        todo.extend(e for e in (item.__cause__, item.__context__) if e is not None)
        todo.extend(a for a in getattr(item, "args", ()) if isinstance(a, BaseException))
        group = getattr(item, "exceptions", None)
        if isinstance(group, list | tuple):
            todo.extend(e for e in group if isinstance(e, BaseException))
    return None


def tls_hint(tls: TlsSettings) -> str:
    if tls.ca_file:
        return (
            f"{tls.where}.ca-file ({tls.ca_file}) must hold the CA that signed the broker's "
            f"certificate, and the certificate must name the host you connect to"
        )
    return f"set {tls.where}.ca-file to the CA that signed the broker's certificate"


SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


def parse_sasl(section: Mapping[str, Any], where: str) -> SaslSettings | None:
    raw = section.get("sasl")
    if raw is None:
        return None
    where = f"{where}.sasl"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table")
    reject_unknown(
        raw, {"mechanism", "username", "password", "password-env", "password-command"}, where
    )
    mechanism = expect_str(raw, "mechanism", where, "PLAIN").upper()
    if mechanism not in SASL_MECHANISMS:
        raise ConfigError(f"{where}.mechanism: expected one of {', '.join(SASL_MECHANISMS)}")
    return SaslSettings(mechanism, expect_str(raw, "username", where), read_secret(raw, where))


def decoder_tables(raw: object, where: str) -> dict[str, dict[str, Any]]:
    """A ``decoders`` table: one table of options per decoder name (the plugin checks the
    keys and values when it is configured)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table of decoder tables ([{where}.NAME])")
    for name, options in raw.items():
        if not isinstance(options, dict):
            raise ConfigError(f"{where}.{name}: expected a table of the decoder's options")
    return {name: dict(options) for name, options in raw.items()}


def merge_decoders(
    shared: Mapping[str, Mapping[str, Any]], own: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    return {n: {**shared.get(n, {}), **own.get(n, {})} for n in sorted({*shared, *own})}


def parse_context(
    name: str,
    raw: object,
    where: str,
    source: str = "built-in",
    decoders: Mapping[str, Mapping[str, Any]] | None = None,
    doctor: Mapping[str, Any] | None = None,
) -> Context:
    """``decoders``: the file's top-level decoder options (the context's own win)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table")
    backends: dict[str, dict[str, Any]] = {}
    for key, value in raw.items():
        if key in CONTEXT_KEYS:
            continue
        if not isinstance(value, dict):
            raise ConfigError(
                f"{where}.{key}: unknown key (a broker section must be a table, "
                f"other keys: {', '.join(sorted(CONTEXT_KEYS))})"
            )
        backends[key] = value
    patterns = raw.get("dlq-patterns", [])
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise ConfigError(f"{where}.dlq-patterns: expected an array of strings")
    own_doctor = raw.get("doctor", {})
    if not isinstance(own_doctor, dict):
        raise ConfigError(f"{where}.doctor: expected a table")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise ConfigError(f"{where}.description: expected a string")
    return Context(
        name=name,
        backends=backends,
        read_only=expect_bool(raw, "read-only", where),
        protected=expect_bool(raw, "protected", where),
        timeout=expect_number(raw, "timeout", where, DEFAULT_TIMEOUT),
        dlq_patterns=tuple(patterns),
        description=description,
        source=source,
        decoders=merge_decoders(
            decoders or {}, decoder_tables(raw.get("decoders", {}), f"{where}.decoders")
        ),
        doctor={**(doctor or {}), **own_doctor},
    )
