"""Motif layer: seqlets, clustering, annotation (TOMTOM), outputs, support and errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from seqexplain import annotate
from seqexplain import motifs as M
from seqexplain.attributions import Attributions
from seqexplain.cli import main
from seqexplain.encoding import one_hot

M1, M2, M3 = "GAGATAAGTC", "TTGCCAAGCG", "ACCTTTAGGA"


def revcomp(s: str) -> str:
    return s[::-1].translate(str.maketrans("ACGT", "TGCA"))


def planted_attributions(n=150, length=80, seed=0, ids=None, rows=None, offset=0,
                         random_slots=False):
    """Random DNA with M1 and M2 (activating, either strand) and M3 (repressive) planted;
    hypothetical scores reward the planted letters, noise elsewhere. Returns (Attributions,
    planted sites [(seq, start, end, motif, strand)] in sequence coordinates)."""
    rng = np.random.default_rng(seed)
    rows = rows or length
    seqs, sites = [], []
    for i in range(n):
        s = list(rng.choice(list("ACGT"), length))
        if random_slots:  # anywhere, not overlapping (12 bp apart at least)
            while True:
                slots = np.sort(rng.choice(length - 10, 3, replace=False))
                if np.all(np.diff(slots) >= 12):
                    break
            slots = rng.permutation(slots)
        else:
            slots = rng.permutation([5, 35, 60])
        for motif, slot, p in ((M1, slots[0], 0.7), (M2, slots[1], 0.7), (M3, slots[2], 0.5)):
            if rng.random() < p:
                strand = "+" if rng.random() < 0.5 else "-"
                s[slot:slot + 10] = motif if strand == "+" else revcomp(motif)
                sites.append((i, int(slot), int(slot) + 10, motif, strand))
        seqs.append("".join(s))
    x = np.zeros((n, rows, 4), np.float32)
    x[:, -offset:-offset + length] = one_hot(seqs)
    hyp = rng.normal(0, 0.03, x.shape).astype(np.float32)
    for i, a, b, motif, strand in sites:
        weight = -1.0 if motif == M3 else 1.0
        hyp[i, a - offset:b - offset] += weight * (x[i, a - offset:b - offset] - 0.25)
    data = {"ids": np.array(ids or [f"s{i}" for i in range(n)]), "onehot": x,
            "alphabet": np.array("ACGT"), "deepshap": hyp * x, "deepshap_hypothetical": hyp,
            "logits": (hyp * x).sum((1, 2))[:, None], "target": np.array(0),
            "offsets": np.full(n, offset), "lengths": np.full(n, length)}
    data["predictions"] = 1 / (1 + np.exp(-data["logits"]))
    return Attributions(data), sites


# -- seqlets ------------------------------------------------------------------------------------
def test_seqlets_on_crafted_tracks():
    rng = np.random.default_rng(1)
    track = rng.normal(0, 0.05, (20, 100))
    peaks = {}
    for i in range(20):
        a = int(rng.integers(0, 80))
        sign = 1 if i % 2 == 0 else -1
        track[i, a:a + 8] += sign * 0.6
        peaks[i] = (a, sign)
    table, thr = M.call_seqlets(track, 12, fdr=0.05)
    assert thr[1] > 0 > thr[-1]
    for i, (a, sign) in peaks.items():
        mine = table[table["seq"] == i]
        hit = mine[(mine["start"] <= a) & (mine["end"] >= a + 8)]
        assert len(hit) == 1 and hit["sign"].iloc[0] == sign  # signs kept apart
    assert len(table) <= 24  # nearly nothing but the planted peaks
    # seqlets never overlap within a sequence
    for _, part in table.groupby("seq"):
        starts = np.sort(part["start"].to_numpy())
        assert np.all(np.diff(starts) >= 12)
    # padding: windows touching invalid rows are not called
    valid = np.ones_like(track, bool)
    valid[0, :] = False
    table2, _ = M.call_seqlets(track, 12, thresholds=thr, valid=valid)
    assert 0 not in set(table2["seq"])


def test_laplace_null_controls_false_discoveries():
    rng = np.random.default_rng(2)
    sums = rng.laplace(0, 1.0, 200_000)
    thr = M.laplace_thresholds(sums, fdr=0.05)
    # pure null: essentially nothing passes (BH controls the FDR)
    assert ((sums >= thr[1]) | (sums <= thr[-1])).mean() < 1e-4
    planted = np.concatenate([sums, np.full(2000, 15.0)])
    thr = M.laplace_thresholds(planted, fdr=0.05)
    assert thr[1] < 15 and ((planted >= thr[1]).sum() >= 2000)


# -- discovery ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def planted():
    data, sites = planted_attributions()
    return data, sites, M.discover(data, M.MotifSettings(seed=0))


def matches_motif(consensus: str, motif: str) -> bool:
    upper = consensus.upper()
    return motif in upper or revcomp(motif) in upper


def test_planted_motifs_are_discovered_on_both_strands(planted):
    data, sites, result = planted
    pos = [m for m in result.motifs if m.sign > 0]
    neg = [m for m in result.motifs if m.sign < 0]
    assert len(pos) == 2 and len(neg) == 1
    assert {next(k for k in (M1, M2) if matches_motif(m.consensus, k)) for m in pos} == {M1, M2}
    assert matches_motif(neg[0].consensus, M3)
    for m in result.motifs:
        assert m.pfm.shape == m.cwm.shape == m.hcwm.shape == (m.width, 4)
        np.testing.assert_allclose(m.pfm.sum(1), 1, atol=1e-6)
        assert np.sign(m.cwm.sum()) == m.sign
        # reverse-complement members were aligned into the same motif
        strands = set(result.instances.loc[result.instances["motif"] == m.id, "strand"])
        assert strands == {"+", "-"}


def test_instances_recover_planted_sites(planted):
    data, sites, result = planted
    inst = result.instances
    names = {m.id: next(k for k in (M1, M2, M3) if matches_motif(m.consensus, k))
             for m in result.motifs}
    found = 0
    for i, a, b, motif, strand in sites:
        mine = inst[(inst["seq"] == i) & (inst["motif"].map(names) == motif)]
        overlap = np.minimum(mine["end"], b) - np.maximum(mine["start"], a)
        if (overlap >= 0.5 * (b - a)).any():
            hit = mine[overlap >= 0.5 * (b - a)].iloc[0]
            found += 1
            planted_strand_matches = (hit["strand"] == strand) == (
                motif in next(m.consensus.upper() for m in result.motifs
                              if names[m.id] == motif))
            assert planted_strand_matches
    assert found / len(sites) >= 0.9
    correct = 0
    for row in inst.itertuples():
        good = [s for s in sites if s[0] == row.seq and s[3] == names[row.motif]
                and min(row.end, s[2]) - max(row.start, s[1]) >= 5]
        correct += bool(good)
    assert correct / len(inst) >= 0.9


def test_protein_motifs_without_reverse_complement():
    rng = np.random.default_rng(3)
    letters = "ACDEFGHIKLMNPQRSTVWY"
    n, length, motif = 120, 40, "WPEYHK"
    x = np.eye(20, dtype=np.float32)[rng.integers(0, 20, (n, length))]
    hyp = rng.normal(0, 0.02, x.shape).astype(np.float32)
    for i in range(0, n, 2):
        a = int(rng.integers(0, length - 6))
        x[i, a:a + 6] = np.eye(20)[[letters.index(c) for c in motif]]
        hyp[i, a:a + 6] += x[i, a:a + 6] - 0.05
    data = {"ids": np.array([f"p{i}" for i in range(n)]), "onehot": x,
            "alphabet": np.array(letters), "deepshap": hyp * x, "deepshap_hypothetical": hyp,
            "logits": np.zeros((n, 1)), "target": np.array(0)}
    result = M.discover(Attributions(data))
    assert result.width == 9
    assert len(result.motifs) == 1 and motif in result.motifs[0].consensus.upper()
    assert set(result.instances["strand"]) == {"+"}


def test_no_seqlets_gives_empty_result():
    data, _ = planted_attributions(n=20)
    data = data.replace(deepshap=np.zeros_like(data.scores("deepshap")))
    result = M.discover(data)
    assert result.motifs == [] and len(result.seqlets) == 0 and len(result.instances) == 0


# -- TOMTOM ---------------------------------------------------------------------------------------
def test_memelite_tomtom_p_values_by_hand():
    """Width-1 motifs: the null of a query column is its score against every target column, so
    the p-value of target j is the fraction of target columns scoring at least as well."""
    from memelite import tomtom

    rng = np.random.default_rng(1)
    # C-contiguous, as seqexplain passes them (numba compiles once per array layout)
    targets = [np.ascontiguousarray(rng.dirichlet(np.ones(4), size=1).T) for _ in range(40)]
    query = np.ascontiguousarray(rng.dirichlet(np.ones(4), size=1).T)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = tomtom([query], targets, reverse_complement=False, n_jobs=1)[0][0]
    cols = np.concatenate(targets, axis=1)
    score = -np.sqrt(((cols - query) ** 2).sum(0))
    by_hand = np.array([(score >= s).mean() for s in score])
    # equal up to the score binning (100 bins): at most two columns' worth
    assert np.abs(p - by_hand).max() <= 2 / 40 + 1e-9
    assert np.corrcoef(p, by_hand)[0, 1] > 0.99


@pytest.fixture(scope="module")
def jaspar():
    return annotate.jaspar_motifs("JASPAR2024", "vertebrates")


def test_jaspar_is_bundled_with_families(jaspar):
    assert len(jaspar) > 500
    ctcf = next(m for m in jaspar if m.id.startswith("MA0139"))
    assert ctcf.name == "CTCF" and "zinc finger" in ctcf.klass.lower()
    np.testing.assert_allclose(ctcf.pfm.sum(1), 1)


def test_tomtom_identical_reverse_and_shuffled(jaspar):
    ctcf = next(m for m in jaspar if m.id.startswith("MA0139"))
    shuffled = ctcf.pfm[np.random.default_rng(0).permutation(ctcf.pfm.shape[0])]
    same, rc, shuf = annotate.tomtom([ctcf.pfm, ctcf.pfm[::-1, ::-1], shuffled], jaspar)
    assert same[0]["id"] == ctcf.id and same[0]["q"] < 1e-10 and same[0]["strand"] == "+"
    assert same[0]["offset"] == 0
    assert rc[0]["id"] == ctcf.id and rc[0]["strand"] == "-"
    assert shuf[0]["q"] > 0.01  # columns shuffled: no significant match
    assert [h["p"] for h in same] == sorted(h["p"] for h in same) and len(same) == 3


def test_bh_q_values():
    q = annotate.bh(np.array([0.01, 0.04, 0.03, 0.5]))
    np.testing.assert_allclose(q, [0.04, 0.16 / 3, 0.16 / 3, 0.5])


# -- files and the command ----------------------------------------------------------------------
def test_outputs_meme_round_trip_and_bed(tmp_path):
    from Bio import motifs as biomotifs

    from seqexplain.motifs.pipeline import write_motifs

    ids = [f"chr2:{1000 + 100 * i}-{1080 + 100 * i}" for i in range(150)]
    data, sites = planted_attributions(ids=ids, rows=86, offset=-3)
    result = M.discover(data)
    table = write_motifs(result, data, tmp_path, maps=2)
    assert len(table) == 3 and set(table["supported"]) == {"untested"}
    with open(tmp_path / "motifs.meme") as fh:
        parsed = list(biomotifs.parse(fh, "minimal"))
    assert [m.name for m in parsed] == [m.id for m in result.motifs]
    for bio, ours in zip(parsed, result.motifs):
        pwm = np.array([bio.pwm[c] for c in "ACGT"]).T
        np.testing.assert_allclose(pwm, ours.pfm, atol=1e-5)
    cw = np.load(tmp_path / "cwms.npz")
    np.testing.assert_allclose(cw[f"{result.motifs[0].id}_cwm"], result.motifs[0].cwm,
                               rtol=1e-6)
    inst = pd.read_csv(tmp_path / "instances.tsv", sep="\t")
    bed = pd.read_csv(tmp_path / "instances.bed", sep="\t", header=None)
    gbed = pd.read_csv(tmp_path / "instances.genome.bed", sep="\t", header=None)
    assert len(inst) == len(bed) == len(gbed) == len(result.instances)
    # sequence coordinates: rows shifted by the padding offset (3 rows of padding)
    first = result.instances.iloc[0]
    assert inst["start"].iloc[0] == first["start"] - 3
    assert bed.iloc[0, 0] == ids[first["seq"]] and bed.iloc[0, 1] == first["start"] - 3
    seq_start = 1000 + 100 * first["seq"]
    assert gbed.iloc[0, 0] == "chr2" and gbed.iloc[0, 1] == seq_start + first["start"] - 3
    # hits of the discovered motifs, by the caller of `seqexplain hits`: on the planted sites
    # (sequence and genome coordinates), each motif on one planted motif, its strand the
    # planted one's throughout (or the other throughout: a motif found reverse complemented)
    hits = pd.read_csv(tmp_path / "hits.tsv", sep="\t")
    planted = {(i, a, b): (motif, strand) for i, a, b, motif, strand in sites}
    on = [planted.get((ids.index(h.id), h.start, h.end)) for h in hits.itertuples()]
    assert sum(x is not None for x in on) >= 0.95 * len(planted)
    assert sum(x is None for x in on) <= 0.02 * len(planted)
    pairs = {(h.motif, x[0], h.strand == x[1]) for h, x in zip(hits.itertuples(), on) if x}
    assert len(pairs) == 3 and len({p[1] for p in pairs}) == 3
    assert {p[1] for p in pairs if p[0].startswith("neg")} == {M3}
    assert (hits["genome_start"] == [1000 + 100 * ids.index(i) for i in hits["id"]]
            + hits["start"]).all()
    assert hits.groupby("motif")["strand"].nunique().eq(2).all()
    counts = pd.read_csv(tmp_path / "counts.tsv", sep="\t")
    assert counts.filter(like="count:").to_numpy().sum() == len(hits)
    assert (tmp_path / "hits.bed").read_text().startswith("track ")
    # the same files as `seqexplain hits --motifs <this folder>` on the same scores
    from seqexplain.motif_hits import call_motif_hits, read_hit_motifs

    again = call_motif_hits(data, read_hit_motifs(tmp_path), "deepshap").hits
    pd.testing.assert_frame_equal(hits, again, check_exact=False, rtol=1e-5)
    assert (gbed[2] - gbed[1] == bed[2] - bed[1]).all()
    # planted site coordinates are recovered in sequence coordinates
    i, a, b, motif, strand = sites[0]
    mine = inst[inst["id"] == ids[i]]
    assert (np.minimum(mine["end"], b) - np.maximum(mine["start"], a) >= 5).any()
    for name in ("positions.png", "cooccurrence.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
    assert len(list((tmp_path / "maps").glob("*.png"))) == 2
    assert len(list((tmp_path / "logos").glob("*.png"))) == 2 * len(result.motifs)


def save_npz(path, data: Attributions):
    return data.write(path)


def test_motifs_command_without_support(tmp_path):
    npz = save_npz(tmp_path / "a.npz", planted_attributions()[0])
    db = tmp_path / "db.meme"
    from seqexplain.motif_io import Motif, write_meme

    write_meme([Motif("X1", "planted1", one_hot([M1])[0].astype(float), "test"),
                Motif("X2", "planted2", one_hot([M2])[0].astype(float), "test"),
                Motif("X3", "other", one_hot(["CGCGCGCGAT"])[0].astype(float), "test")], db)
    out = tmp_path / "motifs"
    r = CliRunner().invoke(main, ["motifs", str(npz), "--no-support", "--database", str(db),
                                  "--maps", "0", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "3 motifs" in r.output and "support untested" in r.output
    table = pd.read_csv(out / "motifs.tsv", sep="\t")
    pos = table[table["sign"] == "+"]
    assert set(pos["best_match"]) == {"planted1", "planted2"}
    assert not (out / "maps").exists()


def test_motifs_command_errors(tmp_path):
    data = planted_attributions(n=20)[0]
    npz = save_npz(tmp_path / "a.npz", Attributions(
        {k: v for k, v in data.arrays.items() if not k.startswith("deepshap")}
        | {"saliency": data.scores("deepshap"), "saliency_hypothetical": data.scores("deepshap")}))
    r = CliRunner().invoke(main, ["motifs", str(npz), "-o", str(tmp_path / "o")])
    assert r.exit_code == 1 and "no 'deepshap' scores (methods: saliency)" in r.output
    assert not (tmp_path / "o").exists()
    flat = data.replace(deepshap=np.zeros_like(data.scores("deepshap")))
    npz = save_npz(tmp_path / "flat.npz", flat)
    r = CliRunner().invoke(main, ["motifs", str(npz), "--no-support", "-o",
                                  str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    assert "no motifs found" in r.output
    table = pd.read_csv(tmp_path / "o" / "motifs.tsv", sep="\t")
    assert len(table) == 0 and "best_match_q" in table.columns
    r = CliRunner().invoke(main, ["motifs", str(npz), "-o", str(tmp_path / "o2")])
    assert r.exit_code == 1 and "no model recorded" in r.output


# -- why nothing was found; a motif is named only when its match is significant --------------
def small_database(path):
    from seqexplain.motif_io import Motif, write_meme

    write_meme([Motif("X1", "planted1", one_hot([M1])[0].astype(float), "test"),
                Motif("X2", "planted2", one_hot([M2])[0].astype(float), "test")], path)
    return path


def test_no_motifs_names_the_threshold_and_what_to_try(tmp_path):
    """3 sequences: too few seqlets for --min-seqlets 10. The library records the reason (the
    threshold, its value, the counts, a suggestion) and the command and discovery.json say
    exactly that; following the suggestion gets past that threshold."""
    import json

    data, _ = planted_attributions(n=3)
    result = M.discover(data)
    n, pos = len(result.seqlets), int((result.seqlets["sign"] > 0).sum())
    most = max(pos, n - pos)
    assert result.motifs == [] and 2 <= most < 10
    assert result.no_motifs == (
        f"{n} seqlets passed the seqlet FDR (--fdr 0.05; {pos} activating, {n - pos} "
        "repressive), fewer than the 10 seqlets of one sign a motif needs (--min-seqlets 10); "
        f"try more sequences, or seqexplain motifs with --min-seqlets {min(most, 5)}")
    npz = save_npz(tmp_path / "a.npz", data)
    out = tmp_path / "o"
    r = CliRunner().invoke(main, ["motifs", str(npz), "--no-support", "--maps", "0",
                                  "--database", str(small_database(tmp_path / "db.meme")),
                                  "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert r.output.strip() == f"{out}: no motifs found: {result.no_motifs}"
    recorded = json.loads((out / "discovery.json").read_text())
    assert recorded["no_motifs"] == result.no_motifs and recorded["seqlets"] == n
    assert recorded["settings"]["min_seqlets"] == 10
    relaxed = M.discover(data, M.MotifSettings(min_seqlets=min(most, 5)))
    assert relaxed.motifs or "fewer than" not in relaxed.no_motifs
    assert not relaxed.motifs or relaxed.no_motifs == ""


def test_no_motifs_reason_at_each_threshold(planted):
    """Nothing passes the seqlet FDR → --fdr; enough seqlets but no cluster that large →
    --min-seqlets and --similarity, with the largest cluster's size; clusters that lose
    members on assignment → the most a motif kept."""
    data, _, _ = planted
    flat = data.replace(deepshap=np.zeros_like(data.scores("deepshap")))
    assert M.discover(flat).no_motifs == (
        "no window of 19 positions passed the seqlet FDR (--fdr 0.05); try more sequences, or "
        "seqexplain motifs with --fdr 0.2")
    assert "seqexplain motifs with --fdr 0.5" in M.discover(
        flat, M.MotifSettings(fdr=0.3)).no_motifs
    result = M.discover(data, M.MotifSettings(min_seqlets=150))
    largest = int(result.no_motifs.split("the largest held ")[1].split(")")[0])
    assert result.motifs == [] and 75 <= largest < 150
    assert (f"but no cluster of them (cut at --similarity 0.6) reached the 150 seqlets of one "
            f"sign a motif needs (--min-seqlets 150; the largest held {largest}); try more "
            "sequences, or seqexplain motifs with --min-seqlets 75 or --similarity 0.5"
            ) in result.no_motifs
    assert M.discover(data, M.MotifSettings(min_seqlets=75)).motifs  # the suggestion works
    seqlets = pd.DataFrame({"sign": [1] * 12})
    assert M.why_no_motifs(seqlets, M.MotifSettings(), 19, 11, 8) == (
        "12 seqlets passed the seqlet FDR (--fdr 0.05; 12 activating, 0 repressive), but once "
        "each seqlet was assigned to the motif it matches best (--similarity 0.6), none kept "
        "the 10 seqlets of one sign a motif needs (--min-seqlets 10; the largest kept 8); try "
        "more sequences, or seqexplain motifs with --min-seqlets 5 or --similarity 0.5")


def _hit(name, q):
    return {"id": f"MA_{name}", "name": name, "family": "some family", "klass": "some class",
            "p": q / 10, "e": q, "q": q, "offset": 0, "strand": "+"}


def test_motif_is_named_only_when_its_best_match_is_significant(planted, tmp_path,
                                                                 monkeypatch):
    """Best match q = 0.096 (or exactly 0.05): shown as "no significant match" in the summary
    line and logo titles, unnamed in instance tables, BED and maps, motifs.meme; q = 0.01:
    named everywhere. motifs.tsv keeps the raw best match of both."""
    from copy import deepcopy

    from seqexplain import logos
    from seqexplain.motifs.pipeline import summary_line, write_motifs

    data, _, result = planted
    result = deepcopy(result)
    weak, strong, edge = result.motifs
    weak.matches = [_hit("MEF2A", 0.096), _hit("CTCF", 0.2)]
    strong.matches = [_hit("CTCF", 0.01)]
    edge.matches = [_hit("EDGE", 0.05)]
    assert (weak.name, weak.label, weak.title) == ("", weak.id,
                                                   f"{weak.id} (no significant match)")
    assert (strong.name, strong.label, strong.title) == ("CTCF", f"{strong.id} (CTCF)",
                                                         f"{strong.id} (CTCF)")
    assert edge.name == "" and edge.title == f"{edge.id} (no significant match)"
    titles, render = [], logos.render_matrix_logos

    def recording(items, **kw):  # (kind, matrix, letters, title, path)
        titles.extend(item[3] for item in items)
        return render(items, **kw)

    monkeypatch.setattr(logos, "render_matrix_logos", recording)
    table = write_motifs(result, data, tmp_path, maps=1)
    line = summary_line("out", result, table)
    assert line.endswith(f"; {weak.id} (no significant match): {weak.consensus}")
    assert "MEF2A" not in line
    line = summary_line("out", result, table.iloc[[1, 0, 2]])
    assert line.endswith(f"; {strong.id} (CTCF): {strong.consensus}")
    assert f"{weak.id} (no significant match) · {weak.n_seqlets} seqlets" in titles
    assert f"{strong.id} (CTCF) · {strong.n_seqlets} seqlets" in titles
    assert not any("MEF2A" in t or "EDGE" in t for t in titles)
    # tables keep the data
    tsv = pd.read_csv(tmp_path / "motifs.tsv", sep="\t", keep_default_na=False)
    row = tsv.set_index("motif").loc[weak.id]
    assert row["best_match"] == "MEF2A" and row["best_match_q"] == pytest.approx(0.096)
    assert "CTCF (MA_CTCF, some family, q=0.2)" in row["other_matches"]
    inst = pd.read_csv(tmp_path / "instances.tsv", sep="\t")
    labels = dict(zip(inst["motif"], inst["label"]))
    assert labels == {weak.id: weak.id, strong.id: f"{strong.id} (CTCF)", edge.id: edge.id}
    bed = pd.read_csv(tmp_path / "instances.bed", sep="\t", header=None)
    assert set(bed[3]) == set(labels.values())
    meme = (tmp_path / "motifs.meme").read_text()
    assert f"MOTIF {strong.id} CTCF\n" in meme and f"MOTIF {weak.id}\n" in meme
    assert "MEF2A" not in meme and "EDGE" not in meme


# -- support with a plain predict callable (no model) ----------------------------------------------
def site_counter(weights: dict[str, float]):
    """A NumPy "model": per sequence, the weighted count of windows matching each word (either
    strand) at 9 of 10 bases or more — shuffling a site's bases out removes it."""
    kernels = [(one_hot([w])[0], one_hot([revcomp(w)])[0], weight)
               for w, weight in weights.items()]

    def predict(X: np.ndarray) -> np.ndarray:
        from numpy.lib.stride_tricks import sliding_window_view

        win = sliding_window_view(np.asarray(X, np.float64), 10, axis=1)  # (n, L-9, C, 10)
        out = np.zeros(len(X))
        for fwd, rev, weight in kernels:
            for k in (fwd, rev):
                match = np.einsum("nwcp,pc->nw", win, k)
                out += weight * (match >= 9).sum(axis=1)
        return out

    return predict


