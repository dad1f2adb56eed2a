"""``python -m seqexplain`` runs the command line."""

from .cli import main

main(prog_name="seqexplain")
