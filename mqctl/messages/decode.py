"""Turning message bytes into something a person (or jq) can read, and the decoder plugins.

Built-in views: ``json`` (parsed, pretty-printed in ``pretty`` output), ``text`` (UTF-8),
``hex``, ``base64``. ``auto`` asks every installed plugin whether it ``claims`` the value
(e.g. the Confluent magic byte 0x00 + schema id) and otherwise picks JSON, then text (valid
UTF-8), then base64. Decoding never raises for bad data: a value that cannot be decoded the
way the user asked is shown as base64 with ``error`` set, per message, and the peek goes on.

Decoder plugins (entry point group ``mqctl.decoders``, loaded by
:func:`mqctl.registry.decoders`) implement :class:`Decoder`; see docs/plugins.md.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Protocol, runtime_checkable

from mqctl.errors import UsageError
from mqctl.models.messages import HeaderValue

BUILTIN = ("auto", "json", "text", "hex", "base64")
Headers = Sequence[tuple[str, HeaderValue]]


@dataclass(frozen=True, slots=True)
class DecodedValue:
    """One value as shown to the user.

    ``format``: ``json`` | ``text`` | ``hex`` | ``base64`` | a plugin's name | ``null``.
    ``data``: what JSON output carries (the parsed document for ``json`` and for plugins that
    produce structured data, otherwise the string). ``text``: the display string (for JSON
    documents the original text; the pretty view re-indents ``data``). ``error``: why the
    requested view failed (the value is then shown as base64), never fatal.
    """

    format: str
    data: Any
    text: str
    error: str | None = None


@dataclass(frozen=True, slots=True)
class DecoderContext:
    """What a plugin may need from the context: given once to ``configure`` if it has it.

    ``options``: this decoder's table of the config file (``[decoders.NAME]``, with the
    context's ``[contexts.X.decoders.NAME]`` keys winning); the plugin validates it."""

    context: str
    schema_registry: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Decoder(Protocol):
    """The decoder plugin interface (``mqctl.decoders`` entry point: a class or an instance).

    * ``name``: what ``--decode NAME`` selects (the entry point name should match);
    * ``api_version``: must equal :data:`mqctl.backend.API_VERSION`;
    * ``claims(value, headers)``: cheap check used by ``--decode auto`` (look at a magic
      byte or a content-type header, never parse the whole value); must not raise;
    * ``decode(value, headers)``: a :class:`DecodedValue` with ``format=name``; may raise
      anything for bad data: the core turns it into a per-message error.

    Optionally ``configure(context: DecoderContext) -> None`` is called once before use
    (e.g. to learn the schema registry URL of the context).
    """

    name: ClassVar[str]
    api_version: ClassVar[int]

    def claims(self, value: bytes, headers: Headers) -> bool: ...

    def decode(self, value: bytes, headers: Headers) -> DecodedValue: ...


def _b64(value: bytes | bytearray) -> str:
    return base64.b64encode(value).decode("ascii")


def as_base64(value: bytes, error: str | None = None) -> DecodedValue:
    text = _b64(value)
    return DecodedValue("base64", text, text, error)


def as_hex(value: bytes) -> DecodedValue:
    text = value.hex()
    return DecodedValue("hex", text, text)


def as_text(value: bytes) -> DecodedValue | None:
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return DecodedValue("text", text, text)


JSON_STARTS = frozenset(b'{["-0123456789tfn"')
MAX_JSON_DEPTH = 100
"""Deeper documents are not shown as JSON (they are text): re-indenting them for ``pretty``
and dumping them as YAML recurse once per level and would hit Python's recursion limit."""


def reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: jq and RFC 8259 refuse them


def finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):  # 1e999
        raise ValueError("number out of range")
    return number


