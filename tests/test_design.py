"""Sequence design (seqexplain.sequence_design) against brute force: every single substitution
predicted with sx.predict, every motif placement tried by hand, constraints checked on the
decoded strings."""

from __future__ import annotations

import re

import numpy as np
import pytest

import seqexplain as sx
from seqexplain.sequence_design import (EDIT_COLUMNS, TRAJECTORY_COLUMNS, design, mask_array,
                               parse_goal)
from seqexplain.errors import OptionError, SeqexplainError
from toy_models import random_onehot, toy_model

L = 30


@pytest.fixture(scope="module")
def toy():
    """A small CNN with global max pooling (fast ISM applies), sigmoid output."""
    return toy_model("global_max", length=L)


@pytest.fixture(scope="module")
def three():
    """Three softmax outputs (for specific:A>B)."""
    return toy_model("multi_output", length=L, seed=3)


def linear(W: np.ndarray):
    """output = sum W[l, c] x[l, c] (no bias): every answer is a sum of weights."""
    import keras

    model = keras.Sequential([keras.Input(W.shape), keras.layers.Flatten(),
                              keras.layers.Dense(1, use_bias=False)])
    model.layers[-1].set_weights([W.reshape(-1, 1).astype(np.float32)])
    return model


def mutants(X: np.ndarray):
    """Every single substitution of every sequence: (array (k, L, C), (seq, pos, chan))."""
    rows, where = [], []
    for i, x in enumerate(X):
        for p in range(x.shape[0]):
            for c in range(x.shape[1]):
                if x[p, c] == 1:
                    continue
                m = x.copy()
                m[p] = 0
                m[p, c] = 1
                rows.append(m)
                where.append((i, p, c))
    return np.stack(rows), np.array(where)


def brute_best(model, X, quantity, better):
    """Per sequence, the substitution whose ``quantity(predictions)`` is best."""
    M, where = mutants(X)
    q = quantity(M)
    key = better(q)
    out = []
    for i in range(len(X)):
        rows = np.flatnonzero(where[:, 0] == i)
        j = rows[np.argmax(key[rows])]
        out.append((int(where[j, 1]), int(where[j, 2]), float(q[j])))
    return out


def first_edits(result):
    e = result.edits[result.edits["round"] == 1]
    letters = result.letters
    return [(int(r.position), letters.index(r.alt), float(r.score_after))
            for r in e.itertuples()]


@pytest.mark.parametrize("goal", ["max", "min", "value:0.6"])
def test_greedy_first_round_is_the_best_single_substitution(toy, goal):
    X = random_onehot(6, L, seed=2)
    result = design(toy, X, goal, max_edits=1)
    value = 0.6
    predict = lambda M: sx.predict(toy, M, target=0)  # noqa: E731
    better = {"max": lambda q: q, "min": lambda q: -q,
              "value:0.6": lambda q: -np.abs(q - value)}[goal]
    expected = brute_best(toy, X, predict, better)
    got = first_edits(result)
    # value:0.6 may already be met by a sequence (then no edit): only sequences edited
    ids = [int(i[3:]) for i in result.edits["id"]]
    assert len(got) == len(ids) and (goal != "value:0.6" or len(got) >= 1)
    for i, (p, c, s) in zip(ids, got):
        assert (p, c) == expected[i][:2]
        assert s == pytest.approx(expected[i][2], abs=1e-5)


def test_specific_goal_is_the_best_difference(three):
    X = random_onehot(5, L, seed=4)
    result = design(three, X, "specific:2>0", max_edits=1)
    diff = lambda M: (lambda y: y[:, 2] - y[:, 0])(sx.predict(three, M))  # noqa: E731
    expected = brute_best(three, X, diff, lambda q: q)
    assert [(p, c) for p, c, _ in first_edits(result)] == [e[:2] for e in expected]
    np.testing.assert_allclose([s for *_, s in first_edits(result)],
                               [e[2] for e in expected], atol=1e-5)


