"""The command line's conduct: one-line errors, exit codes, atomic outputs, --force."""

import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from seqexplain import __version__, one_hot
from seqexplain.cli import main


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_version_and_help():
    code, out, _ = run("--version")
    assert code == 0 and __version__ in out
    code, out, _ = run("--help")
    assert code == 0 and "encode" in out


def test_console_script_and_module_entry_points():
    for cmd in (["seqexplain", "--version"], [sys.executable, "-m", "seqexplain", "--version"]):
        proc = subprocess.run(cmd, capture_output=True, text=True)
        assert proc.returncode == 0 and __version__ in proc.stdout


def test_encode_writes_npz(tmp_path):
    fa = tmp_path / "x.fa"
    fa.write_text(">a\nACGTN\n>b\nacg\n")
    out = tmp_path / "x.npz"
    code, _, err = run("encode", fa, "--out", out, "--batch-size", 1)
    assert code == 0 and "2 sequences × 5 positions (dna, ACGT); 1 padded, 0 cropped" in err
    data = np.load(out)
    assert set(data.files) == {"onehot", "ids", "lengths", "alphabet"}
    np.testing.assert_array_equal(data["onehot"], one_hot(["ACGTN", "acg"]))
    assert data["ids"].tolist() == ["a", "b"] and data["lengths"].tolist() == [5, 3]
    assert str(data["alphabet"]) == "ACGT"


def test_encode_options_reach_the_encoder(tmp_path):
    fa = tmp_path / "p.fa"
    fa.write_text(">p\nMKVX\n")
    out = tmp_path / "p.npz"
    code, _, _ = run("encode", fa, "-o", out, "--length", 6, "--pad", "left",
                     "--unknown", "uniform", "--alphabet", "protein")
    assert code == 0
    x = np.load(out)["onehot"]
    assert x.shape == (1, 6, 20) and x[0, :2].sum() == 0
    np.testing.assert_allclose(x[0, 5], np.full(20, 0.05))


def test_error_is_one_line_without_traceback_and_nothing_written(tmp_path):
    fa = tmp_path / "bad.fa"
    fa.write_text(">ok\nACGT\n>broken\nAC%T\n")
    out = tmp_path / "bad.npz"
    proc = subprocess.run(["seqexplain", "encode", str(fa), "-o", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr == (f"error: {fa}: record 'broken', position 3: invalid character '%' "
                           "for dna\n")
    assert "Traceback" not in proc.stderr and not out.exists()
    assert list(tmp_path.iterdir()) == [fa]  # no temporary file left behind


def test_debug_shows_traceback(tmp_path):
    fa = tmp_path / "bad.fa"
    fa.write_text("not fasta\n")
    proc = subprocess.run(["seqexplain", "--debug", "encode", str(fa), "-o",
                           str(tmp_path / "o.npz")], capture_output=True, text=True)
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_existing_output_needs_force(tmp_path):
    fa = tmp_path / "x.fa"
    fa.write_text(">a\nACGT\n")
    out = tmp_path / "x.npz"
    out.write_bytes(b"precious")
    code, _, err = run("encode", fa, "-o", out)
    assert code == 1 and err.strip() == f"error: {out}: file exists; pass --force to overwrite it"
    assert out.read_bytes() == b"precious"
    # a failing run with --force still leaves the old file alone
    bad = tmp_path / "bad.fa"
    bad.write_text(">a\nAC?T\n")
    code, _, _ = run("encode", bad, "-o", out, "--force")
    assert code == 1 and out.read_bytes() == b"precious"
    code, _, _ = run("encode", fa, "-o", out, "--force")
    assert code == 0 and np.load(out)["onehot"].shape == (1, 4, 4)


@pytest.mark.parametrize("args,match", [
    (["--length", "0"], "error: invalid value for '--length'"),
    (["--pad", "middle"], "error: invalid value for '--pad'"),
    (["--alphabet", "klingon"], "error: invalid value for '--alphabet'"),
])
def test_bad_option_values(tmp_path, args, match):
    fa = tmp_path / "x.fa"
    fa.write_text(">a\nACGT\n")
    code, _, err = run("encode", fa, "-o", tmp_path / "o.npz", *args)
    assert code == 2 and match in err and not (tmp_path / "o.npz").exists()


def test_missing_output_folder(tmp_path):
    fa = tmp_path / "x.fa"
    fa.write_text(">a\nACGT\n")
    code, _, err = run("encode", fa, "-o", tmp_path / "nope" / "o.npz")
    assert code == 1 and "does not exist" in err
