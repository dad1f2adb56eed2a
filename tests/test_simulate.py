"""Simulated data sets: planted sites match the ground truth, labels match the task, seeds
reproduce, bad arguments give clear errors, and the ``simulate`` command writes it all."""

import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import data_file

from seqexplain import SeqexplainError, read_fasta, reverse_complement
from seqexplain.cli import main
from seqexplain.motif_io import consensus_motif, load_motifs, read_motifs
from seqexplain.simulate import (ARRANGEMENTS, SITE_COLUMNS, PairRule, parse_pair_rule,
                                 simulate)

OUTPUT_FILES = ["labels.tsv", "motif_sites.tsv", "motifs.meme", "sequences.fa"]


@pytest.fixture
def meme_file():
    return data_file("motifs", "jaspar2024_selected.meme")


@pytest.fixture
def motifs(meme_file):
    """CTCF (15 bp), GATA1 (7 bp), SOX2 (7 bp)."""
    return load_motifs(["CTCF", "GATA1", "SOX2"], [meme_file])


def check_sites(ids, sequences, sites, length):
    """Every planted instance is where the table says, on its strand, without overlaps."""
    assert list(sites.columns) == SITE_COLUMNS
    by_id = dict(zip(ids, sequences))
    assert all(len(s) == length and set(s) <= set("ACGT") for s in sequences)
    for site in sites.itertuples():
        planted = by_id[site.id][site.start:site.end]
        expected = site.instance if site.strand == "+" else reverse_complement(site.instance)
        assert planted == expected and site.end - site.start == len(site.instance)
    for _, group in sites.groupby("id"):
        spans = sorted(zip(group.start, group.end))
        assert spans[0][0] >= 0 and spans[-1][1] <= length
        assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:]))


def planted_motifs(data):
    """id → Counter of planted motif names."""
    return {i: Counter(group.motif) for i, group in data.sites.groupby("id")}


def test_binary_positives_have_the_motif_negatives_do_not(motifs):
    data = simulate(motifs[:1], n=300, length=120, task="binary", instances=2, random_state=0)
    check_sites(data.ids, data.sequences, data.sites, 120)
    assert data.ids[:2] == ["seq00001", "seq00002"] and len(set(data.ids)) == 300
    assert list(data.labels.columns) == ["id", "label"] and list(data.labels.id) == data.ids
    assert data.labels.label.sum() == 150
    planted = planted_motifs(data)
    for seq_id, label in zip(data.labels.id, data.labels.label):
        assert planted.get(seq_id, Counter()) == (Counter(CTCF=2) if label else Counter())


def test_and_grammar_negatives_include_single_motifs(motifs):
    data = simulate(motifs[:2], n=301, length=100, task="and", positive_fraction=0.4,
                    random_state=1)
    check_sites(data.ids, data.sequences, data.sites, 100)
    planted = planted_motifs(data)
    kinds = Counter()
    for seq_id, label in zip(data.labels.id, data.labels.label):
        names = frozenset(planted.get(seq_id, ()))
        assert label == int(names == {"CTCF", "GATA1"})
        kinds[names] += 1
    # 120 positives; 181 negatives split evenly: CTCF only, GATA1 only, neither.
    assert kinds == {frozenset({"CTCF", "GATA1"}): 120, frozenset({"CTCF"}): 61,
                     frozenset({"GATA1"}): 60, frozenset(): 60}


def test_multiclass_label_names_the_planted_motif(motifs):
    data = simulate(motifs, n=90, length=60, task="multiclass", random_state=2)
    check_sites(data.ids, data.sequences, data.sites, 60)
    planted = planted_motifs(data)
    for seq_id, label in zip(data.labels.id, data.labels.label):
        assert planted[seq_id] == Counter({label: 1})
    assert data.labels.label.value_counts().to_dict() == {"CTCF": 30, "GATA1": 30, "SOX2": 30}


