"""One table of mistakes, every command: a wrong file, option or value gives a non-zero exit
(2 for a wrong command line, 1 for a file or data problem), exactly one ``error:`` line on
stderr (plus, for usage errors, one ``try '… --help'`` line), no traceback, nothing written at
``--out`` and a pre-existing output left exactly as it was. Plus: an unwritable output is
refused before TensorFlow is imported. (Interrupts: tests/test_interrupts.py.)"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from seqexplain.cli import main

ROOT = Path(__file__).resolve().parents[1]
CTCF, WW = ROOT / "models" / "ctcf", ROOT / "models" / "ww"
DATA = ROOT / "examples" / "data"
SENTINEL = "precious\n"


def _dna(n: int, length: int, seed: int = 0) -> list[str]:
    import numpy as np

    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list("ACGT"), length)) for _ in range(n)]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Small inputs, good and bad, shared by every row: ``{name: path}``."""
    d = tmp_path_factory.mktemp("inputs")
    seqs = _dna(4, 200)
    (d / "dna.fa").write_text("".join(f">r{i}\n{s}\n" for i, s in enumerate(seqs)))
    (d / "labels.tsv").write_text("id\tlabel\n" + "".join(f"r{i}\t{i % 2}\n" for i in range(4)))
    bad = list(seqs)
    bad[2] = bad[2][:16] + "J" + bad[2][17:]  # record r2, 1-based position 17
    (d / "bad.fa").write_text("".join(f">r{i}\n{s}\n" for i, s in enumerate(bad)))
    (d / "rna.fa").write_text(">u1\nACGUACGUAC\n")
    (d / "prot.fa").write_text(">p\nMKVLHEEWWQRSTPLLKE\n")
    (d / "text.fa").write_text("this is not a FASTA file\n")
    (d / "empty.fa").write_text("")
    (d / "space.yaml").write_text("filters: {min: 0\n")  # broken YAML
    (d / "notnpz.npz").write_text("not an npz\n")
    (d / "fake.keras").write_text("not a model\n")
    genome = ">chr1\n" + _dna(1, 600, seed=4)[0] + "\n"
    (d / "g.fa").write_text(genome)
    (d / "gzgenome.fa.gz").write_bytes(gzip.compress(genome.encode()))
    (d / "peaks.bed").write_text("chr1\t100\t300\n")
    (d / "nochr.bed").write_text("1\t100\t300\n")
    (d / "farsummit.narrowPeak").write_text("chr1\t100\t300\tp\t0\t.\t1\t1\t1\t400\n")
    (d / "badbed.bed").write_text("chr1\tten\t20\n")
    (d / "widths.bed").write_text("chr1\t100\t300\nchr1\t400\t450\n")
    vcf_head = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    (d / "v.vcf").write_text(vcf_head + f"chr1\t300\t.\t{genome[6 + 299]}\tN\t.\t.\t.\n")
    (d / "nochrvcf.vcf").write_text(vcf_head + "1\t300\t.\tA\tC\t.\t.\t.\n")
    (d / "badpos.vcf").write_text(vcf_head + "chr1\tx\t.\tA\tC\t.\t.\t.\n")
    for name, content in [("trunc", (CTCF / "model.keras").read_bytes()[:4000]),
                          ("textmodel", b"hello, I am a text file\n")]:
        folder = d / name
        shutil.copytree(CTCF, folder)
        (folder / "model.keras").write_bytes(content)
    ro = d / "readonly"
    ro.mkdir()
    ro.chmod(0o555)
    if os.access(ro, os.W_OK):  # root ignores permission bits: use a read-only system folder
        ro = Path("/proc/sys")
    paths = {p.name.split(".")[0]: p for p in d.iterdir()}
    paths["ro"] = ro if not os.access(ro, os.W_OK) and ro.is_dir() else None
    paths.update(ctcf=CTCF, ww=WW, meme=DATA / "jaspar2024_selected.meme",
                 missing=d / "missing.fa")
    # a real attributions file (saliency only) for logo, motifs, report and export-modisco
    attr = d / "ex"
    r = CliRunner().invoke(main, ["explain", str(CTCF), str(d / "dna.fa"), "-m", "saliency",
                                  "--logos", "0", "-q", "-o", str(attr)])
    assert r.exit_code == 0, r.output
    paths["attr"] = attr / "attributions.npz"
    # models people bring: BPNet-style (profile + counts heads) and DanQ-style (BiLSTM), and
    # a file of several targets (explain --target all)
    from architectures import architecture

    for name in ("bpnet", "danq"):
        architecture(name, length=50).save(d / f"{name}.keras")
        paths[name] = d / f"{name}.keras"
    # a TF SavedModel folder (DeepSHAP cannot see inside its graph) and a Lambda layer
    architecture("deepbind", length=50).export(d / "savedmodel", verbose=False)
    paths["savedmodel"] = d / "savedmodel"
    import keras

    inp = keras.Input((50, 4))
    keras.Model(inp, keras.layers.Lambda(lambda t: 2.0 * t, name="doubling")(inp)).save(
        d / "lambda.keras")
    paths["lambda"] = d / "lambda.keras"
    multi = d / "multi"
    r = CliRunner().invoke(main, ["explain", str(paths["bpnet"]), str(d / "dna.fa"), "-m",
                                  "saliency", "--target", "all", "--logos", "0", "-q", "-o",
                                  str(multi)])
    assert r.exit_code == 0, r.output
    paths["multi"] = multi / "attributions.npz"
    return paths


