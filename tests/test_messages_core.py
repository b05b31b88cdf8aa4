"""The broker-neutral message core: decoding, filters, headers, templates, positions, rate,
rendering (sanitizing) and publish sources. Pure unit tests, no broker."""

from __future__ import annotations

import asyncio
import io
import json
import random
import re
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest

from mqctl.errors import ExitCode, UsageError
from mqctl.messages import decode
from mqctl.messages.filters import build_filter
from mqctl.messages.headers import parse_pair, parse_pairs, parse_unique
from mqctl.messages.positions import parse_duration, parse_start
from mqctl.messages.rate import parse_rate, rate_limited
from mqctl.messages.render import MessagePrinter, json_line, message_record, pretty_text
from mqctl.messages.sources import SourceSpec, build_messages
from mqctl.messages.templates import compile_template
from mqctl.models.messages import Message, StartPosition

ALL_BYTES = bytes(range(256))
ESCAPES = b"\x1b[2J\x1b]0;pwned\x07red\x1b[31m\xc2\x9b1m"  # \xc2\x9b = U+009B (CSI)


def msg(value: bytes | None, key: bytes | None = None, headers: Any = None) -> Message:
    return Message("kafka", "t", value, key=key, headers=headers or [], partition=0, offset=7)


# --- decoding ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Built-in behaviour only: installed decoder plugins (e.g. Avro) may claim values."""
    monkeypatch.setattr(decode, "_plugins", lambda: {})
    monkeypatch.setattr(decode, "_instances", {})


def test_auto_decoding_picks_json_then_text_then_base64() -> None:
    assert decode.decode_value(b'{"a": [1, 2]}').format == "json"
    assert decode.decode_value(b'{"a": [1, 2]}').data == {"a": [1, 2]}
    assert decode.decode_value("grüße".encode()).format == "text"
    binary = decode.decode_value(ALL_BYTES)
    assert binary.format == "base64" and binary.error is None
    assert decode.decode_value(None).format == "null"
    assert decode.decode_value(b"").format == "text"


@pytest.mark.parametrize("mode", ["auto", "json", "text", "hex", "base64"])
def test_no_mode_crashes_on_arbitrary_bytes(mode: str) -> None:
    rng = random.Random(5)
    for size in (0, 1, 3, 50, 1000):
        value = bytes(rng.randrange(256) for _ in range(size))
        result = decode.decode_value(value, mode)
        assert isinstance(result.text, str)
    assert decode.decode_value(b"\xff\xfe{", "json").error == "not valid JSON"
    assert decode.decode_value(b"\xff", "text").error == "not valid UTF-8"
    assert decode.decode_value(b"\x00\xff", "hex").text == "00ff"


def test_unknown_decoder_is_exit_2() -> None:
    with pytest.raises(UsageError, match="unknown decoder 'avr0'") as info:
        decode.check_mode("avr0")
    assert info.value.exit_code == ExitCode.USAGE


class MagicDecoder:
    name: ClassVar[str] = "magic"
    api_version: ClassVar[int] = 1

    def claims(self, value: bytes, headers: Any) -> bool:
        return value[:1] == b"\x00"

    def decode(self, value: bytes, headers: Any) -> decode.DecodedValue:
        if value[1:2] == b"!":
            raise ValueError("schema 33 not found\nsecond line")
        return decode.DecodedValue("magic", {"id": value[1]}, f"id={value[1]}")


def test_plugin_claims_in_auto_and_errors_are_per_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(decode, "_plugins", lambda: {"magic": MagicDecoder})
    monkeypatch.setattr(decode, "_auto_chain", None)  # rebuilt from the patched plugins
    monkeypatch.setattr(decode, "_instances", {})
    assert isinstance(MagicDecoder(), decode.Decoder)
    assert decode.decode_value(b"\x00\x05").data == {"id": 5}
    assert decode.decode_value(b"plain").format == "text"  # not claimed
    bad = decode.decode_value(b"\x00!", "magic")
    assert bad.format == "base64" and bad.error == "magic: schema 33 not found"
    assert decode.check_mode("magic") == "magic"


