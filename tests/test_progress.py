"""Progress where it is read: plain lines (done/total, rate, ETA) when stderr is a log file,
none with -q; inner batches of one big chunk report too."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from seqexplain.cli import main
from seqexplain.progress import Progress, batches

ROOT = Path(__file__).resolve().parents[1]
RUNNING = re.compile(r"^explain: (\d+)/(\d+) seq \(\d+ %\), [\d.]+ seq/s, ETA (\S+)$")
FINAL = re.compile(r"^explain: (\d+)/(\d+) seq in \S+ \([\d.]+ seq/s\)$")


def _fasta(path: Path, n: int) -> Path:
    rng = np.random.default_rng(3)
    path.write_text("".join(f">s{i}\n{''.join(rng.choice(list('ACGT'), 200))}\n"
                            for i in range(n)))
    return path


def test_a_log_gets_plain_progress_lines_and_quiet_gets_none(tmp_path, monkeypatch):
    # every update prints (interval 0): the count of lines no longer depends on speed
    monkeypatch.setenv("SEQEXPLAIN_PROGRESS_INTERVAL", "0")
    fa = _fasta(tmp_path / "x.fa", 40)
    # one chunk holds all 40 sequences: the lines before the end come from inner batches
    args = ["explain", str(ROOT / "models" / "ctcf"), str(fa), "-m", "saliency",
            "--batch-size", "8", "--logos", "0"]
    result = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    running = [RUNNING.match(line) for line in lines if RUNNING.match(line)]
    done = [int(m.group(1)) for m in running]
    assert len(running) >= 4, lines  # 5 saliency batches of 8 at least
    assert all(int(m.group(2)) == 40 for m in running)
    assert done == sorted(done) and done[-1] <= 40
    finals = [FINAL.match(line) for line in lines if FINAL.match(line)]
    assert [(m.group(1), m.group(2)) for m in finals] == [("40", "40")]
    assert lines.index(finals[0].group(0)) > lines.index(running[-1].group(0))

    quiet = CliRunner().invoke(main, [*args, "-q", "-o", str(tmp_path / "b")])
    assert quiet.exit_code == 0, quiet.output
    assert not any(line.startswith("explain:") for line in quiet.stderr.splitlines())


def test_inner_steps_never_run_past_the_finished_items(monkeypatch, capsys):
    monkeypatch.setenv("SEQEXPLAIN_PROGRESS_INTERVAL", "0")
    seen = []
    with Progress(10, "explain", passes=2) as progress:
        for _ in range(2):  # two chunks of 5 items, two passes (methods) over each
            for _ in range(2):
                for _ in batches(range(0, 5, 2)):
                    pass
                seen.append(progress.done)
            progress.update(5)
    # each pass over a chunk is half its items; never more than the next update reports
    assert seen == [2.5, 5.0, 7.5, 10.0]
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("explain: 10/10 seq in ")
    assert len(err) == 1 + 3 * 4 + 2  # (interval 0) a line per batch and per update, + the end
