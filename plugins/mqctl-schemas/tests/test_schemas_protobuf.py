"""Protobuf values written by the protobuf library (the reference implementation) decode
exactly: through a schema registry (Confluent wire format with message indexes, serialized
descriptors, references) and from local descriptor sets."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import (
    descriptor_pb2,
    descriptor_pool,
    json_format,
    message_factory,
    timestamp_pb2,
)
from mqctl_schemas.decoders import AvroDecoder, ProtobufDecoder
from mqctl_schemas.wire import frame, read_message_indexes, write_message_indexes

from mqctl.messages.decode import DecoderContext

F = descriptor_pb2.FieldDescriptorProto


def _field(msg: Any, name: str, number: int, kind: int, **extra: Any) -> None:
    msg.field.add(name=name, number=number, type=kind, label=F.LABEL_OPTIONAL, **extra)


def common_file() -> Any:
    fdp = descriptor_pb2.FileDescriptorProto(name="shop/common.proto", package="shop")
    fdp.syntax = "proto3"
    money = fdp.message_type.add(name="Money")
    _field(money, "currency", 1, F.TYPE_STRING)
    _field(money, "cents", 2, F.TYPE_INT64)
    return fdp


def order_file() -> Any:
    fdp = descriptor_pb2.FileDescriptorProto(name="shop/order.proto", package="shop")
    fdp.syntax = "proto3"
    fdp.dependency.extend(["google/protobuf/timestamp.proto", "shop/common.proto"])
    status = fdp.enum_type.add(name="Status")
    status.value.add(name="NEW", number=0)
    status.value.add(name="PAID", number=1)
    order = fdp.message_type.add(name="Order")
    _field(order, "id", 1, F.TYPE_STRING)
    _field(order, "qty", 2, F.TYPE_INT32)
    _field(order, "price", 3, F.TYPE_DOUBLE)
    _field(order, "total", 4, F.TYPE_INT64)
    order.field.add(name="tags", number=5, type=F.TYPE_STRING, label=F.LABEL_REPEATED)
    _field(order, "status", 6, F.TYPE_ENUM, type_name=".shop.Status")
    _field(order, "created", 7, F.TYPE_MESSAGE, type_name=".google.protobuf.Timestamp")
    _field(order, "payload", 8, F.TYPE_BYTES)
    _field(order, "amount", 9, F.TYPE_MESSAGE, type_name=".shop.Money")
    order.field.add(
        name="items",
        number=10,
        type=F.TYPE_MESSAGE,
        label=F.LABEL_REPEATED,
        type_name=".shop.Order.Item",
    )
    _field(order, "big", 11, F.TYPE_UINT64)
    item = order.nested_type.add(name="Item")
    _field(item, "sku", 1, F.TYPE_STRING)
    _field(item, "count", 2, F.TYPE_INT32)
    refund = fdp.message_type.add(name="Refund")
    _field(refund, "order_id", 1, F.TYPE_STRING)
    return fdp


def timestamp_file() -> Any:
    proto = descriptor_pb2.FileDescriptorProto()
    timestamp_pb2.DESCRIPTOR.CopyToProto(proto)
    return proto


@pytest.fixture(scope="module")
def classes() -> dict[str, Any]:
    """Message classes made by the protobuf library from the descriptors (the encoder)."""
    pool = descriptor_pool.DescriptorPool()
    for fdp in (timestamp_file(), common_file(), order_file()):
        pool.Add(fdp)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(name))
        for name in ("shop.Order", "shop.Order.Item", "shop.Refund", "shop.Money")
    }


def sample_order(classes: dict[str, Any]) -> Any:
    order = classes["shop.Order"](
        id="o-1",
        qty=-3,
        price=12.5,
        total=2**53 + 1,
        tags=["a", "ü"],
        status=1,
        payload=b"\x00\xffbin",
        big=2**64 - 1,
    )
    order.created.FromSeconds(1_795_000_000)
    order.created.nanos = 123_000_000
    order.amount.currency = "EUR"
    order.amount.cents = 123456
    order.items.add(sku="s-1", count=2)
    order.items.add(sku="s-2")
    return order


def decoder(url: str | None = None) -> ProtobufDecoder:
    d = ProtobufDecoder()
    d.configure(DecoderContext("test", url))
    return d


def serialized(fdp: Any) -> str:
    return base64.b64encode(fdp.SerializeToString()).decode()


@pytest.fixture
def shop_registry(registry: Any) -> Any:
    registry.add(
        10,
        {
            "schemaType": "PROTOBUF",
            "schema": "// proto text",
            "serialized": serialized(common_file()),
        },
        subject="shop-common",
    )
    registry.add(
        11,
        {
            "schemaType": "PROTOBUF",
            "schema": "// proto text",
            "serialized": serialized(order_file()),
            "references": [{"name": "shop/common.proto", "subject": "shop-common", "version": 1}],
        },
    )
    return registry


def test_message_indexes_round_trip() -> None:
    for indexes in ([0], [1], [0, 0], [3, 2, 1]):
        encoded = write_message_indexes(indexes)
        assert read_message_indexes(encoded + b"rest") == (indexes, b"rest")
    assert write_message_indexes([0]) == b"\x00"


def test_registry_framed_values_decode_exactly(shop_registry: Any, classes: dict[str, Any]) -> None:
    order = sample_order(classes)
    value = frame(11, write_message_indexes([0]) + order.SerializeToString())
    d = decoder(shop_registry.url)
    assert d.claims(value, [])
    decoded = d.decode(value, [])
    assert decoded.format == "protobuf"
    data = decoded.data
    assert data["id"] == "o-1" and data["status"] == "PAID"
    assert data["total"] == str(2**53 + 1)  # beyond what a JSON number holds exactly
    assert data["amount"] == {"currency": "EUR", "cents": 123456}  # small int64: a number
    assert data["items"][1] == {"sku": "s-2", "count": 0}  # defaults shown
    # exact: parsing the JSON form back gives the very message that was encoded
    again = json_format.ParseDict(data, classes["shop.Order"]())
    assert again == order
    assert again.SerializeToString(deterministic=True) == order.SerializeToString(
        deterministic=True
    )
    # other messages of the file, by index: second top-level, and a nested one
    refund = classes["shop.Refund"](order_id="o-1")
    value = frame(11, write_message_indexes([1]) + refund.SerializeToString())
    assert d.decode(value, []).data == {"order_id": "o-1"}
    item = classes["shop.Order.Item"](sku="x", count=7)
    value = frame(11, write_message_indexes([0, 0]) + item.SerializeToString())
    assert d.decode(value, []).data == {"sku": "x", "count": 7}
    # the descriptor was fetched once (serialized form), its reference once
    assert shop_registry.hits.count("/schemas/ids/11?format=serialized") == 1


def test_auto_routes_by_schema_type(shop_registry: Any, classes: dict[str, Any]) -> None:
    value = frame(11, b"\x00" + sample_order(classes).SerializeToString())
    avro = AvroDecoder()
    avro.configure(DecoderContext("test", shop_registry.url))
    assert not avro.claims(value, [])
    assert decoder(shop_registry.url).claims(value, [])


def test_bad_values_raise_clear_errors(shop_registry: Any) -> None:
    d = decoder(shop_registry.url)
    with pytest.raises(ValueError, match="message index \\[5\\] does not exist"):
        d.decode(frame(11, write_message_indexes([5]) + b""), [])
    with pytest.raises(ValueError, match=r"not a valid shop\.Order"):
        d.decode(frame(11, b"\x00\xff\xff\xff"), [])
    with pytest.raises(LookupError, match="schema id 404 not found"):
        d.decode(frame(404, b"\x00"), [])


def test_local_descriptor_sets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, classes: dict[str, Any]
) -> None:
    fds = descriptor_pb2.FileDescriptorSet(file=[timestamp_file(), common_file(), order_file()])
    (tmp_path / "shop.desc").write_bytes(fds.SerializeToString())
    (tmp_path / "11.pb").write_bytes(fds.SerializeToString())  # stands in for registry id 11
    (tmp_path / "junk.desc").write_bytes(b"\xff\xff not a descriptor set")
    monkeypatch.setenv("MQCTL_SCHEMAS", str(tmp_path))
    monkeypatch.setenv("MQCTL_PROTOBUF_MESSAGE", "shop.Order")
    d = ProtobufDecoder()
    order = sample_order(classes)
    plain = d.decode(order.SerializeToString(), [])
    assert json_format.ParseDict(plain.data, classes["shop.Order"]()) == order
    framed = frame(
        11, write_message_indexes([1]) + classes["shop.Refund"](order_id="r").SerializeToString()
    )
    assert d.claims(framed, [])
    assert d.decode(framed, []).data == {"order_id": "r"}


def test_local_missing_type_names_the_bad_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "junk.desc").write_bytes(b"\xff\xff")
    monkeypatch.setenv("MQCTL_SCHEMAS", str(tmp_path))
    monkeypatch.setenv("MQCTL_PROTOBUF_MESSAGE", "shop.Order")
    with pytest.raises(LookupError, match=r"junk\.desc"):
        ProtobufDecoder().decode(b"", [])


def test_plain_value_without_a_message_type_says_how() -> None:
    with pytest.raises(LookupError, match="MQCTL_PROTOBUF_MESSAGE"):
        ProtobufDecoder().decode(b"\x08\x01", [])
