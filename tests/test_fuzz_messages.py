"""Property-based tests of what brokers and input files feed the message code (hostile input).

Message bytes, keys, headers and properties coming back from a broker may be anything: huge,
binary, invalid UTF-8, terminal escape sequences, JSON nested 100,000 levels deep, NaN, lone
surrogates. Every output format must still work: pretty and table output never carry a
control character to the terminal, JSON output stays strict JSON, and nothing raises.
JSONL input (``publish --jsonl``) ends in messages or an exit-2 error.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mqctl.errors import ExitCode, MqctlError, UsageError
from mqctl.messages.decode import BUILTIN, decode_value
from mqctl.messages.render import MessagePrinter, json_line, pretty_text, table_line
from mqctl.messages.sources import SourceSpec, build_messages, parse_jsonl_line
from mqctl.models.messages import Message, OutgoingMessage
from mqctl.output.render import dump_json, dump_jsonl, format_cell, render_table, to_jsonable
from mqctl.output.sanitize import safe_text

FUZZ = settings(max_examples=250, deadline=None)

# What must never reach a terminal: C0 (except the newline/tab layout we write ourselves),
# DEL, C1 (incl. CSI 0x9b), bidi overrides/isolates, line separators, lone surrogates.
TERMINAL_UNSAFE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
JSON_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")

any_char = st.characters(blacklist_categories=())
nasty_bytes = st.sampled_from(
    [
        b"\x1b[2J\x1b[31m",
        b"\x1b]0;owned\x07",
        b"\x9b31m",
        "\u009b31m".encode(),
        "\u202eevil".encode(),
        b"\xff\xfe",
        b"\xc3",
        b"\xed\xa0\x80",  # an encoded surrogate: invalid UTF-8
        b"\x00",
        b"\r\n\t",
        b'{"a": NaN, "b": Infinity, "c": -Infinity}',
        b'{"big": 1e999, "n": 1' + b"0" * 400 + b"}",
        b'["\\ud800", "\\udcff", "\\u001b[31m", "\\u009b"]',
        b'{"k": "\\u202e\\u0007"}',
        b"[" * 5000 + b"]" * 5000,
        b"{}" * 3,
        b"",
    ]
)
values = st.one_of(
    st.binary(max_size=200),
    nasty_bytes,
    st.lists(st.one_of(nasty_bytes, st.binary(max_size=8)), max_size=5).map(b"".join),
    st.text(any_char, max_size=50).map(lambda t: t.encode("utf-8", "surrogatepass")),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(any_char, max_size=20),
    values,
    st.just(datetime(2026, 1, 1, tzinfo=UTC)),
)
header_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(any_char, max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
names = st.one_of(st.text(any_char, max_size=12), st.sampled_from(["x-death", "content_type"]))
x_death = st.lists(
    st.dictionaries(
        st.sampled_from(["count", "reason", "queue", "exchange", "routing-keys", "time"]),
        header_values,
        max_size=6,
    ),
    max_size=3,
)


@st.composite
def messages(draw: st.DrawFn) -> Message:
    headers = draw(st.lists(st.tuples(names, header_values), max_size=4))
    if draw(st.booleans()):
        headers.append(("x-death", draw(x_death)))
    return Message(
        backend=draw(st.sampled_from(["kafka", "rabbitmq"])),
        source=draw(st.text(any_char, max_size=12)),
        value=draw(st.none() | values),
        key=draw(st.none() | values),
        headers=headers,
        partition=draw(st.none() | st.integers(0, 2**31)),
        offset=draw(st.none() | st.integers(0, 2**63)),
        timestamp=draw(st.none() | st.just(datetime(2026, 1, 1, tzinfo=UTC))),
        exchange=draw(st.none() | st.text(any_char, max_size=8)),
        routing_key=draw(st.none() | st.text(any_char, max_size=8)),
        redelivered=draw(st.none() | st.booleans()),
        vhost=draw(st.none() | st.text(any_char, max_size=6)),
        properties=draw(st.dictionaries(names, header_values, max_size=3)),
    )


def _strict_json(text: str) -> Any:
    def no_constants(name: str) -> None:
        raise AssertionError(f"non-standard JSON constant {name} in output")

    return json.loads(text, parse_constant=no_constants)


def _assert_terminal_safe(text: str) -> None:
    bad = TERMINAL_UNSAFE.search(text)
    assert bad is None, f"{bad.group(0)!r} would reach the terminal in {text[:200]!r}"
    text.encode("utf-8")  # what a UTF-8 terminal write does (strict)


@FUZZ
@given(message=messages(), mode=st.sampled_from(BUILTIN))
def test_pretty_and_table_never_drive_the_terminal(message: Message, mode: str) -> None:
    _assert_terminal_safe(pretty_text(message, mode))
    line = table_line(message, mode)
    assert line.endswith("\n") and line.count("\n") == 1
    _assert_terminal_safe(line)


@FUZZ
@given(message=messages(), mode=st.sampled_from(BUILTIN))
def test_json_output_is_strict_and_escaped(message: Message, mode: str) -> None:
    line = json_line(_record(message, mode))
    assert "\n" not in line
    assert JSON_UNSAFE.search(line) is None
    line.encode("utf-8")
    _strict_json(line)
    out = io.StringIO()
    printer = MessagePrinter("json", mode, out=out)
    printer.write(message)
    printer.close()
    assert JSON_UNSAFE.search(out.getvalue().replace("\n", "")) is None
    _strict_json(out.getvalue())


def _record(message: Message, mode: str) -> dict[str, Any]:
    from mqctl.messages.render import message_record

    return message_record(message, mode)


@settings(max_examples=120, deadline=None)
@given(message=messages(), mode=st.sampled_from(BUILTIN))
def test_yaml_and_raw_output(message: Message, mode: str) -> None:
    out = io.StringIO()
    printer = MessagePrinter("yaml", mode, out=out)
    printer.write(message)
    printer.close()
    out.getvalue().encode("utf-8")
    assert isinstance(yaml.safe_load(out.getvalue()), list)
    binary = io.BytesIO()
    raw = MessagePrinter("raw", mode, out=io.StringIO(), binary=binary)
    raw.write(message)
    raw.close()
    assert binary.getvalue() == (message.value or b"") + b"\n"


@FUZZ
@given(value=values, mode=st.sampled_from(BUILTIN))
def test_decoding_never_raises(value: bytes, mode: str) -> None:
    decoded = decode_value(value, mode)
    assert isinstance(decoded.text, str)
    if decoded.format == "json":
        _strict_json(json.dumps(decoded.data, allow_nan=True))


# --- explicit hostile values (found by or written for the fuzzing) ---------------------------


@pytest.mark.parametrize("depth", [100, 990, 5_000, 100_000])
@pytest.mark.parametrize("fmt", ["pretty", "table", "json", "jsonl", "yaml"])
def test_deeply_nested_json_values(depth: int, fmt: str) -> None:
    """Found by fuzzing: JSON nested a few hundred levels parsed, then re-indenting it for
    pretty output (and YAML) raised RecursionError (exit 70). Deep documents are now shown
    as text; at any depth every format works."""
    for value in (b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth):
        out = io.StringIO()
        printer = MessagePrinter(fmt, "auto", out=out)
        printer.write(Message("kafka", "t", value))
        printer.close()
        assert out.getvalue()
        if fmt in ("json", "jsonl"):
            _strict_json(
                out.getvalue().strip().splitlines()[0] if fmt == "jsonl" else out.getvalue()
            )


def test_nan_and_infinity_values_are_not_json() -> None:
    """Found by fuzzing: ``NaN``/``1e999`` values were shown as JSON, so ``-o jsonl`` wrote
    the non-standard ``NaN``/``Infinity`` that jq rejects. They are shown as text now."""
    for value in (b'{"a": NaN}', b"[Infinity]", b'{"x": -Infinity}', b'{"big": 1e999}'):
        decoded = decode_value(value, "auto")
        assert decoded.format == "text"
        record = json_line(_record(Message("kafka", "t", value), "auto"))
        assert _strict_json(record)["value"] == value.decode()
        assert decode_value(value, "json").error is not None
    assert decode_value(b'{"ok": 1.5e10}', "auto").data == {"ok": 1.5e10}


def test_lone_surrogates_never_break_output() -> None:
    """Found by fuzzing: a JSON value with ``"\\ud800"`` decoded to a lone surrogate that the
    terminal write (strict UTF-8) could not encode."""
    message = Message("kafka", "t", b'{"s": "\\ud800\\udcff"}', headers=[("h", "\udcff")])
    for fmt in ("pretty", "table", "json", "jsonl", "yaml"):
        out = io.StringIO()
        printer = MessagePrinter(fmt, "auto", out=out)
        printer.write(message)
        printer.close()
        out.getvalue().encode("utf-8")
    assert safe_text("\ud800") == "\\ud800"


def test_huge_and_all_byte_values() -> None:
    every_byte = bytes(range(256)) * 4
    huge = b"\x1b[31m" * 400_000  # 2 MB of escape sequences
    for value in (every_byte, huge):
        message = Message("kafka", "t", value, key=value[:300], headers=[("h", value[:300])])
        _assert_terminal_safe(pretty_text(message))
        _assert_terminal_safe(table_line(message))


def test_c1_and_bidi_names_in_generic_json_output() -> None:
    """Names from brokers (queue names may hold any Unicode) in ``-o json``/``jsonl``."""
    data = [{"name": "q\u009b31m\u202e\x1b", "n": float("nan")}]
    for dump in (dump_json, dump_jsonl):
        out = io.StringIO()
        dump(data, out)
        assert JSON_UNSAFE.search(out.getvalue().replace("\n", "")) is None
        _strict_json(out.getvalue().splitlines()[0] if dump is dump_jsonl else out.getvalue())


@FUZZ
@given(value=header_values)
def test_table_cells_are_safe(value: Any) -> None:
    from rich.console import Console

    from mqctl.output.render import Column

    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None, markup=False, emoji=False)
    render_table([value], [Column("V", lambda v: v)], console)
    _assert_terminal_safe(out.getvalue())
    assert isinstance(format_cell(value), str)
    json.dumps(to_jsonable(value), allow_nan=False)


# --- JSONL input (publish --jsonl) -----------------------------------------------------------

json_docs = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(),
        st.text(any_char, max_size=10),
    ),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.one_of(
                st.sampled_from(
                    [
                        "value",
                        "value_base64",
                        "value_format",
                        "key",
                        "key_format",
                        "headers",
                        "partition",
                        "routing_key",
                        "properties",
                        "base64",
                    ]
                ),
                st.text(max_size=5),
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=10,
)
jsonl_lines = st.one_of(
    json_docs.map(lambda d: json.dumps(d).encode()),
    st.binary(max_size=80),
    nasty_bytes,
    st.sampled_from(
        [
            b'{"value": "\\ud800"}',
            b'{"value": "x", "key": "\\udcff", "headers": [["\\ud800", "v"]]}',
            b'{"value": "x", "partition": true}',
            b'{"value": "x", "partition": 1e400}',
            b'{"value": "x", "value_format": "hex"}',
            b'{"value": "zz", "value_format": "hex"}',
            b'{"value": 1e999}',
            b'{"value": ' + b"[" * 3000 + b"]" * 3000 + b"}",
            b'{"value": {"base64": "!!"}}',
            b'{"value_base64": "AAAA", "headers": {"a": {"base64": "AA=="}}}',
            b'{"value": "x", "headers": [["a"]]}',
            b'{"value": "x", "properties": []}',
        ]
    ),
)


def _materialize(spec: SourceSpec) -> list[OutgoingMessage] | MqctlError:
    try:
        produced, _total = build_messages(spec)
        return list(produced)
    except MqctlError as exc:
        assert exc.exit_code == ExitCode.USAGE
        assert not re.search(r"[\x00-\x1f\x7f-\x9f]", str(exc)), str(exc)
        return exc


@FUZZ
@given(lines=st.lists(jsonl_lines, min_size=1, max_size=4), template=st.booleans())
def test_jsonl_input(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], template: bool
) -> None:
    path = tmp_path_factory.mktemp("jsonl") / "in.jsonl"
    path.write_bytes(b"\n".join(lines))
    result = _materialize(SourceSpec(jsonl=str(path), template=template))
    if isinstance(result, list):
        for message in result:
            # None: a null value (tombstone) / null header value, never turned into b""
            assert message.value is None or isinstance(message.value, bytes)
            assert message.key is None or isinstance(message.key, bytes)
            typed = bytes | bytearray | int | float | bool | list | dict | None  # AMQP: typed
            assert all(isinstance(v, typed) and not isinstance(v, str) for _, v in message.headers)
            assert all(_encodable(name) for name, _ in message.headers)
            assert message.partition is None or (
                isinstance(message.partition, int)
                and not isinstance(message.partition, bool)
                and 0 <= message.partition < 2**31
            )


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@FUZZ
@given(line=jsonl_lines)
def test_jsonl_line_parser(line: bytes) -> None:
    try:
        parse_jsonl_line(line, 1, "in.jsonl")
    except UsageError as exc:
        assert "\n" not in str(exc)


@pytest.mark.parametrize(
    "line",
    [
        b'{"value": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"value": "\\ud800"}',
        b'{"value": "x", "headers": [["\\udcff", "v"]]}',
        b'{"value": "x", "partition": true}',
    ],
    ids=["deep", "surrogate-value", "surrogate-header-name", "bool-partition"],
)
def test_found_jsonl_lines_are_exit_2(tmp_path: Path, line: bytes) -> None:
    """Found by fuzzing: RecursionError, UnicodeEncodeError at send time, and a boolean
    accepted as partition 1."""
    path = tmp_path / "in.jsonl"
    path.write_bytes(line)
    assert isinstance(_materialize(SourceSpec(jsonl=str(path))), UsageError)


@FUZZ
@given(
    value=st.text(any_char, max_size=30),
    key=st.none() | st.text(any_char, max_size=10),
    headers=st.lists(
        st.tuples(st.text(any_char, min_size=1, max_size=5), st.text(any_char, max_size=5)),
        max_size=3,
    ),
    template=st.booleans(),
)
def test_command_line_values(
    value: str, key: str | None, headers: list[tuple[str, str]], template: bool
) -> None:
    """VALUE, --key and --header from argv (bytes that are not UTF-8 arrive as surrogate
    escapes and are sent back as the original bytes)."""
    result = _materialize(
        SourceSpec(value=value or "x", key=key, headers=headers, template=template)
    )
    if isinstance(result, list):
        assert len(result) == 1 and isinstance(result[0].value, bytes)


def test_found_argv_bytes_are_sent_unchanged() -> None:
    """Found by fuzzing: ``mqctl publish t $'\\xff'`` crashed with UnicodeEncodeError."""
    result = _materialize(
        SourceSpec(value="\udcff\udcfe", key="k\udcff", headers=[("h", "\udcc3")])
    )
    assert isinstance(result, list)
    assert result[0].value == b"\xff\xfe" and result[0].key == b"k\xff"
    assert result[0].headers == [("h", b"\xc3")]
