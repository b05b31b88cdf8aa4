"""Property-based tests: whatever the config file holds, loading it ends in a Config or a
one-line ConfigError, never another exception (hostile-input hardening)."""

from __future__ import annotations

from pathlib import Path

import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mqctl.config.loader import load_config
from mqctl.config.secrets import redact_url
from mqctl.errors import ConfigError, MqctlError

keys = st.sampled_from(
    [
        "current-context",
        "contexts",
        "kafka",
        "rabbitmq",
        "bootstrap-servers",
        "url",
        "management-url",
        "password",
        "password-env",
        "tls",
        "sasl",
        "timeout",
        "read-only",
        "mechanism",
        "username",
        "ca-file",
        "vhost",
        "dlq-patterns",
        "x",
    ]
)
scalars = st.one_of(
    st.text(max_size=20), st.integers(), st.booleans(), st.floats(allow_nan=False), st.none()
)
values = st.recursive(
    scalars,
    lambda inner: st.dictionaries(keys, inner, max_size=4) | st.lists(inner, max_size=3),
    max_leaves=12,
)


def _clean(value: object) -> object:
    """TOML has no null: drop Nones."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_clean(v) for v in value if v is not None]
    return value


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(doc=st.dictionaries(keys, values, max_size=4))
def test_any_config_document_loads_or_fails_cleanly(tmp_path: Path, doc: dict[str, object]) -> None:
    from mqctl import registry
    from mqctl.config import resolve_context

    path = tmp_path / "fuzz.toml"
    path.write_text(tomli_w.dumps(_clean(doc)))  # type: ignore[arg-type]
    try:
        config = load_config(path)
        for name in config.contexts:
            context = resolve_context(config, name)
            for backend, section in context.backends.items():
                cls = registry.backends().objects.get(backend)
                if cls is not None:
                    cls.from_config(section, context=name, timeout=1.0)
    except MqctlError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_as_config(tmp_path_factory, raw: bytes) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("cfg") / "c.toml"
    path.write_bytes(raw)
    try:
        load_config(path)
    except ConfigError as exc:
        assert str(path) in str(exc)


@given(st.text(max_size=60))
def test_redact_url_never_raises_and_hides_password(text: str) -> None:
    out = redact_url(text)
    assert isinstance(out, str)
    secret = "Zq9-secret-Zq9"
    assert secret not in redact_url(f"amqp://user:{secret}@host:5672/{text[:5]}")
