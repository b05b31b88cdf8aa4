"""The Kafka redrive ledger: which DLQ records were already redriven, when and by whom, and
which run may redrive a DLQ right now (docs/dlq.md, "Redrive ledger").

One compacted topic, ``__mqctl_redrive`` (created by the first redrive; one partition by
default, a DLQ's records always go to the same partition), holds two kinds of records:

* ``<dlq>/moved/<partition>/<run>/<seq>``: ``{"type": "moved", "ranges": [[start, end,
  first_timestamp_ms], ...], ...}`` — DLQ offsets in [start, end) whose copies the destination
  acknowledged (acks=all) *before* this record was written. Keys are unique per write, so
  compaction never merges two of them; a tombstone removes one once the DLQ's retention
  deleted every record it covers. ``first_timestamp_ms`` is the timestamp of the record at
  ``start``: a DLQ topic deleted and created again under the same name has other records at
  those offsets, and such a range is ignored.
* ``<dlq>/lease/<run>``: ``{"type": "lease", "state": "active" | "released" | "refused",
  "expires_ms", "claim", ...}`` — the lease that lets one run at a time redrive a DLQ. The
  ledger partition orders the claims: the earliest active, unexpired claim wins, every later
  claimant refuses (exit 3). A lease is renewed every few seconds and expires after
  :data:`LEASE_SECONDS`; a lease held by a process of this host that no longer exists
  (``kill -9``) is void at once.

Topic names never contain ``/``, so keys split unambiguously.
"""

from __future__ import annotations

import bisect
import contextlib
import getpass
import json
import os
import socket
import time
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mqctl.backends.kafka.connection import KafkaConnection
from mqctl.backends.kafka.dlq_scan import scan
from mqctl.backends.kafka.topics import cluster_metadata, watermarks
from mqctl.errors import ConnectError

LEDGER_TOPIC = "__mqctl_redrive"
LEASE_SECONDS = 30.0
RENEW_SECONDS = 5.0
HOST = socket.gethostname()


def operator() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"{user}@{HOST}"


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(slots=True)
class MovedRange:
    start: int
    end: int  # exclusive
    first_ts: int | None = None


@dataclass(slots=True)
class RunRecord:
    """What one run recorded in the ledger (for ``dlq status``)."""

    run: str
    by: str
    first_at: str
    last_at: str
    moved: int = 0


@dataclass(slots=True)
class Lease:
    run: str
    by: str
    host: str
    pid: int
    state: str
    expires_ms: int
    claim: int  # ledger offset of the run's first claim: the order between claimants

    def holds(self, now: int) -> bool:
        """Active, not expired, and (on this host) its process still exists."""
        if self.state != "active" or self.expires_ms <= now:
            return False
        if self.host == HOST and self.pid != os.getpid():
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return False
            except PermissionError:  # another user's live process
                return True
        return True


