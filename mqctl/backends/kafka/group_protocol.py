# mypy: disallow-subclassing-any=False
"""Kafka request versions aiokafka lacks, for batched group administration.

aiokafka 0.14 only ships old versions of these APIs. The newer ones below are what makes
``lag`` fast and complete on Kafka 4.x:

* FindCoordinator v4: coordinators of many groups in one request (KIP-699);
* ListGroups v5: group type (classic/consumer) and state of every group (KIP-848);
* DescribeGroups v5: many classic groups per request;
* ConsumerGroupDescribe v0: groups of the KIP-848 ``consumer`` protocol, which the classic
  DescribeGroups reports as not found;
* OffsetFetch v8: committed offsets of many groups in one request (KIP-709).

Each class pins one version: the caller checks the broker supports it (:func:`supports`) and
falls back to aiokafka's own classes otherwise. Layouts follow the Kafka protocol's JSON specs.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any, Self

from aiokafka.protocol.abstract import AbstractType
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    Boolean,
    CompactArray,
    CompactBytes,
    CompactString,
    Int8,
    Int16,
    Int32,
    Int64,
    Schema,
    TaggedFields,
)

GROUP_KEY_TYPE = 0  # FindCoordinator key type for consumer groups


class Uuid(AbstractType[bytes]):
    """A 16-byte UUID (topic ids), kept as raw bytes: we only ever need topic names."""

    @classmethod
    def encode(cls, value: bytes) -> bytes:
        return value

    @classmethod
    def decode(cls, data: BytesIO) -> bytes:
        return data.read(16)


def _str() -> CompactString:
    return CompactString("utf-8")


# Every struct of a flexible version ends with tagged fields (none of which we use).


def _struct(*fields: tuple[str, Any]) -> Schema:
    """A struct of a flexible version: ``fields``, then the tagged fields."""
    return Schema(*fields, ("tags", TaggedFields))


def _array(*fields: tuple[str, Any]) -> CompactArray:
    """A compact array of flexible-version structs of ``fields`` (each with tagged fields)."""
    return CompactArray(*fields, ("tags", TaggedFields))


# --- FindCoordinator v4 -----------------------------------------------------------------


class FindCoordinatorResponse_v4(Response):
    API_KEY = 10
    API_VERSION = 4
    SCHEMA = _struct(
        ("throttle_time_ms", Int32),
        (
            "coordinators",
            _array(
                ("key", _str()),
                ("node_id", Int32),
                ("host", _str()),
                ("port", Int32),
                ("error_code", Int16),
                ("error_message", _str()),
            ),
        ),
    )


class FindCoordinatorRequest_v4(RequestStruct):
    API_KEY = 10
    API_VERSION = 4
    FLEXIBLE_VERSION = True
    RESPONSE_TYPE = FindCoordinatorResponse_v4
    SCHEMA = _struct(
        ("key_type", Int8),
        ("coordinator_keys", CompactArray(_str())),
    )


class FindCoordinatorsRequest(Request[FindCoordinatorRequest_v4]):
    API_KEY = 10

    def __init__(self, groups: list[str]) -> None:
        self.groups = groups

    def build(self, request_struct_class: type[FindCoordinatorRequest_v4]) -> Any:
        return request_struct_class(GROUP_KEY_TYPE, self.groups, {})


# --- ListGroups v5 -----------------------------------------------------------------------


class ListGroupsResponse_v5(Response):
    API_KEY = 16
    API_VERSION = 5
    SCHEMA = _struct(
        ("throttle_time_ms", Int32),
        ("error_code", Int16),
        (
            "groups",
            _array(
                ("group_id", _str()),
                ("protocol_type", _str()),
                ("group_state", _str()),
                ("group_type", _str()),
            ),
        ),
    )


class ListGroupsRequest_v5(RequestStruct):
    API_KEY = 16
    API_VERSION = 5
    FLEXIBLE_VERSION = True
    RESPONSE_TYPE = ListGroupsResponse_v5
    SCHEMA = _struct(
        ("states_filter", CompactArray(_str())),
        ("types_filter", CompactArray(_str())),
    )


class ListGroupsV5Request(Request[ListGroupsRequest_v5]):
    API_KEY = 16

    def build(self, request_struct_class: type[ListGroupsRequest_v5]) -> Any:
        return request_struct_class([], [], {})


# --- DescribeGroups v5 ------------------------------------------------------------------


class DescribeGroupsResponse_v5(Response):
    API_KEY = 15
    API_VERSION = 5
    SCHEMA = _struct(
        ("throttle_time_ms", Int32),
        (
            "groups",
            _array(
                ("error_code", Int16),
                ("group_id", _str()),
                ("group_state", _str()),
                ("protocol_type", _str()),
                ("protocol_data", _str()),
                (
                    "members",
                    _array(
                        ("member_id", _str()),
                        ("group_instance_id", _str()),
                        ("client_id", _str()),
                        ("client_host", _str()),
                        ("member_metadata", CompactBytes),
                        ("member_assignment", CompactBytes),
                    ),
                ),
                ("authorized_operations", Int32),
            ),
        ),
    )


class DescribeGroupsRequest_v5(RequestStruct):
    API_KEY = 15
    API_VERSION = 5
    FLEXIBLE_VERSION = True
    RESPONSE_TYPE = DescribeGroupsResponse_v5
    SCHEMA = _struct(
        ("groups", CompactArray(_str())),
        ("include_authorized_operations", Boolean),
    )


class DescribeGroupsV5Request(Request[DescribeGroupsRequest_v5]):
    API_KEY = 15

    def __init__(self, groups: list[str]) -> None:
        self.groups = groups

    def build(self, request_struct_class: type[DescribeGroupsRequest_v5]) -> Any:
        return request_struct_class(self.groups, False, {})


# --- ConsumerGroupDescribe v0 (KIP-848) ---------------------------------------------------

_ASSIGNMENT = _struct(
    (
        "topic_partitions",
        _array(
            ("topic_id", Uuid),
            ("topic_name", _str()),
            ("partitions", CompactArray(Int32)),
        ),
    ),
)


class ConsumerGroupDescribeResponse_v0(Response):
    API_KEY = 69
    API_VERSION = 0
    SCHEMA = _struct(
        ("throttle_time_ms", Int32),
        (
            "groups",
            _array(
                ("error_code", Int16),
                ("error_message", _str()),
                ("group_id", _str()),
                ("group_state", _str()),
                ("group_epoch", Int32),
                ("assignment_epoch", Int32),
                ("assignor_name", _str()),
                (
                    "members",
                    _array(
                        ("member_id", _str()),
                        ("instance_id", _str()),
                        ("rack_id", _str()),
                        ("member_epoch", Int32),
                        ("client_id", _str()),
                        ("client_host", _str()),
                        ("subscribed_topic_names", CompactArray(_str())),
                        ("subscribed_topic_regex", _str()),
                        ("assignment", _ASSIGNMENT),
                        ("target_assignment", _ASSIGNMENT),
                    ),
                ),
                ("authorized_operations", Int32),
            ),
        ),
    )


class ConsumerGroupDescribeRequest_v0(RequestStruct):
    API_KEY = 69
    API_VERSION = 0
    FLEXIBLE_VERSION = True
    RESPONSE_TYPE = ConsumerGroupDescribeResponse_v0
    SCHEMA = _struct(
        ("group_ids", CompactArray(_str())),
        ("include_authorized_operations", Boolean),
    )


class ConsumerGroupDescribeRequest(Request[ConsumerGroupDescribeRequest_v0]):
    API_KEY = 69

    def __init__(self, groups: list[str]) -> None:
        self.groups = groups

    def build(self, request_struct_class: type[ConsumerGroupDescribeRequest_v0]) -> Any:
        return request_struct_class(self.groups, False, {})


# --- OffsetFetch v8 (many groups per request) ---------------------------------------------


class OffsetFetchResponse_v8(Response):
    API_KEY = 9
    API_VERSION = 8

    @classmethod
    def decode(cls, data: BytesIO | bytes) -> Self:
        """The same result as the generic decoder (SCHEMA), several times faster: this is
        the largest response of ``lag`` (mqctl.backends.kafka.group_wire)."""
        from mqctl.backends.kafka.group_wire import decode_offset_fetch_v8

        return cls(*decode_offset_fetch_v8(data))

    SCHEMA = _struct(
        ("throttle_time_ms", Int32),
        (
            "groups",
            _array(
                ("group_id", _str()),
                (
                    "topics",
                    _array(
                        ("name", _str()),
                        (
                            "partitions",
                            _array(
                                ("partition_index", Int32),
                                ("committed_offset", Int64),
                                ("committed_leader_epoch", Int32),
                                ("metadata", _str()),
                                ("error_code", Int16),
                            ),
                        ),
                    ),
                ),
                ("error_code", Int16),
            ),
        ),
    )


class OffsetFetchRequest_v8(RequestStruct):
    API_KEY = 9
    API_VERSION = 8
    FLEXIBLE_VERSION = True
    RESPONSE_TYPE = OffsetFetchResponse_v8
    SCHEMA = _struct(
        (
            "groups",
            _array(
                ("group_id", _str()),
                (
                    "topics",
                    _array(
                        ("name", _str()),
                        ("partition_indexes", CompactArray(Int32)),
                    ),
                ),
            ),
        ),
        ("require_stable", Boolean),
    )


class OffsetFetchGroupsRequest(Request[OffsetFetchRequest_v8]):
    """Committed offsets of every partition of each group (``topics`` null = all)."""

    API_KEY = 9

    def __init__(self, groups: list[str]) -> None:
        self.groups = groups

    def build(self, request_struct_class: type[OffsetFetchRequest_v8]) -> Any:
        return request_struct_class([(g, None, {}) for g in self.groups], False, {})


def supports(versions: dict[int, tuple[int, int]], api_key: int, version: int) -> bool:
    """Whether a broker's ApiVersions range for ``api_key`` includes ``version``."""
    low, high = versions.get(api_key, (0, -1))
    return low <= version <= high
