"""The ``seqexplain`` command line: a thin layer over the library.

Each command parses its options, calls one library function and reports. Errors a user can
cause print one ``error: …`` line on stderr: a wrong command line (unknown option, bad option
value, missing argument, or the library's :class:`~seqexplain.errors.OptionError`: a wrong
option found before any work) exits with status 2 and adds a ``try '… --help'`` line; a file
or data problem (:class:`SeqexplainError`, an OS error) exits with status 1, and ``--debug``
shows its traceback instead; Ctrl-C exits with status 130.

Command modules import the library inside their functions, on purpose: ``seqexplain --help``
and usage errors stay instant, and TensorFlow starts only after the options and outputs are
checked. Library modules import at the top (TensorFlow lazily, where a model runs).
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

import click

from .. import __version__
from ..errors import ModelQualityWarning, OptionError, SeqexplainError


#: Exit statuses (documented in the README).
EXIT_DATA, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130


def _usage_message(exc: click.UsageError) -> str:
    """Click's message as one line in our style: ``invalid value for '--epochs': …``."""
    msg = " ".join(line.strip() for line in exc.format_message().splitlines() if line.strip())
    msg = msg.rstrip(".") or "invalid command line"
    if len(msg) > 1 and msg[0].isupper() and msg[1].islower():
        msg = msg[0].lower() + msg[1:]
    return msg


def _usage_exit(ctx: click.Context, exc: click.UsageError):
    path = exc.ctx.command_path if exc.ctx is not None and exc.ctx is not ctx else None
    if path is None:  # click's parser leaves ctx unset for some errors: name the command
        sub = ctx.meta.get("seqexplain.command")
        path = f"{ctx.command_path} {sub}" if sub else ctx.command_path
    click.echo(f"error: {_usage_message(exc)}", err=True)
    click.echo(f"try '{path} --help'", err=True)
    ctx.exit(EXIT_USAGE)


def _os_message(exc: OSError) -> str:
    if exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror[0].lower() + exc.strerror[1:]}"
    return str(exc) or type(exc).__name__


_python_showwarning = warnings.showwarning


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """seqexplain's own warnings (a model folder whose training failed) as one ``warning: …``
    line on stderr, like the notes ``train`` prints; other warnings as Python shows them."""
    if issubclass(category, ModelQualityWarning):
        click.echo(f"warning: {message}", err=True)
    else:
        _python_showwarning(message, category, filename, lineno, file, line)


class _Group(click.Group):
    """The one place errors become messages: usage errors (click's, from any command or from
    the group itself) → ``error: …`` + ``try '… --help'``, exit 2; SeqexplainError and OS
    errors → ``error: …``, exit 1; Ctrl-C → ``error: interrupted``, exit 130. Library
    warnings of :class:`ModelQualityWarning` become one ``warning: …`` line (exit status
    unchanged)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.exceptions.NoArgsIsHelpError:
            raise  # bare `seqexplain`: click prints the help
        except click.UsageError as exc:
            _usage_exit(ctx, exc)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name, cmd, rest = super().resolve_command(ctx, args)
        ctx.meta["seqexplain.command"] = cmd.name if cmd is not None else name
        return name, cmd, rest

    def invoke(self, ctx: click.Context):
        with warnings.catch_warnings():  # restores the caller's warning settings afterwards
            warnings.showwarning = _show_warning
            warnings.simplefilter("always", ModelQualityWarning)  # once per load, every time
            return self._invoke(ctx)

    def _invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            _usage_exit(ctx, exc)
        except OptionError as exc:  # the library's check of its options: a usage error
            _usage_exit(ctx, click.BadParameter(str(exc), param_hint=f"'{exc.option}'")
                        if exc.option else click.UsageError(str(exc)))
        except (SeqexplainError, OSError) as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            msg = _os_message(exc) if isinstance(exc, OSError) else str(exc)
            msg = msg.strip().splitlines()[0] if msg.strip() else type(exc).__name__
            click.echo(f"error: {msg}", err=True)
            ctx.exit(EXIT_DATA)
        except KeyboardInterrupt:
            click.echo("error: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="seqexplain")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """seqexplain: train CNNs on DNA, RNA or protein sequences and see what they learned."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    _show_notes(ctx)
    # the command line only writes figures to files: draw off-screen (the library never
    # touches a user's backend; this is the command's own choice)
    if "matplotlib" in sys.modules:
        sys.modules["matplotlib"].use("Agg")
    else:
        os.environ.setdefault("MPLBACKEND", "Agg")


class _NoteHandler(logging.Handler):
    """The library's notes (logger ``seqexplain``, INFO and up) as plain lines on the
    current stderr (looked up at each line, as click's test runner swaps it)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


def _show_notes(ctx: click.Context) -> None:
    """The library's notes on stderr for the length of the command; when it ends the logger
    is put back as it was, so a command run in-process (a test runner, a notebook) leaves
    logging as it found it."""
    log = logging.getLogger("seqexplain")
    if any(isinstance(h, _NoteHandler) for h in log.handlers):
        return
    handler, level, propagate = _NoteHandler(), log.level, log.propagate
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False

    def restore() -> None:
        log.removeHandler(handler)
        log.setLevel(level)
        log.propagate = propagate

    ctx.call_on_close(restore)


def _register() -> None:
    """Import every module of this package: each command's module adds its command to
    ``main`` (so a new command is its module alone, no list to extend here)."""
    import importlib
    import pkgutil

    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        importlib.import_module(f".{info.name}", __name__)


_register()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
