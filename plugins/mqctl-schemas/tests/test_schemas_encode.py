"""The encoder behind `publish --schema-subject`: what the Avro decoder prints, the encoder takes
back unchanged (property test), and Protobuf message indexes point at the named message."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mqctl_schemas import avro
from mqctl_schemas.encode import SchemaMismatch, encode_avro, message_indexes
from test_schemas_cli import ORDER
from test_schemas_protobuf import order_file

INT = st.integers(-(2**31), 2**31 - 1)
MILLIS = st.datetimes(
    min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=st.just(dt.UTC)
).map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))
CENTS = st.integers(-(10**9) + 1, 10**9 - 1).map(lambda c: str(decimal.Decimal(c).scaleb(-2)))

ORDERS = st.fixed_dictionaries(
    {
        "id": st.text(max_size=20),
        "qty": INT,
        "note": st.none() | st.text(max_size=10),
        "tags": st.lists(st.text(max_size=5), max_size=4),
        "customer": st.fixed_dictionaries({"name": st.text(max_size=8), "zip": st.text()}),
        "status": st.sampled_from(["NEW", "PAID"]),
        "payload": st.binary(max_size=16).map(lambda b: {"base64": _b64(b)}),
        "created": MILLIS.map(lambda t: t.isoformat()),
        "price": CENTS,
    }
)


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


def _parsed() -> tuple[Any, dict[str, Any]]:
    named: dict[str, Any] = {}
    return avro.parse_schema(dict(ORDER), named), named


@settings(max_examples=25, deadline=None)
@given(ORDERS)
def test_avro_decoded_json_encodes_back_to_the_same_value(value: dict[str, Any]) -> None:
    parsed, named = _parsed()
    assert avro.decode(encode_avro(value, parsed, named), parsed) == value


def test_avro_union_branch_errors_name_the_nested_field() -> None:
    schema = {
        "type": "record",
        "name": "Wrap",
        "fields": [{"name": "inner", "type": ["null", ORDER]}],
    }
    wrap_named: dict[str, Any] = {}
    wrap = avro.parse_schema(schema, wrap_named)
    with pytest.raises(SchemaMismatch, match=r"field inner\.qty: expected an integer"):
        encode_avro({"inner": {"id": "x", "qty": "no"}}, wrap, wrap_named)
    with pytest.raises(SchemaMismatch, match="field inner: expected one of the union's types"):
        encode_avro({"inner": 5}, wrap, wrap_named)


def test_protobuf_message_indexes_of_top_level_and_nested_messages() -> None:
    file_proto = order_file()
    assert message_indexes(file_proto, "shop.Order") == [0]
    assert message_indexes(file_proto, "shop.Refund") == [1]
    assert message_indexes(file_proto, ".shop.Order.Item") == [0, 0]
    with pytest.raises(SchemaMismatch, match="no message"):
        message_indexes(file_proto, "shop.Nope")
