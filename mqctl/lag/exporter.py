"""Prometheus exporter for ``mqctl lag --serve``: the figures of the last sample as metrics.

Names follow kafka-lag-exporter where they mean the same thing (dashboards and alerts built
for it keep working); figures it does not have are ``mqctl_*``. Metrics are produced from the
latest sample at scrape time (a custom collector), so groups that disappear vanish at once.
"""

from __future__ import annotations

import gzip
import math
import threading
from collections.abc import Iterator
from typing import Any

from mqctl.errors import UsageError
from mqctl.models.lag import LagEntry

GZIP_LEVEL = 1  # 25 MB of series at 10,000 partitions x 3 groups: level 1 keeps it fast
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
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


def _label(value: str) -> str:
    """A label value escaped for the text format (backslash, double quote, newline)."""
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", r"\\").replace('"', r"\"").replace("\n", r"\n")
    return value


def _number(value: float) -> str:
    number = float(value)
    if number != number:
        return "NaN"
    if number in (math.inf, -math.inf):
        return "+Inf" if number > 0 else "-Inf"
    return repr(number)


# Every family of a lag sample, in output order: name, help, label names.
_PARTITION = tuple(PARTITION_LABELS)
_GROUP = ("cluster_name", "group")
_TP = ("cluster_name", "topic", "partition")
_QUEUE = ("cluster_name", "vhost", "queue")
FAMILIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("kafka_consumergroup_group_offset", "Committed offset", _PARTITION),
    ("kafka_consumergroup_group_lag", "Lag in messages", _PARTITION),
    (
        "kafka_consumergroup_group_lag_seconds",
        "Seconds since the first unconsumed record was produced",
        _PARTITION,
    ),
    (
        "mqctl_consumergroup_group_estimated_lag_seconds",
        "Time lag interpolated from sampled end offsets (kafka-lag-exporter's method)",
        _PARTITION,
    ),
    ("kafka_consumergroup_group_max_lag", "Max partition lag", _GROUP),
    ("kafka_consumergroup_group_max_lag_seconds", "Max partition time lag", _GROUP),
    ("kafka_consumergroup_group_sum_lag", "Total lag of the group", _GROUP),
    ("kafka_partition_latest_offset", "End offset", _TP),
    ("kafka_partition_earliest_offset", "Log start offset", _TP),
    (
        "mqctl_lag_status",
        "1 for the current status of each group or queue (docs/lag.md)",
        ("cluster_name", "backend", "kind", "group", "status"),
    ),
    (
        "mqctl_lag_status_severity",
        "0 OK, 1 WARN/LAGGING, 2 STALL/REWIND, 3 STOP/STOPPED/UNKNOWN, 4 ERROR/DATA_LOSS",
        ("cluster_name", "backend", "kind", "group"),
    ),
    (
        "mqctl_partition_status",
        "1 for the current status of each partition",
        ("cluster_name", "group", "topic", "partition", "status"),
    ),
    ("mqctl_queue_messages_ready", "Messages ready", _QUEUE),
    ("mqctl_queue_messages_unacked", "Messages unacknowledged", _QUEUE),
    ("mqctl_queue_consumers", "Consumers", _QUEUE),
    ("mqctl_queue_drain_seconds", "Estimated seconds to drain", _QUEUE),
    ("mqctl_lag_up", "1 when the last sample reached every broker", ("cluster_name",)),
    (
        "mqctl_lag_backend_up",
        "1 when the last sample reached this broker (its rows are current)",
        ("cluster_name", "backend"),
    ),
)

# (name, help, type, sample lines): one family's part of the exposition
TextFamily = tuple[str, str, str, str]


