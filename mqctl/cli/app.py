"""Root of the CLI: global options, command registration and error handling.

Command modules are listed in :data:`COMMAND_MODULES`; each has ``register(app)``. They import
broker clients only inside their commands, so ``mqctl --help`` stays fast. A run imports and
registers only the modules of the top-level command it invokes (:data:`COMMANDS`, checked
against what the modules register by tests/test_startup_imports.py); shell completion, a bare
``mqctl`` and a name that is not a command get them all. ``app`` (an attribute computed on
first use) is the Typer app with every command, for tests and generators.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Iterable
from typing import Annotated

import typer
import typer.core

from mqctl.cli.common import begin_invocation, describe_command_line, end_invocation
from mqctl.completion import completer
from mqctl.invocation import Invocation

COMMAND_MODULES = [
    "mqctl.cli.audit",
    "mqctl.cli.topics",
    "mqctl.cli.peek",
    "mqctl.cli.publish",
    "mqctl.cli.queues",
    "mqctl.cli.amqp",
    "mqctl.cli.context",
    "mqctl.cli.plugins",
    "mqctl.cli.tui",
    "mqctl.cli.dlq",
    "mqctl.cli.lag",
    "mqctl.cli.groups",
    "mqctl.cli.offsets",
    "mqctl.cli.kafka_admin",
    "mqctl.cli.rabbit_admin",
    "mqctl.cli.rabbit_ops",
    "mqctl.cli.rabbit_federation",
    "mqctl.cli.acls",
    "mqctl.cli.doctor",
    "mqctl.cli.exporter",
    "mqctl.cli.schemas",
]

# Top-level command -> the modules whose register() builds it: the one that adds it and those
# that add subcommands to it (kafka_admin adds `topics config`), in COMMAND_MODULES order.
# Listed in the order of the root help. Importing every module costs ~13-20 ms per run.
COMMANDS: dict[str, tuple[str, ...]] = {
    "audit": ("mqctl.cli.audit",),
    "peek": ("mqctl.cli.peek",),
    "publish": ("mqctl.cli.publish",),
    "tui": ("mqctl.cli.tui",),
    "lag": ("mqctl.cli.lag",),
    "doctor": ("mqctl.cli.doctor",),
    "exporter": ("mqctl.cli.exporter",),
    "topics": ("mqctl.cli.topics", "mqctl.cli.kafka_admin"),
    "queues": ("mqctl.cli.queues",),
    "vhosts": ("mqctl.cli.amqp", "mqctl.cli.rabbit_admin"),
    "exchanges": ("mqctl.cli.amqp", "mqctl.cli.rabbit_admin"),
    "bindings": ("mqctl.cli.amqp", "mqctl.cli.rabbit_admin"),
    "connections": ("mqctl.cli.amqp", "mqctl.cli.rabbit_ops"),
    "context": ("mqctl.cli.context",),
    "plugins": ("mqctl.cli.plugins",),
    "dlq": ("mqctl.cli.dlq",),
    "groups": ("mqctl.cli.groups",),
    "offsets": ("mqctl.cli.offsets", "mqctl.cli.kafka_admin"),
    "cluster": ("mqctl.cli.kafka_admin",),
    "brokers": ("mqctl.cli.kafka_admin",),
    "policies": ("mqctl.cli.rabbit_admin",),
    "users": ("mqctl.cli.rabbit_admin",),
    "permissions": ("mqctl.cli.rabbit_admin",),
    "nodes": ("mqctl.cli.rabbit_ops",),
    "shovels": ("mqctl.cli.rabbit_ops",),
    "definitions": ("mqctl.cli.rabbit_ops",),
    "federation": ("mqctl.cli.rabbit_federation",),
    "acls": ("mqctl.cli.acls",),
    "schemas": ("mqctl.cli.schemas",),
}

HELP = """mqctl: operations console for Kafka and RabbitMQ.

