"""The one exception type for problems a user can cause (bad files, bad options)."""

from __future__ import annotations


class SeqexplainError(Exception):
    """A problem with the user's input, reported as one line by the CLI.

    Messages name the file, the record and the problem, e.g.
    ``peaks.fa: record 'chr1:100-300', position 17: invalid character '@' for DNA``.
    """


def where(source: str | None, record: str | None = None, position: int | None = None) -> str:
    """Format the ``file: record 'id', position p: `` prefix of an error message."""
    parts = []
    if source:
        parts.append(str(source))
    loc = []
    if record is not None:
        loc.append(f"record {record!r}")
    if position is not None:
        loc.append(f"position {position}")
    if loc:
        parts.append(", ".join(loc))
    return ": ".join(parts) + (": " if parts else "")