# (id, args ({name} = an input of `files`, {out} = the output), exit code, text of the error,
#  output state before the run: "new" (absent), "dir"/"file" (pre-existing, with a sentinel))
ROWS = [
    # design
    ("design-bad-goal", "design {ctcf} {dna} --goal maximum -o {out}", 2,
     "goal 'maximum': use max, min, value:V or specific:A>B", "new"),
    ("design-bad-target", "design {ctcf} {dna} --goal max --target nosuch -o {out}", 1,
     "unknown target 'nosuch'", "new"),
    ("design-bad-mask", "design {ctcf} {dna} --goal max --mask 150-300 -o {out}", 2,
     "'150-300' is not a range inside the 200-long sequences", "new"),
    ("design-mask-file-line", "design {ctcf} {dna} --goal max --mask {labels} -o {out}", 1,
     "labels.tsv, line 1: expected ID START END", "new"),
    ("design-bad-gc", "design {ctcf} {dna} --goal max --gc 0.7-0.2 -o {out} --force", 2,
     "0 ≤ LOW ≤ HIGH ≤ 1", "dir"),
    ("design-folds-other-length", "design {ctcf},{bpnet} {dna} --goal max -o {out}", 1,
     "several models must take the same input", "new"),
    ("design-no-inputs", "design {ctcf} --goal max -o {out}", 2,
     "no sequences: give a FASTA file or --regions", "new"),
    ("design-invalid-char", "design {ctcf} {bad} --goal max -o {out} --force", 1,
     "record 'r2', position 17: invalid character 'J'", "dir"),
    ("design-soft-masked-fasta", "design {ctcf} {dna} --goal max --soft-masked -o {out}", 2,
     "--soft-masked is used with --regions", "new"),
    # encode
    ("encode-missing-fasta", "encode {missing} -o {out}", 1, "missing.fa: no such file", "new"),
    ("encode-length-0", "encode {dna} -o {out} --length 0", 2, "'--length'", "new"),
    ("encode-invalid-char", "encode {bad} -o {out} --alphabet dna", 1,
     "record 'r2', position 17: invalid character 'J' for dna", "new"),
    ("encode-exists", "encode {dna} -o {out}", 1, "file exists; pass --force", "file"),
    ("encode-force-bad-data", "encode {text} -o {out} --force", 1, "expected a FASTA header",
     "file"),
    ("encode-readonly", "encode {dna} -o {ro}/x.npz", 1, "cannot write to folder", None),
    # simulate
    ("simulate-unknown-motif", "simulate --motif NOT_A_MOTIF! -o {out}", 1, "NOT_A_MOTIF!",
     "new"),
    ("simulate-n-0", "simulate --motif CCGCGNGGNGGCAG -n 0 -o {out}", 2, "'-n' / '--n-seqs'",
     "new"),
    ("simulate-gc", "simulate --motif CCGCGNGGNGGCAG --gc 2 -o {out}", 2, "'--gc'", "new"),
    ("simulate-positive-fraction",
     "simulate --motif CCGCGNGGNGGCAG --positive-fraction 1 -o {out}", 2,
     "invalid value for '--positive-fraction'", "new"),
    ("simulate-exists", "simulate --motif CCGCGNGGNGGCAG -n 10 -o {out}", 1,
     "folder exists; pass --force", "dir"),
    ("simulate-missing-parent", "simulate --motif CCGCGNGGNGGCAG -n 10 -o {out}/deeper/x", 1,
     "does not exist", "new"),
    ("simulate-decoys-no-position", "simulate --motif CCGCGNGGNGGCAG --decoys 1 -o {out}", 1,
     "decoys need motif positions (--position)", "new"),
    ("simulate-position-outside", "simulate --motif CCGCGNGGNGGCAG --position 95 -o {out}", 1,
     "outside the 200 bp sequence", "new"),
    ("simulate-positions-overlap", "simulate --motif CCGCGNGGNGGCAG --motif TATAAT --task and "
     "--position -35 --position -30 -o {out}", 1, "would overlap at their positions", "new"),
    ("simulate-position-count", "simulate --motif TATAAT --position 1 --position 2 -o {out}",
     1, "2 positions for 1 motifs", "new"),
    # train
    ("train-epochs-0", "train {dna} --labels {labels} --epochs 0 -o {out}", 2,
     "invalid value for '--epochs'", "new"),
    ("train-filters-abc", "train {dna} --labels {labels} --filters abc -o {out}", 2,
     "invalid value for '--filters'", "new"),
    ("train-val-fraction", "train {dna} --labels {labels} --val-fraction 2 -o {out}", 2,
     "invalid value for '--val-fraction'", "new"),
    ("train-position-l2", "train {dna} --labels {labels} --position-l2 -1 -o {out}", 2,
     "invalid value for '--position-l2'", "new"),
    ("train-no-out", "train {dna} --labels {labels}", 2, "missing option '-o' / '--out'", None),
    ("train-missing-labels", "train {dna} --labels {missing} -o {out}", 1, "missing.fa", "new"),
    ("train-out-is-file", "train {dna} --labels {labels} -o {out} --force", 2,
     "invalid value for '-o' / '--out'", "file"),
    ("train-background-without-regions",
     "train {dna} --labels {labels} --background gc-matched -o {out}", 2,
     "--background is used with --regions", "new"),
    ("train-regions-widths", "train --regions {widths} --genome {g} -o {out}", 1,
     "widths.bed: regions have different widths (50–200 bp); pass --length", "new"),
    ("train-label-column-missing",
     "train --regions {peaks} --genome {g} --label-column 9 --length 50 -o {out}", 1,
     "peaks.bed, line 1: no column 9 (--label-column)", "new"),
    ("train-invalid-char", "train {bad} --labels {labels} --alphabet dna -o {out}", 1,
     "record 'r2', position 17: invalid character 'J'", "new"),
    # tune
    ("tune-max-trials-0", "tune {dna} --labels {labels} --max-trials 0 -o {out}", 2,
     "'--max-trials'", "new"),
    ("tune-tuner", "tune {dna} --labels {labels} --tuner grid -o {out}", 2, "'--tuner'", "new"),
    ("tune-missing-fasta", "tune {missing} --labels {labels} -o {out}", 1, "missing.fa", "new"),
    ("tune-bad-space", "tune {dna} --labels {labels} --search-space {space} -o {out}", 1,
     "space.yaml", "new"),
    ("tune-exists", "tune {dna} --labels {labels} -o {out}", 1, "folder exists", "dir"),
    ("tune-no-fasta", "tune -o {out}", 2, "no sequences: give a FASTA file or --regions",
     "new"),
    ("tune-background-no-regions", "tune {dna} --background gc-matched -o {out}", 2,
     "--background is used with --regions", "new"),
    # predict
    ("predict-invalid-char", "predict {ctcf} {bad} -o {out}", 1,
     "bad.fa: record 'r2', position 17: invalid character 'J' for dna (protein? the model "
     "takes dna)", "new"),
    ("predict-rna-to-dna-model", "predict {ctcf} {rna} -o {out}", 1,
     "record 'u1', position 4: invalid character 'U' for dna (RNA? the model takes dna)",
     "new"),
    ("predict-dna-to-protein-model", "predict {ww} {dna} -o {out}", 1,
     "look like dna but the model was trained on protein", "new"),
    ("predict-truncated-model", "predict {trunc} {dna} -o {out}", 1,
     "trunc/model.keras: not a valid Keras archive (truncated or not a zip file)", "new"),
    ("predict-text-model", "predict {textmodel} {dna} -o {out}", 1,
     "textmodel/model.keras: not a valid Keras archive (truncated or not a zip file)", "new"),
    ("predict-batch-0", "predict {ctcf} {dna} -o {out} --batch-size 0", 2, "'--batch-size'",
     "new"),
    ("predict-readonly", "predict {ctcf} {dna} -o {ro}/p.tsv", 1, "cannot write to folder",
     None),
    ("predict-fasta-and-regions", "predict {ctcf} {dna} --regions {peaks} --genome {g} -o {out}",
     2, "give FASTA file(s) or --regions, not both", "new"),
    ("predict-summit-outside-peak",
     "predict {ctcf} --regions {farsummit} --genome {g} -o {out}", 1,
     "farsummit.narrowPeak, line 1: narrowPeak column 10 (summit offset from the start) is "
     "400, outside the 200-bp peak; it must be in 0..199 (or -1: no summit)", "new"),
    ("predict-regions-no-genome", "predict {ctcf} --regions {peaks} -o {out}", 2,
     "--regions needs --genome", "new"),
    ("predict-regions-chr-prefix", "predict {ctcf} --regions {nochr} --genome {g} -o {out}", 1,
     "nochr.bed: 1 chromosome(s) not in the genome", "new"),
    ("predict-plain-gzip-genome",
     "predict {ctcf} --regions {peaks} --genome {gzgenome} -o {out}", 1,
     "gzgenome.fa.gz: compressed with plain gzip, which cannot be read at random; recompress "
     "it with bgzip", "new"),
    ("predict-force-bad-data", "predict {ctcf} {bad} -o {out} --force", 1, "position 17",
     "file"),
    ("predict-cluster-bad", "predict {ctcf} {dna} -o {out} --cluster nowhere", 2,
     "invalid value for '--cluster': expected local, local:N or a Dask scheduler address",
     "new"),
    ("predict-resume-no-cluster", "predict {ctcf} {dna} -o {out} --resume", 2,
     "--resume needs --cluster", "new"),
    ("predict-cluster-regions",
     "predict {ctcf} --regions {peaks} --genome {g} -o {out} --cluster local:1", 2,
     "--cluster reads a FASTA file; --regions runs in one process", "new"),
    ("predict-cluster-profiles", "predict {bpnet} {dna} -o {out} --cluster local:1", 2,
     "--cluster: a model with per-position outputs is predicted in one process", "new"),

    ("predict-bare-model-bad-char", "predict {bpnet} {bad} -o {out}", 1,
     "record 'r2', position 17: invalid character 'J'", "new"),
    # evaluate
    ("evaluate-no-labels", "evaluate {ctcf} {dna}", 1, "no labels", None),
    ("evaluate-truncated-model", "evaluate {trunc} {dna} --labels {labels}", 1,
     "not a valid Keras archive", None),
    ("evaluate-missing-fasta", "evaluate {ctcf} {missing} --labels {labels} -o {out}", 1,
     "missing.fa: no such file", "new"),
    ("evaluate-exists", "evaluate {ctcf} {dna} --labels {labels} -o {out}", 1,
     "file exists", "file"),
    ("evaluate-no-fasta", "evaluate {ctcf}", 2, "no sequences: give a FASTA file or --regions",
     None),
    ("evaluate-regions-no-genome", "evaluate {ctcf} --regions {missing}", 2,
     "--regions needs --genome", None),
    ("evaluate-fasta-and-regions", "evaluate {ctcf} {dna} --regions {missing} --genome {dna}",
     2, "give FASTA file(s) or --regions, not both", None),
    # explain
    ("explain-n-references-0", "explain {ctcf} {dna} --n-references 0 -o {out}", 2,
     "invalid value for '--n-references'", "new"),
    ("explain-references-missing", "explain {ctcf} {dna} --references {missing} -o {out}", 2,
     "invalid value for '--references'", "new"),
    ("explain-tracks-fasta", "explain {ctcf} {dna} -m saliency --tracks -o {out}", 2,
     "--tracks needs --regions and --genome", "new"),
    ("explain-invalid-char", "explain {ctcf} {bad} -m saliency -o {out}", 1,
     "record 'r2', position 17: invalid character 'J' for dna", "new"),
    ("explain-protein-to-dna-model", "explain {ctcf} {prot} -m saliency -o {out}", 1,
     "record 'p', position 4: invalid character 'L' for dna (protein? the model takes dna)",
     "new"),
    ("explain-bare-text-model", "explain {fake} {dna} -o {out}", 1,
     "fake.keras: not a valid Keras archive (truncated or not a zip file)", "new"),
    ("explain-database-missing", "explain {ctcf} {dna} --motifs --database {missing} -o {out}",
     1, "missing.fa: no such motif file", "new"),
    ("explain-window", "explain {ctcf} {dna} --logo-window 9:3 -o {out}", 2,
     "'--logo-window'", "new"),
    ("explain-force-bad-data", "explain {ctcf} {empty} -m saliency -o {out} --force", 1,
     "empty.fa: empty file", "dir"),
    ("explain-bad-bed", "explain {ctcf} --regions {badbed} --genome {g} -m saliency -o {out}",
     1, "badbed.bed, line 1: start and end must be integers", "new"),
    ("explain-no-input", "explain {ctcf} -o {out}", 2, "no sequences: give a FASTA file or "
     "--regions", "new"),
    ("explain-readonly", "explain {ctcf} {dna} -o {ro}/ex", 1, "cannot write to folder", None),
    ("explain-shap-fails", "explain {bpnet} {dna} -m shap --target counts:0 --n-references 2 "
     "-o {out}", 1, "shap cannot explain model", "new"),  # no warning before the error line
    ("explain-cluster-local-0", "explain {ctcf} {dna} -o {out} --cluster local:0", 2,
     "invalid value for '--cluster': the number of local workers must be a positive integer",
     "new"),
    ("explain-grammar-no-motifs", "explain {ctcf} {dna} --grammar -o {out}", 2,
     "--grammar studies the motifs found: add --motifs", None),
    ("explain-resume-no-cluster", "explain {ctcf} {dna} -o {out} --resume", 2,
     "--resume needs --cluster", "new"),
    # several models (folds): the same input and targets, one process, no grammar study
    ("explain-folds-other-length", "explain {ctcf},{bpnet} {dna} -o {out}", 1,
     "bpnet.keras: takes 50 × ACGT, but", "new"),
    ("explain-folds-cluster", "explain {ctcf},{ctcf} {dna} -o {out} --cluster local", 2,
     "--cluster runs one model", "dir"),
    ("explain-folds-grammar", "explain {ctcf},{ctcf} {dna} --motifs --grammar -o {out}", 2,
     "--grammar studies one model", "new"),

    ("explain-target-unknown", "explain {bpnet} {dna} --target foo -o {out}", 1,
     "unknown target 'foo': the model's outputs are profile (per position", "new"),
    ("explain-target-window", "explain {bpnet} {dna} --target profile[0:900] -o {out}", 1,
     "window [0:900] is empty or outside the output's 50 positions", "new"),
    ("explain-target-channel", "explain {bpnet} {dna} --target counts:5 -o {out}", 1,
     "output 'counts' has 2 channel(s)", "new"),
    ("explain-target-window-on-vector", "explain {bpnet} {dna} --target counts[1:3] -o {out}",
     1, "a window [a:b] needs a per-position output", "new"),
    ("explain-recurrent-deepshap", "explain {danq} {dna} -m deepshap -o {out}", 1,
     "(Bidirectional) has no DeepLIFT/DeepSHAP rule", "new"),
    ("explain-shap-profile", "explain {bpnet} {dna} -m shap --target profile -o {out}", 1,
     "cannot hold a profile target's softmax weights", "new"),
    # export-modisco
    ("export-modisco-missing", "export-modisco {missing} -o {out}", 1, "no such file", "new"),
    ("export-modisco-not-npz", "export-modisco {notnpz} -o {out}", 1,
     "not an attributions file", "new"),
    ("export-modisco-no-method", "export-modisco {attr} -m deepshap -o {out} --force", 1,
     "deepshap", "dir"),
    ("export-modisco-exists", "export-modisco {attr} -m saliency -o {out}", 1,
     "folder exists", "dir"),
    ("export-modisco-several-targets", "export-modisco {multi} -m saliency -o {out}", 1,
     "holds several targets (profile, counts:0, counts:1); choose one (--target)", "new"),
    ("export-modisco-target-unknown", "export-modisco {multi} -m saliency --target nope "
     "-o {out}", 1, "no target 'nope' (targets: profile, counts:0, counts:1)", "new"),
    # logo
    ("logo-missing", "logo {missing} -o {out}", 1, "no such file", "new"),
    ("logo-window", "logo {attr} --window 9:3 -o {out}", 2, "'--window'", "new"),
    ("logo-dpi", "logo {attr} --dpi 5 -o {out}", 2, "'--dpi'", "new"),
    ("logo-no-method", "logo {attr} -m deepshap -o {out} --force", 1, "no 'deepshap' scores",
     "dir"),
    ("logo-not-npz", "logo {notnpz} -o {out}", 1, "not an attributions file", "new"),
    ("logo-several-targets", "logo {multi} -o {out}", 1,
     "holds several targets (profile, counts:0, counts:1); choose one (--target)", "new"),
    ("logo-target-unknown", "logo {multi} --target nope -o {out}", 1,
     "no target 'nope' (targets: profile, counts:0, counts:1)", "new"),
    ("logo-target-not-explained", "logo {attr} --target 3 -o {out}", 1,
     "explains target 'ctcf_peaks' only, not '3'", "new"),
    # report
    ("report-missing-model", "report {missing} -o {out}", 1, "missing.fa", "new"),
    ("report-top-0", "report {ctcf} --top 0 -o {out}", 2, "'--top'", "new"),
    ("report-missing-attributions", "report {ctcf} -a {missing} -o {out}", 1, "missing.fa",
     "new"),
    ("report-truncated-model", "report {trunc} -o {out} --force", 1,
     "not a valid Keras archive", "file"),
    ("report-exists", "report {ctcf} -o {out}", 1, "file exists", "file"),
    ("report-not-grammar-folder", "report {ctcf} --grammar {ctcf} -o {out}", 1,
     "not a grammar folder (no marginal.tsv", "new"),
    ("report-not-design-folder", "report {ctcf} --design {ctcf} -o {out}", 1,
     "not a design folder (no designs.tsv", "new"),
    ("report-several-targets", "report {bpnet} -a {multi} -o {out}", 1,
     "holds several targets (profile, counts:0, counts:1); choose one (--target)", "new"),
    # motifs
    ("motifs-missing", "motifs {missing} -o {out}", 1, "no such file", "new"),
    ("motifs-fdr-0", "motifs {attr} -m saliency --fdr 0 -o {out}", 2, "'--fdr'", "new"),
    ("motifs-database-missing", "motifs {attr} -m saliency --database {missing} -o {out}", 1,
     "missing.fa: no such motif file", "new"),
    ("motifs-no-method", "motifs {attr} -m deepshap -o {out} --force", 1,
     "no 'deepshap' scores", "dir"),
    ("motifs-not-npz", "motifs {notnpz} -m saliency -o {out}", 1, "not an attributions file",
     "new"),
    ("motifs-several-targets", "motifs {multi} -m saliency -o {out}", 1,
     "choose one (--target)", "new"),
    ("motifs-compare-and-attributions", "motifs {attr} --compare {meme} {meme} -o {out}", 2,
     "give ATTRIBUTIONS, or --compare A B (not both)", "new"),
    ("motifs-neither", "motifs -o {out} --force", 2,
     "give ATTRIBUTIONS, or --compare A B (not both)", "dir"),
    ("motifs-compare-missing", "motifs --compare {meme} {missing} -o {out}", 1,
     "missing.fa: no such motifs folder or file", "new"),
    ("motifs-compare-not-motifs-folder", "motifs --compare {ctcf} {meme} -o {out}", 1,
     "ctcf: not a motifs folder (no motifs.meme", "new"),
    ("motifs-compare-model", "motifs --compare {meme} {meme} --model {ctcf} -o {out}", 2,
     "--model is for one scores file", "new"),
    ("motifs-compare-not-meme", "motifs --compare {meme} {text} -o {out} --force", 1,
     "text.fa", "dir"),
    # filters
    ("filters-truncated-model", "filters {trunc} {dna} -o {out}", 1,
     "not a valid Keras archive (truncated or not a zip file)", "new"),
    ("filters-max-sequences-0", "filters {ctcf} {dna} --max-sequences 0 -o {out}", 2,
     "'--max-sequences'", "new"),
    ("filters-invalid-char", "filters {ctcf} {bad} -o {out} --force", 1,
     "record 'r2', position 17: invalid character 'J'", "dir"),
    ("filters-database-missing", "filters {ctcf} {dna} --database {missing} -o {out}", 1,
     "missing.fa: no such motif file", "new"),
    ("filters-genome-without-regions", "filters {ctcf} {dna} --genome {g} -o {out}", 2,
     "--genome is used with --regions", "new"),
    ("filters-readonly", "filters {ctcf} {dna} -o {ro}/f", 1, "cannot write to folder", None),
    # grammar
    ("grammar-missing-fasta", "grammar {ctcf} {missing} --motifs {meme} -o {out}", 2,
     "'[FASTA]': File", "new"),
    ("grammar-unknown-motif", "grammar {ctcf} {dna} --motifs NOSUCH1 -o {out}", 1,
     "no JASPAR CORE motif of that id or name", "new"),
    ("grammar-invalid-char", "grammar {ctcf} {bad} --motifs {meme} -o {out} --force", 1,
     "record 'r2', position 17: invalid character 'J'", "dir"),
    ("grammar-one-background", "grammar {ctcf} {dna} --motifs {meme} --backgrounds 1 "
     "-o {out}", 2, "'--backgrounds'", "new"),
    ("grammar-gc-matched-fasta", "grammar {ctcf} {dna} --motifs {meme} --background gc-matched "
     "-o {out}", 1, "gc-matched backgrounds are genome windows like the inputs", None),
    ("grammar-no-input", "grammar {ctcf} --motifs {meme} -o {out}", 1, "no sequences", None),
    ("grammar-readonly", "grammar {ctcf} {dna} --motifs {meme} -o {ro}/g", 1,
     "cannot write to folder", None),
    # hits
    ("hits-unknown-motif", "hits {attr} --motifs NOSUCH1 -o {out}", 1,
     "no JASPAR CORE motif of that id or name", "new"),
    ("hits-not-motifs-folder", "hits {attr} --motifs {ctcf} -o {out}", 1,
     "not a motifs folder", "new"),
    ("hits-missing-scores", "hits {missing} --motifs {meme} -o {out}", 1,
     "missing.fa: no such file", "new"),
    ("hits-method-absent", "hits {attr} --motifs {meme} -m deepshap -o {out}", 1,
     "no 'deepshap' scores", "new"),
    ("hits-fdr", "hits {attr} --motifs {meme} --fdr 0 -o {out}", 2, "'--fdr'", "new"),
    ("hits-exists", "hits {attr} --motifs {meme} -o {out}", 1, "folder exists; pass --force",
     "dir"),
    # tracks
    ("tracks-fasta-input", "tracks {attr} --genome {g} -o {out}", 1,
     "record 'r0' has no genome coordinates", "new"),
    ("tracks-missing-genome", "tracks {attr} --genome {missing} -o {out}", 1,
     "missing.fa: no such genome file", "new"),
    ("tracks-unknown-method", "tracks {attr} --genome {g} -m nope -o {out}", 1,
     "unknown method 'nope'", "new"),
    ("tracks-no-genome", "tracks {attr} -o {out}", 2, "'--genome'", "new"),
    ("tracks-exists", "tracks {attr} --genome {g} -o {out}", 1, "folder exists; pass --force",
     "dir"),
    # variants
    ("variants-missing-vcf", "variants {ctcf} --vcf {missing} --genome {g} -o {out}", 1,
     "missing.fa: no such VCF file", "new"),
    ("variants-chr-prefix", "variants {ctcf} --vcf {nochrvcf} --genome {g} -o {out}", 1,
     "nochrvcf.vcf: 1 chromosome(s) not in the genome", "new"),
    ("variants-plain-gzip-genome", "variants {ctcf} --vcf {v} --genome {gzgenome} -o {out}",
     1, "compressed with plain gzip", "new"),
    ("variants-bad-pos", "variants {ctcf} --vcf {badpos} --genome {g} -o {out}", 1,
     "badpos.vcf, line 3: POS must be a positive integer, found 'x'", "new"),
    ("variants-not-vcf", "variants {ctcf} --vcf {text} --genome {g} -o {out}", 1,
     "text.fa: not a VCF file", "new"),
    ("variants-not-motifs-folder", "variants {ctcf} --vcf {v} --genome {g} --motifs {ctcf} "
     "-o {out}", 1, "not a `seqexplain motifs` output folder (no motifs.meme)", "new"),
    ("variants-motifs-and-database", "variants {ctcf} --vcf {v} --genome {g} --motifs {ctcf} "
     "--database {meme} -o {out}", 2, "give --motifs or --database, not both", "new"),
    ("variants-bad-method", "variants {ctcf} --vcf {v} --genome {g} -m nope -o {out}", 1,
     "unknown method 'nope'", "new"),
    ("variants-profile-target", "variants {bpnet} --vcf {v} --genome {g} --target profile "
     "-o {out}", 1, "target 'profile': variants score the columns of the model's vector "
     "outputs (counts:0, counts:1)", "new"),
    ("variants-exists", "variants {ctcf} --vcf {v} --genome {g} -o {out}", 1,
     "folder exists; pass --force", "dir"),
    # models as published: SavedModel folders, flat profiles, layouts, custom layers
    ("explain-savedmodel-deepshap", "explain {savedmodel} {dna} -o {out}", 1,
     "is a SavedModel's signature, one opaque TensorFlow graph without the layers "
     "DeepLIFT/DeepSHAP rules apply to; use saliency, grad_input, integrated_gradients or ism",
     "new"),
    ("explain-no-such-profile-output", "explain {bpnet} {dna} -m saliency --profile-output "
     "nosuch -o {out}", 1, "profile output 'nosuch': the model has no such output (profile, "
     "counts)", "new"),
    ("explain-column-as-profile", "explain {savedmodel} {dna} -m saliency --profile-output "
     "output_0 -o {out}", 1, "profile output 'output_0' has shape (None, 1); a profile is "
     "(None, L) or (None, L, S)", "new"),
    ("explain-custom-objects-missing", "explain {bpnet} {dna} --custom-objects {missing} "
     "-o {out}", 2, "missing.fa: no such Python file", "new"),
    ("explain-custom-objects-not-python", "explain {lambda} {dna} --custom-objects {dna} "
     "-o {out}", 1, "custom objects must be a Python file (.py)", "new"),
    ("explain-lambda-layer", "explain {lambda} {dna} -m saliency -o {out}", 1,
     "layer 'doubling' (Lambda) stores Python code, which is not run (Keras safe mode)",
     "new"),
    ("explain-layout-wrong", "explain {bpnet} {dna} -m saliency --input-layout "
     "channels_first -o {out}", 1, "the model takes 50 channels; pass --alphabet", "new"),
    ("predict-layout-bad-choice", "predict {bpnet} {dna} --input-layout NCL -o {out}", 2,
     "'--input-layout'", "new"),
    ("predict-cluster-profile-output", "predict {bpnet} {dna} --cluster local:1 "
     "--profile-output profile -o {out}", 2, "--cluster: Dask workers load the model file as "
     "it is", "new"),
    # the group itself
    ("no-such-command", "explian {ctcf} {dna}", 2, "no such command 'explian'", None),
    ("no-such-option", "--verbose encode {dna}", 2, "no such option '--verbose'", None),
]

