"""What ``publish`` sends: a VALUE, stdin lines (``-``), a file's bytes (``--file``) or JSON
lines (``--jsonl``), repeated with ``--count`` and expanded with ``--template``.

Inputs other than stdin lines are read and validated before the first message is sent, so a
bad line is an exit-2 error with nothing published. ``--jsonl`` accepts what
``mqctl peek -o jsonl`` writes (``value_format``/``key_format`` base64 or hex and
``{"base64": ...}`` header values are turned back into bytes), so peek -> publish round-trips.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from mqctl.errors import UsageError
from mqctl.messages.jsonl_input import (
    check_text,
    check_tree,
    decode_field,
    headers_field,
    partition_field,
    timestamp_field,
    value_field,
)
from mqctl.messages.stdin_lines import StdinLines, threaded_chunks
from mqctl.messages.templates import Template, compile_template
from mqctl.models.messages import HeaderValue, OutgoingMessage
from mqctl.output.sanitize import safe_text


@dataclass(slots=True)
class Draft:
    """One input message before templating: text parts stay ``str`` so they can be expanded."""

    value: bytes | str | None  # None: no value (a Kafka tombstone), not an empty one
    key: bytes | str | None = None
    headers: list[tuple[str, HeaderValue]] = field(default_factory=list)
    partition: int | None = None
    routing_key: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    timestamp: datetime | None = None


@dataclass(slots=True)
class SourceSpec:
    """The publish flags that decide what is sent."""

    value: str | None = None  # "-" = stdin, one message per line
    file: str | None = None  # the whole file is one value ("-" = all of stdin)
    jsonl: str | None = None  # one message per JSON line ("-" = stdin)
    key: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    partition: int | None = None
    routing_key: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    count: int | None = None
    template: bool = False
    keep_timestamps: bool = False  # --jsonl: send each line's timestamp (Kafka CreateTime)
    keep_partitions: bool = True  # --jsonl: send each line to its partition


def _to_bytes(value: bytes | str) -> bytes:
    # Command-line bytes that are not UTF-8 arrive as surrogate escapes: send them as given.
    if isinstance(value, bytes):
        return value
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # other lone surrogates (not from argv): never crash a send
        return value.encode("utf-8", "surrogatepass")


def _open(path: str, stdin: IO[bytes] | None) -> IO[bytes]:
    if path == "-":
        if stdin is None:
            raise UsageError("stdin is not available")
        return stdin
    try:
        return Path(path).expanduser().open("rb")
    except FileNotFoundError:
        raise UsageError(f"file not found: {safe_text(path)}") from None
    except OSError as exc:
        raise UsageError(f"cannot read {safe_text(path)}: {exc.strerror or exc}") from None


def _read_all(path: str, stdin: IO[bytes] | None) -> bytes:
    stream = _open(path, stdin)
    try:
        return stream.read()
    finally:
        if stream is not stdin:
            stream.close()


def parse_jsonl_line(
    line: bytes,
    number: int,
    where: str,
    *,
    keep_timestamps: bool = False,
    keep_partitions: bool = True,
) -> Draft | None:
    """One JSON line as a draft (None for a blank line); the format and its exactness rules
    are in :mod:`mqctl.messages.jsonl_input`. ``keep_timestamps``: the line's ``timestamp``
    becomes the record's time (else the producer's now); ``keep_partitions``: the line's
    ``partition`` is used (else the key or the flags decide)."""
    stripped = line.strip()
    if not stripped:
        return None
    here = f"{where} line {number}"
    try:
        text = stripped.decode("utf-8").removeprefix("\ufeff")
        obj = json.loads(text)
    except UnicodeDecodeError:
        raise UsageError(f"{here}: not UTF-8 (JSON lines are UTF-8 text)") from None
    except ValueError as exc:
        raise UsageError(f"{here}: not valid JSON ({exc})") from None
    except RecursionError:
        raise UsageError(f"{here}: JSON nested too deeply") from None
    if not isinstance(obj, dict):
        raise UsageError(f'{here}: expected a JSON object with at least "value"')
    try:
        value = value_field(obj, text, here)
    except RecursionError:
        raise UsageError(f"{here}: JSON nested too deeply") from None
    except ValueError as exc:  # (the member walk; json.loads accepted the line already)
        raise UsageError(f"{here}: not valid JSON ({exc})") from None
    key = obj.get("key")
    routing_key = obj.get("routing_key")
    if routing_key is not None and not isinstance(routing_key, str):
        raise UsageError(f"{here}: routing_key must be a string")
    if routing_key is not None:
        check_text(routing_key, here)
    properties = obj.get("properties") or {}
    if not isinstance(properties, dict):
        raise UsageError(f"{here}: properties must be an object")
    check_tree(properties, f"{here}: properties")
    partition = partition_field(obj.get("partition"), here)
    timestamp = timestamp_field(obj.get("timestamp"), here) if keep_timestamps else None
    return Draft(
        value=value,
        key=None if key is None else decode_field(key, obj.get("key_format"), here),
        headers=headers_field(obj.get("headers") or [], here),
        partition=partition if keep_partitions else None,
        routing_key=routing_key,
        properties=dict(properties),
        timestamp=timestamp,
    )


def _jsonl_drafts(spec: SourceSpec, path: str, stdin: IO[bytes] | None) -> list[Draft]:
    where = "stdin" if path == "-" else safe_text(path)  # errors name it: no raw ESC
    data = _read_all(path, stdin)
    drafts = []
    # (split on \n only: a JSON line never holds a raw line break, but other separators that
    # bytes.splitlines() knows, like \x1c, may stand inside a line's strings)
    for number, line in enumerate(data.split(b"\n"), start=1):
        draft = parse_jsonl_line(
            line,
            number,
            where,
            keep_timestamps=spec.keep_timestamps,
            keep_partitions=spec.keep_partitions,
        )
        if draft is not None:
            drafts.append(draft)
    if not drafts:
        raise UsageError(f"{where}: no messages (empty input)")
    return drafts


def _stdin_lines(stdin: IO[bytes] | None) -> Iterator[Draft]:
    if stdin is None:
        raise UsageError("stdin is not available")
    for line in stdin:
        value = line[:-1] if line.endswith(b"\n") else line
        if value:  # blank lines are skipped (like a trailing newline at the end of input)
            yield Draft(value)


def _drafts(
    spec: SourceSpec, stdin: IO[bytes] | None
) -> tuple[Iterator[Draft], int | None, list[Draft]]:
    given = [
        n for n, v in (("VALUE", spec.value), ("--file", spec.file), ("--jsonl", spec.jsonl)) if v
    ]
    if len(given) > 1:
        raise UsageError(f"{' and '.join(given)} cannot be combined: give one message source")
    if not given:
        raise UsageError(
            "nothing to publish: give a VALUE, '-' for stdin, --file F or --jsonl F",
            hint="e.g. mqctl publish TOPIC '{\"id\": 1}'",
        )
    if spec.count is not None and spec.count < 1:
        raise UsageError(f"--count {spec.count}: must be at least 1")
    if spec.value == "-":
        if spec.count is not None:
            raise UsageError(
                "--count cannot be used with stdin lines ('-'): each line is sent once"
            )
        return _stdin_lines(stdin), None, []
    if spec.jsonl is not None:
        base = _jsonl_drafts(spec, spec.jsonl, stdin)
    elif spec.file is not None:
        base = [Draft(_read_all(spec.file, stdin))]
    else:
        assert spec.value is not None
        base = [Draft(spec.value)]
    total = spec.count or len(base)
    return itertools.islice(itertools.cycle(base), total), total, base


def _apply_flags(draft: Draft, spec: SourceSpec) -> Draft:
    """Flags fill in what a line did not say; a line's own fields win."""
    return Draft(
        value=draft.value,
        key=draft.key if draft.key is not None else spec.key,
        headers=[*spec.headers, *draft.headers],
        partition=draft.partition if draft.partition is not None else spec.partition,
        routing_key=draft.routing_key if draft.routing_key is not None else spec.routing_key,
        properties={**spec.properties, **draft.properties},
        timestamp=draft.timestamp,
    )