def test_ensemble_mean_and_min_are_brute_force_over_models(toy):
    other = toy_model("global_max", length=L, seed=7)
    X = random_onehot(4, L, seed=5)
    M, where = mutants(X)
    both = np.stack([sx.predict(toy, M, target=0), sx.predict(other, M, target=0)])
    for ensemble, q in (("mean", both.mean(axis=0)), ("min", both.min(axis=0))):
        result = design([toy, other], X, "max", max_edits=1, ensemble=ensemble)
        for i, (p, c, s) in enumerate(first_edits(result)):
            rows = np.flatnonzero(where[:, 0] == i)
            j = rows[np.argmax(q[rows])]
            assert (p, c) == (where[j, 1], where[j, 2]), ensemble
            assert s == pytest.approx(q[j], abs=1e-5)


def test_trajectory_rises_and_scores_are_the_models(toy):
    X = random_onehot(8, L, seed=6)
    result = design(toy, X, "max", max_edits=5, beam=2)
    assert list(result.edits.columns) == list(EDIT_COLUMNS)
    assert list(result.trajectory.columns) == list(TRAJECTORY_COLUMNS)
    for _, t in result.trajectory.groupby("id"):
        assert (np.diff(t["objective"].to_numpy()) > 0).all()
    for _, e in result.edits.groupby("id"):
        np.testing.assert_allclose(e["score_before"].to_numpy()[1:],
                                   e["score_after"].to_numpy()[:-1])
        assert (e["score_after"] > e["score_before"]).all()
    np.testing.assert_allclose(result.score_after, sx.predict(toy, result.X, target=0),
                               atol=1e-6)
    # the edits are the differences between input and design
    assert result.n_edits.sum() == len(result.edits)
    assert (result.n_edits <= 5).all()
    assert set(result.status) <= {"max_edits", "optimum"}


def test_threshold_met_and_unmet_are_reported(toy):
    X = random_onehot(6, L, seed=8)
    before = sx.predict(toy, X, target=0)
    bar = float(np.sort(before)[-2])  # two sequences start at or above it
    reachable = design(toy, X, "max", max_edits=10, threshold=bar)
    np.testing.assert_array_equal(reachable.met, reachable.score_after >= bar)
    assert reachable.met.sum() >= 3  # the two, and the others that got there
    starters = np.flatnonzero(before >= bar)
    assert not reachable.edits["id"].isin([f"seq{i}" for i in starters]).any()
    edited = reachable.edits.groupby("id")["score_after"].agg(["last", "count"])
    # design stops at the bar: the edit before the last one was still below it
    for i in np.flatnonzero(reachable.met):
        row = reachable.edits[reachable.edits["id"] == f"seq{i}"]
        if len(row):
            assert (row["score_before"] < bar).all()
    assert len(edited)
    never = design(toy, X, "max", max_edits=2, threshold=2.0)  # a sigmoid never gets there
    assert not never.met.any()
    assert set(never.status) <= {"max_edits", "optimum"}
    assert "6 sequences, goal max ≥ 2: 0 met it" in never.summary()


def test_masks_are_never_edited_over_thousands_of_edits(toy):
    rng = np.random.default_rng(9)
    n = 300
    X = random_onehot(n, L, seed=9)
    masks = rng.random((n, L)) < rng.uniform(0.1, 0.9, (n, 1))
    total = 0
    for kwargs in (dict(max_edits=8), dict(max_edits=4, beam=3),
                   dict(method="ledidi", ledidi=dict(max_iter=5, penalty=0.0, prune=0.0))):
        result = design(toy, X, "max", mask=masks, **kwargs)
        changed = (result.X != X).any(axis=-1)
        total += changed.sum()
        assert not (changed & masks).any(), kwargs
        assert not result.edits.apply(lambda r: masks[int(r.id[3:]), r.position],
                                      axis=1).any()
    assert total >= 3000  # thousands of edits: enough for the test to mean something


