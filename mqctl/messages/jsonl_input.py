"""Reading JSON lines back into messages (``publish --jsonl``): the lossless format that
``peek -o jsonl`` writes (docs/output.md), and lines people write by hand.

Exactness rules (the reverse of :func:`mqctl.messages.render.jsonl_line`):

* ``value_base64`` present: those bytes, whatever ``value`` shows (a plugin's decoded data,
  a JSON document that could not be written as it came);
* ``value_format: "json"``: the value's bytes are the characters of ``value`` exactly as they
  stand in the line (peek writes a JSON value's own text there), so whitespace, key order,
  escapes and the quotes of a JSON string survive;
* ``value_format`` ``base64`` / ``hex``: decoded; ``text`` or no format: the string as UTF-8;
* ``value: null`` without a format: no value at all (a Kafka tombstone), not an empty one;
* no ``value_format`` and a JSON document (hand-written ``"value": {"a": 1}``): sent as
  compact JSON text.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from mqctl.errors import UsageError
from mqctl.models.messages import HeaderValue

# The standard library's (C) string scanner: (text, index after the opening quote) ->
# (the string, index after its closing quote). Not in the type stubs, hence the annotation.
_scanstring: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_SPACES = frozenset(" \t\n\r")
# A member name without escapes or control characters, its colon and the spaces around.
_SIMPLE_MEMBER = re.compile(r'"([^"\\\x00-\x1f]*)"[ \t\n\r]*:[ \t\n\r]*')
_MEMBERS = json.JSONDecoder()
# (text, index) -> (value, end); StopIteration when there is none. Not in the type stubs.
_SCAN: Callable[[str, int], tuple[Any, int]] = _MEMBERS.scan_once  # type: ignore[attr-defined]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def check_text(value: str, where: str) -> str:
    """Text from a JSON line must be encodable: ``"\\ud800"`` decodes to a lone surrogate."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(
            f"{where}: contains a lone surrogate escape (e.g. \\ud800), which is not text; "
            'send binary data with "value_format": "base64"'
        ) from None
    return value