@dataclass(slots=True)
class Ledger:
    """The ledger's records of one DLQ, as read at one moment."""

    dlq: str
    ranges: dict[int, list[MovedRange]] = field(default_factory=dict)
    moved_keys: dict[str, tuple[int, int]] = field(default_factory=dict)  # key -> (p, max end)
    runs: dict[str, RunRecord] = field(default_factory=dict)
    leases: dict[str, Lease] = field(default_factory=dict)
    lease_keys: dict[str, str] = field(default_factory=dict)  # run -> key
    _merged: dict[int, tuple[list[int], list[MovedRange]]] = field(default_factory=dict)
    _stale: set[tuple[int, int]] = field(default_factory=set)

    def add(self, key: str, value: bytes | None, offset: int) -> None:
        kind = key[len(self.dlq) + 1 :].split("/", 1)[0]
        if value is None:  # a tombstone
            self.moved_keys.pop(key, None)
            return
        try:
            doc = json.loads(value)
        except ValueError:
            return
        if not isinstance(doc, dict):
            return
        if kind == "moved":
            self._add_moved(key, doc)
        elif kind == "lease":
            run = str(doc.get("run", ""))
            known = self.leases.get(run)
            self.leases[run] = Lease(
                run=run,
                by=str(doc.get("by", "?")),
                host=str(doc.get("host", "")),
                pid=int(doc.get("pid", 0) or 0),
                state=str(doc.get("state", "")),
                expires_ms=int(doc.get("expires_ms", 0) or 0),
                claim=known.claim if known else int(doc.get("claim", offset) or offset),
            )
            self.lease_keys[run] = key

    def _add_moved(self, key: str, doc: dict[str, Any]) -> None:
        partition = int(doc.get("partition", -1))
        found = [
            MovedRange(int(r[0]), int(r[1]), None if r[2] is None else int(r[2]))
            for r in doc.get("ranges", [])
            if isinstance(r, list) and len(r) == 3
        ]
        if partition < 0 or not found:
            return
        self.ranges.setdefault(partition, []).extend(found)
        self.moved_keys[key] = (partition, max(r.end for r in found))
        run = str(doc.get("run", "?"))
        at = str(doc.get("at", ""))
        record = self.runs.get(run)
        if record is None:
            record = self.runs[run] = RunRecord(run, str(doc.get("by", "?")), at, at)
        record.last_at = max(record.last_at, at)
        record.moved += sum(r.end - r.start for r in found)
        self._merged.pop(partition, None)

    def _merge(self, partition: int) -> tuple[list[int], list[MovedRange]]:
        merged = self._merged.get(partition)
        if merged is None:
            spans: list[MovedRange] = []
            for r in sorted(self.ranges.get(partition, []), key=lambda r: (r.start, -r.end)):
                if spans and r.start <= spans[-1].end:
                    spans[-1].end = max(spans[-1].end, r.end)
                else:
                    spans.append(MovedRange(r.start, r.end, r.first_ts))
            merged = self._merged[partition] = ([s.start for s in spans], spans)
        return merged

    def contains(self, partition: int, offset: int, timestamp_ms: int | None) -> bool:
        """Was this record redriven? Records must be asked in offset order per partition:
        the record at a range's start checks that the range belongs to this topic."""
        starts, spans = self._merge(partition)
        i = bisect.bisect_right(starts, offset) - 1
        if i < 0 or offset >= spans[i].end or (partition, spans[i].start) in self._stale:
            return False
        span = spans[i]
        recreated = (  # the topic was deleted and created again: these are not our records
            offset == span.start
            and span.first_ts is not None
            and timestamp_ms is not None
            and span.first_ts != timestamp_ms
        )
        if recreated:
            self._stale.add((partition, span.start))
        return not recreated

    def redriven(self, partition: int, low: int | None = None, high: int | None = None) -> int:
        """How many offsets of the partition are recorded (within [low, high) if given)."""
        total = 0
        for span in self._merge(partition)[1]:
            start = span.start if low is None else max(span.start, low)
            end = span.end if high is None else min(span.end, high)
            total += max(0, end - start)
        return total

    def active_lease(self, now: int | None = None, *, before: int | None = None) -> Lease | None:
        """The lease that holds the DLQ now (the earliest live claim), if any."""
        moment = now_ms() if now is None else now
        live = [
            lease
            for lease in self.leases.values()
            if lease.holds(moment) and (before is None or lease.claim < before)
        ]
        return min(live, key=lambda lease: lease.claim) if live else None


def ledger_partition(dlq: str, partitions: int) -> int:
    return zlib.crc32(dlq.encode()) % max(1, partitions)


async def read(conn: KafkaConnection, dlq: str) -> Ledger:
    """The ledger's records of ``dlq`` up to the current end (empty without the topic)."""
    ledger = Ledger(dlq)
    metadata = await cluster_metadata(conn)
    partitions = sorted(metadata.partitions_for_topic(LEDGER_TOPIC) or ())
    if not partitions:
        return ledger
    keys = [(LEDGER_TOPIC, p) for p in partitions]
    low, high = await watermarks(conn, metadata, keys)
    prefix = f"{dlq}/".encode()
    async for records in scan(conn, {k: (low[k], high[k]) for k in keys}):
        for record in records:
            if record.key is not None and record.key.startswith(prefix):
                ledger.add(record.key.decode("utf-8", "replace"), record.value, record.offset)
    return ledger