#: every command, read from the CLI itself: a new command without rows fails the test below
COMMANDS = tuple(sorted(main.commands))


def test_every_command_of_the_cli_has_rows():
    assert "explain" in COMMANDS and len(COMMANDS) >= 13, COMMANDS  # the CLI's, not empty
    counts = {c: sum(r[1].split()[0] == c for r in ROWS) for c in COMMANDS}
    assert [c for c in COMMANDS if counts[c] == 0] == [], counts
    assert [c for c in COMMANDS if counts[c] < 3] == [], counts  # three mistakes at least


def _snapshot(path: Path):
    if path.is_dir():
        return sorted((str(p.relative_to(path)), p.read_text() if p.is_file() else None)
                      for p in path.rglob("*"))
    return path.read_text() if path.exists() else None


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_mistake_gives_one_error_line_and_leaves_output_untouched(row, files, tmp_path):
    _, template, code, match, before = row
    if "{ro}" in template and files["ro"] is None:
        pytest.skip("no read-only folder available")
    work = tmp_path / "work"
    work.mkdir()
    out = work / "out"
    if before == "dir":
        out.mkdir()
        (out / "keep.txt").write_text(SENTINEL)
    elif before == "file":
        out.write_text(SENTINEL)
    snapshot = _snapshot(out)
    names = dict(files, out=out)
    args = [part.format(**{k: str(v) for k, v in names.items()}) for part in template.split()]
    result = CliRunner().invoke(main, args)

    assert result.exit_code == code, (result.exit_code, result.stderr, result.stdout)
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    # besides the error: only the note naming a model's default target (printed before the
    # work, so before an error the work finds)
    lines = [line for line in result.stderr.strip().splitlines()
             if not line.startswith("note: no target given:")]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert lines[0] == errors[0], result.stderr
    if code == 2:  # usage: the error and a pointer to --help, nothing else
        assert len(lines) == 2 and lines[1].startswith("try '") \
            and lines[1].endswith(" --help'"), result.stderr
    else:
        assert len(lines) == 1, result.stderr
    assert match in errors[0], errors[0]
    assert _snapshot(out) == snapshot  # absent stays absent; a sentinel stays untouched
    assert sorted(p.name for p in work.iterdir()) == (["out"] if before in ("dir", "file") else [])


