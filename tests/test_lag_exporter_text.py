"""The exporter writes the text format itself (prometheus-client's writer took 3 s at
150,000 series): every series parses back with prometheus-client's own parser, label values
with quotes, backslashes and newlines included, gzipped for scrapers that ask, and a second
scrape of the same sample serves the same bytes. The real-broker paths are in
tests/test_lag_exporter.py, tests/test_fleet_exporter.py and tests/test_prometheus_scrape.py."""

from __future__ import annotations

import gzip

import httpx
from prometheus_client.parser import text_string_to_metric_families

from mqctl.lag.exporter import Exporter
from mqctl.models.lag import LagEntry, LagStatus, PartitionLag, QueueDepth

ODD = 'odd "group" \\ with\nnewline'


def entries() -> list[LagEntry]:
    partitions = [
        PartitionLag(ODD + "-topic", 0, 5, 0, 9, 4, 12.5, "m-1/client/10.0.0.1", LagStatus.LAGGING),
        PartitionLag("plain", 3, None, 2, 2, 0, None, None, LagStatus.OK),
    ]
    group = LagEntry("kafka", "group", ODD, LagStatus.LAGGING, 4, 12.5, partitions=partitions)
    queue = LagEntry(
        "rabbitmq",
        "queue",
        "orders",
        LagStatus.OK,
        3,
        None,
        queue=QueueDepth("/", "classic", 3, 1, 2, None, None, None, float("inf")),
    )
    down = LagEntry("redis", "backend", "*", LagStatus.UNKNOWN, 0, None, error="refused")
    return [group, queue, down]


def series(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_series_parse_back_with_odd_label_values() -> None:
    exporter = Exporter('ctx "a"', "127.0.0.1:0")
    exporter.collector.backends = ["kafka", "rabbitmq", "redis"]
    exporter.collector.update(entries())
    found = series(exporter.body().decode())
    part = (
        ("client_id", "client"),
        ("cluster_name", 'ctx "a"'),
        ("consumer_id", "m-1"),
        ("group", ODD),
        ("member_host", "10.0.0.1"),
        ("partition", "0"),
        ("topic", ODD + "-topic"),
    )
    assert found[("kafka_consumergroup_group_lag", part)] == 4
    assert found[("kafka_consumergroup_group_offset", part)] == 5
    assert found[("kafka_consumergroup_group_lag_seconds", part)] == 12.5
    tp = (("cluster_name", 'ctx "a"'), ("partition", "3"), ("topic", "plain"))
    assert found[("kafka_partition_earliest_offset", tp)] == 2
    offsets = [labels for name, labels in found if name == "kafka_consumergroup_group_offset"]
    assert offsets == [part]  # no committed offset, no offset series
    queue = (("cluster_name", 'ctx "a"'), ("queue", "orders"), ("vhost", "/"))
    assert found[("mqctl_queue_drain_seconds", queue)] == float("inf")
    up = {k[1]: v for k, v in found.items() if k[0] == "mqctl_lag_backend_up"}
    assert up[(("backend", "redis"), ("cluster_name", 'ctx "a"'))] == 0
    assert up[(("backend", "kafka"), ("cluster_name", 'ctx "a"'))] == 1
    assert found[("mqctl_lag_up", (("cluster_name", 'ctx "a"'),))] == 0  # redis is down


def test_the_same_bytes_until_the_next_sample_and_gzip_over_http() -> None:
    exporter = Exporter("k", "127.0.0.1:0")
    exporter.collector.update(entries())
    exporter.start()
    try:
        url = f"http://127.0.0.1:{exporter.port}/metrics"
        plain = httpx.get(url, headers={"Accept-Encoding": "identity"}, timeout=10)
        zipped = httpx.get(url, headers={"Accept-Encoding": "gzip"}, timeout=10)
        assert plain.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        assert zipped.headers["Content-Encoding"] == "gzip"
        assert zipped.content == plain.content  # httpx decompressed it
        assert exporter.body(gzipped=True) is exporter.body(gzipped=True)
        assert gzip.decompress(exporter.body(gzipped=True)) == plain.content
        exporter.collector.update(entries()[:1])
        after = httpx.get(url, timeout=10).text
    finally:
        exporter.stop()
    assert "orders" in plain.text and "orders" not in after
    # one HELP and TYPE per family
    types = [line for line in after.splitlines() if line.startswith("# TYPE ")]
    assert len(types) == len(set(types))
