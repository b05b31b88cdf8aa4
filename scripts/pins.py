"""Print the pinned versions of pyproject.toml ([tool.uv] constraint-dependencies) as a
constraints file, so that installing a built wheel for end users (`uv tool install`,
`pipx install`) gets exactly the versions the project is tested with (docs/install.md).

    python3 scripts/pins.py > dist/constraints.txt
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pins() -> list[str]:
    doc = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return sorted(doc["tool"]["uv"]["constraint-dependencies"], key=str.lower)


if __name__ == "__main__":
    sys.stdout.write("".join(f"{pin}\n" for pin in pins()))
