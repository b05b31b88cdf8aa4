"""``mqctl context``: named connection settings, like kubectl contexts."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mqctl.cli.common import OutputOpt, YesOpt, confirm, invocation, run_with_session
from mqctl.config.secrets import REDACTED, redact_url
from mqctl.errors import NotFoundError, UsageError
from mqctl.output.render import Column, OutputFormat, render

context_app = typer.Typer(
    help="Contexts: named sets of broker connections (config file: mqctl context path).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(context_app, name="context")


def redact_section(section: dict[str, Any]) -> dict[str, Any]:
    """A copy safe to print: passwords and password commands masked, URLs without passwords."""
    clean: dict[str, Any] = {}
    for key, value in section.items():
        if isinstance(value, dict):
            clean[key] = redact_section(value)
        elif key in ("password", "password-command", "token") or key.endswith("-password"):
            clean[key] = REDACTED
        elif isinstance(value, str) and "://" in value:
            clean[key] = redact_url(value)
        else:
            clean[key] = value
    return clean


def _current_name() -> str:
    import os

    from mqctl.config import load_config
    from mqctl.config.loader import CONTEXT_ENV

    config = load_config()
    return invocation().context or os.environ.get(CONTEXT_ENV) or config.current_context or "local"


@context_app.command("list")
def list_cmd(output: OutputOpt = OutputFormat.table) -> None:
    """List contexts; the current one is marked with *.

    Examples:  mqctl context list  |  mqctl context list -o json
    """
    from mqctl.config import load_config

    config = load_config()
    current = _current_name()
    rows = [
        {
            "name": c.name,
            "current": c.name == current,
            "brokers": list(c.backends),
            "read_only": c.read_only,
            "protected": c.protected,
            "builtin": c.builtin,
            "description": c.description,
        }
        for c in config.contexts.values()
    ]
    render(
        rows,
        output,
        columns=[
            Column("", lambda r: "*" if r["current"] else ""),
            Column("CONTEXT", lambda r: r["name"]),
            Column("BROKERS", lambda r: r["brokers"]),
            Column("READ-ONLY", lambda r: r["read_only"]),
            Column("PROTECTED", lambda r: r["protected"]),
            Column("DESCRIPTION", lambda r: r["description"]),
        ],
    )


@context_app.command("show")
def show_cmd(
    name: Annotated[str | None, typer.Argument(help="Context (default: the current one).")] = None,
    output: OutputOpt = OutputFormat.yaml,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Also connect to each broker (exit 3 when one does not answer)."
        ),
    ] = False,
) -> None:
    """Show a context's settings with every secret redacted.

    Examples:  mqctl context show  |  mqctl context show prod --check  |  mqctl context show -o json
    """
    from mqctl.config import load_config, resolve_context

    config = load_config()
    context = resolve_context(config, name or invocation().context)
    data: dict[str, Any] = {
        "name": context.name,
        "builtin": context.builtin,
        "read_only": context.read_only,
        "protected": context.protected,
        "timeout": context.timeout,
        "brokers": {k: redact_section(v) for k, v in context.backends.items()},
    }
    if check:
        from mqctl.services.inventory import broker_status

        data["status"] = run_with_session(broker_status, context_name=context.name)
    if output == OutputFormat.table:
        output = OutputFormat.yaml
    render(data, output)
    if check:
        _check_failed(data["status"])


def _check_failed(statuses: list[Any]) -> None:
    """`--check` is a check: any broker that did not answer (down, DNS, TLS, refused
    credentials) ends the command with exit 3 and its precise cause (docs/output.md)."""
    from mqctl.errors import ConnectError

    down = [s for s in statuses if not s.reachable]
    if down:
        first = down[0]
        more = f" (and {len(down) - 1} more)" if len(down) > 1 else ""
        raise ConnectError(
            f"{len(down)} of {len(statuses)} broker(s) unreachable: {first.backend}: "
            f"{first.error or 'no answer'}{more}"
        )


@context_app.command("use")
def use_cmd(name: Annotated[str, typer.Argument(help="Context to make current.")]) -> None:
    """Make NAME the current context (written to the config file).

    Examples:  mqctl context use prod
    """
    from mqctl.config import load_config
    from mqctl.config.loader import write_raw

    config = load_config()
    if name not in config.contexts:
        raise NotFoundError(f"context {name!r} not found (known: {', '.join(config.contexts)})")
    raw = dict(config.raw)
    raw["current-context"] = name
    assert config.path is not None
    write_raw(config.path, raw)
    typer.echo(f"current context: {name}")


@context_app.command("add")
def add_cmd(
    name: Annotated[str, typer.Argument(help="New context name.")],
    kafka: Annotated[
        str | None, typer.Option("--kafka", help="Kafka bootstrap servers host:port[,...].")
    ] = None,
    rabbitmq: Annotated[
        str | None, typer.Option("--rabbitmq", help="AMQP URL without password, amqp://user@host/")
    ] = None,
    management_url: Annotated[
        str | None, typer.Option("--management-url", help="RabbitMQ management API URL.")
    ] = None,
    password_env: Annotated[
        str | None,
        typer.Option("--password-env", help="Env var holding the RabbitMQ password."),
    ] = None,
    read_only: Annotated[bool, typer.Option("--read-only", help="Refuse all writes.")] = False,
    protected: Annotated[
        bool, typer.Option("--protected", help="Writes need the context name typed to confirm.")
    ] = False,
    description: Annotated[str, typer.Option("--description")] = "",
    use: Annotated[bool, typer.Option("--use", help="Also make it current.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing context.")] = False,
) -> None:
    """Add a context. Passwords are never taken on the command line: use --password-env
    or edit the file (password-command).

    Examples:  mqctl context add staging --kafka k1:9092,k2:9092 --rabbitmq amqp://ops@mq1/
    """
    from mqctl.config import load_config
    from mqctl.config.loader import write_raw
    from mqctl.config.schema import parse_context

    if not kafka and not rabbitmq:
        raise UsageError("give at least one broker: --kafka and/or --rabbitmq")
    config = load_config(create=True)  # the first `context add` creates the file
    contexts = dict(config.raw.get("contexts", {}))
    if name in contexts and not force:
        raise UsageError(f"context {name!r} already exists (use --force to replace it)")
    section: dict[str, Any] = {}
    if description:
        section["description"] = description
    if read_only:
        section["read-only"] = True
    if protected:
        section["protected"] = True
    if kafka:
        section["kafka"] = {"bootstrap-servers": kafka}
    if rabbitmq:
        rabbit: dict[str, Any] = {"url": rabbitmq}
        if management_url:
            rabbit["management-url"] = management_url
        if password_env:
            rabbit["password-env"] = password_env
        section["rabbitmq"] = rabbit
    parse_context(name, section, f"context {name}")
    _validate_backends(name, section)
    contexts[name] = section
    raw = dict(config.raw)
    raw["contexts"] = contexts
    if use:
        raw["current-context"] = name
    assert config.path is not None
    write_raw(config.path, raw)
    typer.echo(f"context {name} added to {config.path}")


def _validate_backends(name: str, section: dict[str, Any]) -> None:
    """Let each backend validate its section now, so a bad value fails at `add` time."""
    from mqctl import registry
    from mqctl.config.secrets import SECRET_KEYS

    for key, value in section.items():
        cls = registry.backends().objects.get(key)
        if cls is not None and isinstance(value, dict):
            # Secrets are resolved on use, not now (the env var may be set only at run time).
            shape = {k: v for k, v in value.items() if k not in SECRET_KEYS}
            cls.from_config(shape, context=name, timeout=10.0)


@context_app.command("remove")
def remove_cmd(name: Annotated[str, typer.Argument()], yes: YesOpt = False) -> None:
    """Remove a context from the config file.

    Examples:  mqctl context remove staging --yes
    """
    from mqctl.config import load_config
    from mqctl.config.loader import write_raw

    config = load_config()
    contexts = dict(config.raw.get("contexts", {}))
    if name not in contexts:
        raise NotFoundError(f"context {name!r} is not in {config.path}")
    confirm(f"remove context {name!r}?", yes)
    del contexts[name]
    raw = dict(config.raw)
    raw["contexts"] = contexts
    if raw.get("current-context") == name:
        del raw["current-context"]
    assert config.path is not None
    write_raw(config.path, raw)
    typer.echo(f"context {name} removed")


@context_app.command("path")
def path_cmd() -> None:
    """Print the config file path (MQCTL_CONFIG overrides it)."""
    from mqctl.config.loader import config_path

    typer.echo(str(config_path()))
