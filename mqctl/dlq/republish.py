"""The copy a redrive publishes (docs/dlq.md, "What the copy carries").

* Body, key and headers are kept, null stays null (a Kafka tombstone stays a tombstone).
* Dead-letter headers (x-death, x-first-death-*, x-last-death-*, kafka_dlt-*,
  __connect.errors.*) are *moved* under ``x-mqctl-redriven-<name>``, next to
  ``x-mqctl-redriven-from`` (the DLQ) and, on Kafka, ``x-mqctl-redriven-offset``
  (``partition/offset`` in the DLQ): the copy is no longer a dead letter — discovery never
  takes its topic or queue for a DLQ — yet nothing about where it came from is lost. Such
  records of an earlier redrive are replaced.
* ``x-mqctl-redrive-count`` is one more than it was: the loop guard.
* ``--reset-header NAME=VALUE`` sets a header (keeping an AMQP integer an integer).
* ``--unwrap FIELD``: the value of FIELD (a dotted path) in a JSON object body is published
  instead of the envelope: a JSON string as its text, ``{"base64": "..."}`` as those bytes,
  ``null`` as a null value (Kafka) / an empty body, any other JSON value as compact JSON. The
  envelope's other top-level fields travel as ``x-mqctl-envelope-<field>`` headers.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any, cast

from mqctl.dlq.metadata import (
    CONNECT,
    REDRIVE_COUNT_HEADER,
    SPRING,
    DeadLetterInfo,
    integer,
    is_broker_owned,
)
from mqctl.models.messages import HeaderValue, Message, OutgoingMessage

if TYPE_CHECKING:
    from mqctl.dlq.plan import RedriveOptions, Target

REDRIVEN_PREFIX = "x-mqctl-redriven-"
ENVELOPE_PREFIX = "x-mqctl-envelope-"
MAX_ENVELOPE_BYTES = 16 * 1024 * 1024

# AMQP properties a redrive keeps. ``expiration`` is left out on purpose: the broker already
# moved a per-message TTL into x-death's original-expiration, and restoring it would let an
# expired message expire straight back into the DLQ. ``user_id`` is left out because the
# broker refuses a user id other than the publishing connection's own.
AMQP_PROPERTIES = (
    "content_type",
    "content_encoding",
    "delivery_mode",
    "priority",
    "correlation_id",
    "reply_to",
    "message_id",
    "timestamp",
    "type",
    "app_id",
)


def check_unwrap(path: str | None) -> str | None:
    """``--unwrap`` given by a user: a field name or a dotted path (``data.body``)."""
    from mqctl.errors import UsageError

    if path is None:
        return None
    if not path.strip() or any(not part for part in path.split(".")):
        raise UsageError(f"--unwrap {path!r}: expected a field name like payload or data.body")
    return path


class NotAnEnvelope(Exception):
    """``--unwrap``: the body is not a JSON object with that field (the message stays)."""


def is_dead_letter_header(name: str) -> bool:
    return is_broker_owned(name) or name.startswith((SPRING, CONNECT))


def outgoing(
    message: Message,
    info: DeadLetterInfo,
    target: Target,
    options: RedriveOptions,
    dlq_name: str,
) -> OutgoingMessage:
    kafka = message.backend == "kafka" or target.kind == "topic"
    value = message.value
    envelope: list[tuple[str, HeaderValue]] = []
    if options.unwrap:
        value, envelope = unwrap(message.value, options.unwrap, kafka)
    reset = {name for name, _ in options.reset_headers}
    headers: list[tuple[str, HeaderValue]] = []
    moved: list[tuple[str, HeaderValue]] = []
    originals: dict[str, HeaderValue] = {}
    for name, header in message.headers:
        if name == REDRIVE_COUNT_HEADER or name.startswith(REDRIVEN_PREFIX):
            continue
        if is_dead_letter_header(name):
            moved.append((REDRIVEN_PREFIX + name, header))
            continue
        if name in reset:
            originals[name] = header
            continue
        headers.append((name, header))
    headers.extend(envelope)
    for name, raw in options.reset_headers:
        headers.append((name, _typed(raw, originals.get(name), kafka)))
    headers.append((REDRIVEN_PREFIX + "from", _text(dlq_name, kafka)))
    if message.partition is not None and message.offset is not None:
        where = f"{message.partition}/{message.offset}"
        headers.append((REDRIVEN_PREFIX + "offset", _text(where, kafka)))
    headers.extend(moved)
    count = info.redrive_count + 1
    headers.append((REDRIVE_COUNT_HEADER, str(count).encode() if kafka else count))
    properties: dict[str, Any] = {}
    if not kafka:
        properties = {k: message.properties[k] for k in AMQP_PROPERTIES if k in message.properties}
    if value is None and not kafka:
        value = b""  # AMQP has no null body
    return OutgoingMessage(
        # A null value stays null: on a compacted topic it is a delete (a tombstone).
        value=cast(bytes, value),
        key=message.key,
        headers=headers,
        partition=target.partition,
        routing_key=target.routing_key,
        properties=properties,
    )


def unwrap(
    body: bytes | None, path: str, kafka: bool
) -> tuple[bytes | None, list[tuple[str, HeaderValue]]]:
    """(the inner payload, the envelope's other fields as headers)."""
    if not body or len(body) > MAX_ENVELOPE_BYTES or body.lstrip()[:1] != b"{":
        raise NotAnEnvelope(path)
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        raise NotAnEnvelope(path) from None
    inner: Any = doc
    for part in path.split("."):
        if not isinstance(inner, dict) or part not in inner:
            raise NotAnEnvelope(path)
        inner = inner[part]
    top = path.split(".", 1)[0]
    headers = [
        (ENVELOPE_PREFIX + name, _text(field if isinstance(field, str) else _json(field), kafka))
        for name, field in doc.items()
        if name != top
    ]
    return payload_bytes(inner), headers


def payload_bytes(inner: Any) -> bytes | None:
    if inner is None:
        return None
    if isinstance(inner, str):
        return inner.encode("utf-8", "surrogatepass")
    if isinstance(inner, dict) and set(inner) == {"base64"} and isinstance(inner["base64"], str):
        try:
            return base64.b64decode(inner["base64"], validate=True)
        except (binascii.Error, ValueError):
            raise NotAnEnvelope("base64") from None
    return _json(inner).encode("utf-8", "surrogatepass")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _text(value: str, kafka: bool) -> HeaderValue:
    return value.encode("utf-8", "surrogatepass") if kafka else value


def _typed(value: str, original: HeaderValue, kafka: bool) -> HeaderValue:
    """A reset header keeps the type it had: Kafka bytes, AMQP int stays int."""
    if kafka:
        return value.encode()
    if isinstance(original, int) and not isinstance(original, bool) and integer(value) is not None:
        return integer(value)
    return value