# --- headers and filters ---------------------------------------------------------------------


def test_header_pairs() -> None:
    assert parse_pair("a=b=c") == ("a", "b=c")
    assert parse_pair("a=") == ("a", "")
    assert parse_pairs(["x=1", "x=2"]) == [("x", "1"), ("x", "2")]
    for bad in ("novalue", "=v", " =v"):
        with pytest.raises(UsageError, match="--header"):
            parse_pair(bad)
    with pytest.raises(UsageError, match="given more than once"):
        parse_unique(["a=1", "a=2"], "--config")


def test_filters() -> None:
    m = msg(b'{"sku": "sku-42"}', b"order-1", [("source", b"web"), ("bin", b"\xff")])
    assert build_filter().active is False
    assert build_filter(key="order-1").matches(m)
    assert not build_filter(key="order-2").matches(m)
    assert build_filter(grep=r"sku-\d+").matches(m)
    assert build_filter(grep="order-1").matches(m)  # the key is searched too
    assert not build_filter(grep="nope").matches(m)
    assert build_filter(headers=["source=web"]).matches(m)
    assert build_filter(headers=["source"]).matches(m)
    assert not build_filter(headers=["source=app"]).matches(m)
    assert not build_filter(key="order-1", headers=["missing"]).matches(m)
    assert build_filter(grep="x").matches(msg(None, b"x"))  # null value, no crash
    assert build_filter(grep=".").matches(msg(ALL_BYTES))
    with pytest.raises(UsageError, match="invalid regular expression"):
        build_filter(grep="(")


# --- templates -------------------------------------------------------------------------------


