"""The jsonl fast path of peek (`jsonl_line`, batches) means the same as the generic one."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from mqctl.messages.render import json_line, jsonl_line, jsonl_lines, message_record
from mqctl.models.messages import Message

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=15,
)


def _kafka(value: bytes | None, key: bytes | None = b"k", headers=()) -> Message:  # type: ignore[no-untyped-def]
    return Message(
        backend="kafka",
        source="t",
        value=value,
        key=key,
        headers=list(headers),
        partition=1,
        offset=42,
        timestamp=datetime(2026, 11, 26, 10, 0, tzinfo=UTC),
        timestamp_type="CreateTime",
    )


@settings(max_examples=300, deadline=None)
@given(doc=json_values, compact=st.booleans())
def test_json_values_same_document(doc: object, compact: bool) -> None:
    text = json.dumps(doc, separators=(",", ":") if compact else None, ensure_ascii=compact)
    message = _kafka(text.encode())
    fast = json.loads(jsonl_line(message))
    slow = json.loads(json_line(message_record(message)))
    assert fast == slow
    assert list(fast) == list(slow)  # same fields in the same order


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=64), key=st.none() | st.binary(max_size=8))
def test_any_bytes_same_record(raw: bytes, key: bytes | None) -> None:
    message = _kafka(raw, key, [("h", b"\xff\x1b"), ("t", b"text")])
    line = jsonl_line(message)
    assert "\n" not in line and "\x1b" not in line
    assert json.loads(line) == json.loads(json_line(message_record(message)))


def test_batches_are_lines_in_order() -> None:
    messages = [_kafka(b'{"n":%d}' % i) for i in range(5)]
    text = jsonl_lines(messages)
    assert text.endswith("\n")
    assert [json.loads(line)["value"]["n"] for line in text.splitlines()] == list(range(5))
    assert jsonl_lines([]) == ""
