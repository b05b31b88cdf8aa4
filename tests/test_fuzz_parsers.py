"""Property-based tests of the parsers users feed from the command line (hostile input).

Whatever the text, each parser returns a value or raises an exit-2 :class:`UsageError` with a
one-line message: never another exception, never a hang. Explicit cases below the properties
are the bugs these tests found.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mqctl.errors import ExitCode, MqctlError, UsageError
from mqctl.lag import parsing as lag_parsing
from mqctl.messages import filters as filters_mod
from mqctl.messages.filters import build_filter
from mqctl.messages.headers import parse_pair, parse_unique
from mqctl.messages.positions import parse_duration, parse_offset, parse_start, parse_time
from mqctl.messages.rate import parse_rate
from mqctl.messages.templates import compile_template
from mqctl.models.messages import Message, StartPosition

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
FUZZ = settings(max_examples=300, deadline=None)
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

# Every code point, lone surrogates included (argv bytes that are not UTF-8 arrive as
# surrogate escapes), plus the tokens the parsers look for.
any_char = st.characters(blacklist_categories=())
tokens = st.sampled_from(
    [
        "0",
        "1",
        "9" * 30,
        "9" * 400,
        "9" * 5000,
        "-",
        "+",
        ".",
        "e",
        "E",
        "e999",
        "nan",
        "NaN",
        "inf",
        "-inf",
        "Infinity",
        "ms",
        "s",
        "m",
        "h",
        "d",
        "w",
        "/",
        ":",
        ",",
        "=",
        "P",
        "T",
        "H",
        "M",
        "S",
        "D",
        "Z",
        "+00:00",
        "-23:59",
        "2026-11-26",
        "0001-01-01",
        "9999-12-31",
        "T23:59:59",
        "T00:00",
        " ",
        "\n",
        "\x00",
        "\x1b[31m",
        "\x9b",
        "\udcff",
        "\ud800",
        "٣",
        "²",
        "_",
        "first",
        "last",
        "next",
    ]
)
hostile = st.one_of(
    st.text(any_char, max_size=40),
    st.lists(tokens, max_size=8).map("".join),
    st.lists(st.one_of(tokens, st.text(any_char, max_size=3)), max_size=6).map("".join),
)


def clean(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``fn``: a result, or the exit-2 error it raised (anything else fails the test)."""
    try:
        return fn(*args, **kwargs)
    except MqctlError as exc:
        assert exc.exit_code == ExitCode.USAGE, exc
        for text in (str(exc), exc.hint or ""):
            assert not CONTROL.search(text), f"control character in error: {text!r}"
        return exc


# --- peek positions (--offset, --since) ------------------------------------------------------


@FUZZ
@given(text=hostile)
def test_offset_specs(text: str) -> None:
    result = clean(parse_offset, text)
    if isinstance(result, StartPosition):
        assert result.kind in ("beginning", "end", "last", "offset")
        assert result.value is None or result.value >= 0


@FUZZ
@given(text=hostile)
def test_since_specs(text: str) -> None:
    result = clean(parse_start, since=text, now=NOW)
    if isinstance(result, StartPosition):
        assert result.kind == "timestamp" and isinstance(result.value, int)


@FUZZ
@given(number=st.one_of(st.integers(0, 10**30), st.floats(0, 1e300)), unit=st.sampled_from("smhdw"))
def test_huge_durations_are_clean(number: float, unit: str) -> None:
    clean(parse_time, f"{number}{unit}", NOW)
    clean(lag_parsing.parse_duration, f"{number}{unit}")


@pytest.mark.parametrize(
    "text",
    ["99999999999999d", "9" * 400 + "s", "9999999999w", "142857143w", "1" * 30 + "ms"],
    ids=["days", "inf", "weeks", "past-year-1", "ms"],
)
def test_found_huge_since_duration_is_exit_2(text: str) -> None:
    """Found by fuzzing: timedelta/datetime overflow escaped as OverflowError (exit 70)."""
    with pytest.raises(UsageError, match=r"--since|too long"):
        parse_start(since=text, now=NOW)
    assert parse_duration("1h30m") is not None


def test_found_extreme_iso_times() -> None:
    for text in ("0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59", "0001-01-01"):
        result = clean(parse_start, since=text, now=NOW)
        assert isinstance(result, StartPosition | UsageError)


# --- lag durations, datetimes, topic selections, plan files ----------------------------------


@FUZZ
@given(text=hostile)
def test_lag_durations(text: str) -> None:
    result = clean(lag_parsing.parse_duration, text, "--max-time-lag")
    if isinstance(result, float):
        assert math.isfinite(result) and result >= 0


