"""The hand-written Metadata v5 decoder returns exactly what aiokafka's generic schema codec
returns, for any answer (property test; partitions of one topic with the same and with
different array lengths, null arrays); the request negotiates v5 with the fast decoder and
the older versions with aiokafka's. The real-broker path is every Kafka test (all metadata
goes through it)."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from aiokafka.cluster import ClusterMetadata
from aiokafka.protocol.metadata import MetadataRequest_v4, MetadataResponse_v5
from hypothesis import given, settings
from hypothesis import strategies as st

from mqctl.backends.kafka.metadata_wire import (
    FastMetadataRequest,
    FastMetadataRequest_v5,
    FastMetadataResponse_v5,
    decode_metadata_v5,
)

int16 = st.integers(-(2**15), 2**15 - 1)
int32 = st.integers(-(2**31), 2**31 - 1)
names = st.text(max_size=10)
maybe_names = st.one_of(st.none(), names)
node_ids = st.lists(st.integers(-1, 4), max_size=4)
maybe_ids = st.one_of(st.none(), node_ids)
partition = st.tuples(int16, int32, int32, maybe_ids, maybe_ids, maybe_ids)
# most topics' partitions share one shape: the decoder's fast path
uniform = st.tuples(node_ids, node_ids, node_ids, st.integers(0, 6)).map(
    lambda s: [(0, i, s[0][0] if s[0] else -1, s[0], s[1], s[2]) for i in range(s[3])]
)
partitions = st.one_of(st.none(), st.lists(partition, max_size=6), uniform)
metadata_response = st.tuples(
    int32,
    st.one_of(st.none(), st.lists(st.tuples(int32, names, int32, maybe_names), max_size=3)),
    maybe_names,
    int32,
    st.one_of(
        st.none(), st.lists(st.tuples(int16, maybe_names, st.booleans(), partitions), max_size=4)
    ),
)


@settings(max_examples=200, deadline=None)
@given(metadata_response)
def test_metadata_decoder_matches_the_generic_one(fields: tuple[Any, ...]) -> None:
    raw = MetadataResponse_v5.SCHEMA.encode(fields)
    assert decode_metadata_v5(raw) == tuple(MetadataResponse_v5.SCHEMA.decode(BytesIO(raw)))


@settings(max_examples=25, deadline=None)
@given(metadata_response)
def test_truncated_answers_are_errors_not_wrong_metadata(fields: tuple[Any, ...]) -> None:
    raw = MetadataResponse_v5.SCHEMA.encode(fields)
    for cut in {1, len(raw) // 2, len(raw) - 1} - {0}:
        try:
            decode_metadata_v5(raw[:cut])
        except ValueError:
            continue
        raise AssertionError(f"a truncated answer ({cut} of {len(raw)} bytes) decoded")


def test_cluster_metadata_built_from_it_is_aiokafkas() -> None:
    fields = (
        0,
        [(1, "127.0.0.1", 29092, None), (2, "127.0.0.1", 29093, "r2")],
        "cluster",
        1,
        [
            (0, "orders", False, [(0, p, 1 + p % 2, [1, 2], [1, 2], []) for p in range(5)]),
            (0, "__consumer_offsets", True, [(0, 0, -1, [2], [], [2])]),
        ],
    )
    raw = MetadataResponse_v5.SCHEMA.encode(fields)
    ours, theirs = ClusterMetadata(), ClusterMetadata()
    ours.update_metadata(FastMetadataResponse_v5.decode(BytesIO(raw)))
    theirs.update_metadata(MetadataResponse_v5.decode(BytesIO(raw)))
    assert ours.brokers() == theirs.brokers() and ours.controller == theirs.controller
    assert ours.topics(exclude_internal_topics=False) == theirs.topics(
        exclude_internal_topics=False
    )
    assert ours._partitions == theirs._partitions


def test_request_negotiates_the_fast_decoder_at_v5_only() -> None:
    assert isinstance(FastMetadataRequest(None).prepare({3: (0, 12)}), FastMetadataRequest_v5)
    older = FastMetadataRequest(None).prepare({3: (0, 4)})
    assert type(older) is MetadataRequest_v4 and older.topics is None
