"""The real CLI (in-process) with hostile flag values and hostile message data.

Every run ends with exit 0 (worked), 2 (bad input) or 4 (not found) and, on failure, one
``error:`` line (plus an optional ``hint:`` line): never a traceback or exit 70. A topic of
our own (unique name, deleted afterwards) holds hostile bytes and headers, which are then
peeked in every output format: no ESC/C0/C1 control character reaches the terminal.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import CliResult, run_cli
from tests.test_peek_kafka import KAFKA_ONLY, _admin, _produce

pytestmark = pytest.mark.kafka

CLI_FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
ALLOWED = {0, 2, 4}
TERMINAL_UNSAFE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)

# Printable-ish text plus the characters a shell can pass in argv (no NUL: argv cannot hold
# it); surrogate escapes stand for argv bytes that are not UTF-8.
argv_char = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
tokens = st.sampled_from(
    [
        "0",
        "-1",
        "9" * 30,
        "9" * 5000,
        "nan",
        "inf",
        "1e999",
        "15m",
        "1h30m",
        "99999999999999d",
        "2026-11-26T10:00Z",
        "0001-01-01",
        "first",
        "last",
        "next",
        "/s",
        "/fortnight",
        "=",
        "{{",
        "}}",
        "{{seq}}",
        "{{randint 1 0}}",
        "{{choice}}",
        "(a+)+$",
        "[",
        "\x1b[31m",
        "\x1b]0;owned\x07",
        "\u009b",
        "\u202e",
        "\n",
        " ",
        "-",
        "--",
    ]
)
hostile = st.one_of(
    st.text(argv_char, max_size=20),
    st.lists(tokens, min_size=1, max_size=4).map("".join),
)


def check(result: CliResult, *, raw_paths: bool = False) -> None:
    assert "Traceback" not in result.output, result.output
    assert result.exit_code in ALLOWED, (result.exit_code, result.output)
    if result.exit_code:
        lines = result.stderr.strip().splitlines()
        errors = [line for line in lines if line.startswith("error:")]
        usage = [line for line in lines if line.startswith(("Usage:", "Try ", "Error:"))]
        # Our own errors: one `error:` line (+ hint). Click's usage errors: its 3-line block.
        assert len(errors) == 1 or len(usage) >= 2, result.stderr
        if not raw_paths:
            assert not TERMINAL_UNSAFE.search(result.stderr.replace("\n", "")), result.stderr


@pytest.fixture(scope="module")
def hostile_topic() -> Iterator[str]:
    """Our own topic with hostile values, keys and headers (deleted afterwards)."""
    topic = f"test-fuzz-{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin("create", topic, 1))
    nested = b"[" * 100_000 + b"]" * 100_000
    values = [
        b"\x1b[2J\x1b[31mred\x1b]0;owned\x07",
        b"\x9b31m \xc2\x9b31m \xe2\x80\xae evil",
        bytes(range(256)),
        b"\xff\xfe\xed\xa0\x80 invalid utf-8",
        nested,
        b'{"a": NaN, "b": Infinity, "c": 1e999}',
        b'{"s": "\\ud800\\udcff \\u001b[31m \\u009b"}',
        b'{"ok": [1, 2, {"x": "\\u202e"}]}',
        b"x" * 1_000_000,
        b"",
    ]
    records = [
        {
            "partition": 0,
            "value": value,
            "key": value[:64] or None,
            "headers": [
                ("\x1b[31mname", b"\x1b]0;t\x07"),
                ("bin", bytes(range(256))),
                ("c1", "\u009b\u202e".encode()),
                ("x-death", b"\x00\x00\x00\x05"),
            ],
        }
        for value in values
    ]
    asyncio.run(_produce(topic, records))
    yield topic
    asyncio.run(_admin("delete", topic))


@pytest.fixture
def kafka_only(isolated_config: Path) -> Path:
    isolated_config.write_text(KAFKA_ONLY)
    return isolated_config


FORMATS = [(fmt, "auto") for fmt in ("pretty", "table", "json", "jsonl", "yaml", "raw")] + [
    (fmt, decode) for fmt in ("pretty", "table") for decode in ("json", "text", "hex", "base64")
]


@pytest.mark.parametrize(("fmt", "decode"), FORMATS)
def test_peek_hostile_messages_in_every_format(
    kafka_only: Path, hostile_topic: str, fmt: str, decode: str
) -> None:
    result = run_cli("peek", hostile_topic, "-n", "0", "-o", fmt, "--decode", decode)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    if fmt in ("pretty", "table"):
        bad = TERMINAL_UNSAFE.search(result.stdout.replace("\n", "").replace("\t", ""))
        assert bad is None, f"{bad.group(0)!r} reached the terminal"
        result.stdout.encode("utf-8")
    if fmt == "jsonl":

        def strict(name: str) -> None:
            raise AssertionError(f"{name} in JSON output")

        records = [json.loads(line, parse_constant=strict) for line in result.stdout.splitlines()]
        assert len(records) >= 10
    if fmt == "json":
        assert re.search(r"[\x7f-\x9f\u202a-\u202e\ud800-\udfff]", result.stdout) is None


@CLI_FUZZ
@given(
    flag=st.sampled_from(
        [
            *("--offset", "--since", "--header", "--grep", "--key", "-o", "--decode"),
            *("--key-base64", "--isolation", "--format"),
        ]
    ),
    value=hostile,
)
def test_peek_flags(kafka_only: Path, hostile_topic: str, flag: str, value: str) -> None:
    check(run_cli("peek", hostile_topic, flag, value, "-n", "3", "-o", "jsonl"))


@CLI_FUZZ
@given(
    flag=st.sampled_from(["--max-time-lag", "--window", "--watch", "--fail-on", "--max-lag"]),
    value=hostile,
)
def test_lag_flags(kafka_only: Path, flag: str, value: str) -> None:
    extra = ["--count", "1"] if flag == "--watch" else []
    check(run_cli("lag", f"no-such-group-{uuid.uuid4().hex[:6]}", flag, value, *extra))


@CLI_FUZZ
@given(
    flag=st.sampled_from(["--rate", "--header", "--key", "--template", "--count", "--property"]),
    value=hostile,
)
def test_publish_flags(kafka_only: Path, hostile_topic: str, flag: str, value: str) -> None:
    args: list[Any] = ["publish", hostile_topic]
    if flag == "--template":
        args += [value, "--template"]
    else:
        args += ["fuzz", flag, value]
    check(run_cli(*args))


@CLI_FUZZ
@given(
    flag=st.sampled_from(["--to-datetime", "--by-duration", "--topic", "--from-file"]),
    value=hostile,
)
def test_offsets_reset_flags(kafka_only: Path, hostile_topic: str, flag: str, value: str) -> None:
    group = f"fuzz-group-{uuid.uuid4().hex[:6]}"
    args = ["offsets", "reset", group, flag, value]
    if flag != "--topic":
        args += ["--topic", hostile_topic]
    else:
        args += ["--to-earliest"]
    # See test_error_lines_are_not_sanitized: the plan file path is echoed raw.
    check(run_cli(*args), raw_paths=flag == "--from-file")


@CLI_FUZZ
@given(exprs=st.lists(hostile, min_size=1, max_size=2))
def test_dlq_inspect_filters(kafka_only: Path, hostile_topic: str, exprs: list[str]) -> None:
    args = ["dlq", "inspect", hostile_topic]
    for expr in exprs:
        args += ["--filter", expr]
    check(run_cli(*args))


@pytest.mark.parametrize(
    "args",
    [
        ["peek", "TOPIC", "--since", "99999999999999d"],
        ["peek", "TOPIC", "--since", "9" * 5000 + "." + "9" * 5000 + "e"],
        ["peek", "TOPIC", "--grep", "(" * 1000 + ")" * 1000],
        ["peek", "TOPIC", "--grep", "a{4294967296}"],
        ["lag", "--watch", "inf", "--count", "1"],
        ["lag", "--max-time-lag", "nan"],
        ["offsets", "reset", "g", "--topic", "TOPIC", "--by-duration", "1e999"],
        ["offsets", "reset", "g", "--topic", "TOPIC", "--to-datetime", "0001-01-01"],
        ["publish", "TOPIC", "{{\x1b[31m}}", "--template"],
        ["dlq", "inspect", "TOPIC", "--filter", "since=99999999999999d"],
        ["dlq", "inspect", "TOPIC", "--filter", "body~" + "(" * 1000 + ")" * 1000],
    ],
    ids=[
        "since-overflow",
        "since-quadratic",
        "grep-deep-groups",
        "grep-huge-repeat",
        "watch-inf",
        "max-time-lag-nan",
        "by-duration-inf",
        "to-datetime-year-1",
        "template-escape",
        "dlq-since-overflow",
        "dlq-body-deep-groups",
    ],
)
def test_found_cli_cases(kafka_only: Path, hostile_topic: str, args: list[str]) -> None:
    """Each of these exited 70 (or hung) before the fixes in this change."""
    result = run_cli(*[hostile_topic if a == "TOPIC" else a for a in args])
    check(result)
    assert result.exit_code in (0, 2)


def test_grep_catastrophic_backtracking_on_a_real_topic(
    kafka_only: Path, hostile_topic: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 1 MB value of x's against a nested quantifier: exit 2 after the time bound."""
    monkeypatch.setattr("mqctl.messages.filters.REGEX_TIMEOUT", 0.3)
    result = run_cli("peek", hostile_topic, "-n", "0", "--grep", "(x+x+)+y")
    check(result)
    assert result.exit_code == 2 and "took longer than" in result.stderr


def test_publish_with_non_utf8_argv(kafka_only: Path, hostile_topic: str) -> None:
    result = run_cli("publish", hostile_topic, "\udcff", "--header", "h=\udcfe")
    check(result)


def test_error_lines_are_not_sanitized(kafka_only: Path) -> None:
    result = run_cli("offsets", "reset", "g", "-t", "x", "--from-file", "\x1b]0;owned\x07")
    check(result)
