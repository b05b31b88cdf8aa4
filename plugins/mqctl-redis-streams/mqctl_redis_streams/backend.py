"""The Redis Streams backend: glue between mqctl's backend Protocols and the modules beside it.

Capabilities: Backend, TopicCatalog (streams), MessageReader (peek), MessageWriter (publish),
LagSource (consumer groups), DeadLetterSupport (DLQ streams by naming convention), HealthChecks
(`mqctl doctor`: pending entries idle too long).
Importing this module does not import ``redis``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from mqctl.backend import API_VERSION
from mqctl.errors import MqctlError
from mqctl.models.inventory import BrokerStatus, Destination, TopicDetail, TopicSummary
from mqctl.models.lag import LagEntry
from mqctl.models.messages import (
    Message,
    OutgoingMessage,
    PeekOptions,
    PublishOptions,
    PublishResult,
)
from mqctl_redis_streams.connection import RedisConnection
from mqctl_redis_streams.health import CHECKS as HEALTH_CHECKS
from mqctl_redis_streams.settings import RedisSettings, parse_redis_settings

if TYPE_CHECKING:  # DLQ and doctor types for annotations only
    from mqctl.dlq.engine import RedriveControl
    from mqctl.dlq.models import Candidate
    from mqctl.dlq.plan import Planner
    from mqctl.doctor.model import CheckSpec, Finding
    from mqctl.doctor.probe import Probe


class RedisStreamsBackend:
    name: ClassVar[str] = "redis-streams"
    api_version: ClassVar[int] = API_VERSION
    description: ClassVar[str] = "Redis Streams (streams, consumer groups, lag, peek, publish, DLQ)"
    # HealthChecks (mqctl doctor): declared here, run by mqctl_redis_streams.health.
    health_checks: ClassVar[tuple[CheckSpec, ...]] = HEALTH_CHECKS

    def __init__(self, settings: RedisSettings, *, context: str, timeout: float) -> None:
        self.settings = settings
        self.context = context
        self.timeout = timeout
        self.connection = RedisConnection(settings, timeout)

    @classmethod
    def from_config(
        cls, section: Mapping[str, Any], *, context: str, timeout: float
    ) -> RedisStreamsBackend:
        settings = parse_redis_settings(section, f"contexts.{context}.{cls.name}")
        return cls(settings, context=context, timeout=timeout)

    @property
    def address(self) -> str:
        return self.settings.address

    async def close(self) -> None:
        await self.connection.close()

    async def status(self) -> BrokerStatus:
        try:
            info = await self.connection.call(self.connection.client().info("server"), "INFO")
        except MqctlError as exc:
            return BrokerStatus(self.name, self.address, False, error=str(exc))
        version = info.get("redis_version") if isinstance(info, dict) else None
        return BrokerStatus(self.name, self.address, True, version=version)

    async def find_destinations(self, name: str, vhost: str | None = None) -> list[Destination]:
        from mqctl_redis_streams.inventory import is_stream

        if await is_stream(self.connection, name):
            return [Destination(self.name, "topic", name)]
        return []

    # --- TopicCatalog -------------------------------------------------------------------------

    async def list_topics(self, *, include_internal: bool = False) -> list[TopicSummary]:
        from mqctl_redis_streams.inventory import list_streams

        return await list_streams(self.connection)

    async def describe_topic(self, name: str) -> TopicDetail:
        from mqctl_redis_streams.inventory import describe_stream

        return await describe_stream(self.connection, name)

    # --- MessageReader / MessageWriter ----------------------------------------------------------

    async def peek(self, destination: Destination, options: PeekOptions) -> AsyncIterator[Message]:
        from mqctl_redis_streams.messages import peek

        async for message in peek(self.connection, destination, options):
            yield message

    async def publish(
        self,
        destination: Destination,
        messages: AsyncIterator[OutgoingMessage],
        options: PublishOptions,
    ) -> AsyncIterator[PublishResult]:
        from mqctl_redis_streams.messages import publish

        async for result in publish(self.connection, destination, messages, options):
            yield result

    # --- LagSource ------------------------------------------------------------------------------

    async def lag(
        self, groups: list[str] | None = None, topic: str | None = None
    ) -> list[LagEntry]:
        from mqctl_redis_streams.lag import group_lag

        return await group_lag(self.connection, groups, topic)

    # --- DeadLetterSupport ---------------------------------------------------------------------

    async def discover_dead_letters(self, patterns: tuple[str, ...]) -> list[Candidate]:
        from mqctl_redis_streams.dlq import discover

        return await discover(self.connection, patterns)

    async def redrive_dead_letters(
        self, dlq: Destination, planner: Planner, control: RedriveControl
    ) -> None:
        from mqctl_redis_streams.dlq import redrive

        await redrive(self.connection, dlq, planner, control)

    # --- HealthChecks (mqctl doctor) -----------------------------------------------------------

    async def run_health_check(self, check: str, probe: Probe) -> list[Finding]:
        from mqctl_redis_streams.health import run_check

        return await run_check(self.connection, check, probe)
