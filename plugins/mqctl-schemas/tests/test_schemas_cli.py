"""`mqctl schemas list|show` and `mqctl publish --schema-subject` through the CLI: the registry
is the stand-in of conftest.py, the broker the real local Kafka. Publish with a schema, then
`peek --decode` gives back the same JSON; a value that does not fit is exit 2 naming the
field, with nothing sent."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_schemas_protobuf import common_file, order_file, serialized

from tests.conftest import KAFKA, run_cli
from tests.kafka_helpers import create_topic, delete_topic

ORDER = {
    "type": "record",
    "name": "Order",
    "namespace": "com.acme",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "qty", "type": "int"},
        {"name": "note", "type": ["null", "string"], "default": None},
        {"name": "tags", "type": {"type": "array", "items": "string"}, "default": []},
        {
            "name": "customer",
            "type": {
                "type": "record",
                "name": "Customer",
                "fields": [
                    {"name": "name", "type": "string"},
                    {"name": "zip", "type": "string"},
                ],
            },
        },
        {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}},
        {"name": "payload", "type": "bytes", "default": ""},
        {"name": "created", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {
            "name": "price",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2},
        },
    ],
}

VALUE = {
    "id": "o-1",
    "qty": 3,
    "note": None,
    "tags": ["a", "ü"],
    "customer": {"name": "Ada", "zip": "10115"},
    "status": "PAID",
    "payload": {"base64": base64.b64encode(b"\x00\xff").decode()},
    "created": "2026-12-06T10:00:00.123000+00:00",
    "price": "12.50",
}


def _use(config: Path, registry_url: str) -> None:
    config.write_text(
        f'current-context = "k"\n[contexts.k.kafka]\nbootstrap-servers = "{KAFKA}"\n'
        f'schema-registry = "{registry_url}"\n'
    )


@pytest.fixture
def avro_registry(registry: Any, isolated_config: Path) -> Any:
    first = {**ORDER, "fields": ORDER["fields"][:2]}
    registry.add(1, {"schema": json.dumps(first)}, subject="orders-value", version=1)
    registry.add(2, {"schema": json.dumps(ORDER)}, subject="orders-value", version=2)
    registry.compatibility["orders-value"] = "FULL"
    _use(isolated_config, registry.url)
    return registry


@pytest.fixture
def topic() -> Iterator[str]:
    name = f"mqctl-test-{uuid.uuid4().hex[:8]}-schemas"
    asyncio.run(create_topic(name, 1))
    yield name
    asyncio.run(delete_topic(name))


def _peek(topic: str, decode: str) -> list[dict[str, Any]]:
    result = run_cli("peek", topic, "-o", "json", "--max", "0", "--decode", decode)
    assert result.exit_code == 0, result.stderr
    messages: list[dict[str, Any]] = json.loads(result.stdout)
    return messages


# --- schemas list / show --------------------------------------------------------------------


def test_schemas_list_shows_subjects_versions_type_and_compatibility(avro_registry: Any) -> None:
    avro_registry.add(
        10,
        {"schemaType": "PROTOBUF", "schema": "// proto", "serialized": serialized(common_file())},
        subject="shop-common",
    )
    result = run_cli("schemas", "list", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [
        {
            "subject": "orders-value",
            "versions": 2,
            "latest_version": 2,
            "schema_type": "AVRO",
            "compatibility": "FULL",
        },
        {
            "subject": "shop-common",
            "versions": 1,
            "latest_version": 1,
            "schema_type": "PROTOBUF",
            "compatibility": "BACKWARD",  # the registry's global level
        },
    ]
    table = run_cli("schemas", "list")
    assert table.exit_code == 0
    assert "orders-value" in table.stdout and "FULL" in table.stdout


def test_schemas_show_a_version_and_the_latest(avro_registry: Any) -> None:
    result = run_cli("schemas", "show", "orders-value", "-V", "1", "-o", "json")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["version"] == 1 and shown["schema_id"] == 1 and shown["versions"] == [1, 2]
    assert shown["schema"]["fields"] == ORDER["fields"][:2]
    assert shown["compatibility"] == "FULL"

    latest = run_cli("schemas", "show", "orders-value", "-o", "yaml")
    assert latest.exit_code == 0 and "schema_id: 2" in latest.stdout

    table = run_cli("schemas", "show", "orders-value")
    assert table.exit_code == 0
    assert "schema id:     2" in table.stdout and '"name": "customer"' in table.stdout


def test_schemas_errors_have_their_exit_codes(
    avro_registry: Any, isolated_config: Path, closed_port_url: str
) -> None:
    missing = run_cli("schemas", "show", "nope-value")
    assert missing.exit_code == 4 and "not found" in missing.stderr
    no_version = run_cli("schemas", "show", "orders-value", "-V", "9")
    assert no_version.exit_code == 4
    bad = run_cli("schemas", "show", "orders-value", "-V", "two")
    assert bad.exit_code == 2 and "--version two" in bad.stderr

    _use(isolated_config, closed_port_url)
    down = run_cli("schemas", "list")
    assert down.exit_code == 3 and "cannot reach the schema registry" in down.stderr
    assert "Traceback" not in down.output

    isolated_config.write_text(f'[contexts.k.kafka]\nbootstrap-servers = "{KAFKA}"\n')
    none = run_cli("-c", "k", "schemas", "list")
    assert none.exit_code == 2 and "no schema registry is configured" in none.stderr


def test_schema_credentials_never_shown(avro_registry: Any, isolated_config: Path) -> None:
    avro_registry.credentials = ("svc", "s3cret-pw")
    _use(isolated_config, avro_registry.url.replace("http://", "http://svc:s3cret-pw@"))
    assert run_cli("schemas", "list").exit_code == 0
    _use(isolated_config, avro_registry.url.replace("http://", "http://svc:wrong-pw@"))
    refused = run_cli("schemas", "list")
    assert refused.exit_code == 3 and "refused the credentials" in refused.stderr
    assert "wrong-pw" not in refused.output


# --- publish --schema-subject ---------------------------------------------------------------


def test_publish_avro_round_trips_through_peek(avro_registry: Any, topic: str) -> None:
    result = run_cli(
        "publish", topic, json.dumps(VALUE), "--key", "o-1", "--schema-subject", "orders-value"
    )
    assert result.exit_code == 0, result.stderr
    old = {"id": "o-2", "qty": 1}
    result = run_cli(
        "publish",
        topic,
        json.dumps(old),
        "--schema-subject",
        "orders-value",
        "--schema-version",
        "1",
    )
    assert result.exit_code == 0, result.stderr

    messages = _peek(topic, "avro")
    assert [m["value"] for m in messages] == [VALUE, old]
    auto = _peek(topic, "auto")
    assert [m["value"] for m in auto] == [VALUE, old]

    raw = run_cli("peek", topic, "-o", "json", "--max", "1", "--decode", "base64")
    shown = json.loads(raw.stdout)[0]
    assert shown["value_format"] == "base64"
    framed = base64.b64decode(shown["value"])
    assert framed[0] == 0 and int.from_bytes(framed[1:5], "big") == 2  # magic byte, schema id


def test_publish_fills_defaults_and_takes_unions_by_value(avro_registry: Any, topic: str) -> None:
    value = {k: v for k, v in VALUE.items() if k not in ("note", "tags", "payload")}
    value["price"] = 7  # a number for a decimal
    lines = json.dumps(value) + "\n" + json.dumps({**value, "note": "gift"}) + "\n"
    result = run_cli("publish", topic, "-", "--schema-subject", "orders-value", stdin=lines)
    assert result.exit_code == 0, result.stderr
    first, second = (m["value"] for m in _peek(topic, "avro"))
    assert first["note"] is None and first["tags"] == [] and first["payload"] == {"base64": ""}
    assert first["price"] == "7.00"
    assert second["note"] == "gift"


@pytest.mark.parametrize(
    ("change", "field", "why"),
    [
        ({"qty": "three"}, "field qty", "expected an integer (int)"),
        ({"customer": {"name": "Ada"}}, "field customer.zip", "missing"),
        ({"customer": {"name": "Ada", "zip": 10115}}, "field customer.zip", "expected a string"),
        ({"tags": ["a", 2]}, "field tags[1]", "expected a string"),
        ({"status": "LOST"}, "field status", "expected one of NEW, PAID"),
        ({"colour": "red"}, "field colour", "not in record com.acme.Order"),
        ({"price": "1.234"}, "field price", "more than 2 decimals"),
        ({"qty": 2**40}, "field qty", "out of range"),
    ],
)
def test_publish_value_not_matching_the_schema_is_exit_2_naming_the_field(
    avro_registry: Any, topic: str, change: dict[str, Any], field: str, why: str
) -> None:
    result = run_cli(
        "publish", topic, json.dumps({**VALUE, **change}), "--schema-subject", "orders-value"
    )
    assert result.exit_code == 2, result.output
    assert field in result.stderr and why in result.stderr, result.stderr
    assert "message 1" in result.stderr and "Traceback" not in result.output
    assert _peek(topic, "avro") == []  # nothing was sent


def test_publish_schema_subject_errors(avro_registry: Any, topic: str) -> None:
    unknown = run_cli("publish", topic, "{}", "--schema-subject", "nope-value")
    assert unknown.exit_code == 4 and "nope-value" in unknown.stderr
    not_json = run_cli("publish", topic, "not json", "--schema-subject", "orders-value")
    assert not_json.exit_code == 2 and "not JSON" in not_json.stderr
    version = run_cli(
        "publish", topic, "{}", "--schema-subject", "orders-value", "--schema-version", "0"
    )
    assert version.exit_code == 2 and "--schema-version" in version.stderr
    assert _peek(topic, "avro") == []


def test_publish_protobuf_round_trips_through_peek(
    registry: Any, isolated_config: Path, topic: str
) -> None:
    registry.add(
        10,
        {"schemaType": "PROTOBUF", "schema": "// proto", "serialized": serialized(common_file())},
        subject="shop-common",
    )
    registry.add(
        11,
        {
            "schemaType": "PROTOBUF",
            "schema": "// proto",
            "serialized": serialized(order_file()),
            "references": [{"name": "shop/common.proto", "subject": "shop-common", "version": 1}],
        },
        subject="orders-proto",
    )
    _use(isolated_config, registry.url)
    order = {
        "id": "o-1",
        "qty": -3,
        "price": 12.5,
        "total": 2**40,
        "tags": ["a", "ü"],
        "status": "PAID",
        "created": "2026-12-06T10:00:00.123Z",
        "payload": base64.b64encode(b"\x00\xffbin").decode(),
        "amount": {"currency": "EUR", "cents": 123456},
        "items": [{"sku": "s-1", "count": 2}],
        "big": 7,
    }
    result = run_cli("publish", topic, json.dumps(order), "--schema-subject", "orders-proto")
    assert result.exit_code == 0, result.stderr
    (message,) = _peek(topic, "protobuf")
    assert message["value"] == order

    bad = run_cli(
        "publish", topic, json.dumps({**order, "qty": "x"}), "--schema-subject", "orders-proto"
    )
    assert bad.exit_code == 2 and "qty" in bad.stderr, bad.stderr
    unknown = run_cli(
        "publish", topic, json.dumps({"id": "o", "colour": 1}), "--schema-subject", "orders-proto"
    )
    assert unknown.exit_code == 2 and "colour" in unknown.stderr
    assert len(_peek(topic, "protobuf")) == 1


def test_publish_stops_at_a_later_value_that_does_not_fit(avro_registry: Any, topic: str) -> None:
    """Stdin lines are encoded as they come: the first ones are sent, the bad one stops the
    publish with exit 2 naming the message and the field."""
    lines = json.dumps(VALUE) + "\n" + json.dumps({**VALUE, "qty": None}) + "\n"
    result = run_cli("publish", topic, "-", "--schema-subject", "orders-value", stdin=lines)
    assert result.exit_code == 2, result.output
    assert "message 2: field qty" in result.stderr and "Traceback" not in result.output
    assert "1 message before it was published" in result.stderr
    assert "published 1 message" in result.stdout  # the summary still tells what was sent
    assert [m["value"] for m in _peek(topic, "avro")] == [VALUE]


def test_publish_templates_jsonl_values_and_tombstones(avro_registry: Any, topic: str) -> None:
    template = '{"id": "o-{{seq}}", "qty": {{seq}}}'
    result = run_cli(
        "publish",
        topic,
        template,
        "--template",
        "--count",
        "3",
        "--schema-subject",
        "orders-value",
        "--schema-version",
        "1",
    )
    assert result.exit_code == 0, result.stderr
    lines = [{"value": {"id": "o-4", "qty": 4}, "key": "k"}, {"value": None, "key": "k"}]
    result = run_cli(
        "publish", topic, "--jsonl", "-", "--schema-subject", "orders-value", "--schema-version",
        "1", stdin="".join(json.dumps(line) + "\n" for line in lines),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    values = [m["value"] for m in _peek(topic, "avro")]
    # a tombstone (null value) is sent as one, not encoded
    assert values == [{"id": f"o-{n}", "qty": n} for n in (1, 2, 3, 4)] + [None]


def test_without_the_plugin_entry_point_the_error_says_what_to_install(
    avro_registry: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mqctl import registry

    monkeypatch.setattr(registry, "schema_tools", lambda: registry.LoadedPlugins({}, []))
    result = run_cli("schemas", "list")
    assert result.exit_code == 2 and "needs the mqctl-schemas plugin" in result.stderr


def test_plugins_list_and_version_show_the_schema_tools() -> None:
    listed = run_cli("plugins", "list", "-o", "json")
    assert listed.exit_code == 0, listed.stderr
    (tools,) = [p for p in json.loads(listed.stdout) if p["kind"] == "schema-tools"]
    assert tools["name"] == "registry" and tools["loaded"] is True
    assert tools["distribution"] == "mqctl-schemas"
    version = run_cli("--version")
    assert "schema-tools registry" in version.stdout
