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
    from mqctl import gc_tuning

    gc_tuning.for_a_command()
    from mqctl.cli.app import run

    try:
        run()
    finally:
        gc_tuning.before_exit()


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
