"""Typed access to the running :class:`~mqctl_tui.app.MqctlApp` from screens and widgets.

Textual types ``widget.app`` as a plain ``App``; screens and widgets of this package only
ever run inside an ``MqctlApp``, so they reach its methods (subscribe, open_topic,
report_error…) through :func:`mqctl_app`, checked by mypy, instead of untyped attribute
access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.dom import DOMNode

if TYPE_CHECKING:
    from mqctl_tui.app import MqctlApp


def mqctl_app(node: DOMNode) -> MqctlApp:
    return cast("MqctlApp", node.app)
