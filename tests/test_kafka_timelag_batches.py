"""Time lag reads the timestamp of the first record at or after a committed offset out of
fetched record batches: exact inside a batch, across gaps (offsets removed by compaction),
compressed or not (property tests on batches built by aiokafka's own builder; the real
broker paths are in tests/test_lag_kafka.py)."""

from __future__ import annotations

import struct

from aiokafka.record.default_records import DefaultRecordBatchBuilder
from hypothesis import given, settings
from hypothesis import strategies as st

from mqctl.backends.kafka.group_timelag import timestamp_at, timestamps_at

NONE, GZIP = 0, 1
BASE_TS = 1_700_000_000_000


def batch(base_offset: int, records: list[tuple[int, int, bytes]], codec: int = NONE) -> bytes:
    """A v2 record batch of (offset delta, timestamp, value) records; deltas may skip
    offsets, as a compacted batch does."""
    builder = DefaultRecordBatchBuilder(2, codec, 0, -1, -1, -1, 1 << 20)
    for delta, ts, value in records:
        builder.append(delta, ts, None, value, [])
    raw = bytearray(builder.build())
    struct.pack_into(">q", raw, 0, base_offset)  # not covered by the CRC
    return bytes(raw)


def expected(base: int, records: list[tuple[int, int, bytes]], wanted: list[int]) -> dict:
    found = {}
    for w in wanted:
        later = [ts for delta, ts, _ in records if base + delta >= w]
        if later:
            found[w] = later[0]
    return found


records_st = st.lists(
    st.tuples(st.integers(1, 3), st.integers(0, 10**6), st.binary(max_size=300)),
    min_size=1,
    max_size=12,
)


@settings(max_examples=25, deadline=None)
@given(records_st, st.sampled_from([NONE, GZIP]), st.data())
def test_first_record_at_or_after_each_offset(
    steps: list[tuple[int, int, bytes]], codec: int, data: st.DataObject
) -> None:
    delta, records = -1, []
    for gap, ts, value in steps:
        delta += gap  # a gap of more than 1: offsets removed by compaction
        records.append((delta, BASE_TS + ts, value))
    base = 40
    last = base + records[-1][0]
    wanted = sorted(set(data.draw(st.lists(st.integers(base - 3, last), min_size=1, max_size=4))))
    raw = batch(base, records, codec)
    assert timestamps_at(raw, wanted) == expected(base, records, wanted)


def test_offset_in_the_middle_of_a_batch() -> None:
    records = [(d, BASE_TS + 1000 * d, b"v%d" % d) for d in range(10)]
    raw = batch(100, records)
    assert timestamps_at(raw, [100, 103, 109]) == {
        100: BASE_TS,
        103: BASE_TS + 3000,
        109: BASE_TS + 9000,
    }


def test_offset_removed_at_the_end_of_a_batch_is_answered_by_the_next() -> None:
    """Compaction removed the last records of the first batch (its last offset delta still
    says 4): offset 3 belongs to the first batch's range, but its first record at or after
    3 is the second batch's first one."""
    first = bytearray(batch(0, [(0, BASE_TS, b"a"), (1, BASE_TS + 10, b"b")]))
    struct.pack_into(">i", first, 23, 4)  # last offset delta: offsets 2-4 compacted away
    second = batch(5, [(0, BASE_TS + 500, b"c")])
    assert timestamps_at(bytes(first) + second, [1, 3]) == {1: BASE_TS + 10, 3: BASE_TS + 500}
    # with only the first batch fetched, offset 3 is left to ask again
    assert timestamps_at(bytes(first), [1, 3]) == {1: BASE_TS + 10}


def test_cut_batch_falls_back_to_its_header() -> None:
    """A batch cut at the fetch size limit: only the header's first timestamp is known."""
    raw = batch(0, [(d, BASE_TS + d, b"x" * 50) for d in range(5)])
    assert timestamps_at(raw[:80], [2]) == {2: BASE_TS}


@settings(max_examples=150, deadline=None)
@given(
    records_st,
    st.sampled_from([NONE, GZIP]),
    st.integers(0, 3),
    st.integers(0, 20),
    st.integers(-(10**7), 10**7),
    st.data(),
)
def test_one_offset_reads_as_the_general_reader(
    steps: list[tuple[int, int, bytes]],
    codec: int,
    first_gap: int,
    cut: int,
    spread: int,
    data: st.DataObject,
) -> None:
    """timestamp_at (one wanted offset, inline fast path) answers exactly what timestamps_at
    answers: first record removed by compaction, large timestamp deltas (multi-byte varints),
    compressed, cut batches, and a second batch after the first."""
    delta, records = first_gap - 1, []
    for gap, ts, value in steps:
        delta += gap
        records.append((delta, BASE_TS + ts * spread // 10**6, value))
    base = 40
    raw = batch(base, records, codec) + batch(base + delta + 1, [(0, BASE_TS, b"next")])
    raw = raw[: len(raw) - cut] if cut else raw
    wanted = data.draw(st.integers(base - 2, base + delta + 2))
    assert timestamp_at(raw, wanted) == timestamps_at(raw, [wanted]).get(wanted)
