"""``seqexplain encode``: FASTA → .npz with ids, one-hot array and alphabet."""

from __future__ import annotations

import click

from ..npz import encode_to_npz
from . import main
from .options import sequence_options


@main.command("encode")
@click.argument("fasta", type=click.Path(dir_okay=False))
@sequence_options
@click.option("--batch-size", default=10_000, show_default=True, type=click.IntRange(min=1),
              help="Records encoded at a time (memory is bounded by one batch).")
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False),
              help="Output .npz file.")
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
def encode_command(fasta, alphabet, length, pad, crop, unknown, batch_size, out, force):
    """One-hot encode FASTA (plain or .gz) into an .npz.

    The .npz holds `onehot` (n, length, channels) float32, `ids` (n,), `lengths` (n,) — each
    sequence's length before padding/cropping — and `alphabet` (the channel letters, e.g.
    ACGT). Load it with numpy.load(OUT).
    """
    scan = encode_to_npz(fasta, out, alphabet=alphabet, length=length, pad=pad, crop=crop,
                         unknown=unknown, batch_size=batch_size, force=force)
    click.echo(f"{out}: {scan.n} sequences × {scan.length} positions "
               f"({scan.alphabet.name}, {scan.alphabet.letters}); {scan.n_padded} padded, "
               f"{scan.n_cropped} cropped", err=True)
