"""Finding the schema for a value: registry first (Confluent-framed values), local files next.

One :class:`SchemaStore` per configuration is shared by the Avro and Protobuf decoders, so
both use the same registry cache. Parsed schemas and descriptor pools are cached per id.
"""

from __future__ import annotations

import threading
from typing import Any

from mqctl_schemas import avro, proto
from mqctl_schemas.local import LocalSchemas
from mqctl_schemas.registry import RegisteredSchema, RegistryError, SchemaRegistryClient
from mqctl_schemas.settings import SchemaSettings


class SchemaLookupError(LookupError):
    pass


class SchemaStore:
    def __init__(self, settings: SchemaSettings) -> None:
        self.settings = settings
        self.registry = SchemaRegistryClient(settings) if settings.registry_url else None
        self.local = LocalSchemas(settings.paths)
        self._avro: dict[int, Any] = {}
        self._proto: dict[int, tuple[Any, Any]] = {}  # id -> (pool, file proto)
        self._lock = threading.RLock()

    # --- what kind of schema an id is (for `--decode auto`) --------------------------------

    def schema_type(self, schema_id: int) -> str | None:
        """AVRO / PROTOBUF / JSON, or None when unknown (no registry, lookup failed)."""
        if self.registry is not None:
            try:
                return self.registry.by_id(schema_id).schema_type
            except RegistryError:
                pass
        self.local.load()
        if schema_id in self.local.avro_by_id:
            return "AVRO"
        if schema_id in self.local.proto_by_id:
            return "PROTOBUF"
        return None

    def _no_schema(self, schema_id: int, kind: str, suffix: str) -> SchemaLookupError:
        where = (
            "no schema registry is configured (schema-registry in the context's kafka section "
            "or MQCTL_SCHEMA_REGISTRY)"
            if self.registry is None
            else "the registry is not usable"
        )
        return SchemaLookupError(
            f"schema id {schema_id}: {where} and no local {kind} schema file {schema_id}{suffix}"
        )

    # --- Avro ---------------------------------------------------------------------------------

    def avro_by_id(self, schema_id: int) -> Any:
        with self._lock:
            if schema_id in self._avro:
                return self._avro[schema_id]
            local = self.local.avro_id(schema_id)
            if local is not None and self.registry is None:
                parsed = local
            elif self.registry is not None:
                try:
                    found = self.registry.by_id(schema_id)
                except RegistryError as exc:
                    if local is None:
                        raise SchemaLookupError(str(exc)) from None
                    parsed = local
                else:
                    if found.schema_type != "AVRO":
                        raise SchemaLookupError(
                            f"schema id {schema_id} is a {found.schema_type} schema, not Avro"
                        )
                    named: dict[str, Any] = {}
                    self._avro_references(found, named, set())
                    parsed = avro.parse_schema(found.schema, named)
            else:
                raise self._no_schema(schema_id, "Avro", ".avsc")
            self._avro[schema_id] = parsed
            return parsed

    def _avro_references(
        self, schema: RegisteredSchema, named: dict[str, Any], seen: set[tuple[str, int]]
    ) -> None:
        assert self.registry is not None
        for ref in schema.references:
            key = (ref.subject, ref.version)
            if key in seen:
                continue
            seen.add(key)
            try:
                found = self.registry.by_subject(ref.subject, ref.version)
            except RegistryError as exc:
                raise SchemaLookupError(f"reference {ref.name}: {exc}") from None
            self._avro_references(found, named, seen)
            avro.parse_schema(found.schema, named)

    def avro_default(self) -> Any:
        name = self.settings.avro_schema
        if not name:
            raise SchemaLookupError(
                "the value has no schema id (Confluent wire format) and no Avro schema is "
                "chosen for plain values (MQCTL_AVRO_SCHEMA)"
            )
        return self.local.avro(name)

    # --- Protobuf ------------------------------------------------------------------------------

    def proto_by_id(self, schema_id: int) -> tuple[Any, Any]:
        """(pool, the schema's FileDescriptorProto) for a schema id."""
        with self._lock:
            if schema_id in self._proto:
                return self._proto[schema_id]
            local = self.local.proto_id(schema_id)
            result: tuple[Any, Any]
            if self.registry is not None:
                try:
                    found = self.registry.by_id(schema_id, serialized=True)
                except RegistryError as exc:
                    if local is None:
                        raise SchemaLookupError(str(exc)) from None
                    result = (local[0], local[1][-1])
                else:
                    if found.schema_type != "PROTOBUF":
                        raise SchemaLookupError(
                            f"schema id {schema_id} is a {found.schema_type} schema, not Protobuf"
                        )
                    main = proto.file_proto_from_serialized(found.schema, f"schema id {schema_id}")
                    files = [main]
                    self._proto_references(found, files, set())
                    result = (proto.build_pool(files), main)
            elif local is not None:
                result = (local[0], local[1][-1])
            else:
                raise self._no_schema(schema_id, "Protobuf", ".desc")
            self._proto[schema_id] = result
            return result

    def _proto_references(
        self, schema: RegisteredSchema, files: list[Any], seen: set[tuple[str, int]]
    ) -> None:
        assert self.registry is not None
        for ref in schema.references:
            key = (ref.subject, ref.version)
            if key in seen:
                continue
            seen.add(key)
            try:
                found = self.registry.by_subject(ref.subject, ref.version, serialized=True)
            except RegistryError as exc:
                raise SchemaLookupError(f"import {ref.name}: {exc}") from None
            files.append(proto.file_proto_from_serialized(found.schema, ref.name))
            self._proto_references(found, files, seen)

    def proto_default(self) -> tuple[Any, Any]:
        """(message descriptor, pool) for plain (unframed) Protobuf values."""
        name = self.settings.protobuf_message
        if not name:
            raise SchemaLookupError(
                "the value has no schema id (Confluent wire format) and no message type is "
                "chosen for plain values (MQCTL_PROTOBUF_MESSAGE)"
            )
        result: tuple[Any, Any] = self.local.proto_message(name)
        return result

    def close(self) -> None:
        if self.registry is not None:
            self.registry.close()


_stores: dict[SchemaSettings, SchemaStore] = {}
_stores_lock = threading.Lock()


def store_for(settings: SchemaSettings) -> SchemaStore:
    """The shared store for a configuration (the Avro and Protobuf decoders use one)."""
    with _stores_lock:
        found = _stores.get(settings)
        if found is None:
            found = _stores[settings] = SchemaStore(settings)
        return found
