"""Avro values written by fastavro (the reference library) decode exactly: through a schema
registry (Confluent wire format) and from local .avsc files."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import uuid
from pathlib import Path
from typing import Any

import fastavro
import pytest
from mqctl_schemas.avro import jsonable
from mqctl_schemas.decoders import AvroDecoder, ProtobufDecoder
from mqctl_schemas.wire import frame

from mqctl.messages import decode as core
from mqctl.messages.decode import DecoderContext

MONEY = {
    "type": "record",
    "name": "Money",
    "namespace": "com.acme",
    "fields": [{"name": "currency", "type": "string"}, {"name": "cents", "type": "long"}],
}
ORDER: dict[str, Any] = {
    "type": "record",
    "name": "Order",
    "namespace": "com.acme",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "qty", "type": "int"},
        {"name": "price", "type": "double"},
        {"name": "total", "type": "long"},
        {"name": "paid", "type": "boolean"},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "attrs", "type": {"type": "map", "values": "long"}},
        {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}},
        {"name": "note", "type": ["null", "string"], "default": None},
        {"name": "payload", "type": "bytes"},
        {"name": "created", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {
            "name": "amount",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2},
        },
        {"name": "uid", "type": {"type": "string", "logicalType": "uuid"}},
    ],
}
RECORD: dict[str, Any] = {
    "id": "o-1",
    "qty": -3,
    "price": 12.5,
    "total": 2**53 + 1,
    "paid": True,
    "tags": ["a", "ü"],
    "attrs": {"x": 1, "y": -(2**40)},
    "status": "PAID",
    "note": None,
    "payload": b"\x00\xffbin",
    "created": dt.datetime(2026, 11, 26, 10, 0, 0, 123000, tzinfo=dt.UTC),
    "amount": decimal.Decimal("1234.56"),
    "uid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
}
EXPECTED = {
    **{k: v for k, v in RECORD.items() if k not in ("payload", "created", "amount", "uid")},
    "payload": {"base64": "AP9iaW4="},
    "created": "2026-11-26T10:00:00.123000+00:00",
    "amount": "1234.56",
    "uid": "12345678-1234-5678-1234-567812345678",
}


def encode(schema: Any, record: dict[str, Any], named: dict[str, Any] | None = None) -> bytes:
    buffer = io.BytesIO()
    parsed = fastavro.parse_schema(schema, named_schemas=named if named is not None else {})
    fastavro.schemaless_writer(buffer, parsed, record)
    return buffer.getvalue()


def decoder(url: str | None = None) -> AvroDecoder:
    d = AvroDecoder()
    d.configure(DecoderContext("test", url))
    return d


def test_registry_framed_value_decodes_exactly(registry: Any) -> None:
    registry.add(1, {"schema": json.dumps(ORDER)})
    value = frame(1, encode(ORDER, RECORD))
    d = decoder(registry.url)
    assert d.claims(value, [])
    decoded = d.decode(value, [])
    assert decoded.format == "avro"
    assert decoded.data == EXPECTED
    assert decoded.data == jsonable(RECORD)
    assert json.loads(decoded.text) == EXPECTED
    # ids are immutable: one lookup for any number of values
    for _ in range(3):
        d.decode(value, [])
    assert registry.hits.count("/schemas/ids/1") == 1


def test_registry_references_are_resolved(registry: Any) -> None:
    payment = {
        "type": "record",
        "name": "Payment",
        "namespace": "com.acme",
        "fields": [{"name": "amount", "type": "com.acme.Money"}],
    }
    registry.add(5, {"schema": json.dumps(MONEY)}, subject="money")
    registry.add(
        6,
        {
            "schema": json.dumps(payment),
            "references": [{"name": "com.acme.Money", "subject": "money", "version": 1}],
        },
    )
    named: dict[str, Any] = {}
    fastavro.parse_schema(MONEY, named_schemas=named)
    record = {"amount": {"currency": "EUR", "cents": 1999}}
    value = frame(6, encode(payment, record, named))
    assert decoder(registry.url).decode(value, []).data == record


def test_auth_from_url_and_wrong_credentials(registry: Any) -> None:
    registry.credentials = ("svc", "pa55word")
    registry.add(1, {"schema": json.dumps(MONEY)})
    value = frame(1, encode(MONEY, {"currency": "USD", "cents": 5}))
    host = registry.url.removeprefix("http://")
    ok = decoder(f"http://svc:pa55word@{host}").decode(value, [])
    assert ok.data == {"currency": "USD", "cents": 5}

    with pytest.raises(LookupError) as info:
        decoder(f"http://svc:wrong-one@{host}").decode(value, [])
    assert "refused the credentials (HTTP 401)" in str(info.value)
    assert "wrong-one" not in str(info.value)


def test_auth_from_environment(registry: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    registry.credentials = ("envuser", "envpass")
    registry.add(3, {"schema": json.dumps(MONEY)})
    monkeypatch.setenv("MQCTL_SCHEMA_REGISTRY", registry.url)
    monkeypatch.setenv("MQCTL_SCHEMA_REGISTRY_USER", "envuser")
    monkeypatch.setenv("MQCTL_SCHEMA_REGISTRY_PASSWORD", "envpass")
    value = frame(3, encode(MONEY, {"currency": "GBP", "cents": 7}))
    assert AvroDecoder().decode(value, []).data == {"currency": "GBP", "cents": 7}


def test_errors_are_per_message_through_the_core(registry: Any) -> None:
    """mqctl's decode core turns every failure into an error on that message only."""
    registry.add(1, {"schema": json.dumps(MONEY)})
    core.configure(DecoderContext("test", registry.url))
    try:
        good = frame(1, encode(MONEY, {"currency": "EUR", "cents": 1}))
        assert core.decode_value(good, "auto").data == {"currency": "EUR", "cents": 1}
        assert core.decode_value(good, "auto").format == "avro"
        missing = core.decode_value(frame(99, b"\x02"), "avro")
        assert missing.format == "base64"
        assert missing.error is not None and "schema id 99" in missing.error
        truncated = core.decode_value(good[:-2], "avro")
        assert truncated.error is not None and truncated.error.startswith("avro: ")
        trailing = core.decode_value(good + b"\x00", "avro")
        assert trailing.error is not None and "bytes left" in trailing.error
        # plain JSON is not claimed by the schema decoders
        assert core.decode_value(b'{"a": 1}', "auto").format == "json"
    finally:
        core.configure(DecoderContext("none", None))


