"""A quorum queue's delivery limit, read so that a peek can never dead-letter a message.

RabbitMQ 3.10 (checked on the test broker): a message fetched with ``x-delivery-count = c``
and returned gets ``c + 1``; a return that makes the count exceed the limit dead-letters or
drops it. Every peek returns what it fetched, so each peek adds one to the count of the
messages it saw, and only the fetch tells a message's count. Two consequences, built in here:

* **The limit is read from every source**: the queue's ``x-delivery-limit`` argument, the
  policies and operator policies of the vhost that match the queue (read directly, not only
  the queue's ``effective_policy_definition``, which lags for seconds after a policy or the
  queue appears), and that effective definition; the lowest wins. When the policies that
  match are not the ones the queue reports yet, the limit is settling: unknown, peek refuses.
* **A fence across calls** (:class:`PeekFences`): a peek stops, without showing it, at the
  first message whose count after this return leaves no safe return for the next peek, and
  records that for the queue in the local state directory; later peeks refuse until the queue
  is empty or its limit was raised. Without that record, repeated peeks would walk the head
  message up to the limit one call at a time.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mqctl.backends.rabbitmq.management import ManagementClient, enc
from mqctl.errors import AuthError, MqctlError, NotFoundError, UsageError

QUEUE_TARGETS = ("all", "queues", "quorum_queues")


@dataclass(frozen=True, slots=True)
class LimitReading:
    limit: int | None  # the lowest limit from every source; None: no limit set
    sources: tuple[str, ...]  # where it came from ("argument 2", "policy 'p' 3", ...)
    settling: str | None = None  # why the limit cannot be trusted yet, else None
    policies_visible: bool = True  # False: the user may not list policies (fallback used)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _matches(policy: dict[str, Any], name: str) -> bool:
    if policy.get("apply-to", "all") not in QUEUE_TARGETS:
        return False
    pattern = policy.get("pattern")
    if not isinstance(pattern, str):
        return False
    try:
        return re.search(pattern, name) is not None
    except re.error:
        return True  # a pattern Python cannot read may match: count it (conservative)


def _applying(policies: Any, name: str) -> list[dict[str, Any]]:
    """The policies that apply to the queue: the matching ones of the highest priority
    (several on a tie: all are counted, the lower limit wins)."""
    matching = [p for p in policies if isinstance(p, dict) and _matches(p, name)]
    if not matching:
        return []
    top = max(_int(p.get("priority")) or 0 for p in matching)
    return [p for p in matching if (_int(p.get("priority")) or 0) == top]


async def _policies(api: ManagementClient, kind: str, vhost: str) -> list[Any] | None:
    """The vhost's policies or operator policies; None when this user may not list them."""
    try:
        found = await api.get(f"/{kind}/{enc(vhost)}")
    except (AuthError, NotFoundError):
        return None
    except MqctlError as exc:
        if "may not" in exc.message:  # NotAuthorised: logged in, lacks the tag
            return None
        raise
    return found if isinstance(found, list) else []


async def read_limit(api: ManagementClient, doc: dict[str, Any]) -> LimitReading:
    name, vhost = str(doc.get("name", "")), str(doc.get("vhost") or api.settings.vhost)
    limits: list[tuple[str, int]] = []
    argument = _int((doc.get("arguments") or {}).get("x-delivery-limit"))
    if argument is not None:
        limits.append((f"argument x-delivery-limit {argument}", argument))
    effective = doc.get("effective_policy_definition")
    from_effective = _int(effective.get("delivery-limit")) if isinstance(effective, dict) else None
    if from_effective is not None:
        limits.append((f"effective policy {from_effective}", from_effective))
    settling: list[str] = []
    visible = True
    for kind, reported_key, label in (
        ("policies", "policy", "policy"),
        ("operator-policies", "operator_policy", "operator policy"),
    ):
        policies = await _policies(api, kind, vhost)
        if policies is None:
            visible = False
            continue
        applying = _applying(policies, name)
        for policy in applying:
            definition = policy.get("definition") or {}
            value = _int(definition.get("delivery-limit")) if isinstance(definition, dict) else None
            if value is not None:
                limits.append((f"{label} {policy.get('name')!r} {value}", value))
        reported = doc.get(reported_key) or None
        expected = {p.get("name") for p in applying}
        shown = repr(reported) if reported else "none"
        if expected and reported not in expected:
            first = sorted(str(e) for e in expected)[0]
            settling.append(f"{label} {first!r} matches it but the queue reports {shown}")
        elif not expected and reported:
            settling.append(f"the queue still reports {label} {shown}, which no longer matches")
    low = min((value for _, value in limits), default=None)
    return LimitReading(
        limit=low,
        sources=tuple(source for source, _ in limits),
        settling="; ".join(settling) or None,
        policies_visible=visible,
    )


# --------------------------------------------------------------------------------------------
# the fence: what earlier peeks did, kept between calls
# --------------------------------------------------------------------------------------------


def _state_dir() -> Path:
    explicit = os.environ.get("MQCTL_STATE_DIR")
    if explicit:
        return Path(explicit)
    from platformdirs import user_state_path

    return user_state_path("mqctl")


class PeekFences:
    """Quorum queues whose head message earlier peeks brought to the brink of the limit:
    ``{"address|vhost|queue": {"count": N, "limit": L, "at": ISO time}}`` in
    ``peek-fences.json`` of the state directory (``MQCTL_STATE_DIR`` or the platform's)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or _state_dir() / "peek-fences.json"

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> dict[str, Any] | None:
        found = self._load().get(key)
        return found if isinstance(found, dict) else None

    def set(self, key: str, count: int, limit: int) -> None:
        data = self._load()
        data[key] = {"count": count, "limit": limit, "at": datetime.now(UTC).isoformat()}
        self._save(data)

    def clear(self, key: str) -> None:
        data = self._load()
        if data.pop(key, None) is not None:
            self._save(data)

    def _save(self, data: dict[str, Any]) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
            tmp.replace(self.path)
        except OSError as exc:
            # Without the record the next peek cannot know: say so rather than carry on.
            raise UsageError(
                f"cannot record the quorum peek fence in {self.path}: {exc.strerror or exc}",
                hint="set MQCTL_STATE_DIR to a writable directory",
            ) from None


def check_fence(fences: PeekFences, key: str, name: str, limit: int, messages: int) -> None:
    """Refuse while an earlier peek left a message one return away from the limit; lift the
    fence once the queue is empty or the limit was raised past the recorded count."""
    fence = fences.get(key)
    if fence is None:
        return
    count = _int(fence.get("count")) or 0
    if messages == 0 or count < limit:
        fences.clear(key)
        return
    raise UsageError(
        f"refusing to peek quorum queue {name!r}: an earlier peek left a message at delivery "
        f"count {count} (limit {limit}); one more return would dead-letter or drop it",
        hint="consume or move that message (or raise the delivery limit); peeks resume once "
        "the queue is empty or the limit is higher",
    )