def shuffled_null(data: Attributions, seed: int = 0) -> M.NullAttributions:
    """Null scores as the pipeline would give them for a model that sees no motif in shuffled
    sequences: the planted data's noise on dinucleotide shuffles."""
    from seqexplain.shuffle import dinucleotide_shuffle

    rng = np.random.default_rng(seed)
    x = np.asarray(data.onehot, np.float32)
    X = dinucleotide_shuffle(x, n=1, random_state=rng)[:, 0]
    hyp = rng.normal(0, 0.03, X.shape).astype(np.float32)
    return M.NullAttributions(index=np.arange(len(X)), onehot=X, contrib=hyp * X, hyp=hyp)


def test_support_takes_a_predict_callable(planted):
    """The support step needs no Keras model: a NumPy function counting planted sites is
    enough. Real motifs are enriched over the null and shuffling them out moves the output
    against their sign; a predict that ignores its input supports nothing."""
    from copy import deepcopy

    data, _, found = planted
    null = shuffled_null(data)
    calls = []
    counter = site_counter({M1: 1.0, M2: 1.0, M3: -1.0})

    def predict(X):
        calls.append(len(X))
        return counter(X)

    result = deepcopy(found)
    table = M.motif_support(result, data, predict, null, max_instances=50)
    assert calls and all(0 < k <= 50 for k in calls)
    assert list(table["motif"]) == [m.id for m in result.motifs]
    assert table["supported"].all(), table
    assert (table["enrichment"] >= M.MIN_FOLD).all() and (table["enrichment_q"] < M.MAX_Q).all()
    signs = np.array([m.sign for m in result.motifs])
    assert (np.sign(table["output_change"].to_numpy()) == -signs).all()
    assert [m.evidence["supported"] for m in result.motifs] == [True] * len(result.motifs)
    # an output that does not depend on the sequence: no output change, nothing supported
    result = deepcopy(found)
    flat = M.motif_support(result, data, lambda X: np.zeros(len(X)), null, max_instances=50)
    assert (flat["output_change"] == 0).all() and not flat["supported"].any()
    assert (flat["enrichment"] == table["enrichment"]).all()  # the null test is the same