def test_multilabel_columns_match_the_planted_motifs(motifs):
    data = simulate(motifs, n=200, length=80, task="multilabel", positive_fraction=0.3,
                    random_state=3)
    check_sites(data.ids, data.sequences, data.sites, 80)
    assert list(data.labels.columns) == ["id", "CTCF", "GATA1", "SOX2"]
    planted = planted_motifs(data)
    for row in data.labels.itertuples(index=False):
        names = planted.get(row.id, Counter())
        assert (row.CTCF, row.GATA1, row.SOX2) == tuple(int(names[m] == 1)
                                                        for m in ("CTCF", "GATA1", "SOX2"))
    assert data.labels[["CTCF", "GATA1", "SOX2"]].sum().tolist() == [60, 60, 60]
    # Independent: some sequences carry all three, some none.
    both = data.labels[["CTCF", "GATA1", "SOX2"]].sum(axis=1)
    assert (both == 3).any() and (both == 0).any()


def test_instances_are_sampled_from_the_pfm_on_both_strands(motifs):
    ctcf = motifs[0]
    data = simulate([ctcf], n=4000, length=20, task="binary", random_state=4)
    instances = data.sites.instance.to_numpy()
    assert len(set(instances)) > 1000  # not the consensus over and over
    freq = np.array([[np.mean([s[i] == b for s in instances]) for b in "ACGT"]
                     for i in range(ctcf.width)])
    np.testing.assert_allclose(freq, ctcf.pfm, atol=0.04)
    assert 0.45 < (data.sites.strand == "-").mean() < 0.55


def test_iid_background_has_the_requested_gc(motifs):
    data = simulate(motifs[:1], n=400, length=200, gc=0.6, random_state=5)
    sequences = np.array([list(s) for s in data.sequences])
    for site in data.sites.itertuples():
        sequences[data.ids.index(site.id), site.start:site.end] = "N"
    background = sequences[sequences != "N"]
    assert abs(np.isin(background, ["G", "C"]).mean() - 0.6) < 0.01


def test_windows_come_from_the_background_genome(motifs):
    genome_path = data_file("genomes", "human_chr1_fragment_330kb.fa")
    genome = "".join(read_fasta(genome_path).sequences).upper()
    data = simulate(motifs[:1], n=60, length=150, background=genome_path, random_state=6)
    check_sites(data.ids, data.sequences, data.sites, 150)
    negatives = data.labels.id[data.labels.label == 0]
    by_id = dict(zip(data.ids, data.sequences))
    assert all(by_id[i] in genome for i in negatives)
    assert "human_chr1_fragment_330kb.fa" in data.summary()


def test_shuffled_windows_keep_dinucleotides_not_sequence(motifs):
    genome_path = data_file("genomes", "ecoli536_NC_008253_first280kb.fna.gz")
    windows = simulate(motifs[:1], n=40, length=100, background=genome_path,
                       positive_fraction=0.1, random_state=7)
    shuffled = simulate(motifs[:1], n=40, length=100, background=genome_path,
                        background_mode="shuffle", positive_fraction=0.1, random_state=7)
    assert f"dinucleotide-shuffled windows of {genome_path.name}" in shuffled.summary()
    check_sites(shuffled.ids, shuffled.sequences, shuffled.sites, 100)
    negatives = [i for i, label in enumerate(shuffled.labels.label) if label == 0]
    # Same seed, same labels and windows drawn: the shuffles keep each window's dinucleotides.
    assert len(negatives) == 36 and shuffled.labels.equals(windows.labels)
    for i in negatives:
        w, s = windows.sequences[i], shuffled.sequences[i]
        assert Counter(zip(w, w[1:])) == Counter(zip(s, s[1:])) and w != s


def test_same_seed_same_data_other_seed_other_data(motifs):
    def run(seed):
        return simulate(motifs[:2], n=50, length=50, task="and", random_state=seed)

    first, again, other = run(11), run(11), run(12)
    assert first.sequences == again.sequences
    pd.testing.assert_frame_equal(first.labels, again.labels)
    pd.testing.assert_frame_equal(first.sites, again.sites)
    assert first.sequences != other.sequences


