"""JSON in, schema-registry framed Avro / Protobuf out (``mqctl publish --schema-subject``).

The JSON accepted is what ``peek --decode`` prints, so peek -> publish round-trips:

* Avro: records as objects, ``bytes``/``fixed`` as ``{"base64": ...}`` (or plain text for
  ``bytes``), timestamps/dates/times as ISO 8601 strings (or the raw numbers), decimals as
  strings or numbers, unions by their value (the first branch that fits). A missing field
  takes the schema's default. Every mismatch names the field (``customer.address[2].zip``),
  checked here before fastavro writes, because fastavro's own errors do not say where;
* Protobuf: the proto3 JSON mapping (``json_format.ParseDict``; its errors name the field),
  written as the file's first message (message indexes ``[0]``) unless a message is named.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import io
from typing import Any

INT_RANGE = (-(2**31), 2**31 - 1)
LONG_RANGE = (-(2**63), 2**63 - 1)


class SchemaMismatch(ValueError):
    """The value does not fit the schema; the message starts with the field's path."""


def _where(path: str) -> str:
    return f"field {path}" if path else "the value"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _fail(path: str, expected: str, value: Any) -> SchemaMismatch:
    return SchemaMismatch(f"{_where(path)}: expected {expected}, got {_kind(value)}")


def _b64(value: Any, path: str, what: str) -> bytes:
    if isinstance(value, dict) and set(value) == {"base64"} and isinstance(value["base64"], str):
        try:
            return base64.b64decode(value["base64"], validate=True)
        except (binascii.Error, ValueError):
            raise SchemaMismatch(f"{_where(path)}: invalid base64") from None
    if isinstance(value, str) and what == "bytes":
        return value.encode("utf-8")
    raise _fail(path, f'{what} as {{"base64": "..."}}', value)


def _iso(value: str, path: str, parse: Any, what: str) -> Any:
    try:
        return parse(value.replace("Z", "+00:00"))
    except ValueError:
        raise SchemaMismatch(f"{_where(path)}: {value!r} is not an ISO 8601 {what}") from None


def _decimal(value: Any, scale: int, path: str) -> decimal.Decimal | None:
    if not isinstance(value, str | int | float):
        return None  # e.g. {"base64": ...}: the underlying bytes
    try:
        number = decimal.Decimal(str(value))
    except decimal.InvalidOperation:
        raise SchemaMismatch(f"{_where(path)}: {value!r} is not a decimal") from None
    if not number.is_finite():
        raise SchemaMismatch(f"{_where(path)}: {value!r} is not a finite decimal")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > scale:
        raise SchemaMismatch(f"{_where(path)}: {value} has more than {scale} decimals")
    return number


