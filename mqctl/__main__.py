"""Entry point. Imports nothing heavy: the CLI modules import brokers' clients lazily.

``mqctl --help`` and ``mqctl --version`` are answered without importing the CLI framework at
all (Typer and its dependencies take ~0.1-0.2 s to import, ten times a bare interpreter
start): the root help text is generated from the Typer app into ``root_help.txt`` by
``make help-cache`` and a test fails when it is out of date.
"""

from __future__ import annotations

import sys

FAST_HELP = (["--help"], ["-h"])


def main() -> None:
    args = sys.argv[1:]
    if args in FAST_HELP:
        # A plain open() next to this file: importlib.resources would cost more than the rest.
        import os

        path = os.path.join(os.path.dirname(__file__), "root_help.txt")
        with open(path, encoding="utf-8") as fh:
            sys.stdout.write(fh.read())
        return
    if args == ["--version"]:
        from mqctl.versions import version_text

        sys.stdout.write(version_text())
        return
    import gc

    # A run allocates a few hundred thousand objects that live until it ends (modules,
    # classes, the answer's rows): at the default threshold (700) the cyclic collector ran
    # ~185 times per `mqctl lag --all-groups` and rescanned them, ~15 % of its CPU time
    # (docs/benchmarks.md, "Start-up"). Cycles are still collected, in rarer, larger passes.
    gc.set_threshold(100_000, 10, 10)
    from mqctl.cli.app import run

    try:
        run()
    finally:
        # On the way out every object is still alive (modules, the answer): the interpreter's
        # last collection would walk them all, ~20 ms after a `lag --all-groups`. Frozen ones
        # are skipped; they are freed all the same (mqctl keeps no file open in a cycle).
        gc.freeze()


def render_root_help() -> str:
    """The root help exactly as Typer prints it at the default 80 columns."""
    import contextlib
    import io
    import os

    from mqctl.cli.app import run

    os.environ["COLUMNS"] = "80"
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        run(["--help"])
    return out.getvalue()


if __name__ == "__main__":
    main()
