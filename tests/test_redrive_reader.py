"""The redrive's bulk frame reader (mqctl/backends/rabbitmq/redrive_reader.py) returns exactly
what pamqp returns, for generated frames: every basic property, headers with every AMQP field
type (nested arrays and tables), empty and multi-frame bodies, heartbeats and other frames in
between, and the stream cut into arbitrary reads. No broker: the frames are built here (the
redrive tests run the reader against RabbitMQ).
"""

from __future__ import annotations

import asyncio
import struct
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pamqp import decode
from pamqp import frame as amqp_frame
from pamqp.body import ContentBody
from pamqp.commands import Basic
from pamqp.heartbeat import Heartbeat

from mqctl.backends.rabbitmq.aiormq_internals import allow_any_names
from mqctl.backends.rabbitmq.redrive_reader import (
    PROPERTY_LAYOUT,
    BulkReader,
    Delivery,
    FrameError,
)
from mqctl.backends.rabbitmq.redrive_wire import encode_table

allow_any_names()  # mqctl's widened names (any UTF-8), before hypothesis builds frames
CHANNEL = 1
HEARTBEAT = amqp_frame.marshal(Heartbeat(), 0)


def _long(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


# --- field values, encoded by hand (type octet + value), every type pamqp decodes ----------

_names = st.text(max_size=12).filter(lambda s: len(s.encode()) <= 128)
_scalars = st.one_of(
    st.booleans().map(lambda v: b"t" + bytes((v,))),
    st.integers(-(2**7), 2**7 - 1).map(lambda v: b"b" + struct.pack(">b", v)),
    st.integers(0, 2**8 - 1).map(lambda v: b"B" + struct.pack(">B", v)),
    st.integers(-(2**15), 2**15 - 1).map(lambda v: b"s" + struct.pack(">h", v)),
    st.integers(0, 2**16 - 1).map(lambda v: b"u" + struct.pack(">H", v)),
    st.integers(-(2**31), 2**31 - 1).map(lambda v: b"I" + struct.pack(">i", v)),
    st.integers(0, 2**32 - 1).map(lambda v: b"i" + struct.pack(">I", v)),
    st.integers(-(2**63), 2**63 - 1).map(lambda v: b"l" + struct.pack(">q", v)),
    st.integers(-(2**63), 2**63 - 1).map(lambda v: b"L" + struct.pack(">q", v)),
    st.floats(width=32, allow_nan=False).map(lambda v: b"f" + struct.pack(">f", v)),
    st.floats(allow_nan=False).map(lambda v: b"d" + struct.pack(">d", v)),
    st.tuples(st.integers(0, 9), st.integers(-(2**31), 2**31 - 1)).map(
        lambda v: b"D" + struct.pack(">Bi", *v)
    ),
    st.text(max_size=20).map(lambda v: b"S" + _long(v.encode())),
    st.binary(max_size=20).map(lambda v: b"S" + _long(v)),  # not UTF-8: pamqp gives bytes
    st.integers(0, 2**32 - 1).map(lambda v: b"T" + struct.pack(">Q", v)),
    st.integers(2**32, 2**42).map(lambda v: b"T" + struct.pack(">Q", v)),  # milliseconds
    st.just(b"V"),
    st.just(b"\x00"),
    st.binary(max_size=20).map(lambda v: b"x" + _long(v)),
)


def _table(entries: dict[str, bytes]) -> bytes:
    return _long(b"".join(bytes((len(k.encode()),)) + k.encode() + v for k, v in entries.items()))


_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: b"A" + _long(b"".join(items))),
        st.dictionaries(_names, inner, max_size=4).map(lambda t: b"F" + _table(t)),
    ),
    max_leaves=8,
)
_header_tables = st.dictionaries(_names, _values, max_size=8)
_short = st.text(max_size=30).filter(lambda s: len(s.encode()) <= 255)


@st.composite
def _properties(draw: Any) -> tuple[int, bytes, dict[str, bytes]]:
    """Property flags, their encoded values, and the headers' entries (name: raw value)."""
    flags, parts, headers = 0, [], {}
    for _name, bit, kind in PROPERTY_LAYOUT:
        if not draw(st.booleans()):
            continue
        flags |= 1 << bit
        if kind == "s":
            raw = draw(_short).encode()
            parts.append(bytes((len(raw),)) + raw)
        elif kind == "o":
            parts.append(bytes((draw(st.integers(0, 255)),)))
        elif kind == "t":
            headers = draw(_header_tables)
            parts.append(_table(headers))
        else:
            parts.append(struct.pack(">Q", draw(st.integers(0, 2**32 - 1))))
    return flags, b"".join(parts), headers