class AvroJson:
    """Turns JSON data into the datum fastavro writes for one parsed schema."""

    def __init__(self, parsed: Any, named: dict[str, Any]) -> None:
        self.parsed = parsed
        self.named = named

    def datum(self, value: Any) -> Any:
        return self._convert(value, self.parsed, "")

    def _convert(self, value: Any, schema: Any, path: str) -> Any:
        if isinstance(schema, list):
            return self._union(value, schema, path)
        if isinstance(schema, str):
            if schema in self.named:
                return self._convert(value, self.named[schema], path)
            return self._primitive(value, schema, path)
        kind = schema.get("type")
        logical = schema.get("logicalType")
        if logical is not None:
            converted = self._logical(value, logical, schema, path)
            if converted is not None:
                return converted
        if kind == "record" or kind == "error":
            return self._record(value, schema, path)
        if kind == "enum":
            if not isinstance(value, str) or value not in schema["symbols"]:
                raise _fail(path, f"one of {', '.join(schema['symbols'])}", value)
            return value
        if kind == "fixed":
            data = _b64(value, path, "fixed")
            if len(data) != schema["size"]:
                raise SchemaMismatch(
                    f"{_where(path)}: expected {schema['size']} bytes, got {len(data)}"
                )
            return data
        if kind == "array":
            if not isinstance(value, list):
                raise _fail(path, "an array", value)
            return [self._convert(v, schema["items"], f"{path}[{i}]") for i, v in enumerate(value)]
        if kind == "map":
            if not isinstance(value, dict):
                raise _fail(path, "an object (map)", value)
            return {
                k: self._convert(v, schema["values"], f"{path}.{k}" if path else k)
                for k, v in value.items()
            }
        return self._convert(value, kind, path)

    def _union(self, value: Any, branches: list[Any], path: str) -> Any:
        errors = []
        for branch in branches:
            try:
                return self._convert(value, branch, path)
            except SchemaMismatch as exc:
                errors.append(exc)
        names = ", ".join(self._name(b) for b in branches)
        nested = [e for e in errors if not str(e).startswith(f"{_where(path)}: expected")]
        if nested:  # the value had the branch's shape but something inside did not fit
            raise nested[0]
        raise _fail(path, f"one of the union's types ({names})", value)

    @staticmethod
    def _name(schema: Any) -> str:
        if isinstance(schema, dict):
            return str(schema.get("name") or schema.get("type"))
        return str(schema)

    def _primitive(self, value: Any, kind: str, path: str) -> Any:
        if kind == "null":
            if value is not None:
                raise _fail(path, "null", value)
            return None
        if kind == "boolean":
            if not isinstance(value, bool):
                raise _fail(path, "a boolean", value)
            return value
        if kind in ("int", "long"):
            low, high = INT_RANGE if kind == "int" else LONG_RANGE
            if isinstance(value, bool) or not isinstance(value, int):
                raise _fail(path, f"an integer ({kind})", value)
            if not low <= value <= high:
                raise SchemaMismatch(f"{_where(path)}: {value} is out of range for an Avro {kind}")
            return value
        if kind in ("float", "double"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _fail(path, f"a number ({kind})", value)
            return float(value)
        if kind == "string":
            if not isinstance(value, str):
                raise _fail(path, "a string", value)
            return value
        if kind == "bytes":
            return _b64(value, path, "bytes")
        raise SchemaMismatch(f"{_where(path)}: unknown Avro type {kind!r}")

    def _logical(self, value: Any, logical: str, schema: dict[str, Any], path: str) -> Any:
        """The datum for a logical type given as text; None: use the underlying type."""
        if logical == "decimal" and not isinstance(value, bool):
            return _decimal(value, int(schema.get("scale", 0)), path)
        if not isinstance(value, str):
            return None
        if logical.startswith(("timestamp", "local-timestamp")):
            parsed = _iso(value, path, dt.datetime.fromisoformat, "timestamp")
            if logical.startswith("timestamp") and parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=dt.UTC)
            return parsed
        if logical == "date":
            return _iso(value, path, dt.date.fromisoformat, "date")
        if logical.startswith("time-"):
            return _iso(value, path, dt.time.fromisoformat, "time")
        return None  # uuid and unknown logical types: the underlying string

    def _record(self, value: Any, schema: dict[str, Any], path: str) -> Any:
        if not isinstance(value, dict):
            raise _fail(path, f"an object (record {schema.get('name')})", value)
        fields = {f["name"]: f for f in schema["fields"]}
        for key in value:
            if key not in fields:
                child = f"{path}.{key}" if path else key
                raise SchemaMismatch(
                    f"field {child}: not in record {schema.get('name')} (fields: "
                    f"{', '.join(fields)})"
                )
        out: dict[str, Any] = {}
        for name, field in fields.items():
            child = f"{path}.{name}" if path else name
            if name in value:
                out[name] = self._convert(value[name], field["type"], child)
            elif "default" in field:  # given in the schema as JSON, like the values
                out[name] = self._convert(field["default"], field["type"], child)
            else:
                raise SchemaMismatch(f"field {child}: missing (the schema has no default)")
        return out


def encode_avro(data: Any, parsed: Any, named: dict[str, Any]) -> bytes:
    import fastavro

    datum = AvroJson(parsed, named).datum(data)
    buffer = io.BytesIO()
    try:
        fastavro.schemaless_writer(buffer, parsed, datum)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SchemaMismatch(f"the value does not fit the schema: {first}") from None
    return buffer.getvalue()


def message_indexes(file_proto: Any, full_name: str) -> list[int]:
    """The Confluent message indexes of ``full_name`` (nested messages too) in a file."""
    package = f"{file_proto.package}." if file_proto.package else ""
    relative = full_name.lstrip(".")
    if package and relative.startswith(package):
        relative = relative[len(package) :]
    container = list(file_proto.message_type)
    indexes = []
    for part in relative.split("."):
        for index, message in enumerate(container):
            if message.name == part:
                indexes.append(index)
                container = list(message.nested_type)
                break
        else:
            raise SchemaMismatch(f"no message {full_name!r} in {file_proto.name}")
    return indexes


def encode_protobuf(data: Any, descriptor: Any, pool: Any) -> bytes:
    from google.protobuf import json_format, message_factory

    message = message_factory.GetMessageClass(descriptor)()
    try:
        json_format.ParseDict(data, message, descriptor_pool=pool)
    except json_format.ParseError as exc:
        raise SchemaMismatch(str(exc).strip().splitlines()[0]) from None
    return bytes(message.SerializeToString())
