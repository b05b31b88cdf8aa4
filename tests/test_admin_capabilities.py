"""Which built-in backend offers which admin capability (mqctl/admin_capabilities.py):
broker-free, like tests/test_capabilities.py for mqctl/backend.py."""

from __future__ import annotations

import inspect
from typing import Protocol

import pytest

from mqctl import admin_capabilities as admin
from mqctl import registry


def _capabilities() -> dict[str, type]:
    return {
        name: obj
        for name, obj in vars(admin).items()
        if inspect.isclass(obj)
        and issubclass(obj, Protocol)  # type: ignore[arg-type]
        and obj is not Protocol
        and obj.__module__ == admin.__name__
    }


def test_all_admin_capabilities_are_runtime_checkable() -> None:
    assert set(_capabilities()) == {
        "ClusterMetadataSource",
        "ConfigAdmin",
        "OffsetDeleter",
        "AclAdmin",
        "PolicyAdmin",
        "TopologyAdmin",
        "AccessAdmin",
        "BrokerOperations",
        "FederationStatus",
    }
    for capability in _capabilities().values():
        assert capability.__dict__.get("_is_runtime_protocol")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("kafka", {"ClusterMetadataSource", "ConfigAdmin", "OffsetDeleter", "AclAdmin"}),
        (
            "rabbitmq",
            {"PolicyAdmin", "TopologyAdmin", "AccessAdmin", "BrokerOperations", "FederationStatus"},
        ),
        ("redis-streams", set()),
    ],
)
def test_builtin_backends_offer_their_admin_capabilities(name: str, expected: set[str]) -> None:
    cls = registry.backends().objects.get(name)
    if cls is None:
        pytest.skip(f"the {name} backend is not installed")
    offered = {n for n, cap in _capabilities().items() if issubclass(cls, cap)}
    assert offered == expected