@st.composite
def _messages(draw: Any) -> dict[str, Any]:
    flags, properties, headers = draw(_properties())
    body = draw(st.one_of(st.binary(max_size=600), st.just(b""), st.just(b"z" * 70_000)))
    return {
        "deliver": Basic.Deliver(
            consumer_tag=draw(_short),
            delivery_tag=draw(st.integers(1, 2**63 - 1)),
            redelivered=draw(st.booleans()),
            exchange=draw(_short),
            routing_key=draw(_short),
        ),
        "header": struct.pack(">HHQH", 60, 0, len(body), flags) + properties,
        "headers": headers,
        "body": body,
        "frame_max": draw(st.sampled_from([1, 7, 131_072, 4096])),
        "heartbeat": draw(st.booleans()),
    }


def _frame(kind: int, payload: bytes) -> bytes:
    return struct.pack(">BHI", kind, CHANNEL, len(payload)) + payload + b"\xce"


def _wire(message: dict[str, Any]) -> bytes:
    """The message's frames as RabbitMQ sends them (a heartbeat in between, maybe)."""
    frames = [amqp_frame.marshal(message["deliver"], CHANNEL), _frame(2, message["header"])]
    if message["heartbeat"]:
        frames.insert(1, HEARTBEAT)
    body, size = message["body"], message["frame_max"]
    frames += [_frame(3, body[i : i + size]) for i in range(0, len(body), size)]
    return b"".join(frames)


def _reads(data: bytes, cuts: list[int]) -> Any:
    chunks = [
        data[a:b] for a, b in zip([0, *sorted(cuts)], [*sorted(cuts), len(data)], strict=True)
    ]
    chunks = [c for c in chunks if c] + [b""]

    async def read(_size: int) -> bytes:
        return chunks.pop(0)

    return read


async def _drain(reader: BulkReader) -> list[Any]:
    passed = []
    while True:
        try:
            passed.append(await reader.get_frame())
        except StopAsyncIteration:
            return passed


def _check_delivery(got: Delivery, message: dict[str, Any]) -> None:
    """``got`` holds what pamqp decodes from the same frames."""
    _, _, header = amqp_frame.unmarshal(_frame(2, message["header"]))
    deliver = message["deliver"]
    assert (got.delivery_tag, got.redelivered, got.exchange, got.routing_key) == (
        deliver.delivery_tag,
        deliver.redelivered,
        deliver.exchange,
        deliver.routing_key,
    )
    for name, _, _ in PROPERTY_LAYOUT:
        expected = getattr(header.properties, "message_type" if name == "type" else name)
        if name == "headers":
            assert got.headers == expected
        else:
            absent = "" if name == "cluster_id" else None  # pamqp's default for it
            assert got.properties.get(name, absent) == expected, name
    assert got.body == message["body"]
    # Every header's bytes as received, and the table re-encoded from them is the original
    # (keys sorted, as pamqp writes a table).
    raw = message["headers"]
    assert {k: v[1] for k, v in got.raw_headers.items()} == raw
    for value, encoded in got.raw_headers.values():
        assert decode.embedded_value(encoded) == (len(encoded), value)
    if got.headers is not None:
        assert encode_table(got.headers, got.raw_headers) == _table(dict(sorted(raw.items())))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_messages(), min_size=1, max_size=4), st.data())
def test_deliveries_decode_like_pamqp(messages: list[dict[str, Any]], data: Any) -> None:
    other = amqp_frame.marshal(Basic.QosOk(), CHANNEL)  # not the reader's: goes to aiormq
    wire = other + b"".join(_wire(m) for m in messages) + HEARTBEAT
    cuts = data.draw(st.lists(st.integers(1, max(1, len(wire) - 1)), max_size=12))
    delivered: list[Delivery] = []
    reader = BulkReader(_reads(wire, cuts), CHANNEL, on_delivery=delivered.append)
    passed = asyncio.run(_drain(reader))
    heartbeats = 1 + sum(m["heartbeat"] for m in messages)
    assert [type(f[2]) for f in passed] == [Basic.QosOk] + [Heartbeat] * heartbeats
    assert [f[1] for f in passed] == [CHANNEL] + [0] * heartbeats
    assert len(delivered) == len(messages)
    for got, message in zip(delivered, messages, strict=True):
        _check_delivery(got, message)