def test_ranges_and_lowercase_protect_positions(toy):
    rng = np.random.default_rng(10)
    seqs = ["".join(rng.choice(list("ACGTacgt"), L)) for _ in range(10)]
    result = design(toy, seqs, "max", max_edits=6, mask="0-5,20-22")
    for before, after in zip(seqs, result.sequences):
        for p, (a, b) in enumerate(zip(before, after)):
            if a.islower() or p < 5 or 20 <= p < 22:
                assert a.upper() == b, (p, before, after)
    assert mask_array([(0, 2)], 2, 5).tolist() == [[True, True, False, False, False]] * 2


def _sites(seq: str) -> int:
    return sum(len(re.findall(f"(?={s})", seq)) for s in ("GAATTC", "GGTACC", "GTACC[AG]"))


def test_forbidden_sites_are_never_created():
    # a model rewarding GAATTC at 10..15 and GGTACC at 20..25 far above anything else
    W = np.random.default_rng(17).uniform(0, 0.01, (L, 4))  # something else to gain
    for start, site in ((10, "GAATTC"), (20, "GGTACC")):
        for k, ch in enumerate(site):
            W[start + k, "ACGT".index(ch)] = 1.0
    model = linear(W)
    seqs = []
    rng = np.random.default_rng(11)
    for _ in range(20):  # one letter short of each site
        s = list(rng.choice(list("ACGT"), L))
        s[10:16], s[20:26] = "GAATTC", "GGTACC"
        s[12] = "C" if s[12] != "C" else "G"
        s[23] = "G"
        seqs.append("".join(s))
    free = design(model, seqs, "max", max_edits=4)
    assert all(_sites(s) > _sites(b) for s, b in zip(free.sequences, seqs))
    banned = design(model, seqs, "max", max_edits=4, forbidden="GAATTC,GRTACY")
    for before, after in zip(seqs, banned.sequences):
        for site in ("GAATTC", "G[AG]TAC[CT]"):
            for pattern in (site, sx.reverse_complement(site.replace("[AG]", "R")
                                                         .replace("[CT]", "Y"))):
                pattern = pattern.replace("R", "[AG]").replace("Y", "[CT]")
                assert len(re.findall(f"(?={pattern})", after)) <= \
                    len(re.findall(f"(?={pattern})", before)), (before, after)
    assert (banned.n_edits > 0).all()


def test_gc_stays_in_range():
    W = np.tile([0.0, 1.0, 1.0, 0.0], (L, 1))  # more GC, higher output
    model = linear(W)
    rng = np.random.default_rng(12)
    seqs = ["".join(rng.permutation(list("GC" * 7 + "AT" * 8))) for _ in range(10)]  # 14/30
    free = design(model, seqs, "max", max_edits=10)
    gc = lambda s: (s.count("G") + s.count("C")) / len(s)  # noqa: E731
    assert max(gc(s) for s in free.sequences) > 0.6
    held = design(model, seqs, "max", max_edits=10, gc=(0.4, 0.6))
    assert all(0.4 <= gc(s) <= 0.6 for s in held.sequences)
    assert all(gc(s) == 18 / 30 for s in held.sequences)  # as far as the range allows


def test_seeded_runs_repeat(toy):
    X = random_onehot(5, L, seed=13)
    a = design(toy, X, "max", max_edits=3, random_state=1)
    b = design(toy, X, "max", max_edits=3, random_state=1)
    assert a.edits.equals(b.edits)
    pwm = np.full((6, 4), 0.25)
    c = design(toy, X, "max", method="motif", motif=pwm, random_state=2)
    d = design(toy, X, "max", method="motif", motif=pwm, random_state=2)
    e = design(toy, X, "max", method="motif", motif=pwm, random_state=3)
    assert c.edits.equals(d.edits) and not c.edits["alt"].equals(e.edits["alt"])