def check_tree(value: Any, where: str) -> None:
    """:func:`check_text` on every string in a JSON document (without recursion)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            check_text(node, where)
        elif isinstance(node, dict):
            stack.extend(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _skip(text: str, index: int) -> int:
    """The index of the first character at or after ``index`` that is not JSON whitespace
    (cheap when there is none, as in the lines peek writes)."""
    if text[index : index + 1] in _SPACES:
        return _WHITESPACE.match(text, index).end()  # type: ignore[union-attr]
    return index


def _scan(text: str, index: int) -> tuple[Any, int]:
    """One JSON value at ``index``: (value, index after it)."""
    try:
        return _SCAN(text, index)
    except StopIteration as stop:
        raise ValueError(f"expected a value at character {stop.value}") from None


def read_object(text: str) -> tuple[Any, dict[str, str]]:
    """``json.loads(text)`` and, for a JSON object, the text of each member's value exactly
    as written (a repeated name: the last one, as ``json.loads`` keeps). Each value is
    parsed once, by the C scanner of the standard library (~10x the time of ``json.loads``:
    :func:`raw_value` avoids it for the lines peek writes)."""
    index = _skip(text, 0)
    if text[index : index + 1] != "{":
        return _MEMBERS.decode(text), {}
    obj: dict[str, Any] = {}
    raw: dict[str, str] = {}
    index = _skip(text, index + 1)
    if text[index : index + 1] == "}":
        index += 1
    else:
        while True:
            simple = _SIMPLE_MEMBER.match(text, index)  # one C call for `"name":` mostly
            if simple is not None:
                name, index = simple.group(1), simple.end()
            else:  # a name with escapes, or a syntax error
                if text[index : index + 1] != '"':
                    raise ValueError(f"expected a member name at character {index}")
                name, index = _scanstring(text, index + 1)
                index = _skip(text, index)
                if text[index : index + 1] != ":":
                    raise ValueError(f"expected ':' at character {index}")
                index = _skip(text, index + 1)
            value, after = _scan(text, index)
            obj[name] = value
            raw[name] = text[index:after]
            index = _skip(text, after)
            separator = text[index : index + 1]
            index = _skip(text, index + 1)
            if separator == "}":
                break
            if separator != ",":
                raise ValueError(f"expected ',' or '}}' at character {index}")
    if index != len(text):
        raise ValueError(f"extra data at character {index}")
    return obj, raw


# How a line from peek ends after a JSON value written as it came (jsonl_line): the value's
# text ends where the last occurrence of _TAIL begins (only digits and "}" follow it).
_TAIL = ',"value_format":"json","value_error":null,"size":'
_TAIL_REST = re.compile(r"[0-9]+\}[ \t\r\n]*")
_VALUE_NAME = '"value":'


def raw_value(text: str) -> str:
    """The text of the top-level ``value`` member of the JSON object ``text``, as written.

    Lines that peek wrote take a shortcut: their value ends where the fixed tail begins, and
    it starts after the one ``"value":`` from which one JSON value reaches exactly there (the
    sequence cannot occur inside a string, and a nested member's value ends before its
    closing bracket). Other lines are walked member by member (:func:`read_object`)."""
    tail = text.rfind(_TAIL)
    if tail >= 0 and _TAIL_REST.fullmatch(text, tail + len(_TAIL)):
        start = text.find(_VALUE_NAME)
        while 0 <= start < tail:
            try:
                end = _SCAN(text, start + len(_VALUE_NAME))[1]
            except StopIteration:
                end = -1
            if end == tail:
                return text[start + len(_VALUE_NAME) : tail]
            start = text.find(_VALUE_NAME, start + 1)
    return read_object(text)[1]["value"]


def decode_field(value: Any, fmt: Any, where: str) -> bytes | str:
    """A key/value from a JSON line: text, or bytes when the line says base64/hex."""
    if fmt in ("base64", "hex"):
        if not isinstance(value, str):
            raise UsageError(f"{where}: a {fmt} value must be a string")
        try:
            return (
                base64.b64decode(value, validate=True) if fmt == "base64" else bytes.fromhex(value)
            )
        except (binascii.Error, ValueError):
            raise UsageError(f"{where}: invalid {fmt}") from None
    if isinstance(value, str):
        return check_text(value, where)
    if isinstance(value, dict) and set(value) == {"base64"}:
        return decode_field(value["base64"], "base64", where)
    # JSON documents (objects, numbers, ...) are sent as their compact JSON text.
    try:
        compact = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except RecursionError:
        raise UsageError(f"{where}: JSON nested too deeply") from None
    return check_text(compact, where)


def value_field(obj: dict[str, Any], text: str, where: str) -> bytes | str | None:
    """The message value of a line (see the module's docstring for the rules)."""
    if obj.get("value_truncated_bytes"):
        raise UsageError(
            f"{where}: the value was cut by `peek --max-bytes` "
            f"({obj['value_truncated_bytes']} bytes left out), so it cannot be sent as it was"
        )
    if obj.get("value_base64") is not None:
        return decode_field(obj["value_base64"], "base64", where)
    if "value" not in obj:
        raise UsageError(f'{where}: missing "value"')
    value, fmt = obj["value"], obj.get("value_format")
    if fmt == "json":
        return check_text(raw_value(text), where)  # the value's own text, as peek wrote it
    if value is None:
        if fmt not in (None, "null"):
            raise UsageError(f"{where}: value is null but value_format is {fmt!r}")
        return None
    return decode_field(value, fmt, where)


def header_field(value: Any, where: str) -> HeaderValue:
    """A header value from a JSON line: text, ``{"base64": …}`` bytes, ``null`` (a null
    header value), or another JSON value as it is (AMQP headers are typed: numbers, booleans,
    tables and arrays stay what they were; Kafka sends them as compact JSON text)."""
    if isinstance(value, dict | list):
        check_tree(value, where)
        try:
            return _with_bytes(value, where)  # type: ignore[no-any-return]
        except RecursionError:
            raise UsageError(f"{where}: header value nested too deeply") from None
    if isinstance(value, str):
        return check_text(value, where)
    return value  # type: ignore[no-any-return]


def _binary(text: Any, where: str) -> bytearray:
    """``{"base64": …}``: bytes meant as binary, a ``bytearray`` so that brokers with typed
    headers send a byte array even when the bytes happen to be UTF-8 (AMQP); the others
    send bytes either way."""
    raw = decode_field(text, "base64", where)
    assert isinstance(raw, bytes)  # (a base64 field decodes to bytes or raises)
    return bytearray(raw)


def _with_bytes(value: Any, where: str) -> Any:
    """``{"base64": …}`` turned into bytes, also inside AMQP arrays and tables."""
    if isinstance(value, dict):
        if set(value) == {"base64"}:
            return _binary(value["base64"], where)
        return {name: _with_bytes(item, where) for name, item in value.items()}
    if isinstance(value, list):
        return [_with_bytes(item, where) for item in value]
    return value


def headers_field(raw: Any, where: str) -> list[tuple[str, HeaderValue]]:
    pairs: Iterable[Any]
    if isinstance(raw, dict):
        pairs = raw.items()
    elif isinstance(raw, list):
        pairs = raw
    else:
        raise UsageError(f"{where}: headers must be an object or a list of [name, value]")
    result: list[tuple[str, HeaderValue]] = []
    for pair in pairs:
        if not isinstance(pair, list | tuple) or len(pair) != 2 or not isinstance(pair[0], str):
            raise UsageError(f"{where}: header entries must be [name, value]")
        name, value = pair
        result.append((check_text(name, where), header_field(value, where)))
    return result


def timestamp_field(value: Any, where: str) -> datetime | None:
    """``timestamp``: ISO 8601 (as peek writes it; no zone = UTC) or epoch milliseconds."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return _EPOCH + timedelta(milliseconds=value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise UsageError(f"{where}: timestamp must be an ISO 8601 time or epoch milliseconds")


def partition_field(value: Any, where: str) -> int | None:
    if value is not None and (
        not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**31
    ):
        raise UsageError(f"{where}: partition must be a non-negative integer")
    return value
