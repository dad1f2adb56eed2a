"""Ctrl-C (SIGINT) and SIGTERM at any moment of a command: during TensorFlow's import, and in
the middle of the work. Each time the command exits 130 (SIGINT) or 143 (SIGTERM) with one
``error:`` line and no traceback, removes its temporary output, and leaves the previous
output (``--force``) exactly as it was.

Nothing here depends on how fast the machine is: each signal is sent once the process has
*reached* the moment (a TensorFlow library mapped into it; a progress line written), and the
deadlines only bound a hung process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CTCF = ROOT / "models" / "ctcf"
SENTINEL = "precious\n"
#: a bound for a hung process, never a measure of speed
DEADLINE = 300


def _fasta(path: Path, n: int) -> Path:
    rng = np.random.default_rng(1)
    letters = np.array(list("ACGT"))
    path.write_text("".join(f">s{i}\n{''.join(rng.choice(letters, 200))}\n" for i in range(n)))
    return path


def _start(tmp_path: Path, n: int) -> tuple[subprocess.Popen, Path, Path]:
    """``seqexplain explain`` (ISM of ``n`` sequences) replacing a previous output, its
    stderr to a file as in a batch job; → (process, run folder, stderr file)."""
    fa = _fasta(tmp_path / "in.fa", n)
    run = tmp_path / "run"
    (run / "OUT").mkdir(parents=True)
    (run / "OUT" / "keep.txt").write_text(SENTINEL)
    err = tmp_path / "stderr.txt"
    env = dict(os.environ, SEQEXPLAIN_PROGRESS_INTERVAL="0", TF_CPP_MIN_LOG_LEVEL="2")
    with open(err, "w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "seqexplain", "explain", str(CTCF),
                                 str(fa), "-m", "ism", "--logos", "0", "-o", str(run / "OUT"),
                                 "--force"], stdout=subprocess.DEVNULL, stderr=fh, env=env)
    return proc, run, err


def _wait_for(proc: subprocess.Popen, reached, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not reached():
        assert proc.poll() is None, f"the command ended before {what}"
        assert time.monotonic() < deadline, f"never reached: {what}"
        time.sleep(0.01)


def _stopped(proc: subprocess.Popen, signum: int) -> int:
    proc.send_signal(signum)
    try:
        return proc.wait(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()


def _assert_clean_stop(code: int, expected: int, word: str, run: Path, err: Path) -> None:
    text = err.read_text()
    assert code == expected, (code, text)
    assert [line for line in text.splitlines() if line.startswith("error:")] == \
        [f"error: {word}"], text
    assert "Traceback" not in text
    # the previous output as it was, and no temporary folder beside it
    assert sorted(p.name for p in run.iterdir()) == ["OUT"], list(run.iterdir())
    assert [p.name for p in (run / "OUT").iterdir()] == ["keep.txt"]
    assert (run / "OUT" / "keep.txt").read_text() == SENTINEL


def _tensorflow_mapped(pid: int) -> bool:
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False
    return "tensorflow" in maps


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc (Linux)")
def test_sigint_during_tensorflow_import(tmp_path):
    proc, run, err = _start(tmp_path, 50)
    # TensorFlow's libraries are being loaded: the import has begun (it takes seconds more,
    # during which the import holds fd 2 pointed at /dev/null)
    _wait_for(proc, lambda: _tensorflow_mapped(proc.pid), "TensorFlow's import")
    _assert_clean_stop(_stopped(proc, signal.SIGINT), 130, "interrupted", run, err)


@pytest.mark.parametrize("signum, code, word", [(signal.SIGINT, 130, "interrupted"),
                                                (signal.SIGTERM, 143, "terminated")])
def test_signal_inside_the_work(tmp_path, signum, code, word):
    # ISM of 3,000 sequences: minutes of work; the signal comes after the first batches
    proc, run, err = _start(tmp_path, 3000)
    _wait_for(proc, lambda: "explain: " in err.read_text(), "the first progress line")
    assert list(run.glob(".OUT.*.tmp")), "the work runs in a temporary folder"
    _assert_clean_stop(_stopped(proc, signum), code, word, run, err)


def _handles_sigterm(pid: int) -> bool:
    """Whether the process catches SIGTERM: seqexplain's handlers are in place (Python alone
    catches only SIGINT)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = int(next(line.split()[1] for line in status.splitlines()
                      if line.startswith("SigCgt:")), 16)
    return bool(caught >> (signal.SIGTERM - 1) & 1)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc (Linux)")
def test_sigint_right_after_start(tmp_path):
    # the handlers are in place before the command line (click, pandas…) loads
    proc, run, err = _start(tmp_path, 50)
    _wait_for(proc, lambda: _handles_sigterm(proc.pid), "the signal handlers")
    _assert_clean_stop(_stopped(proc, signal.SIGINT), 130, "interrupted", run, err)