def test_motif_goes_to_the_best_position_and_strand(toy):
    X = random_onehot(4, L, seed=14)
    motif = "GATTACA"
    result = design(toy, X, "max", method="motif", motif=motif)
    for i, x in enumerate(X):
        s = sx.decode(x[None])[0]
        cands, where = [], []
        for strand in (motif, sx.reverse_complement(motif)):
            for start in range(L - len(motif) + 1):
                cands.append(sx.substitute(s, strand, start))
                where.append((start, strand))
        y = sx.predict(toy, cands, target=0)
        start, strand = where[int(np.argmax(y))]
        row = result.edits[result.edits["id"] == f"seq{i}"]
        if y.max() > result.score_before[i]:
            assert (int(row["position"].iloc[0]), row["alt"].iloc[0]) == (start, strand)
            assert result.score_after[i] == pytest.approx(y.max(), abs=1e-5)
        else:
            assert row.empty
    banned = design(toy, X, "max", method="motif", motif="GAATTC", forbidden=["GAATTC"],
                    mask="0-3")
    assert (banned.status == "blocked").all() and (banned.X == X).all()
    kept = design(toy, X, "max", method="motif", motif=motif, mask="0-25", copies=2)
    assert ((kept.X != X).any(axis=-1)[:, :25].sum() == 0)
    assert set(kept.status) <= {"copies", "optimum", "blocked"}


def test_edits_are_linked_to_the_motif_they_make():
    ctcf = "CCGCGNGGNGGCAG".replace("N", "A")
    W = np.zeros((L, 4))
    for k, ch in enumerate(ctcf):
        W[8 + k, "ACGT".index(ch)] = 1.0
    rng = np.random.default_rng(15)
    seqs = []
    for _ in range(6):
        s = list(rng.choice(list("ACGT"), L))
        s[8:8 + len(ctcf)] = ctcf
        s[8 + 6] = "T"  # the core's G broken
        seqs.append("".join(s))
    pfm = sx.one_hot([ctcf])[0].astype(float) * 0.97 + 0.0075
    result = design(linear(W), seqs, "max", max_edits=1, motifs={"CTCFcore": pfm})
    assert (result.edits["position"] == 14).all()
    assert (result.edits["motif_created"] == "CTCFcore").all()
    assert (result.edits["motif_broken"] == "").all()


@pytest.mark.parametrize("spec, message", [
    ("maximum", "use max, min, value:V or specific:A>B"),
    ("value:high", "value:V needs a number"),
    ("specific:0", "specific:A>B needs two targets"),
    ("max:3", "max takes no argument"),
])
def test_bad_goals_are_one_line_errors(spec, message):
    with pytest.raises(OptionError, match=re.escape(message)) as err:
        parse_goal(spec)
    assert "\n" not in str(err.value)


def test_bad_masks_targets_and_constraints_are_one_line_errors(toy):
    X = random_onehot(2, L, seed=16)
    for kwargs, message in (
            (dict(mask="5-2"), "not a range inside"),
            (dict(mask="a-b"), "is not START-END"),
            (dict(mask=np.zeros(7, bool)), "boolean array of shape (7,)"),
            (dict(gc=(0.7, 0.2)), "0 ≤ LOW ≤ HIGH ≤ 1"),
            (dict(forbidden=["GAAJTC"]), "forbidden site 'GAAJTC'"),
            (dict(method="evolve"), "choose one of greedy, motif"),
            (dict(max_edits=-1), "max_edits=-1"),
            (dict(method="motif"), "needs motif=")):
        with pytest.raises(OptionError, match=re.escape(message)):
            design(toy, X, "max", **kwargs)
    with pytest.raises(SeqexplainError, match="unknown target"):
        design(toy, X, "max", target="nosuch")


