"""Entry point. Imports nothing heavy: the CLI modules import brokers' clients lazily."""

from __future__ import annotations


def main() -> None:
    from mqctl.cli.app import run

    run()


if __name__ == "__main__":
    main()
