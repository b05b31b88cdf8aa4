"""Plugin discovery through entry points and load-error isolation.

The fixture distribution in tests/fixtures/plugins (a dist-info directory put on sys.path for
the test only) brings: a backend whose module fails to import, one declaring an API version
mqctl does not speak, one whose attribute is missing, a duplicate ``kafka``, and the working
minimal examples of docs/plugins.md (an in-memory backend and a rot13 decoder).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mqctl import registry
from tests.conftest import run_cli, write_config

FIXTURES = Path(__file__).parent / "fixtures" / "plugins"
DIST = "mqctl-fixture-plugins"


def _reset() -> None:
    from mqctl.messages import decode

    registry.backends.cache_clear()
    registry.decoders.cache_clear()
    decode._instances.clear()
    for name in ("mqctl_fixture_broken", "mqctl_fixture_example"):
        sys.modules.pop(name, None)


@pytest.fixture
def fixture_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # appended: the real distributions come first, so the fixture's `kafka` is the duplicate
    monkeypatch.setattr(sys, "path", [*sys.path, str(FIXTURES)])
    _reset()
    yield
    monkeypatch.undo()
    _reset()


def _plugins() -> dict[tuple[str, str], dict[str, object]]:
    result = run_cli("plugins", "list", "-o", "json")
    assert result.exit_code == 0, result.stderr
    return {(p["kind"], p["name"]): p for p in json.loads(result.stdout)}


def test_builtin_and_first_party_plugins_are_listed() -> None:
    plugins = _plugins()
    for kind, name, dist in (
        ("backend", "kafka", "mqctl"),
        ("backend", "rabbitmq", "mqctl"),
        ("backend", "redis-streams", "mqctl-redis-streams"),
        ("decoder", "avro", "mqctl-schemas"),
        ("decoder", "protobuf", "mqctl-schemas"),
    ):
        info = plugins[(kind, name)]
        assert info["distribution"] == dist
        assert info["loaded"] is True and info["error"] is None
        assert info["version"]


@pytest.mark.usefixtures("fixture_plugins")
def test_broken_plugins_are_listed_with_their_errors() -> None:
    plugins = _plugins()
    broken = plugins[("backend", "broken-import")]
    assert broken["loaded"] is False
    assert broken["distribution"] == DIST and broken["version"] == "0.0.1"
    assert broken["target"] == "mqctl_fixture_broken:BrokenBackend"
    assert broken["error"] == (
        "ImportError: this plugin is broken on purpose (missing dependency 'nonexistent-lib')"
    )
    future = plugins[("backend", "future-api")]
    assert future["loaded"] is False
    assert "declares api_version 2, this mqctl speaks 1" in str(future["error"])
    assert str(plugins[("backend", "missing-attr")]["error"]).startswith("AttributeError")
    assert plugins[("decoder", "broken-decoder")]["loaded"] is False
    assert plugins[("backend", "example")]["loaded"] is True
    assert plugins[("decoder", "rot13")]["loaded"] is True
    # the duplicate `kafka` is refused; the built-in one still works
    kafkas = [
        p
        for p in json.loads(run_cli("plugins", "list", "-o", "json").stdout)
        if p["name"] == "kafka"
    ]
    assert [(p["distribution"], p["loaded"]) for p in kafkas] == [("mqctl", True), (DIST, False)]
    assert kafkas[1]["error"] == "duplicate name"
    assert registry.backends().objects["kafka"].__module__.startswith("mqctl.backends.kafka")


@pytest.mark.usefixtures("fixture_plugins")
def test_table_shows_name_kind_distribution_version_and_error() -> None:
    result = run_cli("plugins", "list")
    assert result.exit_code == 0
    header = result.stdout.splitlines()[0].split()
    assert header[:5] == ["NAME", "KIND", "DISTRIBUTION", "VERSION", "TARGET"]
    assert "ERROR" in header
    line = next(line for line in result.stdout.splitlines() if line.startswith("broken-import"))
    assert "mqctl-fixture-plugins" in line and "0.0.1" in line and "ImportError" in line


@pytest.mark.usefixtures("fixture_plugins")
def test_cli_keeps_working_and_warns_once_per_broken_plugin(isolated_config: Path) -> None:
    write_config(
        isolated_config,
        'current-context = "ex"\n[contexts.ex.example]\ntopics = ["alpha", "beta"]\n',
    )
    result = run_cli("topics", "list", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert [t["name"] for t in json.loads(result.stdout)] == ["alpha", "beta"]
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert any("'broken-import'" in w and "skipped: ImportError" in w for w in warnings)
    assert all("Traceback" not in line for line in result.stderr.splitlines())


@pytest.mark.usefixtures("fixture_plugins")
def test_missing_capability_is_a_clear_exit_2(isolated_config: Path) -> None:
    write_config(isolated_config, 'current-context = "ex"\n[contexts.ex.example]\n')
    result = run_cli("lag")
    assert result.exit_code == 2
    assert "has no broker that supports it" in result.stderr
    result = run_cli("peek", "example:alpha")
    assert result.exit_code in (2, 4)
    assert "Traceback" not in result.stderr


@pytest.mark.usefixtures("fixture_plugins")
def test_plugin_config_errors_and_unloadable_backends(isolated_config: Path) -> None:
    write_config(isolated_config, 'current-context = "ex"\n[contexts.ex.example]\ntopics = 3\n')
    result = run_cli("topics", "list")
    assert result.exit_code == 2
    assert "contexts.ex.example.topics: expected an array of strings" in result.stderr

    write_config(isolated_config, 'current-context = "b"\n[contexts.b.broken-import]\n')
    result = run_cli("topics", "list")
    assert result.exit_code == 2
    assert "no backend named 'broken-import' is installed" in result.stderr


@pytest.mark.usefixtures("fixture_plugins")
def test_example_decoder_plugin() -> None:
    from mqctl.messages import decode

    assert "rot13" in decode.available()
    assert decode.decode_value(b"uryyb", "rot13").text == "hello"
    claimed = decode.decode_value(b"uryyb", "auto", [("content-encoding", b"rot13")])
    assert (claimed.format, claimed.data) == ("rot13", "hello")
    assert decode.decode_value(b"uryyb", "auto").format == "text"
    # a decoder failing on a value is an error on that message only
    bad = decode.decode_value(b"\xff", "rot13")
    assert bad.format == "base64" and bad.error is not None and bad.error.startswith("rot13:")