def test_cli_writes_the_design_folder(toy, tmp_path):
    import pandas as pd
    from click.testing import CliRunner

    from seqexplain.cli import main

    toy.save(tmp_path / "toy.keras")
    rng = np.random.default_rng(18)
    seqs = ["".join(rng.choice(list("ACGT"), L)) for _ in range(3)]
    seqs[0] = seqs[0][:10].lower() + seqs[0][10:]
    (tmp_path / "in.fa").write_text("".join(f">s{i}\n{s}\n" for i, s in enumerate(seqs)))
    out = tmp_path / "out"
    meme = "examples/data/jaspar2024_selected.meme"
    result = CliRunner().invoke(main, [
        "design", str(tmp_path / "toy.keras"), str(tmp_path / "in.fa"), "--goal", "max",
        "--max-edits", "3", "--motifs", meme, "--forbid", "GAATTC", "--logos", "1",
        "--seed", "1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 sequences, goal max: " in result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "designed.fa", "designs.tsv", "edits.tsv", "logos", "trajectory.png",
        "trajectory.tsv"]
    edits = pd.read_csv(out / "edits.tsv", sep="\t", keep_default_na=False)
    assert list(edits.columns) == list(EDIT_COLUMNS) and len(edits) == 9
    assert list(pd.read_csv(out / "trajectory.tsv", sep="\t").columns) == \
        list(TRAJECTORY_COLUMNS)
    designs = pd.read_csv(out / "designs.tsv", sep="\t")
    assert list(designs.columns) == ["id", "status", "met", "edits", "score_before",
                                     "score_after"]
    designed = sx.read_fasta(out / "designed.fa")
    assert designed.ids == ["s0", "s1", "s2"]
    assert designed.sequences[0][:10] == seqs[0][:10].upper()  # lowercase kept
    for r in edits.itertuples():  # each edit is where the two sequences differ
        i = int(r.id[1:])
        assert seqs[i][r.position].upper() == r.ref
        assert designed.sequences[i][r.position] == r.alt
    np.testing.assert_allclose(designs["score_after"],
                               sx.predict(toy, designed.sequences, target=0), atol=1e-5)
    assert len(list((out / "logos").iterdir())) == 1
    report = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["report", str(tmp_path / "toy.keras"), "--design",
                                       str(out), "-o", str(report)])
    assert result.exit_code == 0, result.output
    html = report.read_text()
    assert "<h2>Design</h2>" in html and html.count("data:image/png") == 2
    assert "first 9 of 9" in html and edits["id"].iloc[0] in html


def test_ledidi_finds_the_edits_worth_their_penalty_and_keeps_constraints():
    # gains: 2.0 at positions 3, 9, 17 for letter G, 0.005 anywhere else; λ = 0.1 per edit
    W = np.random.default_rng(19).uniform(0, 0.005, (L, 4))
    big = [3, 9, 17]
    W[big, 2] = 2.0
    model = linear(W)
    X = random_onehot(4, L, seed=20)
    X[:, big] = [1, 0, 0, 0]
    settings = dict(penalty=0.1, max_iter=80, patience=30, learning_rate=0.5, prune=0.05)
    result = design(model, X, "max", method="ledidi", ledidi=settings)
    changed = (result.X != X).any(axis=-1)
    assert changed[:, big].all() and (result.X[:, big, 2] == 1).all()
    assert changed.sum(axis=1).tolist() == [3] * 4  # small gains pruned
    np.testing.assert_allclose(result.score_after, sx.predict(model, result.X)[:, 0],
                               atol=1e-5)
    held = design(model, X, "max", method="ledidi", ledidi=settings, max_edits=2,
                  mask="9-10", forbidden=["GG"])
    changed = (held.X != X).any(axis=-1)
    assert not changed[:, 9].any() and (changed.sum(axis=1) <= 2).all()
    pairs = lambda s: len(re.findall("(?=GG|CC)", s))  # noqa: E731 (overlapping)
    for before, after in zip(sx.decode(X), held.sequences):
        assert pairs(after) <= pairs(before)
    everything = design(model, X, "max", method="ledidi",
                        ledidi=dict(settings, penalty=0.0, max_iter=5, prune=10.0))
    np.testing.assert_array_equal(everything.X, X)  # every edit costs less than 10: reverted
    with pytest.raises(OptionError, match="unknown setting"):
        design(model, X, "max", method="ledidi", ledidi=dict(lam=1))


