"""Every use of typer's private API, in one place (typer is pinned to an exact version).

typer 0.28 vendors click as ``typer._click`` and re-exports none of its exceptions, yet the
CLI must tell usage errors (exit 2, one line) from the rest: ``ClickException``, its
``UsageError`` and the ``NoArgsIsHelpError`` of a bare group are imported from there. There is
no public fallback; tests/test_library_seams.py fails if a typer upgrade moves them.
"""

from __future__ import annotations

from typer._click.exceptions import ClickException, NoArgsIsHelpError
from typer._click.exceptions import UsageError as ClickUsageError

__all__ = ["ClickException", "ClickUsageError", "NoArgsIsHelpError"]
