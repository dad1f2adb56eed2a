"""Dask: chunks as tasks on a LocalCluster of 2 worker processes give the same files as one
process; a finished shard is not computed again on --resume; a killed worker's task is run
again and the output is complete."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import distributed
import numpy as np
import pytest
from click.testing import CliRunner

from seqexplain.bundle import load_model
from seqexplain.cli import main
from seqexplain.distributed import (ShardStore, explain_fasta_dask, parse_cluster,
                                    predict_fasta_dask)
from seqexplain.errors import SeqexplainError
from seqexplain.explain import ExplainSettings, explain_fasta
from seqexplain.prediction import predict_fasta

ROOT = Path(__file__).resolve().parents[1]
CTCF = ROOT / "models" / "ctcf"
TEST_FA = ROOT / "examples" / "data" / "ctcf_test.fa"


@pytest.fixture(scope="module")
def scheduler():
    """A LocalCluster of 2 worker processes (1 thread each), used through its address."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0", silence_logs=logging.ERROR) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def fasta(tmp_path_factory):
    """The first 48 records of the CTCF test set: 3 chunks of 16 (explain: 2 of 32)."""
    lines = TEST_FA.read_text().splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(">")]
    path = tmp_path_factory.mktemp("dask") / "peaks.fa"
    path.write_text("\n".join(lines[:starts[48]]) + "\n")
    return path


def test_parse_cluster():
    assert parse_cluster("local:3") == ("local", 3)
    assert parse_cluster("local")[0] == "local"
    assert parse_cluster("tcp://10.0.0.5:8786") == ("address", "tcp://10.0.0.5:8786")
    for bad in ("local:0", "local:x", "10.0.0.5", "tcp://"):
        with pytest.raises(SeqexplainError, match="--cluster"):
            parse_cluster(bad)


@pytest.mark.slow
def test_explain_on_dask_equals_one_process_and_resumes(scheduler, fasta, tmp_path):
    bundle = load_model(CTCF)
    settings = ExplainSettings(methods=("deepshap",), n_references=3, chunk_size=32, seed=7)
    single = tmp_path / "single.npz"
    explain_fasta(bundle, fasta, single, settings, progress=False)

    out = tmp_path / "dask.npz"
    shards = Path(f"{out}.shards")

    # first run: chunk 1 fails on its worker once chunk 0 is written (a crash mid-run)
    def fail_chunk_1(index):
        import time

        if index == 1:
            # wait for chunk 0 however loaded the machine (the bound only stops a hang)
            deadline = time.monotonic() + 600
            while not (shards / "explain-000000.npz").exists():
                assert time.monotonic() < deadline, "chunk 0 was never written"
                time.sleep(0.1)
            raise RuntimeError("simulated crash in chunk 1")

    with pytest.raises(RuntimeError, match="simulated crash"):
        explain_fasta_dask(bundle, str(CTCF), None, fasta, out, settings, scheduler,
                           progress=False, before_chunk=fail_chunk_1)
    assert (shards / "manifest.json").is_file() and not out.exists()
    assert sorted(p.name for p in shards.glob("explain-*.npz")) == ["explain-000000.npz"]
    with pytest.raises(SeqexplainError, match="--resume"):  # not silently overwritten
        explain_fasta_dask(bundle, str(CTCF), None, fasta, out, settings, scheduler,
                           progress=False)
    other = ExplainSettings(**{**settings.__dict__, "seed": 8})
    with pytest.raises(SeqexplainError, match="cannot resume.*settings"):
        explain_fasta_dask(bundle, str(CTCF), None, fasta, out, other, scheduler,
                           resume=True, progress=False)

    summary = explain_fasta_dask(bundle, str(CTCF), None, fasta, out, settings, scheduler,
                                 resume=True, progress=False)
    dask = summary["dask"]
    assert dask["resumed"] == 1 and dask["computed"] == 1
    assert dask["workers"] == 2
    assert set(dask["model_loads"].values()) == {1}  # each worker process loads it once
    with np.load(single) as a, np.load(out) as b:
        assert sorted(a.files) == sorted(b.files)
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    summary["shards"].remove()
    assert not shards.exists()


@pytest.mark.slow
def test_killed_worker_is_retried(scheduler, fasta, tmp_path):
    bundle = load_model(CTCF)
    single = tmp_path / "single.tsv"
    predict_fasta(bundle, fasta, single, batch_size=4, progress=False)
    marker = tmp_path / "killed"

    def kill_once(index):
        # the first worker to run chunk 2 dies (as from the OOM killer); its nanny starts a
        # new worker process and the scheduler runs the task again
        if index == 2:
            try:
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                return
            os._exit(1)

    out = tmp_path / "dask.tsv"
    # 12 chunks: more than the tasks kept in flight (2 per worker + 1)
    result = predict_fasta_dask(bundle, str(CTCF), None, fasta, out, scheduler, batch_size=4,
                                progress=False, before_chunk=kill_once)
    assert marker.exists()
    assert result["n"] == 48 and result["dask"]["computed"] == 12
    assert out.read_text() == single.read_text()
    assert isinstance(result["shards"], ShardStore)


def test_cli_cluster(scheduler, fasta, tmp_path):
    """The command line end to end (a scheduler address; ``local:N`` runs in the guide
    docs/guide/scale.md): the shards are removed once OUT is complete, and OUT equals a run
    without Dask."""
    out = tmp_path / "pred.tsv"
    r = CliRunner().invoke(main, ["predict", str(CTCF), str(fasta), "-o", str(out), "-q",
                                  "--batch-size", "40", "--cluster", scheduler])
    assert r.exit_code == 0, r.output
    assert "2 Dask workers, 2 chunks computed, 0 resumed" in r.output
    assert not Path(f"{out}.shards").exists()
    plain = tmp_path / "plain.tsv"
    assert CliRunner().invoke(main, ["predict", str(CTCF), str(fasta), "-o", str(plain),
                                     "-q"]).exit_code == 0
    assert out.read_text() == plain.read_text()


def test_bad_record_fails_cleanly(scheduler, fasta, tmp_path):
    """A record the model cannot take: the worker's error reaches the caller as the same
    one-line SeqexplainError, and no shard folder is left (no run could finish it)."""
    bad = tmp_path / "bad.fa"
    text = fasta.read_text().splitlines()
    text[-1] = text[-1][:16] + "J" + text[-1][17:]
    bad.write_text("\n".join(text) + "\n")
    out = tmp_path / "bad.tsv"
    with pytest.raises(SeqexplainError, match=r"position 17: invalid character 'J'"):
        predict_fasta_dask(load_model(CTCF), str(CTCF), None, bad, out, scheduler,
                           batch_size=16, progress=False)
    assert not Path(f"{out}.shards").exists() and not out.exists()
