"""Kafka ACLs on a real broker with StandardAuthorizer (scripts/acl-broker.sh, its own
single node on 127.0.0.1:29392, started here when not running and stopped afterwards if this
module started it); the shared Kafka has no authorizer, which is "not supported"."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import KAFKA, run_cli

pytestmark = pytest.mark.kafka

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "acl-broker.sh"
ACL_KAFKA = "127.0.0.1:29392"


def _script(action: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), action], capture_output=True, text=True, timeout=240, check=False
    )


@pytest.fixture(scope="module")
def acl_broker() -> Iterator[str]:
    was_up = " up " in f" {_script('status').stdout} "
    if not was_up:
        started = _script("up")
        if started.returncode != 0:
            pytest.fail(f"the ACL broker did not start: {started.stdout}{started.stderr}")
    yield ACL_KAFKA
    if not was_up:
        _script("down")


@pytest.fixture
def config(isolated_config: Path, acl_broker: str) -> Path:
    isolated_config.write_text(
        f'current-context = "acl"\n[contexts.acl.kafka]\nbootstrap-servers = "{acl_broker}"\n'
        f'[contexts.plain.kafka]\nbootstrap-servers = "{KAFKA}"\n'
        f"[contexts.ro]\nread-only = true\n"
        f'[contexts.ro.kafka]\nbootstrap-servers = "{acl_broker}"\n'
    )
    return isolated_config


def as_json(*args: str) -> Any:
    result = run_cli(*args, "-o", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_create_list_delete(config: Path, unique: str) -> None:
    alice = f"User:alice-{unique}"
    topic = f"orders-{unique}"
    base = ["--principal", alice, "--resource-type", "topic", "--resource-name", topic]
    dry = as_json("acls", "create", *base, "--operation", "read", "--dry-run")
    assert dry["dry_run"] is True
    assert as_json("acls", "list", "--principal", alice) == []
    made = as_json("acls", "create", *base, "--operation", "read")
    assert made["acls"][0]["operation"] == "read" and made["dry_run"] is False
    as_json("acls", "create", *base, "--operation", "write", "--permission", "deny")
    prefixed = [*base[:-1], f"{topic}.", "--pattern-type", "prefixed"]
    as_json("acls", "create", *prefixed, "--operation", "describe")

    mine = as_json("acls", "list", "--principal", alice)
    assert {(a["operation"], a["permission"], a["pattern_type"]) for a in mine} == {
        ("read", "allow", "literal"),
        ("write", "deny", "literal"),
        ("describe", "allow", "prefixed"),
    }
    literal = as_json("acls", "list", "--principal", alice, "--pattern-type", "literal")
    assert len(literal) == 2
    matching = as_json(
        "acls", "list", "--resource-type", "topic", "--resource-name", f"{topic}.x",
        "--pattern-type", "match",
    )  # fmt: skip
    assert [a["operation"] for a in matching] == ["describe"]  # the prefixed one applies

    plan = as_json("acls", "delete", "--principal", alice, "--operation", "write", "--dry-run")
    assert [a["operation"] for a in plan["acls"]] == ["write"]
    assert len(as_json("acls", "list", "--principal", alice)) == 3
    refused = run_cli("acls", "delete", "--principal", alice)  # no terminal, no --yes
    assert refused.exit_code == 2
    gone = as_json("acls", "delete", "--principal", alice, "--operation", "write", "--yes")
    assert [a["operation"] for a in gone["acls"]] == ["write"]
    assert len(as_json("acls", "list", "--principal", alice)) == 2
    rest = as_json("acls", "delete", "--principal", alice, "--yes")
    assert len(rest["acls"]) == 2
    assert as_json("acls", "list", "--principal", alice) == []
    again = run_cli("acls", "delete", "--principal", alice, "--yes")
    assert again.exit_code == 4


def test_refusals_and_audit(config: Path, unique: str) -> None:
    from mqctl import audit

    bad_op = run_cli(
        "acls", "create", "--principal", "User:x", "--operation", "fly",
        "--resource-type", "topic", "--resource-name", "t",
    )  # fmt: skip
    assert bad_op.exit_code == 2 and "choose from" in bad_op.stderr
    no_type = run_cli(
        "acls", "create", "--principal", "alice", "--operation", "read",
        "--resource-type", "topic", "--resource-name", "t", "--dry-run",
    )  # fmt: skip
    assert no_type.exit_code == 2 and "TYPE:NAME" in no_type.stderr
    everything = run_cli("acls", "delete", "--yes")
    assert everything.exit_code == 2 and "every ACL" in everything.stderr
    plain = run_cli("-c", "plain", "acls", "list")
    assert plain.exit_code == 2 and "no authorizer" in plain.stderr
    ro = run_cli(
        "-c", "ro", "acls", "create", "--principal", f"User:{unique}", "--operation", "read",
        "--resource-type", "group", "--resource-name", "g",
    )  # fmt: skip
    assert ro.exit_code == 2 and "read-only" in ro.stderr
    records = audit.read()
    # bad input is a failed attempt; the dry run is not recorded; read-only is a refusal
    assert [(r["action"], r["outcome"]) for r in records] == [
        ("acl create", "failed"),
        ("acl create", "refused"),
    ]
    principal = f"User:audited-{unique}"
    args = ["--principal", principal, "--resource-type", "group", "--resource-name", "g"]
    assert run_cli("acls", "create", *args, "--operation", "read").exit_code == 0
    assert run_cli("acls", "delete", "--principal", principal, "--yes").exit_code == 0
    last = audit.read()[-2:]
    assert [(r["action"], r["outcome"]) for r in last] == [
        ("acl create", "ok"),
        ("acl delete", "ok"),
    ]
    assert last[1]["counts"] == {"acls": 1}
