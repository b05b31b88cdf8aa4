"""Version, help, plugins, name resolution across brokers, lazy imports, output safety."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import httpx
import pytest

from mqctl import __version__
from tests.conftest import KAFKA, RABBIT_MGMT, run_cli


def test_version() -> None:
    result = run_cli("--version")
    assert result.exit_code == 0
    first, *plugins = result.stdout.splitlines()
    assert first == f"mqctl {__version__}"
    # installed plugin distributions with their versions (the dev environment has both)
    assert any(p.strip().startswith("mqctl-schemas ") for p in plugins)


def test_help_has_examples() -> None:
    for args in (["--help"], ["topics", "list", "--help"], ["queues", "describe", "--help"]):
        result = run_cli(*args)
        assert result.exit_code == 0, result.output
        assert "Examples" in result.stdout


def test_usage_error_is_exit_2() -> None:
    result = run_cli("topics", "list", "--no-such-flag")
    assert result.exit_code == 2
    result = run_cli("topics", "list", "-o", "xml")
    assert result.exit_code == 2


def test_plugins_list_shows_builtin_backends() -> None:
    result = run_cli("plugins", "list", "-o", "json")
    assert result.exit_code == 0, result.output
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    for name in ("kafka", "rabbitmq"):
        assert plugins[name]["kind"] == "backend"
        assert plugins[name]["loaded"] is True
        assert plugins[name]["distribution"] == "mqctl"


def test_help_imports_no_broker_client() -> None:
    """`mqctl --help` must stay fast: no broker client or TUI library is imported for it."""
    code = (
        "import sys\n"
        "from mqctl.cli.app import run\n"
        "try:\n    run(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('aiokafka', 'aio_pika', 'httpx', 'textual', 'yaml') "
        "if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "HEAVY="


@pytest.fixture
def shared_name(unique: str):  # type: ignore[no-untyped-def]
    """A Kafka topic and a RabbitMQ queue with the same name."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    name = f"test.shared.{unique}"

    async def topic(create: bool) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
        await admin.start()
        try:
            if create:
                await admin.create_topics([NewTopic(name, 1, 1)])
            else:
                await admin.delete_topics([name])
        finally:
            await admin.close()

    asyncio.run(topic(True))
    with httpx.Client(base_url=RABBIT_MGMT, auth=("guest", "guest")) as http:
        http.put(f"/api/queues/%2F/{name}", json={"durable": False}).raise_for_status()
        try:
            yield name
        finally:
            http.delete(f"/api/queues/%2F/{name}")
            asyncio.run(topic(False))


def test_resolve_ambiguous_and_prefixed(shared_name: str) -> None:
    from mqctl.config.schema import builtin_local_context
    from mqctl.errors import NotFoundError, UsageError
    from mqctl.services.inventory import resolve
    from mqctl.session import Session

    async def check() -> None:
        async with Session(builtin_local_context()) as session:
            with pytest.raises(UsageError) as ambiguous:
                await resolve(session, shared_name)
            assert f"kafka:{shared_name}" in str(ambiguous.value)
            assert f"rabbitmq:{shared_name}" in str(ambiguous.value)
            kafka = await resolve(session, f"kafka:{shared_name}")
            assert (kafka.backend, kafka.kind) == ("kafka", "topic")
            rabbit = await resolve(session, f"rabbitmq:{shared_name}")
            assert (rabbit.backend, rabbit.kind, rabbit.vhost) == ("rabbitmq", "queue", "/")
            only_kafka = await resolve(session, "order.created")
            assert only_kafka.backend == "kafka"
            only_rabbit = await resolve(session, "notifications_queue")
            assert only_rabbit.backend == "rabbitmq"
            with pytest.raises(NotFoundError):
                await resolve(session, f"nothing.{shared_name}")

    asyncio.run(check())


def test_sanitize_escapes_terminal_sequences() -> None:
    from mqctl.output.sanitize import safe_text

    assert safe_text("a\x1b[31mred\x07\x00b") == "a\\x1b[31mred\\x07\\x00b"
    assert safe_text("tab\tnl\n") == "tab\\tnl\\n"
    assert safe_text("\u202eevil") == "\\u202eevil"
    assert safe_text("plain ✓") == "plain ✓"


