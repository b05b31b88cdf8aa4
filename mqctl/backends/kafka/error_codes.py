"""Kafka protocol error codes mapped to mqctl's exit-code table, in one place.

A request that comes back with an error code becomes the :class:`~mqctl.errors.MqctlError`
whose exit code says what it means for the user (docs/output.md, "Exit codes"): a thing that
does not exist is 4, a request the broker found malformed or unsupported for the values we
were given is 2, a broker or coordinator that is not available (or refused our credentials)
is 3, and anything else is 5 (the broker refused the operation). Call :func:`kafka_error`
instead of building a ``BrokerError`` from a bare code.
"""

from __future__ import annotations

from mqctl.errors import (
    AuthError,
    BrokerError,
    ConnectError,
    MqctlError,
    NotFoundError,
    UsageError,
)

NOT_FOUND = {
    3: "unknown topic or partition",
    69: "consumer group not found",
    100: "unknown topic id",
}
BAD_INPUT = {
    35: "unsupported version or value",  # e.g. ListOffsets with a timestamp before 1970
    37: "invalid number of partitions",
    38: "invalid replication factor",
    39: "invalid replica assignment",
    40: "invalid configuration",
    42: "invalid request",
    44: "policy violation",
    87: "invalid record",
}
UNAVAILABLE = {
    5: "leader not available",
    6: "not leader or follower",
    7: "request timed out",
    8: "broker not available",
    9: "replica not available",
    13: "network exception",
    14: "coordinator load in progress",
    15: "coordinator not available",
    16: "not coordinator",
    41: "not controller",
}
DENIED = {
    29: "topic authorization failed",
    30: "group authorization failed",
    31: "cluster authorization failed",
    58: "SASL authentication failed",
}


def error_name(code: int) -> str:
    """The protocol's name for a code (aiokafka's class name), or "error N"."""
    from aiokafka import errors as kerr

    try:
        name = str(kerr.for_code(code).__name__)
    except Exception:  # an unknown code must not hide the real failure
        return f"error {code}"
    return f"error {code}" if name == "UnknownError" else name


def kafka_error(code: int, what: str, *, hint: str | None = None) -> MqctlError:
    """The error for ``what`` (e.g. "ListOffsets for orders/3") failing with ``code``."""
    if code in NOT_FOUND:
        return NotFoundError(f"{what}: {NOT_FOUND[code]}", hint=hint)
    if code in BAD_INPUT:
        return UsageError(f"{what}: the broker refused the request: {BAD_INPUT[code]}", hint=hint)
    if code in DENIED:
        return AuthError(f"{what}: {DENIED[code]}", hint=hint or "check the context's ACLs/user")
    if code in UNAVAILABLE:
        return ConnectError(
            f"{what}: {UNAVAILABLE[code]}",
            hint=hint or "a broker may be down or restarting; retry in a few seconds",
        )
    return BrokerError(f"{what} failed ({error_name(code)})", hint=hint)