# -- the model in the loop: support, explain --motifs, the report --------------------------------
@pytest.fixture(scope="module")
def untrained(tmp_path_factory):
    """An untrained tiny CNN (saved .keras) and the planted FASTA of ``helpers.planted_dataset``."""
    from helpers import TINY_MODEL, planted_dataset

    from seqexplain._tf import import_tensorflow

    import_tensorflow()
    import keras

    from seqexplain.models import ModelSettings, build_model

    folder = tmp_path_factory.mktemp("untrained")
    fa, _ = planted_dataset(folder, n=200, length=40)
    keras.utils.set_random_seed(0)
    model = build_model(ModelSettings(**TINY_MODEL), 40, 4, "binary", 1)
    model.save(folder / "untrained.keras")
    return folder / "untrained.keras", fa


@pytest.mark.slow
def test_untrained_model_has_no_supported_motif(untrained, tmp_path):
    model, fa = untrained
    r = CliRunner().invoke(main, ["explain", str(model), str(fa), "-m", "deepshap",
                                  "--n-references", "5", "--logos", "0", "-q",
                                  "-o", str(tmp_path / "ex")])
    assert r.exit_code == 0, r.output
    npz = tmp_path / "ex" / "attributions.npz"
    # by default, the shuffled-sequence null leaves nothing to call
    r = CliRunner().invoke(main, ["motifs", str(npz), "--null-size", "200", "--maps", "0",
                                  "-o", str(tmp_path / "default")])
    assert r.exit_code == 0, r.output
    table = pd.read_csv(tmp_path / "default" / "motifs.tsv", sep="\t")
    assert not (table["supported"] == "yes").any()
    # relaxed discovery so that the untrained model's noise does form "motifs" …
    r = CliRunner().invoke(main, ["motifs", str(npz), "--fdr", "0.5", "--similarity", "0.3",
                                  "--min-seqlets", "5", "--null-size", "200", "--maps", "0",
                                  "--database", str(tmp_path / "none.meme"),
                                  "-o", str(tmp_path / "m")])
    assert r.exit_code == 1 and "none.meme: no such motif file" in r.output
    r = CliRunner().invoke(main, ["motifs", str(npz), "--fdr", "0.5", "--similarity", "0.3",
                                  "--min-seqlets", "5", "--null-size", "200", "--maps", "0",
                                  "--seqlet-null", "laplace", "-o", str(tmp_path / "m")])
    assert r.exit_code == 0, r.output
    table = pd.read_csv(tmp_path / "m" / "motifs.tsv", sep="\t")
    assert len(table) >= 2  # … which the null and the output-change test reject
    assert set(table["supported"]) == {"no"}
    # rejected by the null: no motif is both enriched and significant against shuffles
    assert not ((table["enrichment"] >= 2) & (table["enrichment_q"] < 0.01)).any(), table
    assert "0 of" in r.output