@pytest.mark.parametrize("pretty", [True, False])
def test_json_output_escapes_what_a_terminal_would_act_on(pretty: bool) -> None:
    """Every JSON writer (generic, lag's fast one) writes C1 controls, bidi overrides and
    lone surrogates as \\u escapes: the same document, nothing a terminal acts on."""
    import io

    from mqctl.lag.serialize import write_json, write_jsonl
    from mqctl.models.lag import LagEntry, LagStatus
    from mqctl.output.render import dump_json, dump_jsonl

    name = "evil\u202e\x9b31m\ud800é"
    entry = LagEntry("kafka", "group", name, LagStatus.OK, 0, None, topics=[name])
    outputs = []
    for write in (dump_json, write_json) if pretty else (dump_jsonl, write_jsonl):
        out = io.StringIO()
        data = [entry] if write is not write_jsonl else [{"group": name}]
        write(data, out)  # type: ignore[operator]
        outputs.append(out.getvalue())
    for text in outputs:
        assert "\u202e" not in text and "\x9b" not in text and "\ud800" not in text
        assert "\\u202e" in text and "\\u009b" in text and "\\ud800" in text
        assert "é" in text  # other non-ASCII stays as it is
        first = json.loads(text.splitlines()[0] if not pretty else text)
        record = first[0] if isinstance(first, list) else first
        assert record["group"] == name


def test_no_color_and_non_tty_output_has_no_escape_codes() -> None:
    result = run_cli("context", "list")
    assert result.exit_code == 0
    assert "\x1b" not in result.stdout


def test_context_show_check_reports_each_broker(isolated_config, closed_port) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("context", "show", "--check", "-o", "json")
    assert result.exit_code == 0, result.output
    status = {s["backend"]: s for s in json.loads(result.stdout)["status"]}
    assert status["kafka"]["reachable"] and status["rabbitmq"]["reachable"]
    isolated_config.write_text(
        f'[contexts.down.kafka]\nbootstrap-servers = "127.0.0.1:{closed_port}"\n'
    )
    result = run_cli("--timeout", "3", "context", "show", "down", "--check", "-o", "json")
    assert result.exit_code == 3, result.output  # a check: unreachable is exit 3 (issue 17)
    (kafka,) = json.loads(result.stdout)["status"]
    assert kafka["reachable"] is False
    assert f"127.0.0.1:{closed_port}" in kafka["error"]
    assert "(connection refused)" in kafka["error"]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: 1 of 1 broker(s) unreachable: kafka: {kafka['error']}"]


def test_context_show_check_wrong_password_is_3(isolated_config) -> None:  # type: ignore[no-untyped-def]
    isolated_config.write_text(
        '[contexts.badpw.rabbitmq]\nurl = "amqp://guest@127.0.0.1:5672/"\n'
        'password = "not-the-password"\n'
    )
    result = run_cli("--timeout", "3", "context", "show", "badpw", "--check", "-o", "json")
    assert result.exit_code == 3, result.output
    (rabbit,) = json.loads(result.stdout)["status"]
    assert rabbit["reachable"] is False and "refused user 'guest'" in rabbit["error"]
    assert "not-the-password" not in result.output


def test_connect_reasons_are_precise() -> None:
    import socket
    import ssl

    from mqctl.errors import connect_reason

    def caused(inner: BaseException) -> Exception:
        outer = OSError("wrapper")
        outer.__cause__ = inner
        return outer

    assert connect_reason(caused(socket.gaierror(-2, "Name or service not known"))).startswith(
        "DNS lookup failed"
    )
    assert connect_reason(caused(ConnectionRefusedError(111, "refused"))) == "connection refused"
    assert connect_reason(caused(ssl.SSLError(1, "bad"))).startswith("TLS handshake failed")


def test_root_help_cache_is_current(monkeypatch: pytest.MonkeyPatch) -> None:
    """`mqctl --help` prints mqctl/root_help.txt without importing Typer; it must match what
    Typer prints (regenerate with `make help-cache`)."""
    from importlib.resources import files

    from mqctl.__main__ import render_root_help

    monkeypatch.setenv("COLUMNS", "80")
    cached = files("mqctl").joinpath("root_help.txt").read_text(encoding="utf-8")
    assert cached == render_root_help(), "run `make help-cache`"


def test_fast_help_and_version_skip_the_cli_framework() -> None:
    code = (
        "import sys\n"
        "from mqctl.__main__ import main\n"
        "for argv in (['mqctl', '--help'], ['mqctl', '--version']):\n"
        "    sys.argv = argv\n"
        "    main()\n"
        "print('TYPER=' + str('typer' in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Usage: mqctl" in out.stdout
    assert f"mqctl {__version__}" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "TYPER=False"
