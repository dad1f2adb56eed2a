"""Progress of long loops, shown the way the output is read.

- On a terminal: a tqdm bar (it appears after a second, and is gone when the loop ends).
- In a log file (stderr is not a terminal, as in every cluster batch job): one plain line
  after :data:`FIRST_LINE` seconds, then at most every :data:`INTERVAL` seconds, and one at
  the end::

      explain: 1,200/5,000 seq (24 %), 41.3 seq/s, ETA 1:32
      explain: 5,000/5,000 seq in 2:01 (41.2 seq/s)

- Nothing with ``enabled=False`` (the commands' ``-q``).

A loop's inner batches can report too: while a :class:`Progress` is active, the batch loops
of the attribution methods (:func:`seqexplain.batching.map_batches`) call :func:`advance`, so
a run whose whole input is one chunk still shows how far it is. ``SEQEXPLAIN_PROGRESS_INTERVAL`` sets
the interval of the plain lines (seconds; default 30).
"""

from __future__ import annotations

import os
import sys
import threading
import time

#: seconds between two plain progress lines in a log
INTERVAL = 30.0
#: seconds before the first one
FIRST_LINE = 10.0

_active = threading.local()


def _interval() -> float:
    try:
        return max(0.0, float(os.environ.get("SEQEXPLAIN_PROGRESS_INTERVAL", INTERVAL)))
    except ValueError:
        return INTERVAL


def _clock(seconds: float) -> str:
    from tqdm import tqdm

    return tqdm.format_interval(seconds)


class Progress:
    """``done / total`` of a loop, drawn as the module docstring says.

    Parameters
    ----------
    total : the number of items (None when unknown: lines show the count and rate).
    desc : what is done (``"explain"``), the start of every line.
    unit : the items' name (``"seq"``).
    enabled : False shows nothing.
    passes : inner steps per item (e.g. methods × targets): :func:`advance` counts in those,
        and :meth:`update` in whole items.
    """

    def __init__(self, total: int | None, desc: str, unit: str = "seq", enabled: bool = True,
                 passes: int = 1):
        self.total, self.desc, self.unit = total, desc, unit
        self.passes = max(1, int(passes))
        self.done = 0.0  # whole items, fractions from inner steps
        self.settled = 0  # items finished by update()
        self.interval = _interval()
        self.start = time.perf_counter()
        # the first line comes after FIRST_LINE seconds (a sign of life with a rate), the
        # others every interval
        self.last_line = self.start - self.interval + min(self.interval, FIRST_LINE)
        self.bar = None
        self.plain = False
        if enabled:
            if sys.stderr.isatty():
                from tqdm.auto import tqdm

                self.bar = tqdm(total=total, desc=desc, unit=f" {unit}", delay=1, leave=False)
            else:
                self.plain = True

    def __enter__(self) -> "Progress":
        self.outer = getattr(_active, "progress", None)
        _active.progress = self
        return self

    def __exit__(self, kind, value, traceback) -> None:
        _active.progress = self.outer
        if kind is None:
            self.close()
        elif self.bar is not None:
            self.bar.close()

    def update(self, n: int) -> None:
        """``n`` more items finished."""
        self.settled += int(n)
        self._move(self.settled)

    def step(self, n: float) -> None:
        """``n`` inner steps finished (:func:`advance`); never past the next whole item
        count that :meth:`update` will report."""
        ceiling = self.settled if self.total is None else self.total
        self._move(min(self.done + n / self.passes, max(ceiling, self.done)))

    def _move(self, done: float) -> None:
        if self.bar is not None:
            self.bar.update(int(done) - int(self.done))
        self.done = done
        now = time.perf_counter()
        if self.plain and now - self.last_line >= self.interval:
            self.last_line = now
            self._line(self._running(now - self.start))

    def _running(self, elapsed: float) -> str:
        rate = self.done / elapsed if elapsed > 0 else 0.0
        if self.total is None:
            return f"{self.desc}: {int(self.done):,} {self.unit}, {rate:.1f} {self.unit}/s"
        share = 100 * self.done / self.total if self.total else 100.0
        eta = _clock((self.total - self.done) / rate) if rate > 0 else "?"
        return (f"{self.desc}: {int(self.done):,}/{self.total:,} {self.unit} ({share:.0f} %), "
                f"{rate:.1f} {self.unit}/s, ETA {eta}")

    def _line(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def close(self) -> None:
        """The end: the bar goes; a log gets its last line."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.plain:
            self.plain = False
            elapsed = time.perf_counter() - self.start
            rate = self.settled / elapsed if elapsed > 0 else 0.0
            total = "" if self.total is None else f"/{self.total:,}"
            self._line(f"{self.desc}: {self.settled:,}{total} {self.unit} in "
                       f"{_clock(elapsed)} ({rate:.1f} {self.unit}/s)")


def advance(n: float) -> None:
    """Tell the active :class:`Progress` (if any) that ``n`` inner steps finished."""
    progress = getattr(_active, "progress", None)
    if progress is not None:
        progress.step(n)


