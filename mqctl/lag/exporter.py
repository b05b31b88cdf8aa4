"""Prometheus exporter for ``mqctl lag --serve``: the figures of the last sample as metrics.

Names follow kafka-lag-exporter where they mean the same thing (dashboards and alerts built
for it keep working); figures it does not have are ``mqctl_*``. Metrics are produced from the
latest sample at scrape time (a custom collector), so groups that disappear vanish at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from mqctl.errors import UsageError
from mqctl.models.lag import LagEntry

PARTITION_LABELS = [
    "cluster_name",
    "group",
    "topic",
    "partition",
    "member_host",
    "consumer_id",
    "client_id",
]


def parse_listen(address: str) -> tuple[str, int]:
    """``127.0.0.1:9308``, ``[::1]:9308`` or ``:9308`` (loopback) -> (host, port)."""
    host, sep, port_text = address.rpartition(":")
    if not sep:
        raise UsageError(f"invalid --serve address {address!r}", hint="use HOST:PORT")
    host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port_text)
    except ValueError:
        raise UsageError(f"invalid port in --serve address {address!r}") from None
    if not 0 <= port <= 65535:
        raise UsageError(f"invalid port in --serve address {address!r}")
    return host, port


def _owner_labels(owner: str | None) -> tuple[str, str, str]:
    """(member_host, consumer_id, client_id) from "member/client/host"."""
    if not owner:
        return "", "", ""
    member, _, rest = owner.partition("/")
    client, _, host = rest.partition("/")
    return host, member, client


class LagCollector:
    """Turns the latest entries into metric families whenever Prometheus scrapes."""

    def __init__(self, cluster: str) -> None:
        self.cluster = cluster
        self._entries: list[LagEntry] = []
        self._lock = threading.Lock()
        self.samples = 0
        self.last_error: str | None = None
        self.backends: list[str] = []  # every broker sampled: each gets an `up` series

    def update(self, entries: list[LagEntry]) -> None:
        with self._lock:
            self._entries = list(entries)
            self.samples += 1
            # a broker that could not be sampled is an UNKNOWN row of kind "backend"
            down = [e.error or "unreachable" for e in entries if e.kind == "backend"]
            self.last_error = down[0] if down else None

    def failed(self, message: str) -> None:
        with self._lock:
            self.last_error = message

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        with self._lock:
            entries = list(self._entries)
            error = self.last_error
        c = self.cluster

        def gauge(name: str, doc: str, labels: list[str]) -> Any:
            return GaugeMetricFamily(name, doc, labels=labels)

        offset = gauge("kafka_consumergroup_group_offset", "Committed offset", PARTITION_LABELS)
        lag = gauge("kafka_consumergroup_group_lag", "Lag in messages", PARTITION_LABELS)
        lag_s = gauge(
            "kafka_consumergroup_group_lag_seconds",
            "Seconds since the first unconsumed record was produced",
            PARTITION_LABELS,
        )
        est_s = gauge(
            "mqctl_consumergroup_group_estimated_lag_seconds",
            "Time lag interpolated from sampled end offsets (kafka-lag-exporter's method)",
            PARTITION_LABELS,
        )
        g_labels = ["cluster_name", "group"]
        max_lag = gauge("kafka_consumergroup_group_max_lag", "Max partition lag", g_labels)
        max_lag_s = gauge(
            "kafka_consumergroup_group_max_lag_seconds", "Max partition time lag", g_labels
        )
        sum_lag = gauge("kafka_consumergroup_group_sum_lag", "Total lag of the group", g_labels)
        tp_labels = ["cluster_name", "topic", "partition"]
        latest = gauge("kafka_partition_latest_offset", "End offset", tp_labels)
        earliest = gauge("kafka_partition_earliest_offset", "Log start offset", tp_labels)
        status = gauge(
            "mqctl_lag_status",
            "1 for the current status of each group or queue (docs/lag.md)",
            ["cluster_name", "backend", "kind", "group", "status"],
        )
        severity = gauge(
            "mqctl_lag_status_severity",
            "0 OK, 1 WARN/LAGGING, 2 STALL/REWIND, 3 STOP/STOPPED/UNKNOWN, 4 ERROR/DATA_LOSS",
            ["cluster_name", "backend", "kind", "group"],
        )
        p_status = gauge(
            "mqctl_partition_status",
            "1 for the current status of each partition",
            ["cluster_name", "group", "topic", "partition", "status"],
        )
        q_labels = ["cluster_name", "vhost", "queue"]
        q_ready = gauge("mqctl_queue_messages_ready", "Messages ready", q_labels)
        q_unacked = gauge("mqctl_queue_messages_unacked", "Messages unacknowledged", q_labels)
        q_consumers = gauge("mqctl_queue_consumers", "Consumers", q_labels)
        q_drain = gauge("mqctl_queue_drain_seconds", "Estimated seconds to drain", q_labels)
        seen_tp: set[tuple[str, int]] = set()
        down = {e.backend for e in entries if e.kind == "backend"}
        for e in entries:
            if e.kind == "backend":  # its figures are not known: only its UNKNOWN status
                status.add_metric([c, e.backend, e.kind, e.group, e.status.value], 1)
                severity.add_metric([c, e.backend, e.kind, e.group], e.status.severity)
                continue
            status.add_metric([c, e.backend, e.kind, e.group, e.status.value], 1)
            severity.add_metric([c, e.backend, e.kind, e.group], e.status.severity)
            if e.kind == "queue" and e.queue is not None:
                q = [c, e.queue.vhost, e.group]
                q_ready.add_metric(q, e.queue.ready)
                q_unacked.add_metric(q, e.queue.unacked)
                q_consumers.add_metric(q, e.queue.consumers)
                if e.queue.drain_seconds is not None:
                    q_drain.add_metric(q, e.queue.drain_seconds)
                continue
            max_lag.add_metric([c, e.group], max((p.lag for p in e.partitions), default=0))
            sum_lag.add_metric([c, e.group], e.total_lag)
            if e.max_time_lag_seconds is not None or not e.total_lag:
                max_lag_s.add_metric([c, e.group], e.max_time_lag_seconds or 0.0)
            for p in e.partitions:
                labels = [c, e.group, p.topic, str(p.partition), *_owner_labels(p.owner)]
                if p.committed_offset is not None:
                    offset.add_metric(labels, p.committed_offset)
                lag.add_metric(labels, p.lag)
                lag_s.add_metric(labels, p.time_lag_seconds or 0.0)
                if p.estimated_time_lag_seconds is not None or not p.lag:
                    est_s.add_metric(labels, p.estimated_time_lag_seconds or 0.0)
                p_status.add_metric([c, e.group, p.topic, str(p.partition), p.status.value], 1)
                if (p.topic, p.partition) not in seen_tp:
                    seen_tp.add((p.topic, p.partition))
                    tp = [c, p.topic, str(p.partition)]
                    latest.add_metric(tp, p.end_offset)
                    earliest.add_metric(tp, p.log_start_offset)
        up = gauge("mqctl_lag_up", "1 when the last sample reached every broker", ["cluster_name"])
        up.add_metric([c], 0 if error else 1)
        backend_up = gauge(
            "mqctl_lag_backend_up",
            "1 when the last sample reached this broker (its rows are current)",
            ["cluster_name", "backend"],
        )
        for name in sorted(set(self.backends) | down | {e.backend for e in entries}):
            backend_up.add_metric([c, name], 0 if name in down or (error and not entries) else 1)
        yield from (offset, lag, lag_s, est_s, max_lag, max_lag_s, sum_lag, latest, earliest)
        yield from (status, severity, p_status, q_ready, q_unacked, q_consumers, q_drain, up)
        yield backend_up


class MetricsServer:
    """An HTTP server (prometheus-client, its own thread) serving what ``_collector``
    returns; ``port`` 0 picks a free port, read back after ``start``."""

    def __init__(self, address: str) -> None:
        self.host, self.port = parse_listen(address)
        self._server: Any = None

    def _collector(self) -> Any:
        raise NotImplementedError

    def start(self) -> None:
        from prometheus_client import CollectorRegistry, start_http_server

        registry = CollectorRegistry(auto_describe=False)
        registry.register(self._collector())
        try:
            self._server, _thread = start_http_server(self.port, self.host, registry=registry)
        except OSError as exc:
            raise UsageError(
                f"cannot listen on {self.host}:{self.port}: {exc.strerror or exc}"
            ) from None
        self.port = int(self._server.server_address[1])

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class Exporter(MetricsServer):
    """``mqctl lag --serve``: one :class:`LagCollector`."""

    def __init__(self, cluster: str, address: str) -> None:
        super().__init__(address)
        self.collector = LagCollector(cluster)

    def _collector(self) -> LagCollector:
        return self.collector
