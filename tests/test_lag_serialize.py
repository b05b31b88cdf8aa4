"""The fast lag JSON writer produces the generic renderer's document: same fields, same
order, same values (NaN and infinities as null)."""

from __future__ import annotations

import dataclasses
import io
import json

from mqctl.lag.serialize import partition_dict, write_json
from mqctl.models.lag import LagEntry, LagStatus, PartitionLag, QueueDepth
from mqctl.output.render import dump_json


def _entries() -> list[LagEntry]:
    full = PartitionLag("t", 3, 10, 2, 15, 5, 1.5, "member-1", LagStatus.LAGGING, 2.0, "e", 1, 5)
    empty = PartitionLag("t", 4, None, 0, 0, 0, float("nan"), None, estimated_time_lag_seconds=None)
    group = LagEntry("kafka", "group", "g", LagStatus.LAGGING, 5, 1.5, ["t"], 2, "Stable")
    group.partitions = [full, empty]
    queue = QueueDepth("/", "classic", 3, 1, 0, 0.5, None, float("inf"), None)
    return [group, LagEntry("rabbitmq", "queue", "q", LagStatus.STOPPED, 3, None, queue=queue)]


def test_partition_dict_names_every_field_in_order() -> None:
    row = partition_dict(_entries()[0].partitions[0])
    assert list(row) == [f.name for f in dataclasses.fields(PartitionLag)]


def test_fast_json_equals_the_generic_renderer() -> None:
    fast, generic = io.StringIO(), io.StringIO()
    write_json(_entries(), fast)
    dump_json(_entries(), generic)
    fast_doc, generic_doc = json.loads(fast.getvalue()), json.loads(generic.getvalue())
    assert fast_doc == generic_doc
    assert list(fast_doc[0]["partitions"][0]) == list(generic_doc[0]["partitions"][0])
    assert fast_doc[0]["partitions"][1]["time_lag_seconds"] is None


def test_the_bytes_path_writes_what_the_text_path_writes() -> None:
    """A real stdout has bytes underneath: the common (ASCII) document goes there directly;
    one with non-ASCII names takes the text path. Both equal output.write_json's text."""
    from mqctl.lag.serialize import entry_dict
    from mqctl.output.render import write_json as generic_write

    plain = _entries()
    wide = _entries()
    wide[0].group = "gr\u00fcppe\x7f\u202e"
    for entries, encoding in ((plain, "utf-8"), (wide, "utf-8"), (plain, "utf-16")):
        raw = io.BytesIO()
        out = io.TextIOWrapper(raw, encoding=encoding, write_through=True)
        out.write("before\n")
        write_json(entries, out)
        out.flush()
        text = io.StringIO()
        generic_write([entry_dict(e) for e in entries], text)
        assert raw.getvalue().decode(encoding) == "before\n" + text.getvalue()


def test_a_short_write_is_continued_so_a_closed_pipe_is_an_error() -> None:
    """A pipe whose reader went away first accepts part of the document (a short write):
    the rest is written, so the closed pipe raises instead of passing for a full answer."""
    import pytest

    class ClosingPipe(io.BytesIO):
        calls = 0

        def write(self, data: object) -> int:
            self.calls += 1
            if self.calls > 1:
                raise BrokenPipeError(32, "Broken pipe")
            return super().write(bytes(memoryview(data)[:10]))  # type: ignore[arg-type]

    out = io.TextIOWrapper(ClosingPipe(), encoding="utf-8")
    with pytest.raises(BrokenPipeError):
        write_json(_entries(), out)


def test_partition_dict_writes_null_for_nan_and_infinities_only() -> None:
    from mqctl.lag.serialize import _number

    for value in (None, 0, 0.0, 1.5, -2.25, 10**20, 1e308, float("nan"), float("inf"), -1e999):
        row = PartitionLag("t", 0, 1, 0, 2, 1, value, None, estimated_time_lag_seconds=value)
        fast = partition_dict(row)
        assert fast["time_lag_seconds"] == _number(value) or fast["time_lag_seconds"] is None
        assert (fast["time_lag_seconds"] is None) == (_number(value) is None)
        assert fast["estimated_time_lag_seconds"] == fast["time_lag_seconds"]


def test_orjson_writes_a_partition_as_partition_dict_does() -> None:
    """write_json hands orjson the PartitionLag objects themselves: the same keys in the same
    order, the status's value, null for NaN and infinities (an orjson upgrade that changed
    any of this fails here)."""
    import orjson

    for status in LagStatus:
        for value in (None, 0.0, 1.5, 1e308, float("nan"), float("inf"), -1e999):
            row = PartitionLag(
                "t\u00e9", 7, None, 0, 2, 1, value, "m", status, value, "why", 3, None
            )
            assert orjson.dumps(row) == orjson.dumps(partition_dict(row))
