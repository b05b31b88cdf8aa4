"""The lossless JSONL format, without a broker: what `peek -o jsonl` writes, `publish --jsonl`
reads back to the same bytes, nulls, header order and timestamps (docs/output.md). The
broker round trips are in test_roundtrip_kafka.py and test_roundtrip_rabbitmq.py."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mqctl.errors import UsageError
from mqctl.messages.render import (
    MessagePrinter,
    jsonl_line,
    message_record,
    pretty_text,
    table_line,
)
from mqctl.messages.sources import SourceSpec, build_messages
from mqctl.models.messages import Message, OutgoingMessage

JSON_TEXTS = [
    b'{"a": 1}',
    b'{"b":2,"a":1}',
    b'"\\u00e9"',
    b'"plain string"',
    b"null",
    b"1E2",
    b"[1, 2 ,3]",
    b'{"a": 1}\n',
    b' {"a": 1}',
    b'{\n  "pretty": true\n}',
    b'{"a": 1, "a": 2}',
    '{"c1": "\u009b", "bidi": "\u202e"}'.encode(),
    b'{"del": "\x7f"}',
    b'{"nan": NaN}',
    b"\xef\xbb\xbf{}",  # a BOM first
]

values = st.one_of(
    st.none(),
    st.just(b""),
    st.binary(max_size=64),
    st.sampled_from(JSON_TEXTS),
    st.text(max_size=20).map(str.encode),
    st.builds(
        lambda doc: json.dumps(doc).encode(),
        st.dictionaries(st.text(max_size=4), st.integers(), max_size=3),
    ),
)
header_values = st.one_of(
    st.none(), st.just(b""), st.binary(max_size=8), st.sampled_from([b"text", b"\xff\x00"])
)
headers = st.lists(
    st.tuples(st.sampled_from(["a", "b", "dup", "é", ""]), header_values), max_size=5
)


def _message(
    value: bytes | None, key: bytes | None, hdrs: list[tuple[str, bytes | None]], ms: int
) -> Message:
    return Message(
        backend="kafka",
        source="t",
        value=value,
        key=key,
        headers=list(hdrs),  # type: ignore[arg-type]
        partition=3,
        offset=7,
        timestamp=datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms),
        timestamp_type="CreateTime",
    )


def _read_back(lines: str, **spec: object) -> list[OutgoingMessage]:
    produced, _ = build_messages(SourceSpec(jsonl="-", **spec), io.BytesIO(lines.encode()))  # type: ignore[arg-type]
    return list(produced)


@settings(max_examples=300, deadline=None)
@given(
    value=values,
    key=st.none() | st.binary(max_size=8) | st.just(b""),
    hdrs=headers,
    ms=st.integers(0, 2**42),
    mode=st.sampled_from(["auto", "json", "text", "hex", "base64"]),
)
def test_jsonl_line_reads_back_exactly(
    value: bytes | None, key: bytes | None, hdrs: list[tuple[str, bytes | None]], ms: int, mode: str
) -> None:
    message = _message(value, key, hdrs, ms)
    line = jsonl_line(message, mode)
    # the fast line and the generic record are the same document
    assert json.loads(line) == json.loads(json.dumps(message_record(message, mode)))
    (out,) = _read_back(line + "\n", keep_timestamps=True)
    assert out.value == value
    assert out.key == key
    assert out.headers == hdrs
    assert out.partition == 3
    assert out.timestamp == message.timestamp


def test_json_values_keep_their_text() -> None:
    """The examples of issue 14: whitespace, key order, escapes and string quotes survive."""
    for raw in JSON_TEXTS:
        (out,) = _read_back(jsonl_line(_message(raw, None, [], 0)) + "\n")
        assert out.value == raw, raw


def test_defaults_drop_timestamps_keep_partitions() -> None:
    line = jsonl_line(_message(b"v", b"k", [], 1_700_000_000_123))
    (plain,) = _read_back(line + "\n")
    assert plain.timestamp is None and plain.partition == 3
    (moved,) = _read_back(line + "\n", keep_partitions=False, partition=1)
    assert moved.partition == 1
    (kept,) = _read_back(line + "\n", keep_timestamps=True)
    assert kept.timestamp == datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)


def test_hand_written_lines_still_work() -> None:
    lines = "\n".join(
        [
            '{"value": {"a": 1}}',  # a document without value_format: compact JSON
            '{"value": "text", "key": "k", "headers": {"h": "v"}}',
            '{"value": null, "key": "gone"}',  # a tombstone
            '{"value": "", "headers": [["n", null], ["n", ""]]}',
            '{"value": {"a": 1}, "value_format": "json"}',  # the text as written
            '{"value": "x", "timestamp": 1700000000123}',
        ]
    )
    out = _read_back(lines, keep_timestamps=True)
    assert [m.value for m in out] == [b'{"a":1}', b"text", None, b"", b'{"a": 1}', b"x"]
    assert out[1].headers == [("h", b"v")]
    assert out[2].key == b"gone"
    assert out[3].headers == [("n", None), ("n", b"")]
    assert out[5].timestamp == datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)


def test_plugin_views_carry_the_bytes() -> None:
    record = message_record(_message(b'{\n"a": 1}', None, [], 0))
    assert record["value"] == {"a": 1} and record["value_format"] == "json"
    assert record["value_base64"] == "ewoiYSI6IDF9"
    exact = message_record(_message(b'{"a": 1}', None, [], 0))
    assert "value_base64" not in exact


def test_truncated_values_are_marked_and_refused() -> None:
    message = _message(b"x" * 100, None, [], 0)
    line = jsonl_line(message, cap=10)
    record = json.loads(line)
    assert record["value"] == "x" * 10 and record["value_truncated_bytes"] == 90
    assert record["size"] == 100
    with pytest.raises(UsageError, match="max-bytes"):
        _read_back(line + "\n")


def test_null_and_empty_are_told_apart_for_people() -> None:
    tomb = _message(None, None, [("h", None), ("e", b"")], 0)
    empty = _message(b"", b"", [], 0)
    assert "value: (null)  (tombstone)" in pretty_text(tomb)
    assert "key: (null)" in pretty_text(tomb)
    assert "header h: (null)" in pretty_text(tomb) and "header e: (empty)" in pretty_text(tomb)
    assert "value: (empty)" in pretty_text(empty) and "key: (empty)" in pretty_text(empty)
    assert table_line(tomb).split("\t")[2:] == ["(null)", "(null)\n"]
    assert table_line(empty).split("\t")[2:] == ["(empty)", "(empty)\n"]
    assert json.loads(jsonl_line(tomb))["value"] is None
    assert json.loads(jsonl_line(empty))["value"] == ""


def test_pretty_caps_huge_values_and_max_bytes_changes_it() -> None:
    huge = _message(b"a" * 5_000_000, None, [], 0)
    out = io.StringIO()
    MessagePrinter("pretty", out=out).write(huge)
    assert len(out.getvalue()) < 20_000
    assert "… 4983616 more bytes" in out.getvalue()
    out = io.StringIO()
    MessagePrinter("pretty", out=out, max_bytes=0).write(huge)
    assert "more bytes" not in out.getvalue() and len(out.getvalue()) > 5_000_000
    out = io.StringIO()
    MessagePrinter("jsonl", out=out).write(huge)
    assert json.loads(out.getvalue())["value"] == "a" * 5_000_000  # programs get every byte
    line = table_line(_message("é".encode() * 200, None, [], 0))
    assert line.rstrip("\n").endswith("… 162 more bytes")


def test_cut_never_splits_a_character() -> None:
    message = _message("aé€😀".encode() * 10, None, [], 0)
    for cap in range(1, 20):
        record = message_record(message, cap=cap)
        assert record["value_format"] == "text", cap  # still valid UTF-8
        assert len(record["value"].encode()) + record["value_truncated_bytes"] == message.size


TRICKY_VALUES = [
    b'{"value":1}',
    b'{"a":1,"value_format":"json","value_error":null,"size":5}',
    b'["value", {"value": {"value": []}}]',
    b'"\\"value\\":"',
]


@settings(max_examples=200, deadline=None)
@given(
    value=st.sampled_from(TRICKY_VALUES) | st.sampled_from(JSON_TEXTS),
    prop=st.sampled_from([{}, {"value": {"a": 1}}, {"value": 1, "x": ["value"]}]),
    header=st.sampled_from(["value", '"value":', "h"]),
)
def test_the_value_text_is_found_however_the_line_looks(
    value: bytes, prop: dict[str, object], header: str
) -> None:
    """The shortcut for peek's lines finds the same text as the member-by-member walk."""
    from mqctl.messages.jsonl_input import raw_value, read_object

    message = _message(value, None, [(header, b"value")], 0)
    message.backend = "rabbitmq"
    message.properties = prop
    line = jsonl_line(message)
    assert raw_value(line) == read_object(line)[1]["value"]
    record = json.loads(line)
    if record["value_format"] == "json" and "value_base64" not in record:
        assert raw_value(line).encode() == value
        spaced = line.replace('"value":', '"value" :  ')  # hand-edited: the walk
        assert raw_value(spaced) == read_object(spaced)[1]["value"]


def test_a_decoder_plugins_view_is_published_back_as_the_original_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mqctl.messages import decode
    from tests.test_messages_core import MagicDecoder

    monkeypatch.setattr(decode, "_plugins", lambda: {"magic": MagicDecoder})
    monkeypatch.setattr(decode, "_auto_chain", None)
    monkeypatch.setattr(decode, "_instances", {})
    raw = b"\x00\x05 schema-encoded bytes"
    line = jsonl_line(_message(raw, None, [], 0))
    record = json.loads(line)
    assert record["value"] == {"id": 5} and record["value_format"] == "magic"
    (out,) = _read_back(line + "\n")
    assert out.value == raw
