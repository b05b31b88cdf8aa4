"""Errors users see, each tied to a documented exit code (docs/output.md).

Every failure that reaches the CLI is one of these. The CLI prints ``str(error)`` on one line
(plus the hint) and exits with ``error.exit_code``; ``--debug`` also prints the traceback.
Messages must never contain secrets: build them from redacted addresses only.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    CHECK_FAILED = 1  # a check the user asked for failed (lag --fail-on, --max-lag ...)
    USAGE = 2  # usage error or bad input (flags, config, offsets, headers, templates)
    UNAVAILABLE = 3  # cannot connect, authenticate, or timed out
    NOT_FOUND = 4  # a named topic/queue/vhost/group/context does not exist
    PARTIAL = 5  # the operation partly failed (some messages not published/moved)
    DECLINED = 6  # the user answered "no" to a confirmation prompt: nothing was changed
    INTERNAL = 70  # a bug in mqctl (EX_SOFTWARE); the message says to rerun with --debug
    INTERRUPTED = 130  # Ctrl-C
    BROKEN_PIPE = 141  # stdout closed early (`mqctl ... | head`): 128 + SIGPIPE, as a shell does


class MqctlError(Exception):
    """Base of all user-facing errors."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(MqctlError):
    """Bad input: flags, values, files the user gave us."""

    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    """The config file is invalid; the message names file, key and problem."""


class NotSupportedError(UsageError):
    """The selected backend does not implement a capability."""


class ConnectError(MqctlError):
    """The broker could not be reached in time."""

    exit_code = ExitCode.UNAVAILABLE


class AuthError(ConnectError):
    """The broker refused our credentials."""


class BrokerTimeout(ConnectError):
    """A request did not complete within the configured timeout."""


class NotFoundError(MqctlError):
    """A named thing (topic, queue, vhost, group, context) does not exist."""

    exit_code = ExitCode.NOT_FOUND


class WriteRefused(UsageError):
    """A write refused before anything changed: a read-only context, a protected context
    without confirmation, or a confirmation nobody can answer (no terminal, no --yes)."""


class DeclinedError(MqctlError):
    """The user declined a confirmation prompt (answered no, or typed another name)."""

    exit_code = ExitCode.DECLINED


class CheckFailed(MqctlError):
    """A health check requested by the user failed (exit 1)."""

    exit_code = ExitCode.CHECK_FAILED


class PartialFailure(MqctlError):
    """Some of the work failed; the rest succeeded."""

    exit_code = ExitCode.PARTIAL


class BrokerError(MqctlError):
    """The broker rejected a request for a reason that is not one of the above."""

    exit_code = ExitCode.PARTIAL


def connect_reason(exc: BaseException) -> str:
    """Why a connection failed, precisely, from the exception or its causes: "DNS lookup of
    'host' failed", "connection refused", "timed out", "TLS handshake failed: ...", or the
    OS's text. Used by every backend so that `context show --check` names the real cause."""
    import socket
    import ssl

    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 8:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    for item in chain:
        if isinstance(item, socket.gaierror):
            return f"DNS lookup failed ({item.strerror or item})"
        if isinstance(item, ConnectionRefusedError):
            return "connection refused"
        if isinstance(item, ssl.SSLError):
            return f"TLS handshake failed ({getattr(item, 'reason', None) or item})"
    for item in chain:
        text = str(item).lower()
        if "name or service not known" in text or "nodename nor servname" in text:
            return "DNS lookup failed (name or service not known)"
        if "temporary failure in name resolution" in text:
            return "DNS lookup failed (temporary failure in name resolution)"
        if "connection refused" in text or "connect call failed" in text:
            return "connection refused"
        if isinstance(item, TimeoutError):
            return "timed out"
        if isinstance(item, OSError) and item.strerror:
            return item.strerror.lower()
    return type(exc).__name__
