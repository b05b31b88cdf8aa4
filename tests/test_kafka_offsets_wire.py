"""The hand-written ListOffsets v3 and Fetch v11 codecs produce and return exactly what
aiokafka's generic schema codec does, for any request and response (property tests; no
broker needed: the real-broker paths are covered by tests/test_lag_kafka.py)."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from aiokafka.protocol.fetch import FetchRequest, FetchRequest_v4, FetchRequest_v11
from aiokafka.protocol.offset import OffsetRequest, OffsetRequest_v1, OffsetRequest_v3
from hypothesis import given, settings
from hypothesis import strategies as st

from mqctl.backends.kafka.offsets_wire import (
    ListOffsetsRequest,
    ListOffsetsRequest_v3,
    TimeLagFetchRequest,
    TimeLagFetchRequest_v11,
    TimeLagFetchResponse_v11,
    decode_fetch_v11,
    decode_list_offsets_v3,
)

int16 = st.integers(-(2**15), 2**15 - 1)
int32 = st.integers(-(2**31), 2**31 - 1)
int64 = st.integers(-(2**63), 2**63 - 1)
names = st.text(max_size=12)
maybe_names = st.one_of(st.none(), names)

list_offsets_response = st.tuples(
    int32,
    st.one_of(
        st.none(),
        st.lists(
            st.tuples(
                maybe_names,
                st.one_of(st.none(), st.lists(st.tuples(int32, int16, int64, int64), max_size=6)),
            ),
            max_size=4,
        ),
    ),
)
fetch_partition = st.tuples(
    int32,
    int16,
    int64,
    int64,
    int64,
    st.one_of(st.none(), st.lists(st.tuples(int64, int64), max_size=3)),
    int32,
    st.one_of(st.none(), st.binary(max_size=40)),
)
fetch_response = st.tuples(
    int32,
    int16,
    int32,
    st.one_of(
        st.none(),
        st.lists(
            st.tuples(maybe_names, st.one_of(st.none(), st.lists(fetch_partition, max_size=5))),
            max_size=4,
        ),
    ),
)
request_topics = st.lists(
    st.tuples(names, st.lists(st.tuples(int32, int64, int32), max_size=6)), max_size=4
)


@settings(max_examples=25, deadline=None)
@given(list_offsets_response)
def test_list_offsets_decoder_matches_the_generic_one(fields: tuple[Any, ...]) -> None:
    raw = ListOffsetsRequest_v3.RESPONSE_TYPE.SCHEMA.encode(fields)
    assert decode_list_offsets_v3(raw) == ListOffsetsRequest_v3.RESPONSE_TYPE.SCHEMA.decode(
        BytesIO(raw)
    )


@settings(max_examples=25, deadline=None)
@given(fetch_response)
def test_fetch_decoder_matches_the_generic_one(fields: tuple[Any, ...]) -> None:
    raw = TimeLagFetchResponse_v11.SCHEMA.encode(fields)
    generic = TimeLagFetchResponse_v11.SCHEMA.decode(BytesIO(raw))
    assert decode_fetch_v11(raw) == generic
    decoded = TimeLagFetchResponse_v11.decode(BytesIO(raw))
    assert decoded.topics == generic[3]


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 1), request_topics)
def test_request_encoders_match_the_generic_ones(
    isolation: int, topics: list[tuple[str, list[tuple[int, int, int]]]]
) -> None:
    offsets = [(t, [(p, ts) for p, ts, _ in parts]) for t, parts in topics]
    fast = ListOffsetsRequest(-1, isolation, offsets).build(ListOffsetsRequest_v3)
    generic = OffsetRequest(-1, isolation, offsets).build(OffsetRequest_v3)
    assert fast.encode() == generic.encode()
    fetch = TimeLagFetchRequest(0, 1, 1 << 20, isolation, topics).build(TimeLagFetchRequest_v11)
    plain = FetchRequest(0, 1, 1 << 20, isolation, topics).build(FetchRequest_v11)
    assert fetch.encode() == plain.encode()


def test_older_versions_are_aiokafkas_own() -> None:
    """A broker without v3 / v11 gets the generic request classes, built the same way."""
    topics = [("t", [(0, 5, 100)])]
    older = TimeLagFetchRequest(0, 1, 100, 0, topics).build(FetchRequest_v4)
    assert type(older) is FetchRequest_v4
    assert older.encode() == FetchRequest(0, 1, 100, 0, topics).build(FetchRequest_v4).encode()
    listed = ListOffsetsRequest(-1, 0, [("t", [(0, -1)])]).build(OffsetRequest_v1)
    assert type(listed) is OffsetRequest_v1


@pytest.mark.parametrize("decode", [decode_list_offsets_v3, decode_fetch_v11])
def test_truncated_response_is_an_error(decode: Any) -> None:
    if decode is decode_fetch_v11:
        parts = [(0, 0, 5, 5, 0, None, -1, b"records")]
        raw = TimeLagFetchResponse_v11.SCHEMA.encode((0, 0, 0, [("t", parts)]))
    else:
        raw = ListOffsetsRequest_v3.RESPONSE_TYPE.SCHEMA.encode((0, [("t", [(0, 0, -1, 5)])]))
    with pytest.raises(ValueError):
        decode(raw[:-3])
