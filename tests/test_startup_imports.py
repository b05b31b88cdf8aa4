"""Lean start-up (issue 19): a command imports what it needs and nothing else.

Import guards, not timings: ``mqctl lag``, ``publish`` and ``peek`` on a Kafka-only context run
in a fresh interpreter and the test reads which modules it ended up with. And the name ->
modules table of ``mqctl.cli.app`` (each run imports only the invoked command's modules) must
build every command exactly as registering all modules does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kafka_helpers import kafka_only, scratch_topic

ROOT = Path(__file__).resolve().parent.parent

# What a Kafka-only context never needs: the RabbitMQ backend and its clients, other backend
# plugins, the entry point scan (importlib.metadata), the TUI and rich rendering (-o json).
NOT_FOR_KAFKA = (
    "httpx",
    "aio_pika",
    "aiormq",
    "pamqp",
    "mqctl.backends.rabbitmq",
    "mqctl_redis_streams",
    "redis",
    "importlib.metadata",
    "textual",
    "rich",
)

_RUN = """
import json, sys
from mqctl.cli.app import run
code = 0
try:
    run(sys.argv[2:])
except SystemExit as exc:
    code = exc.code
with open(sys.argv[1], "w") as fh:
    json.dump({"code": code, "modules": sorted(sys.modules)}, fh)
"""


def _modules_after(tmp_path: Path, *argv: str, stdin: str | None = None) -> set[str]:
    """Run the CLI in a fresh interpreter; the modules it had imported when it finished."""
    report = tmp_path / "modules.json"
    proc = subprocess.run(
        [sys.executable, "-c", _RUN, str(report), *argv],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    result = json.loads(report.read_text())
    assert result["code"] in (0, None), proc.stderr
    return set(result["modules"])


def _unwanted(modules: set[str], command_module: str, *allowed: str) -> list[str]:
    from mqctl.cli.app import COMMAND_MODULES

    others = [m for m in COMMAND_MODULES if m != command_module]
    unwanted = [p for p in NOT_FOR_KAFKA if p not in allowed]
    return sorted(
        m for m in modules if m in others or any(m == p or m.startswith(p + ".") for p in unwanted)
    )


def test_lag_on_a_kafka_only_context_imports_only_what_it_uses(
    isolated_config: Path, tmp_path: Path
) -> None:
    kafka_only(isolated_config)
    modules = _modules_after(tmp_path, "lag", "--all-groups", "-o", "json")
    assert "mqctl.backends.kafka.lag" in modules  # it did run
    assert _unwanted(modules, "mqctl.cli.lag") == []
    # topics, queues and destinations are not lag's: their models are slow to define
    assert "mqctl.models.inventory" not in modules


def test_publish_and_peek_on_a_kafka_only_context_import_only_what_they_use(
    isolated_config: Path, tmp_path: Path, unique: str
) -> None:
    kafka_only(isolated_config)
    topic = f"startup-{unique}"
    with scratch_topic(topic, 1):
        modules = _modules_after(tmp_path, "publish", topic, "-", stdin="one\ntwo\n")
        assert "aiokafka.producer" in modules
        assert _unwanted(modules, "mqctl.cli.publish") == []
        modules = _modules_after(tmp_path, "peek", topic, "-n", "2", "-o", "jsonl")
        assert "mqctl.backends.kafka.peek" in modules
        # peek asks the decoder plugins (entry points) whether they claim a value
        assert _unwanted(modules, "mqctl.cli.peek", "importlib.metadata") == []


# Builds, in one fresh interpreter, every command's tree from its table entry alone (the
# command modules are imported anew for each, so no registration leaks from one to the next)
# and the full tree, and prints both as JSON.
_TREES = """
import json, sys
import typer
from mqctl.cli import app as cli_app

def shape(command):
    subs = getattr(command, "commands", None) or {}
    return {
        "help": command.help,
        "params": [[p.name, *getattr(p, "opts", [])] for p in command.params],
        "commands": {name: shape(sub) for name, sub in subs.items()},
    }