@pytest.mark.slow
def test_explain_motifs_and_report(tmp_path):
    """The shipped CTCF model: explain --motifs finds CTCF (MA0139), supported, and the report
    shows it; --grammar measures what each motif found does: CTCF raises the output."""
    root = Path(__file__).resolve().parents[1]
    peaks = (root / "examples" / "data" / "ctcf_peaks.fa").read_text().splitlines()
    background = (root / "examples" / "data" / "human_background.fa").read_text().splitlines()
    fa = tmp_path / "mix.fa"
    fa.write_text("\n".join(peaks + background[:1000]) + "\n")  # 500 peaks, 500 background
    out = tmp_path / "ex"
    r = CliRunner().invoke(main, ["explain", str(root / "models" / "ctcf"), str(fa), "-m",
                                  "deepshap", "--n-references", "5", "--logos", "2", "--motifs",
                                  "--grammar", "-q", "-o", str(out)])
    assert r.exit_code == 0, r.output
    table = pd.read_csv(out / "motifs" / "motifs.tsv", sep="\t", keep_default_na=False)
    marginal = pd.read_csv(out / "grammar" / "marginal.tsv", sep="\t")
    # every motif found, both strands, named by id and best match
    assert sorted(marginal["motif"].str.split().str[0].unique()) == sorted(table["motif"])
    assert len(marginal) == 2 * len(table)
    ctcf = marginal[marginal["motif"] == "pos_1 (CTCF)"]
    assert len(ctcf) == 2
    assert ctcf["significant"].all() and (ctcf["effect"] - ctcf["control_effect"] > 2).all()
    assert f"{out}/grammar: {len(table)} motifs" in r.output
    top = table.iloc[0]
    assert top["motif"] == "pos_1" and top["best_match"] == "CTCF"
    assert top["best_match_id"].startswith("MA0139") and top["best_match_q"] < 1e-5
    assert top["supported"] == "yes" and top["enrichment"] >= 2
    assert "zinc finger" in top["best_match_family"].lower()
    inst = pd.read_csv(out / "motifs" / "instances.tsv", sep="\t")
    assert {"chrom", "genome_start", "genome_end"} <= set(inst.columns)
    assert len(list((out / "motifs" / "maps").glob("*.png"))) == 10
    r = CliRunner().invoke(main, ["report", str(root / "models" / "ctcf"), "-a",
                                  str(out / "attributions.npz"), "-o", str(tmp_path / "r.html")])
    assert r.exit_code == 0, r.output
    html = (tmp_path / "r.html").read_text()
    assert "<h2>Motifs</h2>" in html and "pos_1 — CTCF" in html
    assert html.count('src="data:image/png') >= 1 + 5 + 2 * len(table) + 2


