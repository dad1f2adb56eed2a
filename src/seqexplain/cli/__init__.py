"""The ``seqexplain`` command line: a thin layer over the library.

Each command parses its options, calls one library function and reports. Errors a user can
cause (:class:`SeqexplainError`) print one ``error: …`` line on stderr and exit with status 1;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys

import click

from .. import __version__
from ..errors import SeqexplainError


class _Group(click.Group):
    """Turns SeqexplainError (and a few plain OS errors) into one-line messages."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (SeqexplainError, FileNotFoundError, PermissionError, IsADirectoryError) as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            click.echo(f"error: {msg}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("error: interrupted", err=True)
            ctx.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="seqexplain")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """seqexplain: train CNNs on DNA, RNA or protein sequences and see what they learned."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _register() -> None:
    from . import encode, explain, filters, logo, motifs, predict, report, simulate, train, tune  # noqa: F401  (each module adds its command to ``main``)


_register()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
