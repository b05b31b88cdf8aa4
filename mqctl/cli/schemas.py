"""``mqctl schemas list|show``: the schema registry's subjects, versions and compatibility.

The registry client lives in a plugin (``mqctl-schemas``, entry point group
``mqctl.schema_tools``), like the Avro/Protobuf decoders; without it these commands (and
``publish --schema-subject``) say so (exit 2). The registry is the context's
``schema-registry`` (``[contexts.NAME.kafka]``), ``[decoders.avro|protobuf] schema-registry`` or
``MQCTL_SCHEMA_REGISTRY`` (docs/plugins.md). Reading the registry never touches a broker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from mqctl.cli.common import OutputOpt
from mqctl.output.render import OutputFormat, field_column, render

if TYPE_CHECKING:
    from collections.abc import Iterator

    from rich.console import Console

    from mqctl.config.schema import Context
    from mqctl.models.messages import OutgoingMessage

schemas_app = typer.Typer(
    help="Schema registry: subjects, versions, compatibility.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(schemas_app, name="schemas")


def _current_context() -> Context:
    from mqctl.cli.common import invocation
    from mqctl.config import load_config, resolve_context

    return resolve_context(load_config(), invocation().context)


def schema_tools(context: Context) -> Any:
    """The plugin's registry tools for a context (``registry`` in ``mqctl.schema_tools``)."""
    from mqctl import registry
    from mqctl.errors import UsageError

    loaded = registry.schema_tools()
    tools_class = loaded.objects.get("registry")
    if tools_class is None:
        failed = [i.error for i in loaded.infos if i.name == "registry" and i.error]
        if failed:  # a broken plugin is an error line, never a traceback
            raise UsageError(f"the schema registry plugin cannot be used: {failed[0]}")
        raise UsageError(
            "schema registry support needs the mqctl-schemas plugin: install it, or reinstall "
            f"it if it predates the {registry.SCHEMA_TOOLS_GROUP} entry point (`make install`)"
        )
    kafka = context.backends.get("kafka") or {}
    url = kafka.get("schema-registry") if isinstance(kafka, dict) else None
    # [decoders.avro] keys win over [decoders.protobuf] ones: both name the same registry
    options = {**context.decoders.get("protobuf", {}), **context.decoders.get("avro", {})}
    return tools_class(url if isinstance(url, str) else None, options)


@schemas_app.command("list")
def list_cmd(output: OutputOpt = OutputFormat.table) -> None:
    """List the registry's subjects with their number of versions, the latest version's
    schema type and the compatibility level (the subject's own, else the global one).

    Examples:  mqctl schemas list  |  mqctl schemas list -o json
    """
    tools = schema_tools(_current_context())
    try:
        subjects = tools.subjects()
    finally:
        tools.close()
    render(
        subjects,
        output,
        columns=[
            field_column("subject", "SUBJECT"),
            field_column("versions", "VERSIONS", justify="right"),
            field_column("latest_version", "LATEST", justify="right"),
            field_column("schema_type", "TYPE"),
            field_column("compatibility", "COMPATIBILITY"),
        ],
    )


@schemas_app.command("show")
def show_cmd(
    subject: Annotated[str, typer.Argument(help="Subject, e.g. orders-value.")],
    version: Annotated[
        str, typer.Option("--version", "-V", help="Version number or 'latest'.")
    ] = "latest",
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Show one version of a subject (default: the latest): schema id, type, versions,
    compatibility, references and the schema itself. Exit 4 if the subject or version does
    not exist.

    Examples:  mqctl schemas show orders-value  |  mqctl schemas show orders-value -V 2 -o json
    """
    chosen = parse_version(version)
    tools = schema_tools(_current_context())
    try:
        detail = tools.subject(subject, chosen)
    finally:
        tools.close()
    render(detail, output, table=_show_table)


def _show_table(detail: Any, console: Console) -> None:
    import json

    from rich.markup import escape

    from mqctl.output.render import format_cell
    from mqctl.output.sanitize import safe_text

    rows = [
        ("subject", detail.subject),
        ("version", detail.version),
        ("schema id", detail.schema_id),
        ("type", detail.schema_type),
        ("compatibility", detail.compatibility),
        ("versions", ", ".join(str(v) for v in detail.versions)),
    ]
    for ref in detail.references:
        rows.append(("reference", f"{ref['name']} -> {ref['subject']} v{ref['version']}"))
    for label, value in rows:
        console.print(f"{label + ':':15}{escape(safe_text(format_cell(value)))}", highlight=False)
    console.print("schema:", highlight=False)
    schema = detail.schema
    text = schema if isinstance(schema, str) else json.dumps(schema, indent=2)
    console.print(escape(safe_text(text, keep_newlines=True)), highlight=False, soft_wrap=True)


def parse_version(version: str, option: str = "--version") -> int | str:
    from mqctl.errors import UsageError

    if version == "latest":
        return version
    try:
        number = int(version)
    except ValueError:
        raise UsageError(f"{option} {version}: expected a number or 'latest'") from None
    if number < 1:
        raise UsageError(f"{option} {version}: versions start at 1")
    return number


class SchemaEncoding:
    """``publish --schema-subject``: each JSON value encoded with the subject's schema.

    The first value is encoded before anything is sent, so a mismatch there (exit 2, naming
    the field) sends nothing. A later one (stdin lines, templates) ends the input at that
    message: what came before is still sent and confirmed, then :meth:`raise_if_stopped`
    reports the mismatch (exit 2) saying how many were published."""

    def __init__(self, subject: str, version: str) -> None:
        self.subject = subject
        self.version = parse_version(version, "--schema-version")
        self.error: str | None = None

    def wrap(
        self, context: Context, messages: Iterator[OutgoingMessage]
    ) -> Iterator[OutgoingMessage]:
        import dataclasses

        from mqctl.errors import UsageError

        tools = schema_tools(context)
        try:
            encoder = tools.encoder(self.subject, self.version)
        finally:
            tools.close()  # the encoder holds the parsed schema, not the connection

        def encode(index: int, message: OutgoingMessage) -> OutgoingMessage:
            if message.value is None:  # a tombstone stays a tombstone: there is nothing to encode
                return message
            try:
                value = encoder.encode(message.value)
            except UsageError as exc:
                raise UsageError(f"--schema-subject: message {index}: {exc}") from None
            return dataclasses.replace(message, value=value)

        first = next(messages, None)
        if first is None:
            return iter(())
        head = encode(1, first)

        def generate() -> Iterator[OutgoingMessage]:
            yield head
            for index, message in enumerate(messages, start=2):
                try:
                    encoded = encode(index, message)
                except UsageError as exc:
                    self.error = str(exc)
                    return
                yield encoded

        return generate()

    def raise_if_stopped(self, published: int) -> None:
        from mqctl.errors import UsageError

        if self.error is not None:
            sent = (
                "1 message before it was published"
                if published == 1
                else f"{published} messages before it were published"
            )
            raise UsageError(f"{self.error} (stopped there; {sent})")