def _header_out(value: HeaderValue) -> HeaderValue:
    """Text and bytes become bytes; ``None`` (a null header value) and typed JSON values
    (numbers, booleans, tables: AMQP headers are typed) stay as they are."""
    return _to_bytes(value) if isinstance(value, str | bytes) else value


def _finish(draft: Draft) -> OutgoingMessage:
    headers: list[tuple[str, HeaderValue]] = [(k, _header_out(v)) for k, v in draft.headers]
    return OutgoingMessage(
        value=None if draft.value is None else _to_bytes(draft.value),
        key=None if draft.key is None else _to_bytes(draft.key),
        headers=headers,
        partition=draft.partition,
        routing_key=draft.routing_key,
        properties=draft.properties,
        timestamp=draft.timestamp,
    )


class _Expander:
    """Per-message template expansion; templates compile once per distinct input text."""

    def __init__(self) -> None:
        self._cache: dict[str, Template] = {}

    def text(self, value: bytes | str, what: str) -> str:
        if isinstance(value, bytes):
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError:
                raise UsageError(f"--template needs UTF-8 text, but the {what} is binary") from None
        return value

    def render_header(self, value: HeaderValue, seq: int, what: str) -> HeaderValue:
        if isinstance(value, str | bytes):
            return self.render(value, seq, what)
        return value  # null, a number, a table: nothing to expand

    def render(self, value: bytes | str, seq: int, what: str) -> str:
        text = self.text(value, what)
        template = self._cache.get(text)
        if template is None:
            template = self._cache[text] = compile_template(text)
        return template.render(seq)

    def expand(self, draft: Draft, seq: int) -> Draft:
        props = {
            k: self.render(v, seq, f"property {k}") if isinstance(v, str) else v
            for k, v in draft.properties.items()
        }
        return Draft(
            value=None if draft.value is None else self.render(draft.value, seq, "value"),
            key=None if draft.key is None else self.render(draft.key, seq, "key"),
            headers=[(k, self.render_header(v, seq, f"header {k}")) for k, v in draft.headers],
            partition=draft.partition,
            routing_key=None
            if draft.routing_key is None
            else self.render(draft.routing_key, seq, "routing key"),
            properties=props,
            timestamp=draft.timestamp,
        )