async def ensure_topic(conn: KafkaConnection) -> int:
    """Create the ledger topic when missing (compacted); returns its partition count."""
    from mqctl.backends.kafka.topic_admin import create_topic
    from mqctl.errors import UsageError

    metadata = await cluster_metadata(conn)
    found = metadata.partitions_for_topic(LEDGER_TOPIC)
    if found:
        return len(found)
    brokers = len(metadata.brokers()) or 1
    with contextlib.suppress(UsageError):  # created meanwhile by another run
        await create_topic(
            conn,
            LEDGER_TOPIC,
            partitions=1,
            replication_factor=min(3, brokers),
            # Segments roll hourly so that compaction (and tombstones) take effect in hours.
            configs={"cleanup.policy": "compact", "segment.ms": "3600000"},
        )
    metadata = await cluster_metadata(conn)
    return len(metadata.partitions_for_topic(LEDGER_TOPIC) or ()) or 1


def compress(offsets: list[tuple[int, int | None]]) -> list[list[int | None]]:
    """Sorted (offset, timestamp_ms) pairs as [start, end, first_timestamp_ms] ranges."""
    ranges: list[list[int | None]] = []
    for offset, ts in offsets:
        if ranges and ranges[-1][1] == offset:
            ranges[-1][1] = offset + 1
        else:
            ranges.append([offset, offset + 1, ts])
    return ranges


class LedgerWriter:
    """Writes one run's records through the run's idempotent (acks=all) producer."""

    def __init__(self, producer: Any, dlq: str, partitions: int) -> None:
        self.producer = producer
        self.dlq = dlq
        self.partition = ledger_partition(dlq, partitions)
        self.run = uuid.uuid4().hex[:12]
        self.by = operator()
        self.claim: int | None = None
        self.renewed_at = 0.0
        self._seq = 0

    def _doc(self, **fields: Any) -> bytes:
        at = datetime.now(UTC).isoformat(timespec="milliseconds")
        doc = {"run": self.run, "by": self.by, "host": HOST, "pid": os.getpid(), "at": at}
        return json.dumps({**doc, **fields}, separators=(",", ":")).encode()

    async def _write(self, key: str, value: bytes | None) -> int:
        future = await self.producer.send(
            LEDGER_TOPIC, key=key.encode(), value=value, partition=self.partition
        )
        metadata = await future
        return int(metadata.offset)

    async def moved(self, partition: int, offsets: list[tuple[int, int | None]]) -> None:
        """Record copies the destination acknowledged (never before that)."""
        self._seq += 1
        key = f"{self.dlq}/moved/{partition}/{self.run}/{self._seq}"
        await self._write(
            key, self._doc(type="moved", partition=partition, ranges=compress(sorted(offsets)))
        )

    async def lease(self, state: str) -> int:
        expires = now_ms() + int(LEASE_SECONDS * 1000)
        value = self._doc(type="lease", state=state, expires_ms=expires, claim=self.claim)
        offset = await self._write(f"{self.dlq}/lease/{self.run}", value)
        if self.claim is None:
            self.claim = offset
        if state == "active":
            self.renewed_at = time.monotonic()
        return offset

    async def forget(self, keys: list[str]) -> None:
        """Tombstones (compaction then removes the records)."""
        for key in keys:
            await self._write(key, None)


async def acquire(conn: KafkaConnection, writer: LedgerWriter) -> Ledger:
    """Claim the DLQ's lease and read the ledger; a live earlier claim refuses (exit 3)."""
    claim = await writer.lease("active")
    ledger = await read(conn, writer.dlq)
    holder = ledger.active_lease(before=claim)
    if holder is not None and holder.run != writer.run:
        with contextlib.suppress(Exception):
            await writer.lease("refused")
        until = datetime.fromtimestamp(holder.expires_ms / 1000, UTC).isoformat(timespec="seconds")
        raise ConnectError(
            f"another redrive of {writer.dlq!r} is running ({holder.by}, pid {holder.pid}, "
            f"lease until {until}); nothing was moved",
            hint="wait for it to finish (mqctl dlq status shows it), then rerun",
        )
    return ledger
