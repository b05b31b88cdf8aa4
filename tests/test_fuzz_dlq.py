"""Property-based tests of dead-letter metadata parsing and redrive filters (hostile input).

Dead-lettered messages carry whatever a broker, a framework or a buggy producer left on them:
``x-death`` arrays of the wrong shape, Spring binary headers of the wrong length, Connect
headers with garbage, JSON bodies nested absurdly deep. Reading them never raises; filter
expressions typed by the user end in :class:`Filters` or an exit-2 error.
"""

from __future__ import annotations

import re
import struct
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mqctl.dlq.metadata import DeadLetterInfo, has_dead_letter_headers, integer, parse, timestamp
from mqctl.dlq.plan import Filters, Planner, RedriveOptions, parse_assignments, parse_filters
from mqctl.errors import ExitCode, MqctlError, UsageError
from mqctl.messages import filters as filters_mod
from mqctl.models.messages import Message

FUZZ = settings(max_examples=250, deadline=None)
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
any_char = st.characters(blacklist_categories=())

numbers = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 10**400, 2**63, 1e11, 1e300, float("nan"), float("inf")]),
)
texty = st.one_of(
    st.text(any_char, max_size=20),
    st.sampled_from(
        ["--5", "²", "٣٤", "9" * 5000, "-" + "9" * 30, " 12 ", "2024-06-11T10:00:00Z", "Z", ""]
    ),
)
raw = st.one_of(
    st.binary(max_size=12),
    st.binary(min_size=4, max_size=4),
    st.binary(min_size=8, max_size=8),
    texty.map(lambda t: t.encode("utf-8", "surrogatepass")),
)
leaf = st.one_of(st.none(), st.booleans(), numbers, texty, raw, st.just(NOW))
anything = st.recursive(
    leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texty, inner, max_size=3),
    max_leaves=10,
)
death_entry = st.one_of(
    st.dictionaries(
        st.sampled_from(["count", "reason", "queue", "exchange", "routing-keys", "time", "x"]),
        anything,
        max_size=7,
    ),
    anything,
)
x_death = st.one_of(st.lists(death_entry, max_size=4), anything)
header_names = st.one_of(
    st.sampled_from(
        [
            "x-death",
            "x-first-death-queue",
            "x-first-death-exchange",
            "x-first-death-reason",
            "x-last-death-reason",
            "kafka_dlt-original-topic",
            "kafka_dlt-original-partition",
            "kafka_dlt-original-offset",
            "kafka_dlt-original-consumer-group",
            "kafka_dlt-exception-fqcn",
            "kafka_dlt-exception-cause-fqcn",
            "kafka_dlt-exception-message",
            "__connect.errors.topic",
            "__connect.errors.partition",
            "__connect.errors.offset",
            "__connect.errors.connector.name",
            "__connect.errors.exception.class.name",
            "__connect.errors.exception.message",
            "error",
            "failedAt",
            "retryCount",
            "exception",
            "x-mqctl-redrive-count",
        ]
    ),
    texty,
)
bodies = st.one_of(
    st.none(),
    st.binary(max_size=60),
    st.dictionaries(
        st.sampled_from(["error", "failedAt", "retryCount", "exception", "errorTime", "retries"]),
        anything,
        max_size=4,
    ).map(lambda d: repr(d).replace("'", '"').encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [
            b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            b'{"retryCount": 1e999, "failedAt": -1e400}',
            b'{"retryCount": NaN, "failedAt": Infinity}',
            b'{"failedAt": 1' + b"0" * 30 + b"}",
            b'{"error": {"deep": [[[["x"]]]]}}',
        ]
    ),
)