@pytest.mark.slow
def test_modisco_engine_on_the_same_scores(tmp_path):
    """TF-MoDISco (modisco-lite) through the same outputs: it finds the planted motifs too."""
    data, sites = planted_attributions(n=300, length=120, seed=4, random_slots=True)
    npz = save_npz(tmp_path / "a.npz", data)
    out = tmp_path / "modisco"
    r = CliRunner().invoke(main, ["motifs", str(npz), "--engine", "modisco", "--no-support",
                                  "--maps", "1", "--database", str(tmp_path / "db.meme"),
                                  "-o", str(out)])
    assert r.exit_code == 1 and "no such motif file" in r.output
    from seqexplain.motif_io import Motif, write_meme

    write_meme([Motif("X1", "planted1", one_hot([M1])[0].astype(float), "test"),
                Motif("X2", "planted2", one_hot([M2])[0].astype(float), "test"),
                Motif("X3", "planted3", one_hot([M3])[0].astype(float), "test")],
               tmp_path / "db.meme")
    r = CliRunner().invoke(main, ["motifs", str(npz), "--engine", "modisco", "--no-support",
                                  "--maps", "1", "--database", str(tmp_path / "db.meme"),
                                  "-o", str(out)])
    assert r.exit_code == 0, r.output
    table = pd.read_csv(out / "motifs.tsv", sep="\t", keep_default_na=False)
    named = table[table["best_match_q"].astype(float) < 0.05]
    assert {"planted1", "planted2"} <= set(named["best_match"])
    inst = pd.read_csv(out / "instances.tsv", sep="\t")
    assert len(inst) > 0 and set(inst["strand"]) == {"+", "-"}
    protein = data.replace(alphabet=np.array("ACDEFGHIKLMNPQRSTVWY"))
    with pytest.raises(Exception, match="DNA/RNA only"):
        M.discover_modisco(protein)


