"""The snapshot fake and the real services implement the same typed interface: mypy checks
``tests/tui/fakes.py`` against :class:`mqctl_tui.services.TuiServices` (the real class is
checked by the project's mypy run, through ``default_services``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_fake_implements_the_services_protocol() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", "tests/tui/fakes.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "MYPYPATH": str(ROOT / "tui")},  # else mqctl_tui is Any to mypy
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_untyped_reach_into_the_app() -> None:
    """Screens and widgets use the typed accessor, never ``self.app.x  # type: ignore``, and
    no ``getattr`` dispatch (services, app methods and cells are typed)."""
    sources = (ROOT / "tui" / "mqctl_tui").rglob("*.py")
    markers = ("ignore[attr-defined", "ServiceNotReady", "getattr(")
    offenders = [
        f"{path.relative_to(ROOT)}: {marker}"
        for path in sources
        for marker in markers
        if marker in path.read_text()
    ]
    assert offenders == []
