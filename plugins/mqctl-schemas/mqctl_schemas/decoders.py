"""The two decoders mqctl loads through the ``mqctl.decoders`` entry points.

``--decode avro`` / ``--decode protobuf`` decode one value; ``--decode auto`` asks
:meth:`claims` first: both claim only values in the Confluent wire format (magic byte 0 +
schema id), and only for schema ids of their own type when that is known (a registry lookup,
cached); Avro, the registry's default type, also takes ids whose type cannot be looked up, so
the reason shows on the message. Bad data raises: mqctl shows the error on that message and
goes on.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from mqctl.backend import API_VERSION
from mqctl.messages.decode import DecodedValue, DecoderContext, Headers
from mqctl_schemas.settings import SchemaSettings, load_settings
from mqctl_schemas.wire import is_framed, read_message_indexes, unframe


class _SchemaDecoder:
    name: ClassVar[str]
    api_version: ClassVar[int] = API_VERSION

    def __init__(self, settings: SchemaSettings | None = None) -> None:
        self._settings = settings

    def configure(self, context: DecoderContext) -> None:
        """Called by mqctl with the context: its schema registry URL (and plugin options)."""
        options = getattr(context, "options", None)
        self._settings = load_settings(context.schema_registry, options)

    @property
    def settings(self) -> SchemaSettings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    def store(self) -> Any:
        from mqctl_schemas.store import store_for

        return store_for(self.settings)

    def _result(self, data: Any) -> DecodedValue:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
        return DecodedValue(self.name, data, text)


class AvroDecoder(_SchemaDecoder):
    name: ClassVar[str] = "avro"

    def claims(self, value: bytes, headers: Headers) -> bool:
        if not is_framed(value):
            return False
        kind = self.store().schema_type(unframe(value).schema_id)
        return kind in (None, "AVRO")

    def decode(self, value: bytes, headers: Headers) -> DecodedValue:
        from mqctl_schemas import avro

        store = self.store()
        if is_framed(value):
            framed = unframe(value)
            parsed = store.avro_by_id(framed.schema_id)
            payload = framed.payload
        else:
            parsed = store.avro_default()
            payload = value
        return self._result(avro.decode(payload, parsed))


class ProtobufDecoder(_SchemaDecoder):
    name: ClassVar[str] = "protobuf"

    def claims(self, value: bytes, headers: Headers) -> bool:
        if not is_framed(value):
            return False
        return bool(self.store().schema_type(unframe(value).schema_id) == "PROTOBUF")

    def decode(self, value: bytes, headers: Headers) -> DecodedValue:
        from mqctl_schemas import proto

        store = self.store()
        if is_framed(value):
            framed = unframe(value)
            pool, file_proto = store.proto_by_id(framed.schema_id)
            indexes, payload = read_message_indexes(framed.payload)
            descriptor = proto.message_by_indexes(pool, file_proto, indexes)
        else:
            descriptor, pool = store.proto_default()
            payload = value
        return self._result(proto.decode(payload, descriptor, pool))
