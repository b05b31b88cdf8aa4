"""The batch fast path of jsonl (`jsonl_lines`) writes exactly the bytes of the one-message
path, and `json_text`'s orjson check accepts exactly what the standard-library check accepts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from mqctl.messages import decode, json_splice
from mqctl.messages.render import jsonl_line, jsonl_lines
from mqctl.models.messages import Message

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.text(max_size=12)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)

# Texts that are JSON or nearly: duplicate keys, colons in strings, whitespace around,
# escaped lone surrogates, numbers out of range, NaN, C1 controls, bidi overrides.
TRICKY = [
    b'{"a":1,"a":2}',
    b'{"a":{"b":1,"b":2}}',
    b'[{"a":1},{"a":1}]',
    b'{"t":"12:00:00","a":1}',
    b'{"t":"12:00","t":"x"}',
    b'{"a":1} ',
    b'{"a":1}\t',
    b' {"a":1}',
    b'"\\ud800"',
    b'["\\udfff",1]',
    b"1e999",
    b"[1e400]",
    b"-1e999",
    b"1" + b"0" * 400,
    b"NaN",
    b'{"a":NaN}',
    b'"\xc2\x85"',
    b'"\xe2\x80\xae"',
    b'"\x7f"',
    b'"\\u007f"',
    b"[" * 101 + b"]" * 101,
    b"[" * 99 + b"]" * 99,
    b'{"a":[' * 60 + b"1" + b"]}" * 60,
    b"01",
    b"1.",
    b"{}",
    b"[]",
    b'""',
    b"\xef\xbb\xbf{}",
    b'"\xed\xa0\x80"',
    b'{"":1,"":2}',
    b'{"a":1,"b":{"c":{}}}',
]
tricky = st.sampled_from(TRICKY)


def _documents() -> st.SearchStrategy[bytes]:
    dumped = st.builds(
        lambda doc, compact, ascii_only: json.dumps(
            doc, separators=(",", ":") if compact else None, ensure_ascii=ascii_only
        ).encode(),
        json_values,
        st.booleans(),
        st.booleans(),
    )
    return st.one_of(
        dumped, tricky, st.binary(max_size=24), st.builds(bytes.__add__, tricky, tricky)
    )


def _stdlib_json_text(value: bytes) -> str | None:
    """json_text("json") as it was before orjson: the standard library decides alone."""
    if not value or value[0] not in decode.JSON_STARTS or b"\n" in value or b"\r" in value:
        return None
    if value.count(b"[") + value.count(b"{") > decode.MAX_JSON_DEPTH:
        return None
    return json_splice._stdlib_text(value)


@settings(max_examples=400, deadline=None)
@given(value=_documents())
def test_orjson_check_accepts_what_the_stdlib_accepts(value: bytes) -> None:
    assert json_splice.json_text(value, "json") == _stdlib_json_text(value)


def test_tricky_texts_each() -> None:
    for value in TRICKY:
        assert json_splice.json_text(value, "json") == _stdlib_json_text(value), value


messages = st.builds(
    Message,
    backend=st.sampled_from(["kafka", "rabbitmq", "redis"]),
    source=st.sampled_from(["t", "orders\u202e", "q\x85"]),
    value=st.none() | _documents(),
    key=st.none() | st.binary(max_size=6) | st.just(b"k\xc2\x85"),
    headers=st.lists(
        st.tuples(st.sampled_from(["h", "h", "x"]), st.binary(max_size=4)), max_size=2
    ),
    partition=st.none() | st.integers(0, 3),
    offset=st.none() | st.integers(0, 2**62),
    timestamp=st.none()
    | st.builds(
        lambda ms: datetime(2026, 12, 6, tzinfo=UTC) + timedelta(milliseconds=ms),
        st.integers(0, 3),
    ),
    timestamp_type=st.sampled_from([None, "CreateTime", "LogAppendTime"]),
    vhost=st.sampled_from([None, "/"]),
    properties=st.sampled_from([{}, {"content_type": "application/json"}]),
)


@settings(max_examples=300, deadline=None)
@given(
    batch=st.lists(messages, max_size=8),
    mode=st.sampled_from(["auto", "json", "text"]),
    cap=st.sampled_from([None, 0, 4, 1000]),
)
def test_batch_is_the_same_bytes_as_each_line(
    batch: list[Message], mode: str, cap: int | None
) -> None:
    expected = "".join(jsonl_line(m, mode, cap) + "\n" for m in batch)
    assert jsonl_lines(batch, mode, cap) == expected


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.none() | _documents(), max_size=8),
    mode=st.sampled_from(["auto", "json", "text"]),
)
def test_json_texts_is_json_text_for_each(values: list[bytes | None], mode: str) -> None:
    headers = [[("content-type", b"application/json")]] * len(values)
    expected = [json_splice.json_text(v, mode, h) for v, h in zip(values, headers, strict=True)]
    assert json_splice.json_texts(values, headers, mode) == expected