def _too_deep(data: Any) -> bool:
    """Nesting deeper than :data:`MAX_JSON_DEPTH`, found without recursion."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, dict | list))
    return False


# One decoder for every value: json.loads() with hooks builds a new JSONDecoder per call.
_DECODER = json.JSONDecoder(parse_constant=reject_constant, parse_float=finite_float)


def as_json(value: bytes) -> DecodedValue | None:
    """The value as a JSON document, or None when it is not strict JSON (NaN and Infinity
    are not) or nests deeper than :data:`MAX_JSON_DEPTH` levels."""
    # Cheap pre-check so that `auto` on plain text does not pay for a failed parse.
    stripped = value.lstrip()
    if not stripped or stripped[0] not in JSON_STARTS:
        return None
    try:
        # The original text is the display form (re-serialising would cost a second pass).
        text = value.decode("utf-8")
        data = _DECODER.decode(text)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    if value.count(b"[") + value.count(b"{") > MAX_JSON_DEPTH and _too_deep(data):
        return None
    return DecodedValue("json", data, text)


def _plugins() -> dict[str, Any]:
    from mqctl import registry

    return registry.decoders().objects


_instances: dict[str, Decoder] = {}
_context: DecoderContext | None = None


_auto_chain: list[Decoder] | None = None


_options: Mapping[str, Mapping[str, Any]] = {}


def configure(
    context: DecoderContext, options: Mapping[str, Mapping[str, Any]] | None = None
) -> None:
    """Remember the context plugins are configured with, and each decoder's options by
    name (the CLI calls it once)."""
    global _context, _auto_chain, _options
    _context = context
    _options = options or {}
    _instances.clear()
    _auto_chain = None


_chain_plugins: object = None


def decoder_chain() -> list[Decoder]:
    """The plugin decoders `auto` consults, in name order: built once, not per message
    (again when ``_plugins`` was replaced, as tests do)."""
    global _auto_chain, _chain_plugins
    if _auto_chain is None or _chain_plugins is not _plugins:
        found = (plugin(name) for name in sorted(_plugins()))
        _auto_chain = [decoder for decoder in found if decoder is not None]
        _chain_plugins = _plugins
    return _auto_chain


def plugin(name: str) -> Decoder | None:
    """The installed decoder ``name`` (instantiated and configured once), or None."""
    if name in _instances:
        return _instances[name]
    obj = _plugins().get(name)
    if obj is None:
        return None
    instance = obj() if isinstance(obj, type) else obj
    setup = getattr(instance, "configure", None)
    if callable(setup) and _context is not None:
        setup(replace(_context, options=_options.get(name, {})))
    _instances[name] = instance
    return instance  # type: ignore[no-any-return]


def available() -> list[str]:
    return [*BUILTIN, *sorted(_plugins())]


def check_mode(mode: str) -> str:
    """Validate ``--decode`` up front so a typo is an exit-2 error, not N bad messages."""
    if mode in BUILTIN or mode in _plugins():
        return mode
    raise UsageError(
        f"unknown decoder {mode!r} (choose from {', '.join(available())})",
        hint="decoder plugins are listed by `mqctl plugins list`",
    )


def _run_plugin(decoder: Decoder, value: bytes, headers: Headers) -> DecodedValue:
    try:
        return decoder.decode(value, headers)
    except Exception as exc:  # a bad message or a buggy plugin must not stop the peek
        reason = str(exc).strip().splitlines()
        detail = reason[0] if reason else type(exc).__name__
        return as_base64(value, f"{decoder.name}: {detail}")


def _claims(decoder: Decoder, value: bytes, headers: Headers) -> bool:
    try:
        return bool(decoder.claims(value, headers))
    except Exception:
        return False


def auto(value: bytes, headers: Headers = ()) -> DecodedValue:
    for decoder in decoder_chain():
        if _claims(decoder, value, headers):
            return _run_plugin(decoder, value, headers)
    return as_json(value) or as_text(value) or as_base64(value)


NULL = DecodedValue("null", None, "")

EXACT_FORMATS = frozenset(("text", "base64", "hex", "null"))
"""Views whose JSON form gives back the value's exact bytes (``json`` only when its text is
written as it came, see :func:`json_text`; a plugin's structured data never)."""


def cut_value(value: bytes, limit: int) -> tuple[bytes, int]:
    """``value`` cut to at most ``limit`` bytes, not inside a UTF-8 character, and the number
    of bytes left out (0 when it fits)."""
    if len(value) <= limit:
        return value, 0
    end = limit
    # value[end] is the first byte left out: while it continues a character (10xxxxxx),
    # leave out that character's earlier bytes too (UTF-8 has at most 3 continuation bytes)
    for _ in range(3):
        if end == 0 or value[end] & 0xC0 != 0x80:
            break
        end -= 1
    if value[end] & 0xC0 == 0x80:
        end = limit  # not UTF-8 there anyway: cut where asked
    return value[:end], len(value) - end


def decode_value(value: bytes | None, mode: str = "auto", headers: Headers = ()) -> DecodedValue:
    """Decode ``value`` with ``mode`` (see :func:`check_mode`); never raises for bad data."""
    if value is None:
        return NULL
    if mode == "auto":
        return auto(value, headers)
    if mode == "json":
        return as_json(value) or as_base64(value, "not valid JSON")
    if mode == "text":
        return as_text(value) or as_base64(value, "not valid UTF-8")
    if mode == "hex":
        return as_hex(value)
    if mode == "base64":
        return as_base64(value)
    decoder = plugin(mode)
    if decoder is None:
        check_mode(mode)  # raises with the list of choices
        raise AssertionError("unreachable")
    return _run_plugin(decoder, value, headers)


def text_or_base64(value: bytes) -> tuple[str, str]:
    """For keys and header values: ``(text, "text")`` if UTF-8, else ``(b64, "base64")``."""
    try:
        return value.decode("utf-8"), "text"
    except UnicodeDecodeError:
        return _b64(value), "base64"


TYPED_HEADERS = frozenset({"rabbitmq"})
"""Backends whose header values are typed (AMQP tables): a byte array is not a string there,
so their bytes are always written as ``{"base64": …}`` (and read back as a byte array)."""


def header_json(value: HeaderValue, typed: bool = False) -> Any:
    """A header value for JSON output: text when UTF-8, ``{"base64": ...}`` otherwise;
    ``typed`` (see :data:`TYPED_HEADERS`): bytes always as ``{"base64": ...}``, in nested
    tables and arrays too."""
    if isinstance(value, bytes | bytearray):
        if not typed:
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                pass
        return {"base64": _b64(value)}
    if typed and isinstance(value, dict):
        return {str(k): header_json(v, typed) for k, v in value.items()}
    if typed and isinstance(value, list | tuple):
        return [header_json(v, typed) for v in value]
    from mqctl.output.render import to_jsonable

    return to_jsonable(value)