List topics and queues, show consumer lag, peek at messages without consuming them, publish
test events and redrive dead letters. Exit codes: 0 ok, 1 check failed, 2 bad input,
3 cannot connect/authenticate/timeout, 4 not found, 5 partly failed, 6 declined at a
prompt, 70 bug, 130 Ctrl-C, 141 output closed (docs/output.md).
"""

_app = typer.Typer(
    name="mqctl",
    help=HELP,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    # Plain help formatting: rich help rendering costs ~0.4 s per `--help`.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Examples:  mqctl topics list   |   mqctl -c prod lag -o json   |   mqctl tui",
)


def _version(value: bool) -> None:
    if value:
        from mqctl.versions import version_text

        typer.echo(version_text(), nl=False)
        raise typer.Exit()


@_app.callback()
def root(
    ctx: typer.Context,
    context: Annotated[
        str | None,
        typer.Option(
            "--context",
            "-c",
            help="Context to use (default: MQCTL_CONTEXT, then "
            "current-context in the config, then 'local').",
            autocompletion=completer("context"),
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", min=0.1, help="Seconds to wait for a broker (default 10)."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    # This run's invocation, read by every command (cli.common.invocation): run() passed
    # the arguments in ctx.obj; the global options and what the command line holds are added.
    argv = ctx.obj.argv if isinstance(ctx.obj, Invocation) else ()
    redact, yes = frozenset[int](), False
    if isinstance(ctx.command, typer.core.TyperGroup):
        redact, yes = describe_command_line(ctx.command, argv)
    ctx.obj = Invocation(
        context=context, timeout=timeout, debug=debug, argv=argv, redact=redact, yes=yes
    )
    begin_invocation(ctx.obj)


_registered: set[str] = set()  # the modules whose register() ran in this process


def register_commands(modules: Iterable[str] = COMMAND_MODULES) -> typer.Typer:
    """Register these command modules (each once per process) and return the root app, its
    commands in the order of the root help whichever were registered first."""
    wanted = set(modules)
    for module in COMMAND_MODULES:
        if module in wanted and module not in _registered:
            _registered.add(module)
            importlib.import_module(module).register(_app)
    order = {name: index for index, name in enumerate(COMMANDS)}
    last = len(order)
    _app.registered_commands.sort(key=lambda c: order.get(c.name or "", last))
    _app.registered_groups.sort(key=lambda g: order.get(g.name or "", last))
    return _app


def full_app() -> typer.Typer:
    """The root app with every command registered."""
    return register_commands(COMMAND_MODULES)


def __getattr__(name: str) -> typer.Typer:
    # `from mqctl.cli.app import app` keeps meaning the whole CLI (tests, doc generators)
    if name == "app":
        return full_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("MQCTL_DEBUG") == "1"


def _fail(message: str, hint: str | None, code: int) -> None:
    from mqctl.config.secrets import scrub
    from mqctl.output.sanitize import safe_text

    # Messages may embed user or broker values (paths, names): never let them drive the
    # terminal, and keep the error on one line.
    line = safe_text(scrub(" ".join(message.split())))
    sys.stderr.write(f"error: {line}\n")
    if hint:
        sys.stderr.write(f"hint: {safe_text(scrub(hint))}\n")
    sys.stderr.flush()
    raise SystemExit(code)


class _NotesHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time (it may be redirected)."""

    def emit(self, record: logging.LogRecord) -> None:
        from mqctl.config.secrets import scrub

        try:
            text = scrub(record.getMessage())
            sys.stderr.write(text if text.startswith("note: ") else f"note: {text}")
            sys.stderr.write("\n")
        except Exception:
            self.handleError(record)


def _configure_logging(debug: bool) -> None:
    """Client libraries log connection errors on their own; without --debug we report each
    failure once, as our one-line error, so their records go nowhere. With --debug they go to
    stderr with secrets scrubbed. Our own warnings are notes for the user (e.g. "peeked
    messages come back marked redelivered"): one line each on stderr, never on stdout."""
    root = logging.getLogger()
    if not debug:
        if not root.handlers:
            root.addHandler(logging.NullHandler())
        ours = logging.getLogger("mqctl")
        if not any(isinstance(h, _NotesHandler) for h in ours.handlers):
            ours.addHandler(_NotesHandler(logging.WARNING))
        return

    from mqctl.config.secrets import scrub

    class ScrubSecrets(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            record.msg = scrub(record.getMessage())
            record.args = None
            return True

    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ScrubSecrets())
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)


def _usage_error(exc: Exception) -> None:
    """Typer/Click usage errors as our one line (not Click's multi-line box), exit 2."""
    from mqctl.cli.typer_internals import NoArgsIsHelpError

    if isinstance(exc, NoArgsIsHelpError):
        exc.show()  # a bare `mqctl` or `mqctl topics`: the help is the answer
        raise SystemExit(2)
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "mqctl"
    format_message = getattr(exc, "format_message", None)
    text = format_message() if callable(format_message) else str(exc)
    text = text.rstrip(".") if text.count(".") == 1 and text.endswith(".") else text
    text = text[:1].lower() + text[1:]
    _fail(text, f"see '{path} -h'", int(getattr(exc, "exit_code", 2) or 2))