def test_ledidi_polish_reaches_the_brute_force_optimum(monkeypatch):
    # a linear model over 8 positions: letter G at positions 0-4 adds 0.5, 0.3, 0.2, 0.1, 0.04;
    # the goal is 0.6 from 0; the relaxation is made to return G at 1, 2, 3 (0.6, 3 edits)
    from seqexplain import sequence_design

    gains = [0.5, 0.3, 0.2, 0.1, 0.04]
    W = np.zeros((8, 4))
    W[:5, 2] = gains
    model = linear(W)
    X = np.zeros((1, 8, 4), np.float32)
    X[..., 0] = 1
    start = X.copy()
    start[0, 1:4] = [0, 0, 1, 0]
    monkeypatch.setattr(sequence_design, "_ledidi_search", lambda run, X, *a: start.copy())
    lam = 1e-3
    settings = dict(penalty=lam, prune=0.0)
    # brute force over every sequence: (q − V)² + λ × edits
    every = np.stack(np.meshgrid(*[range(4)] * 8, indexing="ij"), -1).reshape(-1, 8)
    q = (every[:, :5] == 2) @ np.array(gains)
    edits = (every != 0).sum(axis=1)
    loss = (q - 0.6) ** 2 + lam * edits

    def best(allowed):
        pick = every[np.flatnonzero(allowed)[np.argmin(loss[allowed])]]
        return "".join("ACGT"[c] for c in pick)

    assert best(np.ones(len(every), bool)) == "GAAGAAAA"
    polished = design(model, X, "value:0.6", method="ledidi", ledidi=settings, output="logit")
    assert polished.sequences == ["GAAGAAAA"]  # two weak edits swapped for a strong one
    raw = design(model, X, "value:0.6", method="ledidi", ledidi=dict(settings, polish=0),
                 output="logit")
    assert raw.sequences == ["AGGGAAAA"]
    # constraints hold in the polish: position 0 protected, at most 2 edits
    held = design(model, X, "value:0.6", method="ledidi", ledidi=settings, output="logit",
                  mask="0-1", max_edits=2)
    assert held.sequences == [best((every[:, 0] == 0) & (edits <= 2))] == ["AGGAAAAA"]
    np.testing.assert_allclose(held.score_after, [0.5], atol=1e-6)
    # restarts: the best of the copies' designs by the exact loss
    other = X.copy()
    other[0, [0, 3]] = [0, 0, 1, 0]
    monkeypatch.setattr(sequence_design, "_ledidi_search",
                        lambda run, X, *a: np.concatenate([start, other])[:len(X)])
    two = design(model, X, "value:0.6", method="ledidi", output="logit",
                 ledidi=dict(settings, polish=0, restarts=2))
    assert two.sequences == ["GAAGAAAA"]
    with pytest.raises(OptionError, match="polish must be"):
        design(model, X, "value:0.6", method="ledidi", ledidi=dict(polish=-1))


def test_cli_designs_genome_regions(toy, tmp_path):
    from click.testing import CliRunner

    from helpers import write_genome
    from seqexplain.cli import main

    toy.save(tmp_path / "toy.keras")
    genome = write_genome(tmp_path / "g.fa", {"chr1": 300}, seed=21)
    (tmp_path / "r.bed").write_text("chr1\t40\t70\nchr1\t150\t180\n")
    (tmp_path / "mask.bed").write_text("chr1:40-70(+)\t0\t15\n")  # ids as regions name them
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [
        "design", str(tmp_path / "toy.keras"), "--regions", str(tmp_path / "r.bed"),
        "--genome", str(tmp_path / "g.fa"), "--goal", "max", "--max-edits", "2",
        "--mask", str(tmp_path / "mask.bed"), "--logos", "0", "-o", str(out)])
    assert result.exit_code == 0, result.output
    designed = sx.read_fasta(out / "designed.fa")
    assert designed.ids == ["chr1:40-70(+)", "chr1:150-180(+)"]
    for seq, (lo, hi) in zip(designed.sequences, ((40, 70), (150, 180))):
        before = genome["chr1"][lo:hi]
        diff = [p for p in range(L) if seq[p] != before[p]]
        assert len(diff) == 2
        if lo == 40:
            assert min(diff) >= 15