@pytest.mark.parametrize(
    "text",
    ["nan", "inf", "-inf", "Infinity", "1e999", "9" * 400 + "h", "9" * 60 + "." + "9" * 4000],
)
def test_found_non_finite_durations_are_exit_2(text: str) -> None:
    """Found by fuzzing: ``nan`` and ``inf`` were accepted as durations (``--watch inf``
    slept forever, ``--by-duration nan`` crashed)."""
    with pytest.raises(UsageError):
        lag_parsing.parse_duration(text, "--watch")


@FUZZ
@given(text=hostile)
def test_lag_datetimes(text: str) -> None:
    result = clean(lag_parsing.parse_datetime_ms, text)
    assert isinstance(result, int | UsageError)


@pytest.mark.parametrize("text", ["0001-01-01", "0001-01-01T00:00", "9999-12-31T23:59:59-23:59"])
def test_found_datetime_at_the_edge_of_the_calendar(text: str) -> None:
    """Found by fuzzing: converting these to UTC overflowed (OverflowError, exit 70)."""
    result = clean(lag_parsing.parse_datetime_ms, text)
    assert isinstance(result, int | UsageError)


@FUZZ
@given(text=hostile)
def test_topic_selections(text: str) -> None:
    result = clean(lag_parsing.parse_topic_selection, text)
    if isinstance(result, tuple):
        topic, parts = result
        assert parts is None or (topic and parts and all(p >= 0 for p in parts))


csv_cells = st.one_of(
    st.sampled_from(["topic", "orders", "", " ", "#x", "0", "-1", "7", "9" * 5000, '"', "a,b"]),
    st.text(any_char, max_size=8),
)
csv_text = st.one_of(
    st.lists(st.lists(csv_cells, max_size=4).map(",".join), max_size=5).map("\n".join),
    st.text(any_char, max_size=120),
)


@FUZZ
@given(text=csv_text)
def test_offset_reset_plan_csv(text: str) -> None:
    result = clean(lag_parsing.read_plan_csv, text, "plan.csv")
    if isinstance(result, tuple):
        assert all(t and p >= 0 and o >= 0 for t, p, o in result)


def test_found_plan_csv_with_a_huge_field_or_nul() -> None:
    """Found by fuzzing: csv.Error (field larger than the limit) escaped as exit 70."""
    for text in ['orders,0,"' + "x" * 200_000, "orders,0,1\n" + "a" * 200_000 + ",0,1"]:
        assert isinstance(clean(lag_parsing.read_plan_csv, text, "p.csv"), UsageError | tuple)
    with pytest.raises(UsageError, match=r"p\.csv:1"):
        lag_parsing.read_plan_csv("orders,0,\x001\norders,1,5", "p.csv")


@settings(max_examples=100, deadline=None)
@given(raw=st.binary(max_size=300).map(lambda b: b.decode("utf-8", "replace").encode()))
def test_offsets_reset_from_file_bytes(
    tmp_path_factory: pytest.TempPathFactory, raw: bytes
) -> None:
    """``offsets reset --from-file`` with arbitrary UTF-8 (not UTF-8: see below)."""
    from mqctl.cli.offsets import _spec

    path = tmp_path_factory.mktemp("plan") / "plan.csv"
    path.write_bytes(raw)
    clean(_spec, [], False, False, None, None, None, None, str(path))


@FUZZ
@given(
    text=hostile,
    mode=st.sampled_from(["datetime", "duration"]),
    topic=st.sampled_from(["orders", "orders:0,1", ":", "a:-1", "x:" + "9" * 5000]),
)
def test_offsets_reset_spec(text: str, mode: str, topic: str) -> None:
    from mqctl.cli.offsets import _spec

    args: list[Any] = [[topic], False, False, None, None, None, None, None]
    args[4 if mode == "datetime" else 5] = text
    result = clean(_spec, *args)
    if not isinstance(result, UsageError):
        assert isinstance(result.value, int)


# --- rate, header/property pairs -------------------------------------------------------------


@FUZZ
@given(text=hostile)
def test_rates(text: str) -> None:
    result = clean(parse_rate, text)
    if isinstance(result, float):
        assert result > 0 and math.isfinite(result) and math.isfinite(1 / result)


@FUZZ
@given(args=st.lists(hostile, max_size=4))
def test_header_and_property_pairs(args: list[str]) -> None:
    for arg in args:
        result = clean(parse_pair, arg, "--header")
        if isinstance(result, tuple):
            assert result[0] and result[0] == result[0].strip()
    clean(parse_unique, args, "--property")


# --- templates -------------------------------------------------------------------------------

placeholder_bodies = st.one_of(
    st.sampled_from(["seq", "uuid", "now", "now_ms", "randint", "choice", "", " ", "{{", "}}"]),
    st.tuples(st.sampled_from(["randint", "choice", "seq"]), st.lists(hostile, max_size=3)).map(
        lambda t: " ".join([t[0], *t[1]])
    ),
    hostile,
)
templates = st.lists(
    st.one_of(hostile, placeholder_bodies.map(lambda b: "{{" + b + "}}")), max_size=5
).map("".join)