def build_messages(
    spec: SourceSpec, stdin: IO[bytes] | None = None
) -> tuple[Iterator[OutgoingMessage], int | None]:
    """(messages, total if known). Input errors are raised here, before anything is sent;
    with ``--template`` the first message is expanded eagerly so a bad placeholder is too."""
    drafts, total, base = _drafts(spec, stdin)
    if spec.value == "-" and not spec.template and not spec.headers and not spec.properties:
        # Fast path for piped lines (bulk loads): no per-message draft merging.
        key = None if spec.key is None else _to_bytes(spec.key)
        partition, routing_key = spec.partition, spec.routing_key
        return StdinLines(stdin, key, partition, routing_key), total
    if not spec.template:
        return (_finish(_apply_flags(d, spec)) for d in drafts), total
    expander = _Expander()
    for draft in base:  # compile every distinct input now: bad placeholders fail before sending
        expander.expand(_apply_flags(draft, spec), 1)
    first = next(drafts, None)
    if first is None:
        return iter(()), total
    first_message = _finish(expander.expand(_apply_flags(first, spec), 1))

    def generate() -> Iterator[OutgoingMessage]:
        yield first_message
        for seq, draft in enumerate(drafts, start=2):
            yield _finish(expander.expand(_apply_flags(draft, spec), seq))

    return generate(), total


class AsyncMessages:
    """An async iterator over a sync one (what :class:`MessageWriter.publish` takes); for stdin
    lines it also offers :meth:`value_chunks` (see :class:`StdinLines`). Lines from a pipe or
    a terminal are read in a thread, so that a slow writer's line is sent while the next one
    is awaited."""

    __slots__ = ("_gen", "source")

    def __init__(self, messages: Iterable[OutgoingMessage]) -> None:
        self.source = messages
        self._gen = self._run(messages)

    @staticmethod
    async def _run(messages: Iterable[OutgoingMessage]) -> AsyncGenerator[OutgoingMessage, None]:
        if isinstance(messages, StdinLines) and messages.blocking:
            async for chunk in threaded_chunks(messages.value_chunks()):
                for message in messages.messages_of(chunk):
                    yield message
            return
        for message in messages:
            yield message

    def __aiter__(self) -> AsyncGenerator[OutgoingMessage, None]:
        # The generator itself, so that ``async for`` costs no extra call per message.
        return self._gen

    async def __anext__(self) -> OutgoingMessage:
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        await self._gen.aclose()

    def value_chunks(self) -> AsyncIterator[list[bytes]] | None:
        """The values in lists when every message is a plain stdin line (no key, partition,
        headers or properties), else None. Use this or iterate, not both."""
        source = self.source
        if isinstance(source, StdinLines) and source.plain:
            chunks = source.value_chunks()
            return threaded_chunks(chunks) if source.blocking else _async_chunks(chunks)
        return None


async def _async_chunks(chunks: Iterator[list[bytes]]) -> AsyncIterator[list[bytes]]:
    for chunk in chunks:  # a regular file: reads do not wait for a writer
        yield chunk


def aiter_messages(messages: Iterable[OutgoingMessage]) -> AsyncMessages:
    """An async iterator over a sync one (what :class:`MessageWriter.publish` takes)."""
    return AsyncMessages(messages)