def test_unreachable_registry_is_a_per_message_error(closed_port_url: str) -> None:
    d = decoder(closed_port_url)
    value = frame(1, b"\x00")
    for _ in range(2):  # the second one answers from the failure cache
        with pytest.raises(LookupError, match="cannot reach the schema registry"):
            d.decode(value, [])


def test_local_avsc_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    schemas = tmp_path / "schemas"
    (schemas / "nested").mkdir(parents=True)
    (schemas / "money.avsc").write_text(json.dumps(MONEY))
    (schemas / "nested" / "order.avsc").write_text(json.dumps(ORDER))
    (schemas / "42.avsc").write_text(json.dumps(MONEY))
    (schemas / "broken.avsc").write_text("{not json")
    monkeypatch.setenv("MQCTL_SCHEMAS", str(schemas))
    monkeypatch.setenv("MQCTL_AVRO_SCHEMA", "com.acme.Order")
    d = AvroDecoder()
    # a plain (unframed) value with the chosen schema
    assert d.decode(encode(ORDER, RECORD), []).data == EXPECTED
    # a framed value whose id has a local file, without any registry
    money = {"currency": "CHF", "cents": 10}
    framed = frame(42, encode(MONEY, money))
    assert d.claims(framed, [])
    assert d.decode(framed, []).data == money
    with pytest.raises(LookupError, match=r"no local Avro schema file 7\.avsc"):
        d.decode(frame(7, b""), [])


def test_local_schema_by_file_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "money.avsc").write_text(json.dumps(MONEY))
    monkeypatch.setenv("MQCTL_SCHEMAS", str(tmp_path / "money.avsc"))
    monkeypatch.setenv("MQCTL_AVRO_SCHEMA", "money")
    record = {"currency": "JPY", "cents": 2**62}
    assert AvroDecoder().decode(encode(MONEY, record), []).data == record


def test_plain_value_without_a_chosen_schema_says_how(tmp_path: Path) -> None:
    with pytest.raises(LookupError, match="MQCTL_AVRO_SCHEMA"):
        AvroDecoder().decode(b"\x02", [])


def test_protobuf_does_not_claim_avro_ids(registry: Any) -> None:
    registry.add(1, {"schema": json.dumps(MONEY)})
    value = frame(1, encode(MONEY, {"currency": "EUR", "cents": 1}))
    proto = ProtobufDecoder()
    proto.configure(DecoderContext("test", registry.url))
    assert not proto.claims(value, [])
    assert not proto.claims(b"plain", [])
