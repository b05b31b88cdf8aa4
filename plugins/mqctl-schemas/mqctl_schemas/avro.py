"""Avro with fastavro: parsing schemas (with named references) and decoding one value.

The decoded datum is returned as JSON-ready data: records/maps as objects, arrays as lists;
``bytes``/``fixed`` as ``{"base64": ...}``; logical types as strings (timestamps and dates
ISO 8601, decimals exact, UUIDs canonical); everything else unchanged.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import io
import json
import uuid
from typing import Any


class AvroError(ValueError):
    pass


def parse_schema(text: str | dict[str, Any], named: dict[str, Any]) -> Any:
    """Parse an Avro schema; ``named`` collects named types for later schemas' references."""
    import fastavro
    from fastavro.schema import SchemaParseException, UnknownType

    try:
        raw = json.loads(text) if isinstance(text, str) else text
    except ValueError as exc:
        raise AvroError(f"invalid Avro schema (not JSON): {exc}") from None
    try:
        return fastavro.parse_schema(raw, named_schemas=named)
    except (SchemaParseException, UnknownType, ValueError, TypeError, KeyError) as exc:
        raise AvroError(f"invalid Avro schema: {exc}") from None


def schema_name(parsed: Any) -> str | None:
    if isinstance(parsed, dict):
        name = parsed.get("name")
        return str(name) if name else None
    return None


def decode(payload: bytes, parsed: Any) -> Any:
    """Decode one schemaless Avro datum; the whole payload must be consumed."""
    import fastavro

    buffer = io.BytesIO(payload)
    try:
        datum = fastavro.schemaless_reader(buffer, parsed)
    except (EOFError, StopIteration):
        raise AvroError("Avro data is truncated for this schema") from None
    except (ValueError, TypeError, IndexError, KeyError, UnicodeDecodeError) as exc:
        raise AvroError(f"Avro data does not match the schema: {exc}") from None
    left = len(payload) - buffer.tell()
    if left:
        raise AvroError(f"{left} bytes left after the Avro datum: wrong schema?")
    return jsonable(datum)


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return {"base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value
