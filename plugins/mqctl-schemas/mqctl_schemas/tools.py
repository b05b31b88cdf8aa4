"""What mqctl's ``schemas`` commands and ``publish --schema-subject`` use (entry point group
``mqctl.schema_tools``, name ``registry``): browse the registry, encode JSON for a subject.

Errors are mqctl's: a subject or version the registry does not have is ``NotFoundError``
(exit 4), a registry that cannot be reached or refuses the credentials ``ConnectError``
(exit 3), a value that does not fit the schema ``UsageError`` naming the field (exit 2).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from mqctl.backend import API_VERSION
from mqctl.errors import AuthError, ConnectError, NotFoundError, UsageError
from mqctl_schemas.registry import RegisteredSchema, RegistryError, SchemaRegistryClient
from mqctl_schemas.settings import load_settings


@dataclass(frozen=True, slots=True)
class SubjectSummary:
    subject: str
    versions: int
    latest_version: int | None
    schema_type: str | None
    compatibility: str | None


@dataclass(frozen=True, slots=True)
class SubjectDetail:
    subject: str
    version: int | None
    schema_id: int | None
    schema_type: str
    compatibility: str | None
    versions: list[int]
    references: list[dict[str, Any]] = field(default_factory=list)
    schema: Any = None  # Avro/JSON schemas as parsed JSON, Protobuf as the .proto text


def _mqctl_error(exc: RegistryError) -> Exception:
    if exc.not_found:
        return NotFoundError(str(exc))
    if "refused the credentials" in str(exc):
        return AuthError(str(exc))
    return ConnectError(str(exc))


class SubjectEncoder:
    """Encodes JSON values for one registered schema into the registry's wire format."""

    def __init__(self, found: RegisteredSchema, subject: str, encode: Any) -> None:
        self.subject = subject
        self.schema_id = found.schema_id
        self.schema_type = found.schema_type
        self.version = found.version
        self._encode = encode

    def encode(self, value: bytes) -> bytes:
        """Framed bytes for one JSON value; ``UsageError`` naming the field when it does not
        fit (the caller adds which message)."""
        from mqctl_schemas.encode import SchemaMismatch

        try:
            data = json.loads(value)
        except ValueError as exc:
            raise UsageError(f"the value is not JSON ({exc})") from None
        try:
            result: bytes = self._encode(data)
        except SchemaMismatch as exc:
            raise UsageError(
                f"{exc} (subject {self.subject!r}, schema id {self.schema_id})"
            ) from None
        return result


class SchemaTools:
    name: ClassVar[str] = "registry"
    api_version: ClassVar[int] = API_VERSION

    def __init__(self, registry_url: str | None, options: Mapping[str, Any] | None = None):
        self.settings = load_settings(registry_url, options)
        if self.settings.registry_url is None:
            raise UsageError(
                "no schema registry is configured: set schema-registry in the context's kafka "
                "section, [decoders.avro] schema-registry, or MQCTL_SCHEMA_REGISTRY"
            )
        self.registry = SchemaRegistryClient(self.settings)

    def close(self) -> None:
        self.registry.close()

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RegistryError as exc:
            raise _mqctl_error(exc) from None

    # --- browsing -----------------------------------------------------------------------------

    def subjects(self) -> list[SubjectSummary]:
        out = []
        for subject in self._call(self.registry.subjects):
            versions = self._call(self.registry.versions, subject)
            latest = self._call(self.registry.by_subject, subject, "latest") if versions else None
            out.append(
                SubjectSummary(
                    subject,
                    len(versions),
                    versions[-1] if versions else None,
                    latest.schema_type if latest else None,
                    self._call(self.registry.compatibility, subject),
                )
            )
        return out

    def subject(self, subject: str, version: int | str = "latest") -> SubjectDetail:
        versions = self._call(self.registry.versions, subject)
        found: RegisteredSchema = self._call(self.registry.by_subject, subject, version)
        schema: Any = found.schema
        if found.schema_type in ("AVRO", "JSON"):
            with contextlib.suppress(ValueError):
                schema = json.loads(found.schema)
        return SubjectDetail(
            subject=subject,
            version=found.version if found.version is not None else _int(version),
            schema_id=found.schema_id,
            schema_type=found.schema_type,
            compatibility=self._call(self.registry.compatibility, subject),
            versions=versions,
            references=[
                {"name": r.name, "subject": r.subject, "version": r.version}
                for r in found.references
            ],
            schema=schema,
        )

    # --- encoding -----------------------------------------------------------------------------

    def encoder(
        self, subject: str, version: int | str = "latest", message: str | None = None
    ) -> SubjectEncoder:
        found: RegisteredSchema = self._call(self.registry.by_subject, subject, version)
        if found.schema_id is None:
            raise ConnectError(
                f"schema registry at {self.registry.url}: no schema id for subject {subject!r}"
            )
        if found.schema_type == "AVRO":
            return SubjectEncoder(found, subject, self._avro(found))
        if found.schema_type == "PROTOBUF":
            return SubjectEncoder(found, subject, self._protobuf(subject, version, message))
        raise UsageError(
            f"subject {subject!r} has a {found.schema_type} schema: publish encodes Avro and "
            "Protobuf only"
        )

    def _avro(self, found: RegisteredSchema) -> Any:
        from mqctl_schemas import avro
        from mqctl_schemas.encode import encode_avro
        from mqctl_schemas.store import SchemaLookupError, store_for
        from mqctl_schemas.wire import frame

        named: dict[str, Any] = {}
        try:
            store_for(self.settings)._avro_references(found, named, set())
            parsed = avro.parse_schema(found.schema, named)
        except (SchemaLookupError, avro.AvroError) as exc:
            raise UsageError(f"schema id {found.schema_id}: {exc}") from None
        schema_id = found.schema_id
        assert schema_id is not None
        return lambda data: frame(schema_id, encode_avro(data, parsed, named))

    def _protobuf(self, subject: str, version: int | str, message: str | None) -> Any:
        from mqctl_schemas import proto
        from mqctl_schemas.encode import SchemaMismatch, encode_protobuf, message_indexes
        from mqctl_schemas.store import SchemaLookupError, store_for
        from mqctl_schemas.wire import frame, write_message_indexes

        found = self._call(self.registry.by_subject, subject, version, serialized=True)
        schema_id = found.schema_id
        assert schema_id is not None
        try:
            pool, file_proto = store_for(self.settings).proto_by_id(schema_id)
            if message is None:
                if not file_proto.message_type:
                    raise UsageError(f"schema id {schema_id} defines no message")
                indexes = [0]
                full_name = ".".join(
                    p for p in (file_proto.package, file_proto.message_type[0].name) if p
                )
            else:
                indexes = message_indexes(file_proto, message)
                full_name = message
            descriptor = proto.find_message(pool, full_name)
        except (SchemaLookupError, proto.ProtobufError, SchemaMismatch) as exc:
            raise UsageError(f"schema id {schema_id}: {exc}") from None
        prefix = write_message_indexes(indexes)
        return lambda data: frame(schema_id, prefix + encode_protobuf(data, descriptor, pool))


def _int(version: int | str) -> int | None:
    return version if isinstance(version, int) else None