def test_cli_genome_masks_and_soft_masked_bases_are_never_edited(toy, tmp_path):
    # windows [40, 70) on + and [150, 180) on −; protected: a genome-coordinate mask
    # (45-50, 175-178) and, with --soft-masked, the lowercase bases (60-75, 160-170)
    from click.testing import CliRunner

    from seqexplain.cli import main
    from seqexplain.encoding import reverse_complement

    toy.save(tmp_path / "toy.keras")
    chrom = "".join(np.random.default_rng(22).choice(list("ACGT"), 300))
    soft = chrom[:60] + chrom[60:75].lower() + chrom[75:160] + chrom[160:170].lower() \
        + chrom[170:]
    (tmp_path / "g.fa").write_text(">chr1\n" + "".join(soft[i:i + 60] + "\n"
                                                       for i in range(0, 300, 60)))
    (tmp_path / "r.bed").write_text("chr1\t40\t70\ta\t0\t+\nchr1\t150\t180\tb\t0\t-\n")
    (tmp_path / "mask.bed").write_text("chr1\t45\t50\nchr1\t175\t178\n")
    protected = set(range(45, 50)) | set(range(175, 178)) | set(range(60, 75)) \
        | set(range(160, 170))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [
        "design", str(tmp_path / "toy.keras"), "--regions", str(tmp_path / "r.bed"),
        "--genome", str(tmp_path / "g.fa"), "--goal", "max", "--max-edits", "25",
        "--mask", str(tmp_path / "mask.bed"), "--soft-masked", "--logos", "0",
        "-o", str(out)])
    assert result.exit_code == 0, result.output
    designed = sx.read_fasta(out / "designed.fa")
    edited = 0
    for seq, (lo, hi, strand) in zip(designed.sequences, ((40, 70, "+"), (150, 180, "-"))):
        before = chrom[lo:hi] if strand == "+" else reverse_complement(chrom[lo:hi])
        diff = [p for p in range(L) if seq[p] != before[p]]
        genomic = {lo + p if strand == "+" else hi - 1 - p for p in diff}
        assert not genomic & protected
        assert len(diff) >= 3, diff
        edited += len(diff)
    assert edited >= 10, edited
    # the masks as the model reads each window, written out by hand
    from seqexplain.genome import RegionSource
    from seqexplain.sequence_design import read_mask_file

    source = RegionSource(str(tmp_path / "r.bed"), str(tmp_path / "g.fa"), length=L)
    expected = np.zeros((2, L), bool)
    expected[0, 20:30] = expected[1, 10:20] = True                # soft: 60-70; 160-170 on −
    assert source.soft_masked().tolist() == expected.tolist()
    expected = np.zeros((2, L), bool)
    expected[0, 5:10] = expected[1, 2:5] = True                   # 45-50; 175-178 on −
    expected[1, 0:3] = True                                       # a window-id line
    (tmp_path / "both.bed").write_text("chr1\t45\t50\nchr1\t175\t178\nchr1:150-180(-)\t0\t3\n")
    got = read_mask_file(tmp_path / "both.bed", source.ids, L, source.windows, {"chr1"})
    assert got.tolist() == expected.tolist()
    (tmp_path / "bad.bed").write_text("chr2\t1\t5\n")
    with pytest.raises(SeqexplainError, match="bad.bed, line 1: no sequence or chromosome "
                                              "of the genome 'chr2'"):
        read_mask_file(tmp_path / "bad.bed", source.ids, L, source.windows, {"chr1"})
