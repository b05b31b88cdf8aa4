"""Make untrusted text (keys, headers, values, names) safe to show in a terminal.

Control characters, including ESC that starts terminal escape sequences, are shown as
``\\xNN`` (or ``\\n``, ``\\t``, ``\\r``) escapes so data can never drive the terminal.
"""

from __future__ import annotations

import re

# C0, DEL and C1 controls, line/paragraph separators, bidi overrides/isolates, and lone
# surrogates (which cannot be encoded for the terminal: they would crash the write).
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every control character escaped (newlines kept if asked)."""
    if keep_newlines:
        return "\n".join(_UNSAFE.sub(_escape, line) for line in text.split("\n"))
    return _UNSAFE.sub(_escape, text)
