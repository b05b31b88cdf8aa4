"""The benchmark scripts only run in `make bench`, never in the test suite: a name they import
from mqctl that was moved or renamed would only show as a failed part of the next benchmark
run. This reads every ``from mqctl… import name`` in scripts/ (also inside functions) and
checks the name still exists (no broker, nothing run)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def _imports() -> list[tuple[str, str, str]]:
    found = []
    for path in sorted(SCRIPTS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                root = node.module.split(".")[0]
                if root in ("mqctl", "mqctl_tui"):
                    found += [(path.name, node.module, alias.name) for alias in node.names]
    return found


@pytest.mark.parametrize(("script", "module", "name"), _imports())
def test_names_the_benchmarks_import_exist(script: str, module: str, name: str) -> None:
    imported = importlib.import_module(module)
    if not hasattr(imported, name):
        importlib.import_module(f"{module}.{name}")  # a submodule: raises if it is gone
