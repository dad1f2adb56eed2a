"""The ``seqexplain`` program: the command line run so that Ctrl-C and SIGTERM work at any
moment.

Python runs signal handlers only in the main thread, and only between bytecodes: a handler
waits while the main thread is inside TensorFlow's import or a long graph execution (tens of
seconds on a big batch). So the command runs in a worker thread, and the main thread does
nothing but wait for it. A signal is acted on at once: temporary outputs are removed (after
any rename in progress finishes, see :mod:`seqexplain.outputs`), child processes (a local
Dask cluster) are stopped, one line is printed and the process exits with 130 (SIGINT) or
143 (SIGTERM). The user's previous output is never touched: outputs only replace it in one
rename, under the same lock.

This module imports nothing heavy, so the handlers are in place a few milliseconds after
Python starts; the command line itself (click, and TensorFlow when a command needs it) loads
in the worker thread.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

#: what the one line says, by signal
_WORDS = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}
#: a copy of the user's stderr: TensorFlow's import points fd 2 at /dev/null for a while
#: (seqexplain._tf), and the line must reach the user even then
_STDERR = [None]


def _stop(signum: int, frame=None) -> None:
    """Clean up and leave now (runs in the main thread, as the signal handler)."""
    if "seqexplain.outputs" in sys.modules:
        sys.modules["seqexplain.outputs"].discard_unfinished(timeout=5.0)
    if "multiprocessing" in sys.modules:
        for child in sys.modules["multiprocessing"].active_children():
            child.terminate()
    try:
        fd = 2 if _STDERR[0] is None else _STDERR[0]
        start = "\n" if os.isatty(fd) else ""  # on a terminal: off the progress bar's line
        os.write(fd, f"{start}error: {_WORDS.get(signum, 'stopped')}\n".encode())
    finally:
        os._exit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Run ``seqexplain ARGS`` (``argv``; default ``sys.argv[1:]``) and return its exit
    status; a signal ends the process from here instead (see the module docstring)."""
    try:
        _STDERR[0] = os.dup(2)
    except OSError:  # no fd 2
        pass
    for signum in _WORDS:
        signal.signal(signum, _stop)
    outcome: dict = {"status": 0}

    def command() -> None:
        from .cli import main as cli

        try:
            cli.main(args=argv, prog_name="seqexplain")
        except SystemExit as exc:
            outcome["status"] = exc.code
        except BaseException as exc:  # shown by the main thread, as without the thread
            outcome["error"] = exc

    worker = threading.Thread(target=command, name="seqexplain", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.5)  # the wait wakes for signals: the handler runs at once
    if "error" in outcome:
        raise outcome["error"]
    status = outcome["status"]
    if status is None or isinstance(status, int):
        return status or 0
    print(status, file=sys.stderr)  # sys.exit("message")
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