def fresh():
    for name in [m for m in sys.modules if m.startswith("mqctl.cli.")]:
        if name not in ("mqctl.cli.app", "mqctl.cli.common", "mqctl.cli.typer_internals"):
            del sys.modules[name]
    cli_app._registered.clear()
    cli_app._app.registered_commands.clear()
    cli_app._app.registered_groups.clear()

alone = {}
for name in cli_app.COMMANDS:
    fresh()
    tree = cli_app.command_tree(name)
    alone[name] = {n: shape(c) for n, c in tree.commands.items()}
fresh()
full = typer.main.get_command(cli_app.full_app())
print(json.dumps({"alone": alone, "full": {n: shape(c) for n, c in full.commands.items()}}))
"""


def test_command_table_builds_each_command_as_registering_everything_does() -> None:
    """The table in mqctl/cli/app.py (COMMANDS) names, for each top-level command, every
    module that adds to it; fix the table when this fails."""
    proc = subprocess.run(
        [sys.executable, "-c", _TREES], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    trees = json.loads(proc.stdout)
    full, alone = trees["full"], trees["alone"]
    assert sorted(alone) == sorted(full), "COMMANDS and the registered top-level names differ"
    for name, shape in full.items():
        assert alone[name] == {name: shape}, f"COMMANDS[{name!r}] misses a module"


def test_root_help_lists_commands_in_table_order_whatever_ran_first() -> None:
    """In one process a command may be registered before the others (tests run many): the
    full app still lists them in the table's order, which is the root help's."""
    from mqctl.cli.app import COMMANDS, command_tree, full_app

    command_tree("lag")
    app = full_app()
    help_order = [c.name for c in app.registered_commands] + [g.name for g in app.registered_groups]
    assert help_order == list(COMMANDS)


@pytest.mark.parametrize("name", ["lag", "topics", "connections"])
def test_unknown_and_partial_names_still_see_every_command(name: str) -> None:
    from tests.conftest import run_cli

    assert run_cli(name, "--help").exit_code == 0
    result = run_cli(f"{name}x")
    assert result.exit_code == 2
    assert f"no such command '{name}x'" in result.stderr


def test_builtin_backends_are_found_without_the_entry_point_scan() -> None:
    from mqctl import registry

    registry.backends.cache_clear()
    try:
        assert registry.backend_class("kafka").__name__ == "KafkaBackend"
        assert registry.backend_class("rabbitmq").__name__ == "RabbitMQBackend"
        assert registry.is_backend_name("kafka")
        assert registry.backends.cache_info().currsize == 0  # no scan so far
        assert registry.backend_class("redis-streams") is not None  # a plugin: the scan
        assert registry.backends.cache_info().currsize == 1
        assert registry.backend_class("no-such-backend") is None
    finally:
        registry.backends.cache_clear()


def test_a_plugin_reusing_a_builtin_name_is_the_duplicate_wherever_it_is_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fast path always takes the built-in `kafka`: so does the scan, even when another
    distribution's `kafka` entry point comes first on sys.path."""
    from mqctl import registry

    fixtures = str(Path(__file__).parent / "fixtures" / "plugins")
    monkeypatch.setattr(sys, "path", [fixtures, *sys.path])
    registry.backends.cache_clear()
    try:
        loaded = registry.backends()
        assert loaded.objects["kafka"] is registry.backend_class("kafka")
        kafkas = [(i.distribution, i.loaded, i.error) for i in loaded.infos if i.name == "kafka"]
        assert kafkas == [("mqctl", True, None), ("mqctl-fixture-plugins", False, "duplicate name")]
    finally:
        monkeypatch.undo()
        registry.backends.cache_clear()
        for name in ("mqctl_fixture_broken", "mqctl_fixture_example"):
            sys.modules.pop(name, None)
