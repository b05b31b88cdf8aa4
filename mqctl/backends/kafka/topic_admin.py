"""Topic create / delete / alter through admin requests on the backend's client.

Config changes use IncrementalAlterConfigs (only the named keys change; the legacy
AlterConfigs would silently reset every other override) and CreateTopics v4, which lets the
broker pick its default partition count and replication factor. aiokafka lacks both request
versions, so they are declared here from the Kafka protocol spec. ``validate_only`` is the
broker's own dry run: it checks names, configs and counts without changing anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mqctl.backends.kafka.aiokafka_internals import partitions_metadata
from mqctl.backends.kafka.connection import KafkaConnection
from mqctl.backends.kafka.topics import TOPIC_RESOURCE, cluster_metadata
from mqctl.errors import BrokerError, MqctlError, NotFoundError, UsageError

TOPIC_EXISTS = 36
UNKNOWN_TOPIC = 3
# Broker refusals caused by what the user asked for -> exit 2 with the broker's reason.
BAD_INPUT = {
    17: "invalid topic name",
    37: "invalid partition count",
    38: "invalid replication factor",
    39: "invalid replica assignment",
    40: "invalid config",
    42: "invalid request",
}
SET, DELETE = 0, 1


def _requests() -> tuple[type[Any], type[Any]]:
    """Request classes built lazily (aiokafka is imported only when admin work is done)."""
    from aiokafka.protocol.admin import CreateTopicsRequest_v1, CreateTopicsResponse_v3
    from aiokafka.protocol.api import Request, RequestStruct, Response
    from aiokafka.protocol.types import Array, Boolean, Int8, Int16, Int32, Schema, String

    class CreateTopicsRequestV4(RequestStruct):  # type: ignore[misc]
        API_KEY = 19
        API_VERSION = 4  # like v3, but -1 partitions / replication factor = broker default
        RESPONSE_TYPE = CreateTopicsResponse_v3
        SCHEMA = CreateTopicsRequest_v1.SCHEMA

    class CreateTopics(Request[CreateTopicsRequestV4]):  # type: ignore[misc]
        API_KEY = 19

        def __init__(self, topics: list[Any], timeout: int, validate_only: bool) -> None:
            self.topics, self.timeout, self.validate_only = topics, timeout, validate_only

        def build(self, request_struct_class: type[CreateTopicsRequestV4]) -> Any:
            return request_struct_class(self.topics, self.timeout, self.validate_only)

    class IncrementalAlterConfigsResponseV0(Response):  # type: ignore[misc]
        API_KEY = 44
        API_VERSION = 0
        SCHEMA = Schema(
            ("throttle_time_ms", Int32),
            (
                "responses",
                Array(
                    ("error_code", Int16),
                    ("error_message", String("utf-8")),
                    ("resource_type", Int8),
                    ("resource_name", String("utf-8")),
                ),
            ),
        )

    class IncrementalAlterConfigsRequestV0(RequestStruct):  # type: ignore[misc]
        API_KEY = 44
        API_VERSION = 0
        RESPONSE_TYPE = IncrementalAlterConfigsResponseV0
        SCHEMA = Schema(
            (
                "resources",
                Array(
                    ("resource_type", Int8),
                    ("resource_name", String("utf-8")),
                    (
                        "configs",
                        Array(
                            ("name", String("utf-8")),
                            ("config_operation", Int8),
                            ("value", String("utf-8")),
                        ),
                    ),
                ),
            ),
            ("validate_only", Boolean),
        )

    class IncrementalAlterConfigs(Request[IncrementalAlterConfigsRequestV0]):  # type: ignore[misc]
        API_KEY = 44

        def __init__(self, resources: list[Any], validate_only: bool) -> None:
            self.resources, self.validate_only = resources, validate_only

        def build(self, request_struct_class: type[IncrementalAlterConfigsRequestV0]) -> Any:
            return request_struct_class(self.resources, self.validate_only)

    return CreateTopics, IncrementalAlterConfigs


async def _send(conn: KafkaConnection, request: Any, what: str) -> Any:
    """Send to the controller if metadata names one, else any broker (KRaft forwards)."""
    client = await conn.client()
    controller = getattr(client.cluster, "controller", None)
    node = controller.nodeId if controller is not None else client.get_random_node()
    return await conn.call(client.send(node, request), what)


def _check(code: int, message: str | None, topic: str, conn: KafkaConnection) -> None:
    if not code:
        return
    reason = (message or "").strip()
    if code == TOPIC_EXISTS:
        raise UsageError(f"topic {topic!r} already exists on Kafka at {conn.settings.address}")
    if code == UNKNOWN_TOPIC:
        raise NotFoundError(
            f"topic {topic!r} not found on Kafka at {conn.settings.address}",
            hint="list topics with `mqctl topics list`",
        )
    if code in BAD_INPUT:
        raise UsageError(f"topic {topic!r}: {reason or BAD_INPUT[code]}")
    from aiokafka.errors import for_code

    name = for_code(code).__name__
    raise BrokerError(f"topic {topic!r}: Kafka refused the request ({name}) {reason}".strip())


async def create_topic(
    conn: KafkaConnection,
    name: str,
    *,
    partitions: int | None,
    replication_factor: int | None,
    configs: Mapping[str, str],
    validate_only: bool = False,
) -> None:
    create, _ = _requests()
    topic: tuple[Any, ...] = (
        name,
        -1 if partitions is None else partitions,
        -1 if replication_factor is None else replication_factor,
        [],
        list(configs.items()),
    )
    timeout = int(conn.timeout * 1000)
    response = await _send(conn, create([topic], timeout, validate_only), "CreateTopics request")
    for topic_name, code, message in response.topic_errors:
        _check(code, message, topic_name, conn)
    if not validate_only:
        await _wait_until_visible(conn, name)


async def _wait_until_visible(conn: KafkaConnection, name: str) -> None:
    """CreateTopics returns before every broker's metadata shows the topic with leaders: wait
    (bounded) so that `topics create X && mqctl publish X ...` in a script just works."""
    import asyncio
    import time

    deadline = time.monotonic() + conn.timeout
    while time.monotonic() < deadline:
        metadata = await cluster_metadata(conn)
        parts = metadata.partitions_for_topic(name)
        leaders = partitions_metadata(metadata, name)
        if parts and all(leaders[p].leader >= 0 for p in parts):
            return
        await asyncio.sleep(0.05)


async def existing(conn: KafkaConnection, names: Sequence[str]) -> tuple[list[str], list[str]]:
    """(names that exist, names that do not)."""
    metadata = await cluster_metadata(conn)
    topics = metadata.topics()
    return [n for n in names if n in topics], [n for n in names if n not in topics]


async def delete_topics(conn: KafkaConnection, names: Sequence[str]) -> None:
    """Delete topics; all must exist (checked first, so a typo deletes nothing)."""
    from aiokafka.protocol.admin import DeleteTopicsRequest

    _, missing = await existing(conn, names)
    if missing:
        raise NotFoundError(
            f"no topic named {', '.join(map(repr, missing))} on Kafka at "
            f"{conn.settings.address}; nothing deleted"
        )
    request = DeleteTopicsRequest(list(names), int(conn.timeout * 1000))
    response = await _send(conn, request, "DeleteTopics request")
    errors: list[MqctlError] = []
    for topic, code in response.topic_error_codes:
        try:
            _check(code, None, topic, conn)
        except MqctlError as exc:
            errors.append(exc)
    if errors:
        raise errors[0]


async def alter_configs(
    conn: KafkaConnection,
    name: str,
    *,
    set_configs: Mapping[str, str],
    delete_configs: Sequence[str] = (),
    validate_only: bool = False,
) -> None:
    _, incremental = _requests()
    entries: list[tuple[str, int, str | None]] = [(k, SET, v) for k, v in set_configs.items()]
    entries += [(k, DELETE, None) for k in delete_configs]
    request = incremental([(TOPIC_RESOURCE, name, entries)], validate_only)
    response = await _send(conn, request, "IncrementalAlterConfigs request")
    for code, message, _rtype, topic in response.responses:
        _check(code, message, topic, conn)


async def add_partitions(
    conn: KafkaConnection, name: str, *, count: int, validate_only: bool = False
) -> tuple[int, int]:
    """Add ``count`` partitions; returns (partitions before, after)."""
    from aiokafka.protocol.admin import CreatePartitionsRequest

    if count < 1:
        raise UsageError(f"--add-partitions {count}: must be at least 1")
    metadata = await cluster_metadata(conn)
    current = len(metadata.partitions_for_topic(name) or ())
    if name not in metadata.topics() or not current:
        _check(UNKNOWN_TOPIC, None, name, conn)
    total = current + count
    request = CreatePartitionsRequest(
        [(name, (total, None))], int(conn.timeout * 1000), validate_only
    )
    response = await _send(conn, request, "CreatePartitions request")
    for topic, code, message in response.topic_errors:
        _check(code, message, topic, conn)
    return current, total