def test_consensus_motifs_plant_matching_sites():
    data = simulate([consensus_motif("CACGTG"), consensus_motif("TGANTCA")], n=40, length=30,
                    task="multiclass", random_state=8)
    check_sites(data.ids, data.sequences, data.sites, 30)
    assert set(data.sites.instance[data.sites.motif == "CACGTG"]) == {"CACGTG"}
    assert len(set(data.sites.instance[data.sites.motif == "TGANTCA"])) > 1


@pytest.mark.parametrize("kwargs, message", [
    (dict(task="regression"), "unknown task 'regression': choose one of binary"),
    (dict(task="binary", n_motifs=2), "task 'binary' needs exactly 1 motif, got 2"),
    (dict(task="and", n_motifs=1), "task 'and' needs exactly 2 motifs, got 1"),
    (dict(task="and", n_motifs=3), "task 'and' needs exactly 2 motifs, got 3"),
    (dict(task="multiclass", n_motifs=1), "needs at least 2 motifs, got 1"),
    (dict(length=14), r"motifs do not fit: 1 × \(15 bp\) need 15 bp, but sequences are 14"),
    (dict(task="multilabel", n_motifs=2, instances=2, length=40), "need 44 bp"),
    (dict(n=0), "number of sequences must be a positive integer, got 0"),
    (dict(instances=0), "instances per motif must be a positive integer"),
    (dict(gc=1.5), "GC content must be between 0 and 1, got 1.5"),
    (dict(positive_fraction=1.0), r"positive fraction must be between 0 and 1 \(exclusive\)"),
    (dict(positive_fraction=0.01), "fraction of 0.01 of 10 sequences gives 0 positives"),
    (dict(n=1), "fraction of 0.5 of 1 sequences gives 1 positives"),
    (dict(task="multiclass", n_motifs=2, positive_fraction=0.3), "does not apply to multicl"),
    (dict(background_mode="shuffle"), "background mode 'shuffle' needs a background FASTA"),
    (dict(background_mode="genome"), "unknown background mode 'genome'"),
])
def test_argument_errors(motifs, kwargs, message):
    kwargs = dict(kwargs)
    chosen = motifs[:kwargs.pop("n_motifs", 1)]
    with pytest.raises(SeqexplainError, match=message):
        simulate(chosen, **{"n": 10, "length": 50, **kwargs})


def test_positional_grammar_plants_sites_at_their_offsets(motifs):
    """GATA1 at −35 and SOX2 at −10 (± 2 bp) from the landmark at length // 2, as a promoter's
    boxes; decoys of both motifs everywhere else, so only positions tell the label."""
    data = simulate(motifs[1:], n=60, length=100, task="and", positions=[-35, -10],
                    position_window=2, decoys=1, random_state=4)
    check_sites(data.ids, data.sequences, data.sites, 100)
    sites = data.sites[data.sites.role == "site"]
    decoys = data.sites[data.sites.role == "decoy"]
    assert set(data.sites.role) == {"site", "decoy"}
    assert (data.sites.offset == data.sites.start - 50).all()
    for name, offset in (("GATA1", -35), ("SOX2", -10)):
        placed = sites[sites.motif == name].offset
        assert placed.between(offset - 2, offset + 2).all()
        assert placed.nunique() > 1  # the window is used
    # decoys never fall in a positional window: GATA1 −37..−26, SOX2 −12..−1
    blocked = set(range(13, 24)) | set(range(38, 49))
    for site in decoys.itertuples():
        assert not blocked & set(range(site.start, site.end))
    assert (decoys.groupby("id").size() == 2).all() and decoys.id.nunique() == 60
    # labels: both positional sites present
    both = sites.groupby("id").motif.nunique() == 2
    positives = set(both[both].index)
    assert set(data.labels.loc[data.labels.label == 1, "id"]) == positives
    # without positions the offsets are still reported, all sites "site"
    free = simulate(motifs[:1], n=10, length=50, random_state=0)
    assert (free.sites.role == "site").all()
    assert (free.sites.offset == free.sites.start - 25).all()