def test_help_and_version_still_work():
    runner = CliRunner()
    r = runner.invoke(main, ["--version"])
    assert r.exit_code == 0 and "version" in r.stdout
    for cmd in COMMANDS:
        r = runner.invoke(main, [cmd, "--help"])
        assert r.exit_code == 0 and r.stdout.startswith("Usage:"), (cmd, r.output)


def test_unwritable_output_found_before_tensorflow(tmp_path):
    """A missing output folder is refused before TensorFlow is imported or a model loaded."""
    missing = tmp_path / "no" / "such"
    fa = DATA / "ctcf_test.fa"
    calls = [["predict", CTCF, fa, "-o", missing / "p.tsv"],
             ["evaluate", CTCF, fa, "-o", missing / "m.json"],
             ["explain", CTCF, fa, "-o", missing / "ex"],
             ["filters", CTCF, fa, "-o", missing / "f"],
             ["train", fa, "-o", missing / "m"],
             ["tune", fa, "-o", missing / "m"],
             ["report", CTCF, "-o", missing / "r.html"]]
    script = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from seqexplain.cli import main\n"
        f"for args in {[[str(a) for a in c] for c in calls]!r}:\n"
        "    r = CliRunner().invoke(main, args)\n"
        "    print(r.exit_code, r.stderr.strip())\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    lines = proc.stdout.strip().splitlines()
    assert lines[-1] == "False False", proc.stdout + proc.stderr
    for line, call in zip(lines[:-1], calls):
        assert line == f"1 error: {call[-1]}: folder {call[-1].parent} does not exist", line


