"""`make bench`: every benchmark side by side with its peer tool, in one run.

Each area has a module `scripts/bench_<area>.py` with `run(report: list[str]) -> None` that
appends markdown. This script adds the start-up benchmark, the machine description, and
writes docs/benchmarks.md, keeping the page's hand-written part (profiles and decisions,
from NOTES_MARKER on). Benchmarks are not tests: nothing here asserts a timing.
Only loopback brokers are used; every part cleans up what it created.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AREAS = ["lag", "messages", "redrive", "tui", "tui_publish", "cluster"]


def _time(cmd: list[str], runs: int = 15) -> float:
    """Median wall time of a command in seconds."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def startup(report: list[str]) -> None:
    python = str(ROOT / ".venv/bin/python")
    mqctl = str(ROOT / ".venv/bin/mqctl")
    bare = _time([python, "-c", "pass"])
    help_time = _time([mqctl, "--help"])
    version = _time([mqctl, "--version"])
    sub_help = _time([mqctl, "topics", "--help"])
    report += [
        "## Start-up",
        "",
        "Median of 15 runs. Target: `mqctl --help` within 3× a bare interpreter start.",
        "",
        "| command | seconds | × `python -c pass` |",
        "|---|---:|---:|",
        f"| `python -c pass` | {bare:.3f} | 1.0 |",
        f"| `mqctl --help` | {help_time:.3f} | {help_time / bare:.1f} |",
        f"| `mqctl --version` | {version:.3f} | {version / bare:.1f} |",
        f"| `mqctl topics --help` | {sub_help:.3f} | {sub_help / bare:.1f} |",
        "",
        "`mqctl --help` and `--version` are answered from a generated file without importing "
        "the CLI framework; subcommand help loads Typer (but no broker client).",
        "",
    ]


def machine() -> list[str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Each figure and "
        "its peer's were measured in the same run on the same machine, against the local "
        "brokers on loopback.",
        "",
        f"Machine: {os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}.",
        "",
    ]


NOTES_MARKER = "<!-- profiles and decisions: kept by make bench -->"


def _kept_notes(page: Path) -> str:
    """The hand-written part of the page (profiles and the decisions they led to), from
    NOTES_MARKER on: a new run replaces the figures, never the reasoning."""
    try:
        text = page.read_text()
    except OSError:
        return ""
    at = text.find(NOTES_MARKER)
    return "\n" + text[at:] if at >= 0 else ""


def main() -> int:
    only = sys.argv[1:]
    report = machine()
    startup(report)
    for area in AREAS:
        if only and area not in only:
            continue
        path = ROOT / "scripts" / f"bench_{area}.py"
        if not path.exists():
            report += [f"## {area}", "", "Not measured yet (no scripts/bench_{area}.py).", ""]
            continue
        spec = importlib.util.spec_from_file_location(f"bench_{area}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        # registered first, as an import would: dataclasses look their module up there
        sys.modules[spec.name] = module
        print(f"bench: {area} ...", flush=True)
        try:
            spec.loader.exec_module(module)
            module.run(report)
        except Exception as exc:  # one failing part must not lose the others' figures
            report += [f"## {area}", "", f"Failed in this run: {type(exc).__name__}: {exc}", ""]
    out = ROOT / "docs" / "benchmarks.md"
    out.write_text("\n".join(report) + "\n" + _kept_notes(out))
    print(f"bench: wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