@settings(max_examples=20, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["ack", "nack", "return"]),
            st.integers(1, 2**63 - 1),
            st.booleans(),
            _short,
        ),
        min_size=1,
        max_size=8,
    ),
    st.data(),
)
def test_confirms_and_returns_in_order(events: list[tuple[str, int, bool, str]], data: Any) -> None:
    wire, expected = b"", []
    for kind, tag, multiple, text in events:
        if kind == "return":
            ret = Basic.Return(
                reply_code=312, reply_text="NO_ROUTE", exchange=text, routing_key=text
            )
            mid = text.encode()
            header = struct.pack(">HHQH", 60, 0, 3, 1 << 7) + bytes((len(mid),)) + mid
            wire += amqp_frame.marshal(ret, CHANNEL) + _frame(2, header) + _frame(3, b"abc")
            expected.append(("return", text, text, text))
        else:
            method = Basic.Ack if kind == "ack" else Basic.Nack
            wire += amqp_frame.marshal(method(delivery_tag=tag, multiple=multiple), CHANNEL)
            expected.append(("confirm", tag, multiple, kind == "nack"))
    cuts = data.draw(st.lists(st.integers(1, len(wire) - 1), max_size=6))
    seen: list[tuple[Any, ...]] = []
    reader = BulkReader(
        _reads(wire, cuts),
        CHANNEL,
        on_confirm=lambda tag, multiple, nack: seen.append(("confirm", tag, multiple, nack)),
        on_return=lambda r: seen.append(
            ("return", r.exchange, r.routing_key, r.properties.get("message_id"))
        ),
    )
    assert asyncio.run(_drain(reader)) == []
    assert seen == expected


def test_a_broken_frame_is_an_error_not_a_guess() -> None:
    frame = bytearray(amqp_frame.marshal(Basic.Ack(delivery_tag=1), CHANNEL))
    frame[-1] = 0
    reader = BulkReader(_reads(bytes(frame), []), CHANNEL, on_confirm=lambda *a: None)
    with pytest.raises(FrameError):
        asyncio.run(_drain(reader))
    # A body frame without its method and header is not taken for one.
    body = _frame(3, b"x")
    reader = BulkReader(_reads(body, []), CHANNEL, on_delivery=lambda d: None)
    assert [type(f[2]) for f in asyncio.run(_drain(reader))] == [ContentBody]


def test_a_stream_cut_mid_frame_is_a_connection_error() -> None:
    wire = amqp_frame.marshal(Basic.Ack(delivery_tag=1), CHANNEL)[:-3]
    reader = BulkReader(_reads(wire, []), CHANNEL, on_confirm=lambda *a: None)
    with pytest.raises(ConnectionError):
        asyncio.run(_drain(reader))


def test_decimal_and_nested_values_are_pamqps_own() -> None:
    value = b"D" + struct.pack(">Bi", 2, 12345)
    table = _table({"price": value, "nested": b"F" + _table({"n": b"A" + _long(value)})})
    got = Delivery()
    from mqctl.backends.rabbitmq.redrive_reader import decode_table

    assert decode_table(table, 0, got) == len(table)
    assert got.headers == {"price": Decimal("123.45"), "nested": {"n": [Decimal("123.45")]}}


_python_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(-(2.0**100), 2.0**100, width=32),  # pamqp writes every float as 32 bits
        st.text(max_size=20),
        st.binary(max_size=10).map(bytearray),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(st.text(max_size=140), _python_values, max_size=6))
def test_a_table_mqctl_writes_is_encoded_as_pamqp_does(table: dict[str, Any]) -> None:
    """Values that did not arrive with the message (new headers, the redrive count, a
    received header under another name) are encoded exactly as pamqp encodes them."""
    from pamqp import encode

    from mqctl.dlq.metadata import REDRIVE_COUNT_HEADER

    table = {**table, REDRIVE_COUNT_HEADER: 1, "x-mqctl-redriven-from": "q"}
    # Received with other bytes under the same names: none of those may be reused.
    received = {
        REDRIVE_COUNT_HEADER: (1, b"b\x01"),
        "from": ("q", b"S\x00\x00\x00\x01q"),
        **{key: (object(), b"V") for key in table},
    }
    assert encode_table(table, received) == encode.field_table(table)
