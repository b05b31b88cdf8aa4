"""One exit-code table, enforced (docs/output.md, "Exit codes"; issue 17).

Every command is walked with bad input: each failure must be its documented code with ONE
`error:` line on stderr (plus at most one `hint:` line), never Click's multi-line box or a
traceback. Real brokers; nothing is created except the contexts of the test's own config.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from tests.conftest import CliResult, run_cli

MQCTL = str(Path(sys.executable).parent / "mqctl")


def leaf_commands() -> list[tuple[tuple[str, ...], bool]]:
    """(command path, has a required argument) of every command the CLI has."""
    from mqctl.cli.app import app

    found: list[tuple[tuple[str, ...], bool]] = []

    def walk(command: object, path: tuple[str, ...]) -> None:
        subs = getattr(command, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, (*path, name))
            return
        params = getattr(command, "params", [])
        required = any(p.param_type_name == "argument" and p.required for p in params)
        found.append((path, required))

    walk(typer.main.get_command(app), ())
    return found


LEAVES = leaf_commands()


def assert_one_line_error(result: CliResult, code: int) -> str:
    assert result.exit_code == code, (result.exit_code, result.output)
    assert "Traceback" not in result.stderr, result.stderr
    assert "Usage:" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    others = [line for line in lines if not line.startswith(("error: ", "hint: ", "note: "))]
    assert not others, result.stderr
    assert sum(line.startswith("hint: ") for line in lines) <= 1, result.stderr
    return errors[0]


def test_every_command_is_walked() -> None:
    names = {" ".join(path) for path, _ in LEAVES}
    assert {"lag", "peek", "publish", "offsets reset", "topics list", "context show"} <= names


@pytest.mark.parametrize("path", [p for p, _ in LEAVES], ids=lambda p: " ".join(p))
def test_unknown_flag_is_one_line_usage_error(path: tuple[str, ...]) -> None:
    line = assert_one_line_error(run_cli(*path, "--no-such-flag"), 2)
    assert "--no-such-flag" in line


@pytest.mark.parametrize(
    "path", [p for p, required in LEAVES if required], ids=lambda p: " ".join(p)
)
def test_missing_argument_is_one_line_usage_error(path: tuple[str, ...]) -> None:
    line = assert_one_line_error(run_cli(*path), 2)
    assert "missing" in line


def test_unknown_command_suggests_the_right_one() -> None:
    result = run_cli("topics", "lisst")
    line = assert_one_line_error(result, 2)
    assert "lisst" in line and "'list'" in line
    assert "hint: see 'mqctl topics -h'" in result.stderr


BAD_INPUTS: list[tuple[tuple[str, ...], int, str]] = [
    # (arguments, exit code, a word the error line must contain)
    (("topics", "list", "-o", "bad"), 2, "--output"),
    (("lag", "--fail-on", "bogus"), 2, "--fail-on"),
    (("lag", "--window", "abc"), 2, "--window"),
    (("lag", "--watch", "1", "--window", "5s"), 2, "not both"),
    (("peek", "order.created", "--since", "0001-01-01T00:00:00Z"), 2, "1970"),
    (("peek", "order.created", "--since", "not-a-time"), 2, "not-a-time"),
    (("peek", "order.created", "--offset", "banana"), 2, "banana"),
    (("publish", "order.created", "x", "--partition", "99"), 4, "partition 99"),
    (("publish", "order.created", "x", "--header", "novalue"), 2, "header"),
    (
        ("offsets", "reset", "ec-{u}", "-t", "order.created", "--by-duration", "99999d"),
        2,
        "1970",
    ),
    (
        ("offsets", "reset", "exitcodes-{u}", "--topic", "order.created", "--to-datetime", "x"),
        2,
        "datetime",
    ),
    (("topics", "describe", "no-such-topic-{u}"), 4, "no-such-topic"),
    (("queues", "describe", "no-such-queue-{u}"), 4, "no-such-queue"),
    (("groups", "describe", "no-such-group-{u}"), 4, "no-such-group"),
    (("lag", "kafka:no-such-group-{u}"), 4, "no-such-group"),
    (("peek", "kafka:no-such-topic-{u}"), 4, "no-such-topic"),
    (("-c", "no-such-context-{u}", "topics", "list"), 4, "no-such-context"),
    (("context", "show", "no-such-context-{u}"), 4, "no-such-context"),
]


@pytest.mark.parametrize("args,code,word", BAD_INPUTS, ids=lambda v: str(v)[:60])
def test_bad_input_table(args: tuple[str, ...], code: int, word: str, unique: str) -> None:
    argv = [a.replace("{u}", unique) for a in args]
    line = assert_one_line_error(run_cli("--timeout", "5", *argv), code)
    assert word in line, line


def test_unreachable_broker_is_3(isolated_config: Path, closed_port: int) -> None:
    isolated_config.write_text(
        f'[contexts.down.kafka]\nbootstrap-servers = "127.0.0.1:{closed_port}"\n'
    )
    line = assert_one_line_error(run_cli("--timeout", "2", "-c", "down", "topics", "list"), 3)
    assert f"127.0.0.1:{closed_port}" in line


@pytest.mark.parametrize(
    "args",
    [
        ("peek", "order.created", "-n", "0", "-o", "jsonl"),  # our own writes
        ("lag", "--watch", "0.3"),  # rich's table output (rich exits 1 on EPIPE itself)
    ],
    ids=["jsonl", "table"],
)
def test_broken_pipe_is_141_and_quiet(args: tuple[str, ...]) -> None:
    """`mqctl ... | head -1`: stdout closes early; exit 141, nothing on stderr."""
    env = {**os.environ, "NO_COLOR": "1", "MQCTL_CONFIG": os.devnull}
    process = subprocess.Popen(
        [MQCTL, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    assert first.strip()
    process.stdout.close()  # what `head -1` does after its line
    try:
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    stderr = process.stderr.read().decode()
    assert code == 141, stderr
    assert "error" not in stderr.lower() and "Traceback" not in stderr, stderr
