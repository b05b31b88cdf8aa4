"""Redis Streams: `peek -o jsonl` -> `publish --jsonl` into a fresh stream gives entries with
the same fields (bytes exact; an empty value stays an empty value field, a null value stays an
entry without one). Entries are generated (hypothesis) and written raw with XADD first."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import run_cli

names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=6).filter(
    lambda n: n not in ("value", "key")
)
blobs = st.one_of(st.just(b""), st.binary(max_size=24), st.sampled_from([b'{"a": 1}', b"\xff"]))
entries = st.lists(
    st.tuples(
        st.one_of(st.none(), blobs),  # the value field (None: no value field)
        st.one_of(st.none(), blobs),  # the key field
        st.dictionaries(names, blobs, max_size=3),
    ).filter(lambda e: e[0] is not None or e[1] is not None or e[2]),  # XADD needs a field
    min_size=1,
    max_size=5,
)


def _fields(value: bytes | None, key: bytes | None, others: dict[str, bytes]) -> dict[str, bytes]:
    fields = dict(others)
    if value is not None:
        fields["value"] = value
    if key is not None:
        fields["key"] = key
    return fields


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=entries)
def test_peek_jsonl_publish_jsonl_keeps_every_field(
    redis: Any, prefix: str, rows: list[tuple[Any, ...]]
) -> None:
    source, copy = f"{prefix}-src-{uuid.uuid4().hex[:6]}", f"{prefix}-copy-{uuid.uuid4().hex[:6]}"
    for row in rows:
        redis.xadd(source, _fields(*row))
    redis.xadd(copy, {"x": "y"})
    redis.xtrim(copy, maxlen=0)  # an empty stream that exists (publish never creates one)
    peeked = run_cli("peek", source, "--max", "0", "-o", "jsonl")
    assert peeked.exit_code == 0, peeked.output
    published = run_cli("publish", copy, "--jsonl", "-", stdin=peeked.stdout)
    assert published.exit_code == 0, published.output
    original = [fields for _, fields in redis.xrange(source)]
    replayed = [fields for _, fields in redis.xrange(copy)]
    assert replayed == original
    redis.delete(source, copy)