class LagCollector:
    """The latest entries as metric families in the Prometheus text format.

    A scrape used to rebuild every series through prometheus-client's objects: at 10,000
    partitions x 3 groups (150,000 series, 25 MB of text) that took 3 s, longer than a
    Prometheus scrape interval allows (docs/benchmarks.md, "Lag at scale"). The text is now
    written directly, once per sample (the series only change when a sample arrives), and
    every scrape until the next sample serves it as it is."""

    def __init__(self, cluster: str) -> None:
        self.cluster = cluster
        self._entries: list[LagEntry] = []
        self._lock = threading.Lock()
        self.samples = 0
        self.last_error: str | None = None
        self.backends: list[str] = []  # every broker sampled: each gets an `up` series
        self._version = 0  # bumped whenever what the series show changes
        self._rendered: tuple[Any, list[TextFamily]] | None = None

    def update(self, entries: list[LagEntry]) -> None:
        with self._lock:
            self._entries = list(entries)
            self.samples += 1
            self._version += 1
            # a broker that could not be sampled is an UNKNOWN row of kind "backend"
            down = [e.error or "unreachable" for e in entries if e.kind == "backend"]
            self.last_error = down[0] if down else None

    def failed(self, message: str) -> None:
        with self._lock:
            self.last_error = message
            self._version += 1

    def keyed_exposition(self) -> tuple[Any, list[TextFamily]]:
        """Every family of the latest sample, rendered once per sample, with a key that
        changes whenever they do."""
        with self._lock:
            key = (self._version, self.cluster, tuple(self.backends))
            if self._rendered is None or self._rendered[0] != key:
                self._rendered = None  # the old text's memory before the new one's
                self._rendered = (key, self._render(self._entries, self.last_error))
            return self._rendered

    def exposition(self) -> list[TextFamily]:
        return self.keyed_exposition()[1]

    def collect(self) -> Iterator[Any]:
        """The same families as prometheus-client objects, for a prometheus-client registry
        (the servers here write :meth:`exposition` directly)."""
        from prometheus_client.parser import text_string_to_metric_families

        text = "".join(
            f"# HELP {n} {h}\n# TYPE {n} {t}\n{lines}" for n, h, t, lines in self.exposition()
        )
        yield from text_string_to_metric_families(text)

    def _render(self, entries: list[LagEntry], error: str | None) -> list[TextFamily]:
        out: list[list[str]] = [[] for _ in FAMILIES]
        (offset, lag, lag_s, est_s, max_lag, max_lag_s, sum_lag, latest, earliest) = out[:9]
        (status, severity, p_status, q_ready, q_unacked, q_consumers, q_drain) = out[9:16]
        up, backend_up = out[16:]
        c = _label(self.cluster)
        seen_tp: set[tuple[str, int]] = set()
        down = {e.backend for e in entries if e.kind == "backend"}
        for e in entries:
            group = _label(e.group)
            head = f'{{cluster_name="{c}",backend="{_label(e.backend)}",kind="{e.kind}"'
            status.append(f'{head},group="{group}",status="{e.status.value}"}} 1.0\n')
            severity.append(f'{head},group="{group}"}} {float(e.status.severity)!r}\n')
            if e.kind == "backend":  # its figures are not known: only its UNKNOWN status
                continue
            if e.kind == "queue" and e.queue is not None:
                q = f'{{cluster_name="{c}",vhost="{_label(e.queue.vhost)}",queue="{group}"}} '
                q_ready.append(f"{q}{_number(e.queue.ready)}\n")
                q_unacked.append(f"{q}{_number(e.queue.unacked)}\n")
                q_consumers.append(f"{q}{_number(e.queue.consumers)}\n")
                if e.queue.drain_seconds is not None:
                    q_drain.append(f"{q}{_number(e.queue.drain_seconds)}\n")
                continue
            g = f'{{cluster_name="{c}",group="{group}"}} '
            max_lag.append(f"{g}{_number(max((p.lag for p in e.partitions), default=0))}\n")
            sum_lag.append(f"{g}{_number(e.total_lag)}\n")
            if e.max_time_lag_seconds is not None or not e.total_lag:
                max_lag_s.append(f"{g}{_number(e.max_time_lag_seconds or 0.0)}\n")
            owners: dict[str | None, str] = {}
            topics: dict[str, str] = {}
            for p in e.partitions:
                # the hot loop at scale: one label string per partition, shared by its series
                topic = topics.get(p.topic)
                if topic is None:
                    topic = topics[p.topic] = _label(p.topic)
                owner = owners.get(p.owner)
                if owner is None:
                    host, member, client = _owner_labels(p.owner)
                    owner = owners[p.owner] = (
                        f'member_host="{_label(host)}",consumer_id="{_label(member)}",'
                        f'client_id="{_label(client)}"'
                    )
                where = f'cluster_name="{c}",group="{group}",topic="{topic}"'
                labels = f'{{{where},partition="{p.partition}",{owner}}} '
                if p.committed_offset is not None:
                    offset.append(f"{labels}{float(p.committed_offset)!r}\n")
                lag.append(f"{labels}{float(p.lag)!r}\n")
                lag_s.append(f"{labels}{float(p.time_lag_seconds or 0.0)!r}\n")
                if p.estimated_time_lag_seconds is not None or not p.lag:
                    est_s.append(f"{labels}{float(p.estimated_time_lag_seconds or 0.0)!r}\n")
                p_status.append(
                    f'{{{where},partition="{p.partition}",status="{p.status.value}"}} 1.0\n'
                )
                if (p.topic, p.partition) not in seen_tp:
                    seen_tp.add((p.topic, p.partition))
                    tp = f'{{cluster_name="{c}",topic="{topic}",partition="{p.partition}"}} '
                    latest.append(f"{tp}{float(p.end_offset)!r}\n")
                    earliest.append(f"{tp}{float(p.log_start_offset)!r}\n")
        up.append(f'{{cluster_name="{c}"}} {0.0 if error else 1.0}\n')
        for name in sorted(set(self.backends) | down | {e.backend for e in entries}):
            answered = not (name in down or (error and not entries))
            backend_up.append(
                f'{{cluster_name="{c}",backend="{_label(name)}"}} {float(answered)}\n'
            )
        families = []
        for (name, doc, _labels_of), lines in zip(FAMILIES, out, strict=True):
            families.append((name, doc, "gauge", "".join(f"{name}{line}" for line in lines)))
            lines.clear()  # the joined text replaces them: half the peak memory at scale
        return families