def test_duplicate_motif_names_are_refused(meme_file):
    ctcf = read_motifs(meme_file)[1]
    with pytest.raises(SeqexplainError, match="motif names must be distinct.*CTCF given more"):
        simulate([ctcf, ctcf], task="multiclass")


def test_background_errors(motifs, tmp_path):
    small = tmp_path / "small.fa"
    small.write_text(">a\nACGTACGTACNNACGTACGTAC\n>b\nACGTAC\n")
    with pytest.raises(SeqexplainError, match=r"small.fa: only 2 windows of 10 bp hold only"):
        simulate([consensus_motif("ACG")], n=3, length=10, background=small)
    with pytest.raises(SeqexplainError, match="GC content applies to the i.i.d. background"):
        simulate(motifs[:1], n=4, length=20, background=small, gc=0.5)
    with pytest.raises(SeqexplainError, match="no such file"):
        simulate(motifs[:1], n=4, length=20, background=tmp_path / "missing.fa")


# --- the command ------------------------------------------------------------------------------

def invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def read_outputs(folder):
    records = read_fasta(folder / "sequences.fa")
    labels = pd.read_csv(folder / "labels.tsv", sep="\t")
    sites = pd.read_csv(folder / "motif_sites.tsv", sep="\t")
    return records, labels, sites


def test_command_writes_consistent_files(tmp_path, meme_file):
    out = tmp_path / "sim"
    code, _, err = invoke("simulate", "--motif", "CTCF", "--motif", "GATA1", "--motif-file",
                          meme_file, "--task", "and", "-n", 120, "--length", 80, "--seed", 5,
                          "--out", out)
    assert code == 0, err
    assert err.count("\n") == 1 and "120 sequences × 80 bp, and (CTCF, GATA1)" in err
    assert "seed 5" in err
    assert sorted(p.name for p in out.iterdir()) == OUTPUT_FILES
    records, labels, sites = read_outputs(out)
    assert records.ids == labels.id.tolist()
    check_sites(records.ids, records.sequences, sites, 80)
    both = {i for i, g in sites.groupby("id") if set(g.motif) == {"CTCF", "GATA1"}}
    assert set(labels.id[labels.label == 1]) == both
    assert [(m.id, m.name) for m in read_motifs(out / "motifs.meme")] == [
        ("MA0139.2", "CTCF"), ("MA0035.5", "GATA1")]


