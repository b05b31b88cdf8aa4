"""Contexts and config: precedence, validation errors, redaction, context commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli

GOOD = """
current-context = "staging"

[contexts.staging]
description = "staging cluster"
[contexts.staging.kafka]
bootstrap-servers = "127.0.0.1:9092"
[contexts.staging.rabbitmq]
url = "amqp://ops@127.0.0.1:5672/"
management-url = "http://127.0.0.1:15672"
password = "s3cr3t-pass"

[contexts.kafka-only.kafka]
bootstrap-servers = "127.0.0.1:9092"
"""


def test_no_config_gives_builtin_local_context(
    isolated_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the default place (no MQCTL_CONFIG) may have no file at all
    monkeypatch.delenv("MQCTL_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    from mqctl.config.loader import config_path

    assert not config_path().exists()
    result = run_cli("context", "list", "-o", "json")
    assert result.exit_code == 0, result.output
    contexts = json.loads(result.stdout)
    assert [c["name"] for c in contexts] == ["local"]
    assert contexts[0]["current"] is True
    assert contexts[0]["brokers"] == ["kafka", "rabbitmq"]


def test_context_precedence(isolated_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolated_config.write_text(GOOD)

    def current() -> str:
        rows = json.loads(run_cli("context", "list", "-o", "json").stdout)
        return next(r["name"] for r in rows if r["current"])

    assert current() == "staging"  # current-context in the file
    monkeypatch.setenv("MQCTL_CONTEXT", "kafka-only")
    assert current() == "kafka-only"  # env beats the file
    rows = json.loads(run_cli("-c", "local", "context", "list", "-o", "json").stdout)
    assert next(r["name"] for r in rows if r["current"]) == "local"  # flag beats env


def test_show_redacts_every_secret(isolated_config: Path) -> None:
    isolated_config.write_text(GOOD)
    for fmt in ("yaml", "json"):
        result = run_cli("context", "show", "staging", "-o", fmt)
        assert result.exit_code == 0, result.output
        assert "s3cr3t-pass" not in result.output
        assert "***" in result.stdout


def test_password_in_url_is_redacted(isolated_config: Path) -> None:
    isolated_config.write_text(
        '[contexts.x.rabbitmq]\nurl = "amqp://ops:hunter2-secret@127.0.0.1:5672/"\n'
    )
    result = run_cli("context", "show", "x")
    assert result.exit_code == 0, result.output
    assert "hunter2-secret" not in result.output
    assert "amqp://ops:***@127.0.0.1:5672/" in result.stdout


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("current-context = [", "invalid TOML"),
        ("colour = 1", "unknown top-level key 'colour'"),
        ("[contexts.a]\ntimeout = 'x'", "contexts.a.timeout"),
        ("[contexts.a]\nread-only = 'yes'", "contexts.a.read-only: expected true or false"),
        ("[contexts.a]\nfoo = 1", "contexts.a.foo: unknown key"),
        ("[contexts.a.kafka]\nbootstrap-servers = 9092", "bootstrap-servers: expected a string"),
        ("[contexts.a.kafka]\nbootstrap-servers = 'nohost'", "is not host:port"),
        ("[contexts.a.kafka]\nbootstrap-servers = 'h:1'\nretries = 3", "unknown key 'retries'"),
        ("[contexts.a.rabbitmq]\nurl = 'http://x/'", "expected an amqp:// or amqps:// URL"),
        ("[contexts.a.rabbitmq]\npassword-env = 'MQCTL_TEST_UNSET_VAR'", "MQCTL_TEST_UNSET_VAR"),
        ("[contexts.a.nosuch]\nx = 1", "no backend named 'nosuch'"),
        ("tui = 3", "tui: expected a table"),
        ("[tui]\nrefresh = 0.1", "tui.refresh: must be at least 0.5 seconds"),
        ("[tui]\nrefresh = 'fast'", "tui.refresh: expected a number of seconds"),
        ("[tui]\nrefresh = nan", "tui.refresh: must be at least 0.5 seconds"),
        ("[tui]\ncolour = 1", "tui.colour: unknown key"),
        ("decoders = 1", "decoders: expected a table of decoder tables"),
        ("[decoders]\navro = 1", "decoders.avro: expected a table of the decoder's options"),
        ("[contexts.a.decoders]\navro = 'x'", "contexts.a.decoders.avro: expected a table"),
    ],
)
def test_invalid_config_is_one_line_exit_2(isolated_config: Path, text: str, expected: str) -> None:
    isolated_config.write_text(text)
    result = run_cli("-c", "a", "topics", "list")
    assert result.exit_code == 2, result.output
    assert expected in result.stderr
    assert "Traceback" not in result.output
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: ")
    assert str(isolated_config) in first  # names the file


def test_unknown_context_is_exit_4() -> None:
    result = run_cli("-c", "nope", "topics", "list")
    assert result.exit_code == 4
    assert "context 'nope' not found" in result.stderr


def test_context_add_use_show_remove(isolated_config: Path) -> None:
    added = run_cli(
        "context",
        "add",
        "dev",
        "--kafka",
        "127.0.0.1:9092",
        "--rabbitmq",
        "amqp://guest@127.0.0.1:5672/",
        "--password-env",
        "MQCTL_PW",
        "--description",
        "dev box",
    )
    assert added.exit_code == 0, added.output
    assert isolated_config.stat().st_mode & 0o077 == 0  # may hold secrets: owner only
    assert run_cli("context", "add", "dev", "--kafka", "h:1").exit_code == 2  # exists
    assert run_cli("context", "use", "dev").exit_code == 0
    rows = json.loads(run_cli("context", "list", "-o", "json").stdout)
    assert next(r["name"] for r in rows if r["current"]) == "dev"
    shown = json.loads(run_cli("context", "show", "-o", "json").stdout)
    assert shown["brokers"]["rabbitmq"]["password-env"] == "MQCTL_PW"
    assert run_cli("context", "use", "missing").exit_code == 4
    assert run_cli("context", "remove", "dev", "--yes").exit_code == 0
    rows = json.loads(run_cli("context", "list", "-o", "json").stdout)
    assert [r["name"] for r in rows] == ["local"]


def test_context_add_rejects_bad_values() -> None:
    result = run_cli("context", "add", "bad", "--kafka", "no-port")
    assert result.exit_code == 2
    assert "host:port" in result.stderr
    assert run_cli("context", "add", "empty").exit_code == 2


def test_password_command_and_env(monkeypatch: pytest.MonkeyPatch, isolated_config: Path) -> None:
    from mqctl.config.secrets import Secret, read_secret

    monkeypatch.setenv("MQCTL_TEST_PW", "from-env-pw")
    secret = read_secret({"password-env": "MQCTL_TEST_PW"}, "x")
    assert isinstance(secret, Secret) and secret.reveal() == "from-env-pw"
    assert "from-env-pw" not in repr(secret) and "from-env-pw" not in str(secret)
    secret = read_secret({"password-command": "echo from-cmd-pw"}, "x")
    assert secret is not None and secret.reveal() == "from-cmd-pw"
    isolated_config.write_text("[contexts.a.rabbitmq]\npassword-command = 'false'\n")
    result = run_cli("-c", "a", "queues", "list")
    assert result.exit_code == 2
    assert "password-command: the command exited with 1" in result.stderr


@pytest.mark.parametrize(
    ("text", "args", "expected"),
    [
        ("", (), 5.0),
        ("[tui]\nrefresh = 2", (), 2.0),
        ("[tui]\nrefresh = 2", ("--refresh", "7.5"), 7.5),  # the option wins
    ],
)
def test_tui_refresh_from_config(
    isolated_config: Path,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    args: tuple[str, ...],
    expected: float,
) -> None:
    from mqctl_tui import app as tui_app

    seen: dict[str, object] = {}
    monkeypatch.setattr(tui_app, "run_app", lambda context, **kw: seen.update(kw))
    monkeypatch.setattr("mqctl.cli.tui.interactive_terminal", lambda: True)  # tests: no TTY
    isolated_config.write_text(text)
    result = run_cli("tui", *args)
    assert result.exit_code == 0, result.output
    assert seen["refresh"] == expected


def test_decoder_options_shared_and_per_context(isolated_config: Path) -> None:
    from mqctl.config import load_config

    isolated_config.write_text(
        "[decoders.avro]\nschemas = ['/s']\navro-schema = 'a.B'\n"
        "[decoders.protobuf]\nprotobuf-message = 'p.M'\n"
        "[contexts.prod.kafka]\nbootstrap-servers = '127.0.0.1:9092'\n"
        "[contexts.prod.decoders.avro]\navro-schema = 'prod.B'\n"
    )
    config = load_config()
    assert config.contexts["prod"].decoders == {
        "avro": {"schemas": ["/s"], "avro-schema": "prod.B"},  # the context's key wins
        "protobuf": {"protobuf-message": "p.M"},
    }
    assert config.contexts["local"].decoders["avro"]["avro-schema"] == "a.B"
    assert "decoders" not in config.contexts["prod"].backends  # not a broker section


def test_missing_explicit_config_file_is_exit_2(
    isolated_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = isolated_config.parent / "nowhere.toml"
    monkeypatch.setenv("MQCTL_CONFIG", str(missing))
    for args in (("context", "list"), ("topics", "list"), ("lag",)):
        result = run_cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith(f"error: config file {missing} (from MQCTL_CONFIG)")
    # the first `context add` creates it
    result = run_cli("context", "add", "dev", "--kafka", "127.0.0.1:9092")
    assert result.exit_code == 0, result.output
    assert missing.exists()
    assert run_cli("context", "list").exit_code == 0