def test_filters_command_on_the_ctcf_example(tmp_path):
    """First-layer filters of the shipped CTCF model: PWMs from activating subsequences, the
    most influential filter is a CTCF match, switching a filter off changes the output."""
    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "filters"
    r = CliRunner().invoke(main, ["filters", str(root / "models" / "ctcf"),
                                  str(root / "examples" / "data" / "ctcf_demo.fa"),
                                  "--logos", "6", "-o", str(out)])
    assert r.exit_code == 0, r.output
    table = pd.read_csv(out / "filters.tsv", sep="\t", keep_default_na=False)
    assert len(table) == 128  # one row per first-layer filter
    assert (table["influence_abs"].diff().dropna() <= 1e-12).all()  # sorted by influence
    top = table.iloc[0]
    assert top["best_match"] == "CTCF" and float(top["best_match_q"]) < 0.01
    assert top["influence"] < 0 and top["sites"] > 0
    assert sorted(p.stem for p in (out / "logos").glob("filter_*.png")) == sorted(
        table["filter"][:6])
    with open(out / "filters.meme") as fh:
        assert fh.read().count("MOTIF filter_") == 128


def test_filter_pfm_counts_activating_windows():
    """A one-filter model whose kernel is the one-hot of ACGTA: every exact ACGTA site (and
    nothing weaker than half the maximum) is counted, so the PFM is that word."""
    from seqexplain._tf import import_tensorflow

    import_tensorflow()
    import keras

    from seqexplain.filters import filter_influence, filter_motifs

    word = "ACGTA"
    inp = keras.Input((30, 4))
    conv = keras.layers.Conv1D(1, 5, padding="same", name="conv1")
    x = keras.layers.Activation("relu")(conv(inp))
    x = keras.layers.GlobalMaxPooling1D()(x)
    logits = keras.layers.Dense(1, name="logits")(x)
    model = keras.Model(inp, keras.layers.Activation("sigmoid")(logits))
    kernel = (one_hot([word])[0] * 2 - 1)[:, :, None]  # +1 for the word's bases, −1 else
    conv.set_weights([kernel, np.array([-3.0])])       # only ≥ 4 of 5 matching bases fire
    model.get_layer("logits").set_weights([np.ones((1, 1)), np.zeros(1)])
    rng = np.random.default_rng(0)
    seqs = []
    for i in range(40):
        s = list(rng.choice(list("CG"), 30))  # background that never reaches the threshold
        s[5 + i % 10:10 + i % 10] = word
        seqs.append("".join(s))
    X = one_hot(seqs)
    (motif,) = filter_motifs(model, X, "ACGT")
    assert motif.n_sites == 40 and motif.max_activation == pytest.approx(2.0)
    assert "".join("ACGT"[i] for i in motif.pfm.argmax(1)) == word
    assert motif.pfm.max(1).min() > 0.9
    mean, mean_abs = filter_influence(model, X)
    assert mean[0] == pytest.approx(-2.0) and mean_abs[0] == pytest.approx(2.0)