def _families_of(collector: Any) -> tuple[Any, list[TextFamily]]:
    """A collector's families as text and what identifies them: its own
    ``keyed_exposition`` when it has one, else its prometheus-client families through
    prometheus-client's writer (small collectors; the text is the key)."""
    if hasattr(collector, "keyed_exposition"):
        key, families = collector.keyed_exposition()
        return (id(collector), key), families
    from prometheus_client.exposition import generate_latest

    families = []
    for family in collector.collect():

        class _One:
            def collect(self, family: Any = family) -> Iterator[Any]:
                yield family

        text = generate_latest(_One()).decode("utf-8")
        help_line, type_line, samples = text.split("\n", 2)
        name, _, doc = help_line.removeprefix("# HELP ").partition(" ")
        families.append((name, doc, type_line.rpartition(" ")[2], samples))
    return tuple(families), families


def render(parts: list[list[TextFamily]]) -> str:
    """The text format of several collectors' families, one HELP/TYPE per family name (as
    the format requires; the samples of every collector under it). Help texts are
    pre-escaped."""
    merged: dict[str, tuple[str, str, list[str]]] = {}
    for families in parts:
        for name, doc, kind, lines in families:
            known = merged.get(name)
            if known is None:
                merged[name] = (doc, kind, [lines])
            else:
                known[2].append(lines)
    return "".join(
        f"# HELP {name} {doc}\n# TYPE {name} {kind}\n{''.join(chunks)}"
        for name, (doc, kind, chunks) in merged.items()
    )


class MetricsServer:
    """An HTTP server (its own thread) serving the text format of what ``_collector``
    returns (a collector, or an object whose ``collectors`` are each one); ``port`` 0 picks
    a free port, read back after ``start``. The body of the latest samples is kept, gzipped
    once for the scrapers that accept it (Prometheus does)."""

    def __init__(self, address: str) -> None:
        self.host, self.port = parse_listen(address)
        self._server: Any = None
        self._body_lock = threading.Lock()
        self._body: tuple[Any, bytes, bytes | None] | None = None

    def _collector(self) -> Any:
        raise NotImplementedError

    def body(self, gzipped: bool = False) -> bytes:
        """The exposition of the latest samples (the same bytes until something changed)."""
        root = self._collector()
        parts = [_families_of(c) for c in getattr(root, "collectors", [root])]
        key = tuple(k for k, _families in parts)
        with self._body_lock:
            if self._body is None or self._body[0] != key:
                self._body = None  # the old body's memory before the new one's
                text = render([families for _key, families in parts])
                self._body = (key, text.encode("utf-8"), None)
            if not gzipped:
                return self._body[1]
            zipped = self._body[2]
            if zipped is None:
                zipped = gzip.compress(self._body[1], GZIP_LEVEL)
                self._body = (key, self._body[1], zipped)
            return zipped

    def start(self) -> None:
        from http.server import ThreadingHTTPServer

        try:
            self._server = ThreadingHTTPServer((self.host, self.port), _handler(self))
        except OSError as exc:
            raise UsageError(
                f"cannot listen on {self.host}:{self.port}: {exc.strerror or exc}"
            ) from None
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _handler(server: MetricsServer) -> Any:
    from http.server import BaseHTTPRequestHandler

    class MetricsHandler(BaseHTTPRequestHandler):
        """Every path answers the metrics, as prometheus-client's server did."""

        def do_GET(self) -> None:
            gzipped = "gzip" in self.headers.get("Accept-Encoding", "")
            body = server.body(gzipped)
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE)
            if gzipped:
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: a scrape every few seconds is not news."""

    return MetricsHandler


class Exporter(MetricsServer):
    """``mqctl lag --serve``: one :class:`LagCollector`."""

    def __init__(self, cluster: str, address: str) -> None:
        super().__init__(address)
        self.collector = LagCollector(cluster)

    def _collector(self) -> LagCollector:
        return self.collector
