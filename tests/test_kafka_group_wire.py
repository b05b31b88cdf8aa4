"""The hand-written OffsetFetch v8 decoder returns exactly what aiokafka's generic schema
decoder returns, for any response (property test; no broker needed)."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mqctl.backends.kafka.group_protocol import OffsetFetchResponse_v8
from mqctl.backends.kafka.group_wire import decode_offset_fetch_v8

names = st.one_of(st.none(), st.text(max_size=12))
partition = st.tuples(
    st.integers(-(2**31), 2**31 - 1),
    st.integers(-(2**63), 2**63 - 1),
    st.integers(-(2**31), 2**31 - 1),
    names,
    st.integers(-(2**15), 2**15 - 1),
    st.just({}),
)
topic = st.tuples(names, st.one_of(st.none(), st.lists(partition, max_size=6)), st.just({}))
group = st.tuples(
    names,
    st.one_of(st.none(), st.lists(topic, max_size=4)),
    st.integers(-(2**15), 2**15 - 1),
    st.just({}),
)
response = st.tuples(
    st.integers(-(2**31), 2**31 - 1), st.one_of(st.none(), st.lists(group, max_size=5))
)


def generic(raw: bytes) -> tuple[Any, ...]:
    return OffsetFetchResponse_v8.SCHEMA.decode(BytesIO(raw))


@settings(max_examples=25, deadline=None)
@given(response)
def test_fast_decoder_matches_the_generic_one(fields: tuple[int, Any]) -> None:
    throttle, groups = fields
    raw = OffsetFetchResponse_v8.SCHEMA.encode((throttle, groups, {}))
    assert decode_offset_fetch_v8(raw) == generic(raw)
    decoded = OffsetFetchResponse_v8.decode(BytesIO(raw))
    assert (decoded.throttle_time_ms, decoded.groups) == (throttle, generic(raw)[1])


def test_tagged_fields_and_large_varints() -> None:
    """A tag on every partition (3 bytes) and 200 partitions (a two-byte varint count)."""
    part = (7).to_bytes(4, "big") + (42).to_bytes(8, "big") + b"\xff\xff\xff\xff"
    part += b"\x01" + b"\x00\x00" + b"\x01" + b"\x01\x03abc"  # "", error 0, tag 1 = abc
    topic = b"\x02t" + b"\xc9\x01" + part * 200 + b"\x00"  # 201 = 200 entries + 1
    group = b"\x02g" + b"\x02" + topic + b"\x00\x00" + b"\x00"
    raw = b"\x00\x00\x00\x05" + b"\x02" + group + b"\x00"
    decoded = decode_offset_fetch_v8(raw)
    assert decoded == generic(raw)
    partitions = decoded[1][0][1][0][1]  # type: ignore[index]
    assert len(partitions) == 200 and partitions[0] == (7, 42, -1, "", 0, {1: b"abc"})


def test_truncated_response_is_an_error() -> None:
    groups = [("g", [("t", [(0, 5, -1, "", 0, {})], {})], 0, {})]
    raw = OffsetFetchResponse_v8.SCHEMA.encode((0, groups, {}))
    with pytest.raises(ValueError):
        decode_offset_fetch_v8(raw[:-9])