@pytest.mark.slow
def test_output_folder_moves_with_its_model(untrained, tmp_path):
    """Attributions record the model and the reference FASTA relative to themselves: the
    folder moved together with its model still runs the support tests; a model moved alone
    is refused with one line saying to pass --model, and --model then works."""
    import shutil

    model, fa = untrained
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(model, work / "model.keras")
    refs = Path(fa).read_text().splitlines()[:20]  # the first 10 records
    (work / "refs.fa").write_text("\n".join(refs) + "\n")
    r = CliRunner().invoke(main, ["explain", str(work / "model.keras"), str(fa), "-m",
                                  "deepshap", "--references", str(work / "refs.fa"),
                                  "--logos", "0", "-q", "-o", str(work / "ex")])
    assert r.exit_code == 0, r.output
    data = Attributions.read(work / "ex" / "attributions.npz")
    with np.load(work / "ex" / "attributions.npz") as raw:
        assert str(raw["model"]) == "../model.keras"
    assert data.settings["references"] == "../refs.fa"

    moved = tmp_path / "elsewhere" / "project"
    moved.parent.mkdir()
    shutil.move(work, moved)
    npz = moved / "ex" / "attributions.npz"
    assert Path(Attributions.read(npz).model_path) == moved / "ex" / ".." / "model.keras"
    args = ["motifs", str(npz), "--null-size", "50", "--maps", "0", "--fdr", "0.5",
            "--similarity", "0.3", "--min-seqlets", "5", "--seqlet-null", "laplace"]
    r = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "m1")])
    assert r.exit_code == 0, r.output  # model and reference FASTA found beside the folder

    shutil.move(moved / "model.keras", tmp_path / "model_moved.keras")
    r = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "m2")])
    assert r.exit_code == 1
    assert "model it was computed with is not at" in r.output and "--model" in r.output
    assert "Traceback" not in r.output and not (tmp_path / "m2").exists()
    r = CliRunner().invoke(main, [*args, "--model", str(tmp_path / "model_moved.keras"),
                                  "-o", str(tmp_path / "m2")])
    assert r.exit_code == 0, r.output


