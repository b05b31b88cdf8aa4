"""TLS and SASL for real: Kafka SASL_SSL (SCRAM-SHA-512, PLAIN) and RabbitMQ AMQPS + HTTPS
management with a non-admin user, against the separate brokers of scripts/secure-brokers.sh
(started here if they are not up; the shared brokers are never touched).

Contexts are written into the test's own config file, with ``tls.ca-file`` = the test CA and
passwords from ``password-env`` / ``password-command`` (never literal in the config).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CliResult, run_cli

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "secure-brokers.sh"
TLS = ROOT / ".run" / "tls"
CA = TLS / "ca.pem"
OTHER_CA = TLS / "other-ca.pem"
CREDENTIALS = ROOT / ".run" / "secure" / "credentials.env"
KAFKA = "127.0.0.1:19094"
AMQPS = "127.0.0.1:5671"
HTTPS = "https://127.0.0.1:15671"
HTTP_PLAIN = "http://127.0.0.1:15682"  # the node's plain management port (set-up only)
TIMEOUT = "20"
# publishing to an exchange goes straight to AMQP (no management API look-up first)
AMQP_ONLY = ("publish", "-e", "amq.direct", "-r", "nowhere", "x")

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="test brokers are Linux-only")


def _status_up() -> bool:
    done = subprocess.run(
        ["bash", str(SCRIPT), "status"], capture_output=True, text=True, check=False, timeout=60
    )
    lines = [line.split() for line in done.stdout.splitlines() if line.strip()]
    return len(lines) == 2 and all(len(parts) > 1 and parts[1] == "up" for parts in lines)


@pytest.fixture(scope="session")
def creds() -> Iterator[dict[str, str]]:
    """The secure brokers (started if needed, stopped at the end only if started here) and
    their test users from .run/secure/credentials.env."""
    started = False
    if not _status_up():
        done = subprocess.run(
            ["bash", str(SCRIPT), "up"], capture_output=True, text=True, check=False, timeout=400
        )
        if done.returncode != 0:
            pytest.fail(f"scripts/secure-brokers.sh up failed:\n{done.stdout}\n{done.stderr}")
        started = True
    values: dict[str, str] = {}
    for line in CREDENTIALS.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    yield values
    if started:
        subprocess.run(["bash", str(SCRIPT), "down"], capture_output=True, check=False, timeout=200)


def _toml(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def kafka_context(
    name: str,
    *,
    mechanism: str,
    username: str,
    secret_key: str,
    secret_value: str,
    ca: Path | None = CA,
    insecure: bool = False,
) -> str:
    tls = []
    if ca is not None:
        tls.append(f"ca-file = {_toml(str(ca))}")
    if insecure:
        tls.append("insecure-skip-verify = true")
    return (
        f"[contexts.{name}.kafka]\n"
        f'bootstrap-servers = "{KAFKA}"\n'
        f"tls = {{ {', '.join(tls) or 'enabled = true'} }}\n"
        f'sasl = {{ mechanism = "{mechanism}", username = {_toml(username)}, '
        f"{secret_key} = {_toml(secret_value)} }}\n"
    )


def rabbit_context(
    name: str,
    *,
    user: str,
    secret_key: str,
    secret_value: str,
    ca: Path | None = CA,
    insecure: bool = False,
    management: str = HTTPS,
) -> str:
    tls = []
    if ca is not None:
        tls.append(f"ca-file = {_toml(str(ca))}")
    if insecure:
        tls.append("insecure-skip-verify = true")
    return (
        f"[contexts.{name}.rabbitmq]\n"
        f'url = "amqps://{user}@{AMQPS}/"\n'
        f"management-url = {_toml(management)}\n"
        f"{secret_key} = {_toml(secret_value)}\n"
        f"tls = {{ {', '.join(tls) or 'enabled = true'} }}\n"
    )


def password_command(tmp_path: Path, secret: str) -> str:
    """A password-command (like a password manager's CLI) printing ``secret``."""
    path = tmp_path / f"pw-{uuid.uuid4().hex[:6]}"
    path.write_text(secret + "\n")
    path.chmod(0o600)
    return f"cat {shlex.quote(str(path))}"


def mq(context: str, *args: str, stdin: str | None = None) -> CliResult:
    return run_cli("--timeout", TIMEOUT, "-c", context, *args, stdin=stdin)


def assert_one_line_error(result: CliResult, code: int) -> str:
    assert result.exit_code == code, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.output
    return errors[0]


# ------------------------------------------------------------------------------------------
# Kafka SASL_SSL
# ------------------------------------------------------------------------------------------


def test_kafka_scram_sha512_over_tls(
    creds: dict[str, str], isolated_config: Path, monkeypatch: pytest.MonkeyPatch, unique: str
) -> None:
    monkeypatch.setenv("MQCTL_TEST_SCRAM_PW", creds["KAFKA_SCRAM_PASSWORD"])
    isolated_config.write_text(
        kafka_context(
            "scram",
            mechanism="SCRAM-SHA-512",
            username=creds["KAFKA_SCRAM_USER"],
            secret_key="password-env",
            secret_value="MQCTL_TEST_SCRAM_PW",
        )
    )
    topic = f"secure-scram-{unique}"
    created = mq("scram", "topics", "create", topic, "--partitions", "2")
    assert created.exit_code == 0, created.output
    try:
        published = mq("scram", "publish", topic, "m{{seq}}", "-t", "-n", "5", "-k", "k1")
        assert published.exit_code == 0, published.output
        listed = mq("scram", "topics", "list")
        assert listed.exit_code == 0, listed.output
        assert topic in listed.stdout
        described = mq("scram", "topics", "describe", topic)
        assert described.exit_code == 0, described.output
        assert "2 partitions" in described.stdout and "5 messages" in described.stdout
        peeked = mq("scram", "peek", topic, "-n", "0", "-o", "jsonl")
        assert peeked.exit_code == 0, peeked.output
        assert len(peeked.stdout.splitlines()) == 5
        lag = mq("scram", "lag", "-t", topic, "-o", "json")
        assert lag.exit_code == 0, lag.output
    finally:
        mq("scram", "topics", "delete", topic, "--yes")


def test_kafka_sasl_plain_over_tls_with_password_command(
    creds: dict[str, str], isolated_config: Path, tmp_path: Path, unique: str
) -> None:
    isolated_config.write_text(
        kafka_context(
            "plain",
            mechanism="PLAIN",
            username=creds["KAFKA_PLAIN_USER"],
            secret_key="password-command",
            secret_value=password_command(tmp_path, creds["KAFKA_PLAIN_PASSWORD"]),
        )
    )
    topic = f"secure-plain-{unique}"
    created = mq("plain", "topics", "create", topic)
    assert created.exit_code == 0, created.output
    try:
        published = mq("plain", "publish", topic, "hello over SASL_SSL")
        assert published.exit_code == 0, published.output
        assert topic in mq("plain", "topics", "list").stdout
        described = mq("plain", "topics", "describe", topic)
        assert described.exit_code == 0 and "1 messages" in described.stdout, described.output
        peeked = mq("plain", "peek", topic, "-o", "jsonl")
        assert peeked.exit_code == 0, peeked.output
        assert "hello over SASL_SSL" in peeked.stdout
    finally:
        mq("plain", "topics", "delete", topic, "--yes")


def test_kafka_wrong_ca_is_a_certificate_error(
    creds: dict[str, str], isolated_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MQCTL_TEST_PW", creds["KAFKA_PLAIN_PASSWORD"])
    isolated_config.write_text(
        kafka_context(
            "wrongca",
            mechanism="PLAIN",
            username=creds["KAFKA_PLAIN_USER"],
            secret_key="password-env",
            secret_value="MQCTL_TEST_PW",
            ca=OTHER_CA,
        )
        + kafka_context(
            "systemca",
            mechanism="PLAIN",
            username=creds["KAFKA_PLAIN_USER"],
            secret_key="password-env",
            secret_value="MQCTL_TEST_PW",
            ca=None,
        )
    )
    for context in ("wrongca", "systemca"):
        result = mq(context, "topics", "list")
        line = assert_one_line_error(result, 3)
        assert "certificate verify failed" in line, line
        assert "ca-file" in result.stderr  # the hint names the setting to fix
    assert "other-ca.pem" in mq("wrongca", "topics", "list").stderr


def test_kafka_insecure_skip_verify_only_when_set_and_warns(
    creds: dict[str, str], isolated_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MQCTL_TEST_PW", creds["KAFKA_PLAIN_PASSWORD"])
    isolated_config.write_text(
        kafka_context(
            "insecure",
            mechanism="PLAIN",
            username=creds["KAFKA_PLAIN_USER"],
            secret_key="password-env",
            secret_value="MQCTL_TEST_PW",
            ca=OTHER_CA,
            insecure=True,
        )
    )
    result = subprocess_cli(["-c", "insecure", "topics", "list"], {})
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, result.stderr
    assert "insecure-skip-verify" in warnings[0] and "NOT verified" in warnings[0]


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-512", "PLAIN"])
def test_kafka_wrong_password_is_exit_3(
    creds: dict[str, str], isolated_config: Path, monkeypatch: pytest.MonkeyPatch, mechanism: str
) -> None:
    monkeypatch.setenv("MQCTL_TEST_PW", "not-the-password-" + uuid.uuid4().hex[:6])
    user = creds["KAFKA_SCRAM_USER" if mechanism != "PLAIN" else "KAFKA_PLAIN_USER"]
    isolated_config.write_text(
        kafka_context(
            "badpw",
            mechanism=mechanism,
            username=user,
            secret_key="password-env",
            secret_value="MQCTL_TEST_PW",
        )
    )
    line = assert_one_line_error(mq("badpw", "topics", "list"), 3)
    assert "refused the credentials" in line, line


def test_missing_ca_file_is_a_config_error(isolated_config: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello\n")
    isolated_config.write_text(
        f'[contexts.a.kafka]\nbootstrap-servers = "{KAFKA}"\n'
        f"tls = {{ ca-file = {_toml(str(missing))} }}\n"
        f'[contexts.b.rabbitmq]\nurl = "amqps://u@{AMQPS}/"\n'
        f"tls = {{ ca-file = {_toml(str(not_pem))} }}\n"
    )
    line = assert_one_line_error(mq("a", "topics", "list"), 2)
    assert "contexts.a.kafka.tls.ca-file" in line and "nope.pem" in line, line
    line = assert_one_line_error(mq("b", "queues", "list"), 2)
    assert "contexts.b.rabbitmq.tls.ca-file" in line and "no PEM certificate" in line, line


# ------------------------------------------------------------------------------------------
# RabbitMQ AMQPS + HTTPS management, non-admin user
# ------------------------------------------------------------------------------------------


def test_rabbit_amqps_and_https_management_as_non_admin(
    creds: dict[str, str], isolated_config: Path, monkeypatch: pytest.MonkeyPatch, unique: str
) -> None:
    monkeypatch.setenv("MQCTL_TEST_RABBIT_PW", creds["RABBIT_PASSWORD"])
    isolated_config.write_text(
        rabbit_context(
            "rabbit",
            user=creds["RABBIT_USER"],
            secret_key="password-env",
            secret_value="MQCTL_TEST_RABBIT_PW",
        )
    )
    queue = f"secure-q-{unique}"
    created = mq("rabbit", "queues", "create", queue)
    assert created.exit_code == 0, created.output
    try:
        published = mq("rabbit", "publish", queue, "r{{seq}}", "-t", "-n", "3")
        assert published.exit_code == 0, published.output
        listed = mq("rabbit", "queues", "list")
        assert listed.exit_code == 0, listed.output
        assert queue in listed.stdout
        described = mq("rabbit", "queues", "describe", queue, "-o", "json")
        assert described.exit_code == 0, described.output
        assert queue in described.stdout
        peeked = mq("rabbit", "peek", queue, "-n", "0", "-o", "jsonl")
        assert peeked.exit_code == 0, peeked.output
        values = [line for line in peeked.stdout.splitlines() if line.strip()]
        assert len(values) == 3 and '"r1"' in values[0]
        # peek returned them: still 3 in the queue
        again = mq("rabbit", "peek", queue, "-n", "0", "-o", "jsonl")
        assert len(again.stdout.splitlines()) == 3, again.output
        lag = mq("rabbit", "lag", queue, "-o", "json")
        assert lag.exit_code == 0, lag.output
    finally:
        mq("rabbit", "queues", "delete", queue, "--yes")


def test_rabbit_password_command(
    creds: dict[str, str], isolated_config: Path, tmp_path: Path
) -> None:
    isolated_config.write_text(
        rabbit_context(
            "rabbit",
            user=creds["RABBIT_USER"],
            secret_key="password-command",
            secret_value=password_command(tmp_path, creds["RABBIT_PASSWORD"]),
        )
    )
    result = mq("rabbit", "queues", "list")
    assert result.exit_code == 0, result.output


def test_rabbit_wrong_ca_for_https_and_amqps(
    creds: dict[str, str], isolated_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MQCTL_TEST_RABBIT_PW", creds["RABBIT_PASSWORD"])
    common = {
        "user": creds["RABBIT_USER"],
        "secret_key": "password-env",
        "secret_value": "MQCTL_TEST_RABBIT_PW",
        "ca": OTHER_CA,
    }
    isolated_config.write_text(
        rabbit_context("https", **common)  # type: ignore[arg-type]
        # management over plain HTTP: only the AMQPS connection checks the certificate
        + rabbit_context("amqps", management=HTTP_PLAIN, **common)  # type: ignore[arg-type]
    )
    line = assert_one_line_error(mq("https", "queues", "list"), 3)
    assert "management API" in line and "certificate verify failed" in line, line
    line = assert_one_line_error(mq("amqps", *AMQP_ONLY), 3)
    assert f"amqps://{creds['RABBIT_USER']}@{AMQPS}/" in line, line
    assert "certificate verify failed" in line, line


def test_rabbit_insecure_skip_verify_warns(creds: dict[str, str], isolated_config: Path) -> None:
    isolated_config.write_text(
        rabbit_context(
            "insecure",
            user=creds["RABBIT_USER"],
            secret_key="password-env",
            secret_value="MQCTL_TEST_RABBIT_PW",
            ca=None,
            insecure=True,
        )
    )
    result = subprocess_cli(
        ["-c", "insecure", "queues", "list"], {"MQCTL_TEST_RABBIT_PW": creds["RABBIT_PASSWORD"]}
    )
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "NOT verified" in warnings[0], result.stderr


def test_rabbit_wrong_password_is_exit_3(
    creds: dict[str, str], isolated_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MQCTL_TEST_RABBIT_PW", "nope-" + uuid.uuid4().hex[:8])
    isolated_config.write_text(
        rabbit_context(
            "https",
            user=creds["RABBIT_USER"],
            secret_key="password-env",
            secret_value="MQCTL_TEST_RABBIT_PW",
        )
        + rabbit_context(
            "amqps",
            user=creds["RABBIT_USER"],
            secret_key="password-env",
            secret_value="MQCTL_TEST_RABBIT_PW",
            management=HTTP_PLAIN,
        )
    )
    line = assert_one_line_error(mq("https", "queues", "list"), 3)
    assert "refused user" in line, line
    line = assert_one_line_error(mq("amqps", *AMQP_ONLY), 3)
    assert "refused user" in line, line


# ------------------------------------------------------------------------------------------
# Secrets never appear in any output
# ------------------------------------------------------------------------------------------


def subprocess_cli(args: list[str], env: dict[str, str]) -> CliResult:
    """Run the installed ``mqctl`` as a separate process: captures everything written to the
    real stdout/stderr file descriptors (client libraries, logging, tracebacks)."""
    full_env = {**os.environ, **env}
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "mqctl"), "--timeout", TIMEOUT, *args],
        capture_output=True,
        text=True,
        env=full_env,
        check=False,
        timeout=120,
    )
    return CliResult(done.returncode, done.stdout, done.stderr)


FAILING_RUNS = [
    # (broker, command, expected exit code)
    ("kafka-scram", ["topics", "list"], 3),
    ("kafka-plain", ["peek", "some-topic"], 3),
    ("rabbit", ["queues", "list"], 3),
    ("rabbit-amqp", ["publish", "-e", "amq.direct", "-r", "some-key", "x"], 3),
]


@pytest.mark.parametrize("source", ["password-env", "password-command"])
@pytest.mark.parametrize(("broker", "command", "code"), FAILING_RUNS)
def test_secret_never_in_output_of_a_failing_run(
    creds: dict[str, str],
    isolated_config: Path,
    tmp_path: Path,
    source: str,
    broker: str,
    command: list[str],
    code: int,
) -> None:
    secret = f"Sup3r-s3cret-{uuid.uuid4().hex}"  # a wrong password: authentication fails
    env = {"MQCTL_AUDIT_LOG": str(tmp_path / "audit.jsonl")}
    if source == "password-env":
        env["MQCTL_TEST_SECRET"] = secret
        value = "MQCTL_TEST_SECRET"
    else:
        value = password_command(tmp_path, secret)
    if broker.startswith("kafka"):
        mechanism = "PLAIN" if broker == "kafka-plain" else "SCRAM-SHA-512"
        text = kafka_context(
            "ctx", mechanism=mechanism, username="mqctl_scram", secret_key=source,
            secret_value=value,
        )  # fmt: skip
    else:
        management = HTTPS if broker == "rabbit" else HTTP_PLAIN
        text = rabbit_context(
            "ctx", user=creds["RABBIT_USER"], secret_key=source, secret_value=value,
            management=management,
        )  # fmt: skip
    isolated_config.write_text(text)
    outputs = []
    for debug in ([], ["--debug"]):
        result = subprocess_cli([*debug, "-c", "ctx", *command], env)
        assert result.exit_code == code, result.output
        outputs.append(result.output)
    # the same with the context shown and the config listed
    outputs.append(subprocess_cli(["context", "show", "ctx"], env).output)
    outputs.append(subprocess_cli(["context", "list"], env).output)
    audit = tmp_path / "audit.jsonl"
    if audit.exists():
        outputs.append(audit.read_text())
    everything = "\n".join(outputs)
    assert "Traceback" in outputs[1] or "error:" in outputs[1]  # --debug really ran
    assert secret not in everything
    assert secret[:20] not in everything  # not even a prefix of it
