"""Protobuf with the reference library: descriptor pools from descriptor sets and decoding.

Decoded messages become the canonical proto3 JSON mapping (``json_format.MessageToDict``) with
the .proto field names, every field shown (defaults too), enums by name, and 64-bit integers
as numbers when they are exact in JSON.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any


class ProtobufError(ValueError):
    pass


WELL_KNOWN = (
    "any_pb2",
    "api_pb2",
    "duration_pb2",
    "empty_pb2",
    "field_mask_pb2",
    "source_context_pb2",
    "struct_pb2",
    "timestamp_pb2",
    "type_pb2",
    "wrappers_pb2",
    "descriptor_pb2",
)


def _well_known(name: str) -> Any:
    """A google/protobuf/*.proto file descriptor proto shipped with the library, or None."""
    import importlib

    from google.protobuf import descriptor_pb2, descriptor_pool

    if not name.startswith("google/protobuf/"):
        return None
    for module in WELL_KNOWN:
        importlib.import_module(f"google.protobuf.{module}")
    try:
        found = descriptor_pool.Default().FindFileByName(name)
    except KeyError:
        return None
    proto = descriptor_pb2.FileDescriptorProto()
    found.CopyToProto(proto)
    return proto


def file_protos_from_set(data: bytes, where: str) -> list[Any]:
    from google.protobuf import descriptor_pb2
    from google.protobuf.message import DecodeError

    fds = descriptor_pb2.FileDescriptorSet()
    try:
        fds.ParseFromString(data)
    except DecodeError:
        raise ProtobufError(f"{where}: not a protobuf FileDescriptorSet") from None
    if not fds.file:
        raise ProtobufError(f"{where}: the descriptor set is empty")
    return list(fds.file)


def file_proto_from_serialized(text: str, where: str) -> Any:
    """A registry's ``format=serialized`` schema: base64 of a FileDescriptorProto."""
    import binascii

    from google.protobuf import descriptor_pb2
    from google.protobuf.message import DecodeError

    proto = descriptor_pb2.FileDescriptorProto()
    try:
        proto.ParseFromString(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError, DecodeError):
        raise ProtobufError(
            f"{where}: the registry did not return a serialized descriptor "
            "(needs GET /schemas/ids/ID?format=serialized)"
        ) from None
    if not proto.name:
        raise ProtobufError(f"{where}: the serialized descriptor has no file name")
    return proto


def build_pool(files: Iterable[Any]) -> Any:
    """A new DescriptorPool holding ``files`` (in any order) and the well-known types they
    import. Files of the same name must be identical."""
    from google.protobuf import descriptor_pool

    pending: dict[str, Any] = {}
    for proto in files:
        known = pending.get(proto.name)
        if known is not None and known.SerializeToString() != proto.SerializeToString():
            raise ProtobufError(f"two different definitions of {proto.name}")
        pending[proto.name] = proto
    pool = descriptor_pool.DescriptorPool()
    added: set[str] = set()

    def add(name: str, chain: tuple[str, ...]) -> None:
        if name in added:
            return
        if name in chain:
            raise ProtobufError(f"import cycle through {name}")
        proto = pending.get(name) or _well_known(name)
        if proto is None:
            raise ProtobufError(f"missing imported file {name}")
        for dep in proto.dependency:
            add(dep, (*chain, name))
        try:
            pool.Add(proto)
        except (TypeError, ValueError) as exc:
            raise ProtobufError(f"cannot load {name}: {exc}") from None
        added.add(name)

    for name in list(pending):
        add(name, ())
    return pool


def message_by_indexes(pool: Any, file_proto: Any, indexes: list[int]) -> Any:
    """The message descriptor the Confluent message indexes point to in ``file_proto``."""
    where = file_proto.name
    container = list(file_proto.message_type)
    prefix = file_proto.package
    descriptor_proto = None
    for index in indexes:
        if index >= len(container):
            raise ProtobufError(f"message index {indexes} does not exist in {where}")
        descriptor_proto = container[index]
        prefix = f"{prefix}.{descriptor_proto.name}" if prefix else descriptor_proto.name
        container = list(descriptor_proto.nested_type)
    if descriptor_proto is None:
        raise ProtobufError(f"empty message index in {where}")
    return pool.FindMessageTypeByName(prefix)


def find_message(pool: Any, full_name: str) -> Any:
    try:
        return pool.FindMessageTypeByName(full_name.lstrip("."))
    except KeyError:
        raise ProtobufError(f"no message type {full_name!r} in the loaded descriptors") from None


def decode(payload: bytes, descriptor: Any, pool: Any) -> Any:
    from google.protobuf import json_format, message_factory
    from google.protobuf.message import DecodeError

    message = message_factory.GetMessageClass(descriptor)()
    try:
        message.ParseFromString(payload)
    except DecodeError as exc:
        raise ProtobufError(f"not a valid {descriptor.full_name}: {exc}") from None
    kwargs: dict[str, Any] = {
        "preserving_proto_field_name": True,
        "always_print_fields_with_no_presence": True,
        "descriptor_pool": pool,
    }
    try:
        return json_format.MessageToDict(message, unquote_int64_if_possible=True, **kwargs)
    except TypeError:  # protobuf without unquote_int64_if_possible
        return json_format.MessageToDict(message, **kwargs)
