"""Fast JSON for lag entries: same fields and order as the generic renderer's output.

``mqctl lag --all-groups`` on a large cluster emits tens of thousands of partition rows; the
generic dataclass walk plus the streaming pretty-printer took longer than the Kafka requests.
This builds the plain dicts directly and encodes them in one call (orjson).
"""

from __future__ import annotations

import dataclasses
from typing import IO, Any

from mqctl.models.lag import LagEntry, PartitionLag, QueueDepth
from mqctl.output import render as output

_ENTRY = [f.name for f in dataclasses.fields(LagEntry)]
_PARTITION = [f.name for f in dataclasses.fields(PartitionLag)]
_QUEUE = [f.name for f in dataclasses.fields(QueueDepth)]


def _number(value: Any) -> Any:
    # NaN and infinities are not JSON: the generic renderer writes null for them too.
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    return value


def partition_dict(p: PartitionLag) -> dict[str, Any]:
    # Spelled out (one per partition, tens of thousands per snapshot: profiled, the generic
    # getattr walk was the largest cost of rendering); tests/test_lag_serialize.py checks it
    # still names every field of PartitionLag in order.
    time_lag, estimated = p.time_lag_seconds, p.estimated_time_lag_seconds
    return {
        "topic": p.topic,
        "partition": p.partition,
        "committed_offset": p.committed_offset,
        "log_start_offset": p.log_start_offset,
        "end_offset": p.end_offset,
        "lag": p.lag,
        # _number inline (two calls per row): x - x == 0 is false for NaN and infinities only
        "time_lag_seconds": time_lag if time_lag is None or time_lag - time_lag == 0 else None,
        "owner": p.owner,
        "status": p.status.value,
        "estimated_time_lag_seconds": (
            estimated if estimated is None or estimated - estimated == 0 else None
        ),
        "error": p.error,
        "records_lost": p.records_lost,
        "raw_lag": p.raw_lag,
    }


def entry_dict(entry: LagEntry, *, partitions: bool = True) -> dict[str, Any]:
    """``partitions=False`` keeps the ``PartitionLag`` objects (for orjson, which writes
    them as :func:`partition_dict` would)."""
    data: dict[str, Any] = {name: getattr(entry, name) for name in _ENTRY}
    data["status"] = entry.status.value
    data["max_time_lag_seconds"] = _number(entry.max_time_lag_seconds)
    data["max_estimated_time_lag_seconds"] = _number(entry.max_estimated_time_lag_seconds)
    data["topics"] = list(entry.topics)
    data["partitions"] = (
        [partition_dict(p) for p in entry.partitions] if partitions else list(entry.partitions)
    )
    if entry.queue is not None:
        data["queue"] = {name: _number(getattr(entry.queue, name)) for name in _QUEUE}
    if entry.kind == "backend":  # a broker that could not be sampled: its figures are unknown
        data["total_lag"] = data["members"] = data["total_records_lost"] = None
    return data


def write_json(entries: list[LagEntry], out: IO[str]) -> None:
    # orjson writes a PartitionLag itself (its fields in order, the status enum's value,
    # NaN and infinities as null: exactly partition_dict's document, checked by
    # tests/test_lag_serialize.py) without a dict per partition: ~15 ms of 30,000 rows.
    if _write_ascii_bytes([entry_dict(e, partitions=False) for e in entries], out):
        return
    output.write_json([entry_dict(e) for e in entries], out)


def _write_ascii_bytes(data: list[dict[str, Any]], out: IO[str]) -> bool:
    """The common document (orjson can write it, plain ASCII without DEL: nothing for
    ``output.terminal_safe_json`` to escape) straight to the stream's bytes: the same bytes
    as :func:`output.write_json`, without decoding and re-encoding a document of several
    megabytes (~5 ms of a `lag --all-groups`, docs/benchmarks.md "Start-up"). False when
    the stream has no bytes underneath (tests) or the document needs the general path."""
    import codecs
    import os

    buffer = getattr(out, "buffer", None)
    if buffer is None or os.linesep != "\n":  # a text stream that translates newlines
        return False
    encoding = getattr(out, "encoding", None) or "utf-8"
    if codecs.lookup(encoding).name not in ("utf-8", "ascii"):  # ASCII is not its bytes
        return False
    import orjson

    try:
        raw = orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    except TypeError:  # orjson.JSONEncodeError: the standard library's turn
        return False
    if not raw.isascii() or b"\x7f" in raw:
        return False
    out.flush()  # whatever was written as text goes first
    view = memoryview(raw)
    while view:
        # A pipe closed by its reader shows first as a short write (the rest is not kept):
        # write the rest, so the closed pipe raises (exit 141) instead of passing for done.
        view = view[buffer.write(view) :]
    buffer.flush()
    return True


def write_jsonl(items: list[dict[str, Any]], out: IO[str]) -> None:
    for item in items:
        output.write_json(item, out, pretty=False)
