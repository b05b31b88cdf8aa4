"""What RabbitMQ accepts as a queue, exchange or vhost name, checked before anything is sent.

RabbitMQ takes any UTF-8 string up to 255 bytes (the AMQP short string), so unicode, spaces,
slashes, dots and ``%`` are all valid (the client library's narrower pattern is widened in
:mod:`.aiormq_internals`). A longer name gets a usage error (exit 2) that names it, instead of
an encoder error from deep inside the client library.
"""

from __future__ import annotations

from mqctl.errors import UsageError

MAX_NAME_BYTES = 255


def check_name(kind: str, name: str) -> str:
    """``name`` if RabbitMQ can take it as a ``kind`` (queue, exchange, vhost) name."""
    size = len(name.encode("utf-8", "surrogatepass"))
    if size > MAX_NAME_BYTES:
        raise UsageError(
            f"{kind} name {name!r} is {size} bytes in UTF-8: RabbitMQ allows at most "
            f"{MAX_NAME_BYTES}"
        )
    return name