def test_command_is_reproducible_and_respects_force(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    args = ["simulate", "--motif", "CACGTG", "-n", 30, "--length", 40, "--seed", 9]
    assert invoke(*args, "--out", first)[0] == 0
    assert invoke(*args, "--out", second)[0] == 0
    for name in OUTPUT_FILES:
        assert (first / name).read_bytes() == (second / name).read_bytes()

    code, _, err = invoke(*args, "--out", first)
    assert code == 1 and err.strip() == f"error: {first}: folder exists; pass --force to " \
                                        "overwrite it"
    code, _, err = invoke("simulate", "--motif", "TGACTCA", "-n", 5, "--out", first, "--force")
    assert code == 0 and "TGACTCA" in (first / "motif_sites.tsv").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


def test_simulate_files_without_a_seed_records_the_one_it_drew(tmp_path):
    """The library call behind the command: a fresh seed is drawn and kept, and that seed
    gives the same files again."""
    from seqexplain.simulate import simulate_files

    data = simulate_files(["CACGTG"], tmp_path / "a", n=12, length=30)
    assert isinstance(data.seed, int) and data.seed >= 0
    again = simulate_files(["CACGTG"], tmp_path / "b", n=12, length=30, seed=data.seed)
    assert again.seed == data.seed and again.sequences == data.sequences
    for name in OUTPUT_FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


@pytest.mark.parametrize("args, code, message", [
    (["--motif", "NOTAMOTIF1", "--motif-file", "{meme}"], 1,
     "error: unknown motif 'NOTAMOTIF1': not an id or name in"),
    (["--motif", "CTCF"], 1, "no motif file was given"),
    (["--motif", "CTCF", "--motif-file", "{meme}", "--length", 10], 1, "motifs do not fit"),
    (["--motif", "ACGT", "--task", "and"], 1, "task 'and' needs exactly 2 motifs, got 1"),
    (["--motif", "ACGT", "--positive-fraction", 1.5], 2,
     "invalid value for '--positive-fraction': 1.5 is not in the range 0<x<1"),
    (["--motif", "ACGT", "--background", "{missing}"], 1, "no such file"),
    (["--motif", "ACGT", "--background-mode", "shuffle"], 1, "needs a background FASTA"),
    (["--motif", "ACGT", "--motif-file", "{missing}"], 1, "no such motif file"),
    (["--motif", "ACGT", "--task", "regression"], 2, "error: invalid value for '--task'"),
    (["--motif", "ACGT", "-n", 0], 2, "error: invalid value for '-n'"),
    (["--motif", "ACGT", "--gc", 1.5], 2, "error: invalid value for '--gc'"),
    (["-n", 5], 2, "error: missing option '--motif'"),
    (["--motif", "ACGT", "--decoys", 1], 1, "decoys need motif positions (--position)"),
    (["--motif", "ACGT", "--position-window", 2], 1, "a position window needs motif positions"),
    (["--motif", "ACGT", "--position", 120], 1,
     "motif ACGT at offset +120 (window ±0) from the landmark at 100 spans 220..224, outside"),
    (["--motif", "ACGT", "--motif", "TTGA", "--task", "and", "--position", -35,
      "--position", -33], 1, "motifs ACGT and TTGA would overlap at their positions"),
    (["--motif", "ACGT", "--position", 1, "--position", 2], 1, "2 positions for 1 motifs"),
    (["--motif", "ACGT", "--position", "x"], 2, "invalid value for '--position'"),
    (["--motif", "ACGT", "--position", 0, "--decoys", -1], 2, "invalid value for '--decoys'"),
    (["--motif", "ACGT", "--motif", "TTGA", "--grammar", "ACGT,TTGA,spacing=2"], 1,
     "at spacing 2 motifs ACGT (4 bp) and TTGA (4 bp) overlap or do not fit in 200 bp"),
    (["--motif", "ACGT", "--motif", "TTGA", "--grammar", "ACGT,TTGA,gap=8"], 1,
     "unknown key 'gap'"),
    (["--motif", "ACGT", "--motif", "TTGA", "--grammar", "ACGT,CCCC,spacing=8"], 1,
     "no motif 'CCCC' among ACGT, TTGA"),
])
def test_command_errors_leave_nothing_behind(tmp_path, meme_file, args, code, message):
    args = [str(a).format(meme=meme_file, missing=tmp_path / "missing.fa") for a in args]
    exit_code, _, err = invoke("simulate", *args, "--out", tmp_path / "sim")
    assert exit_code == code and message in err
    assert err.startswith("error: ") and err.count("\n") == code  # usage: + "try … --help"
    if code == 2:
        assert err.splitlines()[1].endswith("simulate --help'")
    assert list(tmp_path.iterdir()) == []


def test_console_script_runs(tmp_path, meme_file):
    script = Path(sys.executable).with_name("seqexplain")
    command = [str(script)] if script.exists() else ["seqexplain"]
    proc = subprocess.run(command + ["simulate", "--motif", "SOX2", "--motif-file",
                                     str(meme_file), "-n", "20", "--length", "50", "--seed",
                                     "1", "--out", str(tmp_path / "sim")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    records, labels, sites = read_outputs(tmp_path / "sim")
    assert len(records) == 20 and labels.label.sum() == 10 and set(sites.motif) == {"SOX2"}


# -- pair grammar -------------------------------------------------------------------------------
@pytest.mark.parametrize("text, rule", [
    ("A,B,spacing=12±1,orientation=+-", PairRule("A", "B", 12, 1, "+-")),
    ("A, B, spacing=-9+-2", PairRule("A", "B", -9, 2, "++")),
    ("A,B,orientation=--,spacing=20+/-0", PairRule("A", "B", 20, 0, "--")),
])
def test_pair_rules_parse(text, rule):
    assert parse_pair_rule(text) == rule
    assert parse_pair_rule(str(rule)) == rule  # the text it prints reads back


@pytest.mark.parametrize("text, message", [
    ("A,spacing=3", "name two motifs"),
    ("A,B", "give spacing=S"),
    ("A,B,spacing=3±x", "is not S or S±T"),
    ("A,B,spacing=3,orientation=+x", "orientation '+x' is not one of"),
])
def test_bad_pair_rules_say_why(text, message):
    with pytest.raises(SeqexplainError, match=message.replace("+", r"\+")):
        parse_pair_rule(text)


def test_pair_grammar_plants_each_arrangement_as_recorded(motifs):
    """Positives hold GATA1 then CTCF at 12 ± 1 in +- ; the four negatives are balanced and
    each is what its name says; the letters are where the sites table says."""
    pair = [m for m in motifs if m.name in ("GATA1", "CTCF")]
    length, n = 120, 200
    data = simulate(pair, n=n, length=length, grammar="GATA1,CTCF,spacing=12±1,orientation=+-",
                    random_state=3)
    assert data.rule == PairRule("GATA1", "CTCF", 12, 1, "+-") and data.task == "binary"
    check_sites(data.ids, data.sequences, data.sites, length)
    kinds = data.arrangements.set_index("id")["arrangement"]
    assert set(kinds) == set(ARRANGEMENTS)
    counts = kinds.value_counts()
    assert counts["pair"] == n // 2 and all(counts[k] in (24, 25, 26) for k in ARRANGEMENTS[1:])
    labels = data.labels.set_index("id")["label"]
    assert ((kinds == "pair") == (labels == 1)).all()
    for i, group in data.sites.groupby("id"):
        site = {row.motif: row for row in group.itertuples()}
        kind = kinds[i]
        if kind in ("a_only", "b_only"):
            assert list(site) == (["GATA1"] if kind == "a_only" else ["CTCF"])
            continue
        a, b = site["GATA1"], site["CTCF"]
        spacing, orientation = b.start - a.start, a.strand + b.strand
        if kind == "pair":
            assert 11 <= spacing <= 13 and orientation == "+-"
        elif kind == "wrong_spacing":
            assert abs(spacing - 12) >= 1 + 3 and orientation == "+-"
        else:
            assert 11 <= spacing <= 13 and orientation != "+-"
    wrong = data.arrangements[data.arrangements.arrangement == "wrong_spacing"]
    assert wrong["spacing"].astype(int).nunique() > 10  # spread over the other spacings
    again = simulate(pair, n=n, length=length, grammar=data.rule, random_state=3)
    assert again.sequences == data.sequences


def test_pair_grammar_command_writes_the_truth(tmp_path, meme_file):
    exit_code, _, err = invoke("simulate", "--motif", "GATA1", "--motif", "SOX2",
                               "--motif-file", meme_file, "--grammar",
                               "SOX2,GATA1,spacing=-10±1,orientation=++", "-n", 40,
                               "--length", 80, "--seed", 1, "--out", tmp_path / "sim")
    assert exit_code == 0, err
    assert "rule SOX2,GATA1,spacing=-10±1,orientation=++" in err
    truth = pd.read_csv(tmp_path / "sim" / "grammar_truth.tsv", sep="\t")
    assert truth.to_dict("records") == [dict(motif_a="SOX2", motif_b="GATA1", orientation="++",
                                             spacing=-10, tolerance=1)]
    arrangements = pd.read_csv(tmp_path / "sim" / "arrangements.tsv", sep="\t")
    labels = pd.read_csv(tmp_path / "sim" / "labels.tsv", sep="\t")
    assert list(labels.columns) == ["id", "label"]
    assert (labels["label"] == (arrangements["arrangement"] == "pair")).all()
