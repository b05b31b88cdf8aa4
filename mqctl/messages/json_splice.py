"""JSON output that carries a message value's own bytes: when a value is a JSON document that
can stand in the output line character for character, the line holds its text, so the value
reads back byte for byte (``publish --jsonl``, docs/output.md "Messages"); otherwise callers
fall back to :func:`mqctl.messages.decode.decode_value`. The checks run for every message of a
peek: the common case is decided at C speed (orjson), the rest by the standard library.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from orjson import loads as _orjson_loads

from mqctl.messages.decode import (
    JSON_STARTS,
    MAX_JSON_DEPTH,
    Headers,
    decoder_chain,
    finite_float,
    reject_constant,
)
from mqctl.output.render import JSON_UNSAFE


class _DuplicateKeyError(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) != len(pairs):
        raise _DuplicateKeyError("duplicate key")
    return data


# decode's JSON decoder, also refusing duplicate keys (a parse keeps only the last one)
_SPLICE_DECODER = json.JSONDecoder(
    parse_constant=reject_constant, parse_float=finite_float, object_pairs_hook=_unique_keys
)


def json_text(value: bytes | None, mode: str = "auto", headers: Headers = ()) -> str | None:
    """For JSON output: the value's own text when it can stand in for the parsed document.

    The text is then written into the line character for character, so the value's exact
    bytes can be read back from the line (``publish --jsonl`` with ``value_format: json``).
    That is when :func:`decode_value` would give a ``json`` document without error (no plugin
    claims it with ``auto``; strict JSON; not deeper than :data:`MAX_JSON_DEPTH`) and the text
    is one line without duplicate keys, surrounding whitespace, or characters a terminal-safe
    line escapes (C1 controls, bidi overrides, line separators): it then means the same
    document as re-encoding ``data`` would give (numbers and escapes are kept as written).
    None otherwise: callers fall back to :func:`decode_value`. Saves re-encoding the
    document for every line.
    """
    if value is None or not value or value[0] not in JSON_STARTS:
        return None
    if mode == "auto":
        for decoder in decoder_chain():
            try:  # as _claims, inline (this runs for every message of a peek)
                if decoder.claims(value, headers):
                    return None
            except Exception:
                continue
    elif mode != "json":
        return None
    if b"\n" in value or b"\r" in value:
        return None
    return _checked_text(value)


def _checked_text(value: bytes) -> str | None:
    """:func:`json_text` once no plugin claims the value and it is one line."""
    if value.count(b"[") + value.count(b"{") > MAX_JSON_DEPTH:
        return None  # maybe too deep: decode_value decides (rare)
    text = _orjson_text(value)
    if text is not None:
        return text
    return _stdlib_text(value)


def json_texts(
    values: Sequence[bytes | None], headers: Sequence[Headers], mode: str = "auto"
) -> list[str | None]:
    """``[json_text(v, mode, h) for v, h in zip(values, headers)]`` for a whole fetched batch,
    with the checks of the common case inline (one Python call per batch, not four per
    value): same answers, a property test compares them."""
    if mode == "auto":
        chain = decoder_chain()
    elif mode == "json":
        chain = []
    else:
        return [None] * len(values)
    starts, loads, depth = JSON_STARTS, _orjson_loads, MAX_JSON_DEPTH
    texts: list[str | None] = []
    append = texts.append
    for value, value_headers in zip(values, headers, strict=True):
        if not value or value[0] not in starts:
            append(None)
            continue
        claimed = False
        for decoder in chain:
            try:
                if decoder.claims(value, value_headers):
                    claimed = True
                    break
            except Exception:
                continue
        if claimed or b"\n" in value or b"\r" in value:
            append(None)
            continue
        if (
            value[-1] in _WHITESPACE
            or value.count(b"[") + value.count(b"{") > depth
            or not value.isascii()
            or b"\x7f" in value
        ):
            append(_checked_text(value))  # the uncommon cases, one by one
            continue
        try:
            data = loads(value)
        except ValueError:
            append(_stdlib_text(value))  # e.g. an escaped lone surrogate
            continue
        colons = value.count(b":")
        if (
            colons
            and not (data.__class__ is dict and len(data) == colons)
            and colons != _key_count(data)
        ):
            append(_stdlib_text(value))  # maybe a duplicate key: the stdlib decides
            continue
        append(value.decode("ascii"))
    return texts


def _orjson_text(value: bytes) -> str | None:
    """:func:`json_text` for the common case, at C speed: None when orjson refuses the value
    (the standard library then decides: it also accepts e.g. an escaped lone surrogate) or
    when it cannot tell duplicate keys apart. orjson accepts no more than the standard
    library with our hooks (it refuses NaN, Infinity and numbers out of a double's range
    too), except duplicate keys (it keeps the last) and whitespace around the document."""
    if value[-1] in _WHITESPACE:
        return None
    try:
        data = _orjson_loads(value)
    except ValueError:  # orjson.JSONDecodeError is a ValueError
        return None
    colons = value.count(b":")
    # Every key of the text is followed by a colon; colons inside strings only make the
    # count larger. Equal counts: no key was lost to a duplicate.
    if (
        colons
        and not (data.__class__ is dict and len(data) == colons)
        and (
            colons != _key_count(data)  # (the top level holds every colon: the common case)
        )
    ):
        return None
    text = value.decode("utf-8")  # orjson checked it is UTF-8
    if "\x7f" in text or (not text.isascii() and JSON_UNSAFE.search(text)):
        return None
    return text


_WHITESPACE = frozenset(b" \t\n\r")


def _key_count(data: Any) -> int:
    """How many keys the parsed objects of ``data`` hold, without recursion."""
    count = 0
    stack = [data]
    while stack:
        node = stack.pop()
        if node.__class__ is dict:
            count += len(node)
            stack.extend(v for v in node.values() if v.__class__ is dict or v.__class__ is list)
        elif node.__class__ is list:
            stack.extend(v for v in node if v.__class__ is dict or v.__class__ is list)
    return count


def _stdlib_text(value: bytes) -> str | None:
    """:func:`json_text`'s check by the standard library (after the plugin and line checks)."""
    try:
        text = value.decode("utf-8")
        # (raw_decode: no whitespace before; decode() would match it with a regex each time)
        end = _SPLICE_DECODER.raw_decode(text)[1]
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    if end != len(text):
        return None  # whitespace after the document: not the same text once re-read
    if "\x7f" in text or (not text.isascii() and JSON_UNSAFE.search(text)):
        return None  # a terminal-safe line would escape it: no longer the value's own text
    return text
