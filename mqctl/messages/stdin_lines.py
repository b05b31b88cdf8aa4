"""Lines of stdin as messages: read in large chunks, split in bulk, from a thread when
stdin is a pipe or a terminal.

A pipe's writer may be slow (``tail -f app.log | mqctl publish t -``). Reading it on the
event loop would hold every line already read (its batch not sent, the broker's answers not
read) until the next line arrives. A daemon thread reads instead and hands chunks over a
small queue; being a daemon, a thread still waiting for input never keeps the process
from exiting (Ctrl-C). A regular file is read on the loop: it never waits for a writer.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import stat
import threading
from collections.abc import AsyncIterator, Iterator
from typing import IO

from mqctl.errors import UsageError
from mqctl.models.messages import OutgoingMessage

CHUNK = 256 * 1024  # bytes read from stdin at a time on the bulk path


class StdinLines:
    """stdin lines as messages (blank lines skipped), read in large chunks and split in bulk.

    Iterating gives one :class:`OutgoingMessage` per line; :meth:`value_chunks` gives the same
    lines as lists of values, without an object per message: what Kafka's publisher appends
    straight into record batches when the messages are plain (no key, no partition).
    Either is used once."""

    __slots__ = ("_iter", "_stream", "blocking", "key", "partition", "routing_key")

    def __init__(
        self,
        stream: IO[bytes] | None,
        key: bytes | None,
        partition: int | None,
        routing_key: str | None,
    ) -> None:
        self._stream = stream
        self.key = key
        self.partition = partition
        self.routing_key = routing_key
        self._iter: Iterator[OutgoingMessage] | None = None
        # read it from a thread (see the module's docstring)
        self.blocking = _waits_for_writer(stream)

    @property
    def plain(self) -> bool:
        return self.key is None and self.partition is None

    def value_chunks(self) -> Iterator[list[bytes]]:
        stream = self._stream
        if stream is None:
            raise UsageError("stdin is not available")
        # read1: what is available now (a slow producer's lines are sent as they come)
        read = getattr(stream, "read1", stream.read)
        pending: list[bytes] = []  # a line longer than one read, in pieces
        while True:
            data = read(CHUNK)
            if not data:
                break
            if b"\n" not in data:
                pending.append(data)
                continue
            lines = data.split(b"\n")
            if pending:  # the first line began in earlier reads
                pending.append(lines[0])
                lines[0] = b"".join(pending)
                pending.clear()
            rest = lines.pop()
            if rest:
                pending.append(rest)
            if b"" in lines:  # blank lines are skipped (like a trailing newline at the end)
                lines = [line for line in lines if line]
            if lines:
                yield lines
        if pending:
            yield [b"".join(pending)]

    def messages_of(self, values: list[bytes]) -> Iterator[OutgoingMessage]:
        """One chunk's lines as messages (with this input's key, partition, routing key)."""
        key, partition, routing_key = self.key, self.partition, self.routing_key
        for value in values:
            yield OutgoingMessage(value, key, [], partition, routing_key, {})

    def _messages(self) -> Iterator[OutgoingMessage]:
        for chunk in self.value_chunks():
            yield from self.messages_of(chunk)

    def __iter__(self) -> Iterator[OutgoingMessage]:
        # The generator itself, so that ``for`` costs no extra call per message.
        if self._iter is None:
            self._iter = self._messages()
        return self._iter

    def __next__(self) -> OutgoingMessage:
        return next(iter(self))


def _waits_for_writer(stream: IO[bytes] | None) -> bool:
    """Whether reading ``stream`` can wait for a writer (pipe, terminal, socket)."""
    if stream is None:
        return False
    try:
        return not stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (AttributeError, OSError, ValueError):  # no file descriptor (tests' BytesIO)
        return False


_DONE = object()
AHEAD = 4  # chunks read ahead of the publisher at most (CHUNK bytes each)


async def threaded_chunks(chunks: Iterator[list[bytes]]) -> AsyncIterator[list[bytes]]:
    """``chunks`` advanced in a daemon thread; each one is yielded as soon as it is read."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue(AHEAD)

    def hand_over(item: object) -> bool:
        try:
            asyncio.run_coroutine_threadsafe(queue.put(item), loop).result()
        except (RuntimeError, concurrent.futures.CancelledError):  # the loop closed / stopping
            return False
        return True

    def read() -> None:
        try:
            for chunk in chunks:
                if not hand_over(chunk):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            hand_over(exc)
            return
        hand_over(_DONE)

    threading.Thread(target=read, name="mqctl-stdin", daemon=True).start()
    while True:
        item = await queue.get()
        if item is _DONE:
            return
        if isinstance(item, BaseException):
            raise item
        yield item  # type: ignore[misc]