def test_templates_expand_every_placeholder() -> None:
    template = compile_template(
        "{{seq}}|{{uuid}}|{{now}}|{{now_ms}}|{{randint 3 5}}|{{ choice a b }}|plain"
    )
    parts = template.render(7).split("|")
    assert parts[0] == "7"
    assert re.fullmatch(r"[0-9a-f-]{36}", parts[1])
    assert datetime.fromisoformat(parts[2]).tzinfo is not None and parts[2].endswith("Z")
    assert abs(int(parts[3]) / 1000 - datetime.now(UTC).timestamp()) < 60
    assert 3 <= int(parts[4]) <= 5
    assert parts[5] in ("a", "b")
    assert parts[6] == "plain"
    assert compile_template("{{uuid}}").render(1) != compile_template("{{uuid}}").render(1)
    assert compile_template("no placeholders").static


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{sequence}}", "unknown template placeholder {{sequence}}"),
        ("{{}}", "empty template placeholder"),
        ("{{randint 5 1}}", "must not be greater"),
        ("{{randint a b}}", "with integers"),
        ("{{randint 1}}", "with integers"),
        ("{{choice}}", "at least one word"),
        ("{{seq 1}}", "takes no arguments"),
    ],
)
def test_template_errors_name_the_placeholder(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        compile_template(text)


# --- positions ---------------------------------------------------------------------------------


def test_start_positions() -> None:
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert parse_start() == StartPosition("beginning")
    assert parse_start(from_beginning=True) == StartPosition("beginning")
    assert parse_start(offset="42") == StartPosition("offset", 42)
    assert parse_start(offset="first") == StartPosition("beginning")
    assert parse_start(offset="last") == StartPosition("last", 1)
    assert parse_start(offset="next") == StartPosition("end")
    assert parse_start(last=5) == StartPosition("last", 5)
    ms = int((now - timedelta(minutes=15)).timestamp() * 1000)
    assert parse_start(since="15m", now=now) == StartPosition("timestamp", ms)
    iso = int(datetime(2026, 11, 26, 10, 0, tzinfo=UTC).timestamp() * 1000)
    assert parse_start(since="2026-11-26T10:00Z") == StartPosition("timestamp", iso)
    assert parse_start(since="2026-11-26T10:00") == StartPosition("timestamp", iso)  # UTC
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_duration("yesterday") is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"offset": "-3"}, "not negative"),
        ({"offset": "soon"}, "expected a number"),
        ({"since": "last tuesday"}, "ISO 8601"),
        ({"last": 0}, "at least 1"),
        ({"offset": "1", "last": 2}, "cannot be combined"),
        ({"from_beginning": True, "since": "1h"}, "cannot be combined"),
    ],
)
def test_bad_positions_are_exit_2(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_start(**kwargs)


# --- rate --------------------------------------------------------------------------------------


def test_parse_rate() -> None:
    assert parse_rate("200/s") == 200
    assert parse_rate("200") == 200
    assert parse_rate("120/m") == 2
    for bad in ("fast", "0/s", "-1", "5/fortnight"):
        with pytest.raises(UsageError, match="--rate"):
            parse_rate(bad)


def test_rate_limiter_follows_a_fixed_schedule(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a fake clock: the limiter asks to sleep exactly until each message is due."""
    now = [100.0]
    sleeps: list[float] = []

    async def fake_sleep(delay: float) -> None:
        sleeps.append(delay)
        now[0] += delay

    monkeypatch.setattr("mqctl.messages.rate.asyncio.sleep", fake_sleep)

    async def numbers() -> Any:
        for i in range(11):
            yield i

    async def collect() -> list[int]:
        return [i async for i in rate_limited(numbers(), 10.0, clock=lambda: now[0])]

    assert asyncio.run(collect()) == list(range(11))
    assert len(sleeps) == 10 and all(abs(s - 0.1) < 1e-9 for s in sleeps)
    assert abs(now[0] - 101.0) < 1e-9  # 11 messages at 10/s take 1 s


# --- rendering and sanitizing ----------------------------------------------------------------


def test_pretty_output_escapes_terminal_sequences() -> None:
    m = msg(ESCAPES, key=b"k\x1b[1m", headers=[("h\x1b", b"v\x1b]8;;x\x07"), ("bin", b"\xff")])
    text = pretty_text(m)
    assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text
    assert "\\x1b[2J" in text and "header h\\x1b:" in text and "0xff" in text
    line = MessagePrinter("table")
    out = io.StringIO()
    line.out = out
    line.write(m)
    assert "\x1b" not in out.getvalue()


def test_json_record_fields_and_escaping() -> None:
    m = msg(ESCAPES, key=b"\xff\x00", headers=[("a", b"1"), ("a", b"\xfe")])
    record = message_record(m)
    assert list(record) == [
        "backend",
        "source",
        "vhost",
        "partition",
        "offset",
        "timestamp",
        "timestamp_type",
        "exchange",
        "routing_key",
        "redelivered",
        "key",
        "key_format",
        "headers",
        "properties",
        "value",
        "value_format",
        "value_error",
        "size",
    ]
    assert record["key_format"] == "base64"
    assert record["headers"] == [["a", "1"], ["a", {"base64": "/g=="}]]
    line = json_line(record)
    assert "\x1b" not in line and "\x9b" not in line
    assert json.loads(line)["value"] == ESCAPES.decode("utf-8")


def test_x_death_is_readable() -> None:
    death = [
        {
            "count": 3,
            "reason": "rejected",
            "queue": "notifications_queue",
            "exchange": "orders",
            "routing-keys": ["order.created"],
            "time": datetime(2026, 11, 26, tzinfo=UTC),
        }
    ]
    text = pretty_text(msg(b"x", headers=[("x-death", death)]))
    assert "3x rejected in queue notifications_queue (exchange orders" in text
    assert "routing keys order.created" in text
    assert json.loads(json_line(message_record(msg(b"x", headers=[("x-death", death)]))))


def test_raw_output_is_lossless() -> None:
    out, binary = io.StringIO(), io.BytesIO()
    printer = MessagePrinter("raw", out=out, binary=binary)
    printer.write(msg(ALL_BYTES))
    printer.close()
    assert binary.getvalue() == ALL_BYTES + b"\n"


# --- publish sources ---------------------------------------------------------------------------


def test_value_count_and_template() -> None:
    spec = SourceSpec(
        value='{"n": {{seq}}}', key="k{{seq}}", headers=[("h", "{{seq}}")], count=3, template=True
    )
    messages, total = build_messages(spec)
    got = list(messages)
    assert total == 3
    assert [m.value for m in got] == [b'{"n": 1}', b'{"n": 2}', b'{"n": 3}']
    assert [m.key for m in got] == [b"k1", b"k2", b"k3"]
    assert got[2].headers == [("h", b"3")]
    plain, _ = build_messages(SourceSpec(value="{{seq}}", count=2))
    assert [m.value for m in plain] == [b"{{seq}}", b"{{seq}}"]  # no --template: literal


def test_bad_template_fails_before_anything_is_sent() -> None:
    with pytest.raises(UsageError, match=r"\{\{nope\}\}"):
        build_messages(SourceSpec(value="ok", key="{{nope}}", template=True))


def test_jsonl_source_round_trips_peek_output(tmp_path: Any) -> None:
    record = message_record(msg(ALL_BYTES, key=b"\xff", headers=[("b", b"\xfe"), ("t", b"x")]))
    path = tmp_path / "in.jsonl"
    path.write_text(
        json_line(record)
        + "\n\n"
        + json.dumps({"value": {"a": 1}, "partition": 2, "headers": {"h": "v"}})
        + "\n"
    )
    messages, total = build_messages(SourceSpec(jsonl=str(path)))
    first, second = list(messages)
    assert total == 2
    assert first.value == ALL_BYTES and first.key == b"\xff"
    assert first.headers == [("b", b"\xfe"), ("t", b"x")]
    assert second.value == b'{"a":1}' and second.partition == 2 and second.headers == [("h", b"v")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json\n", "line 1: not valid JSON"),
        ('{"key": "k"}\n', 'line 1: missing "value"'),
        ('{"value": "v"}\n[1]\n', "line 2: expected a JSON object"),
        ('{"value": "v", "partition": -1}\n', "partition must be"),
        ('{"value": "%%", "value_format": "base64"}\n', "invalid base64"),
        ("\n", "no messages"),
    ],
)
def test_bad_jsonl_is_exit_2(tmp_path: Any, content: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(UsageError, match=re.escape(message)):
        build_messages(SourceSpec(jsonl=str(path)))


def test_source_argument_errors(tmp_path: Any) -> None:
    with pytest.raises(UsageError, match="nothing to publish"):
        build_messages(SourceSpec())
    with pytest.raises(UsageError, match="cannot be combined"):
        build_messages(SourceSpec(value="v", jsonl="x"))
    with pytest.raises(UsageError, match="file not found"):
        build_messages(SourceSpec(file=str(tmp_path / "missing")))
    with pytest.raises(UsageError, match="--count"):
        build_messages(SourceSpec(value="-", count=3), io.BytesIO(b"a\n"))
    with pytest.raises(UsageError, match="binary"):
        build_messages(SourceSpec(file="-", template=True), io.BytesIO(b"\xff"))


def test_stdin_lines_and_file(tmp_path: Any) -> None:
    lines, total = build_messages(SourceSpec(value="-"), io.BytesIO(b"a\n\nb\nc"))
    assert total is None and [m.value for m in lines] == [b"a", b"b", b"c"]
    path = tmp_path / "blob"
    path.write_bytes(ALL_BYTES + b"\n")
    blob, _ = build_messages(SourceSpec(file=str(path), count=2))
    assert [m.value for m in blob] == [ALL_BYTES + b"\n"] * 2
