"""The one exception type for problems a user can cause (bad files, bad options), and the
warning for a model that failed to learn."""

from __future__ import annotations

import math
import numbers


class SeqexplainError(Exception):
    """A problem with the user's input, reported as one line by the CLI.

    Messages name the file, the record and the problem, e.g.
    ``peaks.fa: record 'chr1:100-300', position 17: invalid character '@' for DNA``.
    """


class OptionError(SeqexplainError):
    """A wrong value or combination of a verb's options, found before any work (the CLI: a
    usage error, exit status 2). ``option``: the one option at fault (``"--references"``), or
    ``None`` for a combination."""

    def __init__(self, message: str, option: str | None = None):
        super().__init__(message)
        self.option = option


class ModelQualityWarning(UserWarning):
    """A model folder whose training failed (metadata.json ``quality.failed``): its CNN was
    clearly below the best baseline, or no better than chance, on validation. Issued when
    the folder is loaded; the CLI prints it as one ``warning: …`` line."""


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


# -- argument checks: one helper for every public function -----------------------------------

def _prefix(where: str | None) -> str:
    return f"{where}: " if where else ""


def check(ok: bool, message: str, where: str | None = None) -> None:
    """Raise :class:`SeqexplainError` with ``message`` (prefixed ``where: ``) unless ``ok``."""
    if not ok:
        raise SeqexplainError(_prefix(where) + message)


def check_int(name: str, value, minimum: int = 1, where: str | None = None) -> int:
    """``value`` as an int ≥ ``minimum`` (bools and non-integers refused)."""
    check(not isinstance(value, bool) and isinstance(value, numbers.Integral)
          and value >= minimum, f"{name}={value!r}: expected an integer ≥ {minimum}", where)
    return int(value)


def check_number(name: str, value, minimum: float, strict: bool = False,
                 where: str | None = None) -> float:
    """``value`` as a finite float ≥ ``minimum`` (> with ``strict``). Numeric strings are
    accepted: PyYAML reads "1e-3" (no decimal point) as a string."""
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    ok = math.isfinite(number) and (number > minimum if strict else number >= minimum)
    check(ok, f"{name}={value!r}: expected a number {'>' if strict else '≥'} {minimum}", where)
    return number


def check_choice(name: str, value, choices, where: str | None = None) -> str:
    """``value`` lower-cased, one of ``choices``."""
    check(isinstance(value, str) and value.lower() in choices,
          f"{name}={value!r}: choose one of {', '.join(choices)}", where)
    return value.lower()