@st.composite
def dead_letters(draw: st.DrawFn) -> Message:
    headers: list[tuple[str, Any]] = draw(st.lists(st.tuples(header_names, anything), max_size=6))
    if draw(st.booleans()):
        headers.append(("x-death", draw(x_death)))
    return Message(
        backend=draw(st.sampled_from(["kafka", "rabbitmq"])),
        source="orders.dlq",
        value=draw(bodies),
        key=draw(st.none() | raw),
        headers=headers,
        timestamp=draw(st.none() | st.just(NOW)),
        routing_key=draw(st.none() | st.text(any_char, max_size=5)),
        properties=draw(st.dictionaries(st.sampled_from(["message_id", "priority"]), anything)),
    )


@FUZZ
@given(message=dead_letters())
def test_metadata_never_raises(message: Message) -> None:
    for body in (True, False):
        info = parse(message, body=body)
        assert isinstance(info, DeadLetterInfo)
        assert isinstance(info.redrive_count, int)
        for when in (info.first_failure, info.last_failure):
            assert when is None or when.tzinfo is not None
        assert info.source is None or isinstance(info.source, str)
    has_dead_letter_headers(message)


@FUZZ
@given(value=anything)
def test_integer_and_timestamp_never_raise(value: Any) -> None:
    number = integer(value)
    assert number is None or isinstance(number, int)
    when = timestamp(value)
    assert when is None or when.tzinfo is not None


@pytest.mark.parametrize(
    "value",
    [float("inf"), float("-inf"), float("nan"), "--5", "²", "9" * 5000, b"--5", 10**400, 1e308],
    ids=[
        "inf",
        "-inf",
        "nan",
        "double-minus",
        "superscript",
        "5000-digits",
        "bytes",
        "huge",
        "max",
    ],
)
def test_found_numbers_that_crashed(value: Any) -> None:
    """Found by fuzzing: int(inf) OverflowError, int("--5")/int("²") ValueError, the
    4300-digit limit, and a huge int divided into a float (OverflowError)."""
    assert integer(value) is None or isinstance(integer(value), int)
    assert timestamp(value) is None or timestamp(value).tzinfo is not None  # type: ignore[union-attr]


def test_found_wrong_shapes() -> None:
    """x-death that is not a list of tables, Spring ints of odd lengths, deep JSON bodies."""
    cases: list[list[tuple[str, Any]]] = [
        [("x-death", {"count": 1})],
        [("x-death", [1, "x", None, [{}]])],
        [("x-death", [{"count": float("inf"), "time": 10**400, "routing-keys": "rk"}])],
        [("x-death", [{"count": b"\x00\x00\x00", "time": "garbage", "queue": ["q"]}])],
        [("kafka_dlt-original-partition", b"\x00\x00\x00\x01\x02")],
        [("kafka_dlt-original-offset", b"\xff" * 8), ("kafka_dlt-original-topic", b"\xff\x1b")],
        [("__connect.errors.partition", "--5"), ("__connect.errors.offset", "٣")],
        [("retryCount", float("nan")), ("failedAt", float("-inf"))],
    ]
    for headers in cases:
        parse(Message("rabbitmq", "q.dlq", b"{}", headers=headers))
    deep = b'{"error":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert parse(Message("kafka", "t.dlq", deep)).application_error is None
    spring = [("kafka_dlt-original-partition", struct.pack(">i", 3))]
    assert parse(Message("kafka", "t", b"", headers=spring)).source_partition == 3


# --- filter expressions and assignments ------------------------------------------------------

filter_names = st.sampled_from(
    ["reason", "exception", "source", "key", "header:x", "header:", "since", "until", "", "x"]
)
filter_values = st.one_of(
    texty,
    st.sampled_from(
        [
            "99999999999999d",
            "9" * 30 + "w",
            "30m",
            "0001-01-01",
            "9999-12-31T23:59:59-23:59",
            "0001-01-01T00:00:00+23:59",
            "1" + "0" * 30,
        ]
    ),
)
expressions = st.one_of(
    st.tuples(filter_names, filter_values).map(lambda t: f"{t[0]}={t[1]}"),
    st.text(any_char, max_size=20).map(lambda t: "body~" + t),
    st.sampled_from(["body~(", "body~" + "(" * 1000 + ")" * 1000, "body~a{4294967296}"]),
    texty,
)


