"""Optional backend features are typed capability Protocols (mqctl/backend.py), checked with
``isinstance`` / ``Session.backend_for``: never found by name with getattr/hasattr."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any, Protocol

import pytest

from mqctl import backend as api

ROOT = Path(__file__).resolve().parent.parent
SCANNED = [ROOT / "mqctl", ROOT / "tui" / "mqctl_tui"]


def _capabilities(module: Any = api) -> dict[str, type]:
    return {
        name: obj
        for name, obj in vars(module).items()
        if inspect.isclass(obj)
        and issubclass(obj, Protocol)  # type: ignore[arg-type]
        and obj is not Protocol
        and obj is not api.Backend
        and obj.__module__ == module.__name__
    }


def _all_capabilities() -> dict[str, type]:
    """The Protocols of mqctl/backend.py and the feature ones defined next to their core
    (redrive planning, doctor checks, admin verbs)."""
    import mqctl.admin_capabilities
    import mqctl.dlq.planning
    import mqctl.doctor.capability

    found = _capabilities()
    for module in (mqctl.dlq.planning, mqctl.doctor.capability, mqctl.admin_capabilities):
        found.update(_capabilities(module))
    return found


def _members(capability: type) -> set[str]:
    return {n for n in vars(capability) if not n.startswith("_")}


def test_capability_members() -> None:
    """The Protocols the guard below knows (a renamed one would silently escape it)."""
    names = set(_capabilities())
    assert {
        "TopicCatalog",
        "QueueCatalog",
        "QueueStatsPages",
        "ExchangeDetails",
        "ConnectionLister",
        "MessageReader",
        "MessageWriter",
        "MessageBatches",
        "ResultTallies",
        "ValueChunks",
        "LagSource",
        "GroupAdmin",
        "TopicAdmin",
        "QueueAdmin",
        "DeadLetterSupport",
    } <= names
    for name in names:
        assert getattr(api, name).__dict__.get("_is_runtime_protocol"), f"{name} not runtime"


def _getattr_calls(path: Path) -> list[ast.Call]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("getattr", "hasattr")
        and len(node.args) >= 2
    ]


def _where(path: Path, node: ast.Call) -> str:
    return f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}"


def test_no_capability_is_found_by_name() -> None:
    """No ``getattr(x, "describe_exchange")``-style look-up of a Protocol member anywhere."""
    members = set().union(*(_members(c) for c in _all_capabilities().values()))
    assert {"describe_exchange", "list_connections", "batches", "check_redrive"} <= members
    assert {"describe_cluster", "set_policy"} <= members
    offenders = [
        _where(path, call)
        for root in SCANNED
        for path in root.rglob("*.py")
        for call in _getattr_calls(path)
        if isinstance(call.args[1], ast.Constant) and call.args[1].value in members
    ]
    assert offenders == [], "use the capability Protocol instead:\n" + "\n".join(offenders)


def test_views_and_services_never_look_up_backend_methods_by_name() -> None:
    """No ``getattr(backend, method)`` dispatch (the old ``cli/amqp.py`` ``_call``) in the
    views or the core (services, doctor, lag, dlq, ...): they ask the Session for a
    capability. Only the backends themselves are left out."""
    backends = ROOT / "mqctl" / "backends"
    offenders = [
        _where(path, call)
        for root in SCANNED
        for path in root.rglob("*.py")
        if backends not in path.parents
        for call in _getattr_calls(path)
        if not isinstance(call.args[1], ast.Constant)
        and "backend" in ast.unparse(call.args[0]).lower()
    ]
    assert offenders == [], "use Session.backend_for(capability, ...):\n" + "\n".join(offenders)


def _backend(name: str) -> Any:
    from mqctl import registry

    cls = registry.backends().objects[name]
    return cls


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "kafka",
            {
                "TopicCatalog",
                "TopicAdmin",
                "MessageReader",
                "MessageWriter",
                "LagSource",
                "GroupAdmin",
                "DeadLetterSupport",
            },
        ),
        (
            "rabbitmq",
            {
                "QueueCatalog",
                "QueueStatsPages",
                "ExchangeDetails",
                "ConnectionLister",
                "QueueAdmin",
                "MessageReader",
                "MessageWriter",
                "LagSource",
                "DeadLetterSupport",
            },
        ),
    ],
)
def test_builtin_backends_implement_their_protocols(name: str, expected: set[str]) -> None:
    cls = _backend(name)
    section = {"bootstrap-servers": "127.0.0.1:9092"} if name == "kafka" else {}
    assert isinstance(cls.from_config(section, context="t", timeout=1.0), api.Backend)
    # Fast-path Protocols describe what a call returns, not the backend itself.
    whole = {
        n
        for n, c in _capabilities().items()
        if n not in ("MessageBatches", "ResultTallies", "ValueChunks")
    }
    implemented = {n for n in whole if issubclass(cls, _capabilities()[n])}
    assert implemented == expected


def test_fast_paths_are_declared() -> None:
    """What Kafka's peek and publish return, and what stdin publishing gives them, are the
    declared fast-path Protocols (the services check with isinstance)."""
    from mqctl.backends.kafka.peek import KafkaPeek
    from mqctl.backends.kafka.publish_batch import BatchedPublish
    from mqctl.messages.sources import AsyncMessages

    assert issubclass(BatchedPublish, api.ResultTallies)
    assert issubclass(KafkaPeek, api.MessageBatches)
    assert issubclass(AsyncMessages, api.ValueChunks)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("kafka", {"ReplicaHealthSource"}),
        ("rabbitmq", {"NodeHealthSource", "QuorumHealthSource", "ConnectionChurnSource"}),
    ],
)
def test_builtin_backends_give_the_doctor_its_facts(name: str, expected: set[str]) -> None:
    """The doctor's cluster checks read typed capabilities, never a backend's clients
    (``probe.backend.api`` / ``.connection``): each built-in backend offers its own."""
    import mqctl.doctor.capability as doctor

    found = {n for n, c in _capabilities(doctor).items() if n != "HealthChecks"}
    assert found == {
        "ReplicaHealthSource",
        "NodeHealthSource",
        "QuorumHealthSource",
        "ConnectionChurnSource",
    }
    cls = _backend(name)
    assert {n for n in found if issubclass(cls, _capabilities(doctor)[n])} == expected


def test_doctor_never_reaches_into_a_backend() -> None:
    """No check reads a backend's attributes (its clients) beyond its Protocols' members."""
    from mqctl.doctor.capability import HealthChecks

    allowed = set().union(*(_members(c) for c in _all_capabilities().values()))
    allowed |= set(HealthChecks.__annotations__)  # health_checks, a class attribute
    allowed |= {"name", "status"}  # the Backend Protocol
    offenders = []
    for path in (ROOT / "mqctl" / "doctor").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        offenders += [
            f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and ast.unparse(node.value).endswith("backend")
            and node.attr not in allowed
        ]
        offenders += [
            f"{path.relative_to(ROOT)}:{node.lineno}: imports {node.module}"
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mqctl.backends")
        ]
    assert offenders == [], "use a capability of mqctl/doctor/capability.py:\n" + "\n".join(
        offenders
    )