def _broken_pipe() -> None:
    """stdout was closed early (`mqctl ... | head`): quiet, exit 141 as a shell reports it.
    Later writes (and the interpreter's final flush) go to /dev/null instead of failing."""
    from mqctl.errors import ExitCode

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (tests)
        pass
    raise SystemExit(int(ExitCode.BROKEN_PIPE))


# Root options that take a value: the word after them is not the command's name.
_ROOT_OPTIONS_WITH_VALUE = frozenset({"-c", "--context", "--timeout"})


def _command_name(args: list[str]) -> str | None:
    """The top-level command the arguments invoke (``lag`` in ``-c prod lag -o json``)."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--":
            return None
        elif arg.startswith("-"):
            skip = arg in _ROOT_OPTIONS_WITH_VALUE
        else:
            return arg
    return None


def command_tree(name: str | None) -> typer.core.TyperGroup:
    """The click tree with only the top-level command ``name``, whose modules alone are
    imported: building every command's tree costs ~35 ms, importing every module ~13-20 ms
    (docs/benchmarks.md, "Start-up"). The full tree for ``None`` and for a name that is not a
    command (its error lists the real ones)."""
    if name not in COMMANDS:
        name = None
    app = register_commands(COMMAND_MODULES if name is None else COMMANDS[name])
    groups = [g for g in app.registered_groups if name is not None and g.name == name]
    commands = [c for c in app.registered_commands if name is not None and c.name == name]
    saved = app.registered_groups, app.registered_commands
    if groups or commands:
        app.registered_groups, app.registered_commands = groups, commands
    try:
        command = typer.main.get_command(app)
    finally:
        app.registered_groups, app.registered_commands = saved
    assert isinstance(command, typer.core.TyperGroup)
    return command


def _invoke(args: list[str], obj: Invocation) -> None:
    """Parse and run the command. Unlike Click's ``main`` this lets every error through to
    :func:`run`, so usage errors, a closed pipe and Ctrl-C follow docs/output.md."""
    completing = bool(os.environ.get("_MQCTL_COMPLETE"))
    command = command_tree(None if completing else _command_name(args))
    if completing:
        # shell completion is Click's own protocol: let its main answer and exit
        command.main(args=args, prog_name="mqctl", standalone_mode=True, obj=obj)
        return
    with command.make_context("mqctl", list(args), obj=obj) as ctx:
        command.invoke(ctx)


def run(argv: list[str] | None = None) -> None:
    """Run the CLI; every failure becomes one line on stderr and a documented exit code
    (docs/output.md, "Exit codes"): usage errors 2, :class:`~mqctl.errors.MqctlError` its
    own code, declined prompt 6, Ctrl-C 130, closed stdout 141, anything else 70 (a bug).
    """
    from mqctl.cli.typer_internals import ClickException, ClickUsageError
    from mqctl.errors import ExitCode, MqctlError

    args = sys.argv[1:] if argv is None else list(argv)
    _configure_logging(_debug_requested(args))
    token = begin_invocation(Invocation(argv=tuple(args)))
    try:
        _invoke(args, Invocation(argv=tuple(args)))
    except SystemExit as exc:
        # rich handles a closed stdout itself: it silences stdout and exits 1
        if exc.code == 1 and isinstance(exc.__context__, BrokenPipeError):
            _broken_pipe()
        raise
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except ClickUsageError as exc:
        _usage_error(exc)
    except ClickException as exc:
        _fail(exc.format_message(), None, int(exc.exit_code or ExitCode.USAGE))
    except typer.Abort as exc:
        # Click turns Ctrl-C and end-of-input at a prompt into Abort.
        if isinstance(exc.__context__, KeyboardInterrupt):
            sys.stderr.write("interrupted\n")
            raise SystemExit(int(ExitCode.INTERRUPTED)) from None
        _fail("no answer at the prompt: nothing was changed", None, int(ExitCode.DECLINED))
    except MqctlError as exc:
        if isinstance(exc.__cause__, BrokenPipeError):
            _broken_pipe()
        if _debug_requested(args):
            import traceback

            traceback.print_exc()
        _fail(exc.message, exc.hint, int(exc.exit_code))
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        raise SystemExit(int(ExitCode.INTERRUPTED)) from None
    except BrokenPipeError:
        _broken_pipe()
    except Exception as exc:
        if _debug_requested(args):
            import traceback

            traceback.print_exc()
        _fail(
            f"unexpected {type(exc).__name__}: {exc}",
            "this is a bug in mqctl; rerun with --debug and report the traceback",
            int(ExitCode.INTERNAL),
        )
    finally:
        end_invocation(token)