@FUZZ
@given(text=templates)
def test_templates(text: str) -> None:
    template = clean(compile_template, text)
    if not isinstance(template, UsageError):
        for seq in (1, 2):
            assert isinstance(template.render(seq), str)


# --- filters (--key, --grep, --header) -------------------------------------------------------

regex_pieces = st.sampled_from(
    ["(", ")", "[", "]", "a", ".", "*", "+", "?", "{2}", "{99999999999}", "|", "\\", "\\1", "^"]
)
regexes = st.one_of(hostile, st.lists(regex_pieces, max_size=12).map("".join))


@FUZZ
@given(grep=regexes, headers=st.lists(hostile, max_size=3), value=st.binary(max_size=64))
def test_filters(grep: str, headers: list[str], value: bytes) -> None:
    built = clean(build_filter, None, grep, headers)
    if isinstance(built, UsageError):
        return
    message = Message("kafka", "t", value, key=value[:4], headers=[("k", value)])
    assert isinstance(clean(built.matches, message), bool | UsageError)


def test_found_quadratic_parsers_are_fast() -> None:
    """Found by fuzzing: the duration regexes and the template scanner backtracked
    quadratically (a 10 kB --since took seconds, a 100 kB --template file minutes)."""
    started = time.monotonic()
    digits = "9" * 5000 + "." + "9" * 5000 + "e"
    assert isinstance(clean(parse_start, since=digits, now=NOW), UsageError)
    assert isinstance(clean(lag_parsing.parse_duration, digits), UsageError)
    assert compile_template("{{" * 200_000).render(1) == "{{" * 200_000
    assert isinstance(clean(compile_template, "{{seq}}" + "{{" * 1000 + "}}x"), UsageError)
    assert compile_template("a{{seq}}b{{ seq }}}c{{").render(7) == "a7b7}c{{"
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    "grep",
    ["(" * 1000 + ")" * 1000, "a{4294967296}", "x{1,99999999999}"],
    ids=["deep-groups", "huge-repeat", "huge-range"],
)
def test_found_regexes_that_crash_the_compiler(grep: str) -> None:
    """Found by fuzzing: RecursionError / OverflowError from re.compile (exit 70)."""
    with pytest.raises(UsageError, match="--grep"):
        build_filter(grep=grep)


@pytest.mark.parametrize(
    ("grep", "text"),
    [
        (r"(a+)+$", "a" * 40 + "!"),
        (r"(a|a)*b", "a" * 40),
        (r"(\w+\s?)*$", "word " * 12 + "!"),
        (r".*.*.*=x", "=" * 200_000),
    ],
    ids=["nested-plus", "overlapping-branches", "words", "polynomial"],
)
def test_catastrophic_backtracking_is_bounded(
    monkeypatch: pytest.MonkeyPatch, grep: str, text: str
) -> None:
    """A --grep that backtracks catastrophically ends with exit 2 after the time bound."""
    monkeypatch.setattr(filters_mod, "REGEX_TIMEOUT", 0.2)
    built = build_filter(grep=grep)
    started = time.monotonic()
    with pytest.raises(UsageError, match="took longer than"):
        built.matches(Message("kafka", "t", text.encode()))
    assert time.monotonic() - started < 5


def test_regex_time_bound_leaves_normal_patterns_alone() -> None:
    built = build_filter(grep=r"sku-\d+")
    assert built.matches(Message("kafka", "t", b"x" * 100_000 + b"sku-42"))
    assert not built.matches(Message("kafka", "t", b"x" * 100_000))
    assert build_filter(grep="order.created").matches(Message("kafka", "t", b"order-created"))


def test_found_surrogate_escapes_in_filter_arguments() -> None:
    """Bytes that are not UTF-8 on the command line arrive as surrogate escapes."""
    built = build_filter(key="\udcff", grep="\udcff", headers=["\udcff=\udcfe"])
    assert not built.matches(Message("kafka", "t", b"\xff", key=b"\xff"))


def test_regex_syntax_error_is_one_line() -> None:
    with pytest.raises(UsageError) as info:
        build_filter(grep="(unclosed\n[")
    assert "\n" not in str(info.value)
    assert re.compile("ok")


def test_plan_file_that_is_not_utf8(tmp_path: Path) -> None:
    from mqctl.cli.offsets import _spec

    path = tmp_path / "p.csv"
    path.write_bytes(b"orders,0,\xff\n")
    with pytest.raises(UsageError):
        _spec([], False, False, None, None, None, None, str(path))