def test_cooccurrence_of_one_motif_has_room(tmp_path):
    """One motif found: the co-occurrence figure is drawn without matplotlib's "axes sizes
    collapsed" warning on stderr."""
    import matplotlib.pyplot as plt

    from seqexplain.plots import plot_cooccurrence

    label = "pos_1 (PRDM9)"
    instances = pd.DataFrame({"label": [label] * 40, "seq": np.arange(40)})
    fig = plot_cooccurrence(instances, [label], 300)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.savefig(tmp_path / "c.png", dpi=60)
    plt.close(fig)
    assert (tmp_path / "c.png").stat().st_size > 0


@pytest.mark.slow
def test_motifs_files_takes_a_loaded_model(untrained, tmp_path):
    """The library call behind `seqexplain motifs` takes a loaded Keras model for the support
    tests (the CLI gives a path): the model that computed the scores runs them; another model
    is refused before anything is written."""
    import keras

    from seqexplain.errors import SeqexplainError
    from seqexplain.explain_run import explain_files
    from seqexplain.models import ModelSettings, build_model
    from seqexplain.motifs.pipeline import MotifsRun, motifs_files

    path, fa = untrained
    few = tmp_path / "few.fa"  # 60 of the planted sequences
    few.write_text("".join(Path(fa).read_text().splitlines(keepends=True)[:120]))
    explain_files(path, few, out=tmp_path / "ex", methods="saliency", logos=0, progress=False)
    npz = tmp_path / "ex" / "attributions.npz"
    relaxed = dict(method="saliency", maps=0, null_size=30, fdr=0.5, similarity=0.3,
                   min_seqlets=5, seqlet_null="laplace",
                   database=Path(__file__).parent / "data" / "motifs" / "jaspar2024_selected.meme")
    keras.utils.set_random_seed(1)
    other = build_model(ModelSettings(n_conv_blocks=1, filters=8, kernel_sizes=7, pool_sizes=1,
                                    dense_units=[8]), 40, 4, "binary", 1)
    with pytest.raises(SeqexplainError, match="computed with another model"):
        motifs_files(npz, tmp_path / "other", model=other, **relaxed)
    assert not (tmp_path / "other").exists()
    run = motifs_files(npz, tmp_path / "m", model=keras.models.load_model(path), **relaxed)
    assert isinstance(run, MotifsRun) and len(run.table) > 0
    assert set(run.table["supported"]) <= {"yes", "no"}  # tested with it, not "untested"
    table = pd.read_csv(tmp_path / "m" / "motifs.tsv", sep="\t", keep_default_na=False)
    assert list(table["motif"]) == list(run.table["motif"])
    assert run.summary().startswith(f"{tmp_path / 'm'}: {len(table)} motifs from ")