def _clean(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except MqctlError as exc:
        assert exc.exit_code == ExitCode.USAGE
        assert not re.search(r"[\x00-\x1f\x7f-\x9f]", str(exc)), str(exc)
        return exc


@FUZZ
@given(exprs=st.lists(expressions, max_size=4), message=dead_letters())
def test_filter_expressions(exprs: list[str], message: Message) -> None:
    result = _clean(parse_filters, exprs, NOW)
    if isinstance(result, Filters):
        assert isinstance(_clean(result.matches, message, parse(message)), bool | UsageError)


@FUZZ
@given(items=st.lists(texty, max_size=4))
def test_assignments(items: list[str]) -> None:
    _clean(parse_assignments, items, "--reset-header")


@pytest.mark.parametrize(
    "expr",
    [
        "since=99999999999999d",
        "until=" + "9" * 30 + "w",
        "body~" + "(" * 1000 + ")" * 1000,
        "body~a{4294967296}",
        "body~\ud800",
    ],
    ids=["days", "weeks", "deep-groups", "huge-repeat", "surrogate"],
)
def test_found_filter_expressions_are_exit_2(expr: str) -> None:
    """Found by fuzzing: timedelta overflow, RecursionError/OverflowError from re.compile and
    UnicodeEncodeError for the bytes pattern all escaped as exit 70."""
    with pytest.raises(UsageError, match="--filter"):
        parse_filters([expr], NOW)


def test_found_argv_bytes_in_body_regex() -> None:
    """``--filter $'body~\\xff'`` (not UTF-8 on the command line) matches that byte."""
    filters = parse_filters(["body~\udcff"], NOW)
    assert filters.matches(Message("kafka", "t", b"a\xffb"), DeadLetterInfo())


def test_catastrophic_body_regex_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(filters_mod, "REGEX_TIMEOUT", 0.2)
    filters = parse_filters(["body~(a+)+$"], NOW)
    started = time.monotonic()
    with pytest.raises(UsageError, match="took longer than"):
        filters.matches(Message("kafka", "t", b"a" * 40 + b"!"), DeadLetterInfo())
    assert time.monotonic() - started < 5


@FUZZ
@given(message=dead_letters(), backend=st.sampled_from(["kafka", "rabbitmq"]))
def test_planner_decides_every_message(message: Message, backend: str) -> None:
    options = RedriveOptions(
        filters=parse_filters(["reason=x"], NOW) if message.key else Filters(),
        reset_headers=[("retryCount", "0")],
    )
    decision = Planner(backend, "orders.dlq", options).decide(message)
    assert decision.action in ("move", "skip", "stop")
    if decision.outgoing is not None:
        # The body travels as it is; a null value stays null where the broker has nulls
        # (Kafka) and becomes an empty body where it has none (AMQP).
        value = decision.outgoing.value
        assert value == message.value or (message.value is None and value == b"")
        names = [name for name, _ in decision.outgoing.headers]
        assert not any(n == "x-death" or n.startswith(("kafka_dlt-", "__connect.")) for n in names)


@pytest.mark.parametrize(
    ("expressions", "reason", "taken"),
    [
        (["reason==card declined"], "card declined", True),
        (["reason==card declined"], "card declined twice", False),  # a longer reason
        (["reason==card declined"], "Card declined", False),  # the whole text, as shown
        (["reason=card declined"], "card declined twice", True),  # substring form
        (["reason==a", "reason=zz"], "xzzx", True),  # values of one kind are ORed
        (["reason==a", "exception==E"], "a", False),  # kinds are ANDed (no exception)
    ],
)
def test_exact_reason_filter_takes_only_that_text(
    expressions: list[str], reason: str, taken: bool
) -> None:
    message = Message(backend="kafka", source="d.dlq", value=b"v")
    assert parse_filters(expressions, NOW).matches(message, DeadLetterInfo(reason=reason)) is taken
