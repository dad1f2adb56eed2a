"""Hits of given motifs (``seqexplain hits``) on synthetic contribution arrays, no model:
planted sites recovered, the collapse rule, q-values, the files and their coordinates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seqexplain.attributions import Attributions
from seqexplain.errors import SeqexplainError
from seqexplain.motif_hits import HITS_COLUMNS, hits_files, read_hit_motifs
from seqexplain.motif_io import Motif, write_meme
from seqexplain.motifs.hits import HitMotif, collapse_overlaps, null_contributions, scan_hits

#: two 8-bp motifs, sites sampled from them (rows A C G T)
PFM_A = np.array([[.85, .05, .05, .05], [.05, .05, .85, .05], [.05, .05, .05, .85],
                  [.85, .05, .05, .05], [.05, .85, .05, .05], [.05, .05, .85, .05],
                  [.7, .1, .1, .1], [.05, .05, .05, .85]])
PFM_B = np.array([[.05, .85, .05, .05], [.05, .05, .05, .85], [.05, .05, .85, .05],
                  [.05, .85, .05, .05], [.85, .05, .05, .05], [.05, .05, .05, .85],
                  [.1, .1, .7, .1], [.05, .85, .05, .05]])
N, L = 80, 120


def planted(seed=0):
    """(onehot, contributions, truth): random DNA with 0–2 sites a sequence (some of A and B
    overlapping by 3 bases), contributions = noise + a site's per-base log-odds × strength
    (strong 0.3 or weak 0.02: the weak ones are sites a model barely uses)."""
    rng = np.random.default_rng(seed)
    seq = rng.integers(0, 4, (N, L))
    track = rng.normal(0, 0.03, (N, L))
    truth = []
    for i in range(N):
        places = [(rng.integers(0, 40), "A"), (rng.integers(60, 110), "B")]
        if i % 10 == 0:  # an overlapping pair: B starts 5 bases into A
            places = [(30, "A"), (35, "B")]
        for start, name in places[: rng.integers(0, 3)] if i % 10 else places:
            pfm = PFM_A if name == "A" else PFM_B
            bases = np.array([rng.choice(4, p=row) for row in pfm])
            odds = np.log2(pfm[np.arange(8), bases] / 0.25)
            strand = "+-"[rng.integers(0, 2)]
            if strand == "-":
                bases, odds = 3 - bases[::-1], odds[::-1]
            strength = 0.3 if rng.random() < 0.8 else 0.02
            seq[i, start:start + 8] = bases
            track[i, start:start + 8] += strength * np.clip(odds, 0, None)
            truth.append((i, start, start + 8, name, strand, strength))
    onehot = np.eye(4, dtype=np.float32)[seq]
    truth = pd.DataFrame(truth, columns=["seq", "start", "end", "motif", "strand", "strength"])
    return onehot, (onehot * track[..., None]).astype(np.float32), truth


MOTIFS = [HitMotif.from_pfm("A", PFM_A), HitMotif.from_pfm("B", PFM_B)]
#: these contributions follow each base's log-odds, not the logo the CWM is made of: a looser
#: shape threshold than the default (0.75, chosen on a trained model's DeepSHAP scores)
SIMILARITY = 0.6


@pytest.fixture(scope="module")
def data():
    onehot, contrib, truth = planted()
    hits = scan_hits(contrib, MOTIFS, onehot=onehot, min_similarity=SIMILARITY)
    return onehot, contrib, truth, hits


def _overlaps(a, b) -> bool:
    return min(a.end, b.end) - max(a.start, b.start) >= 4  # half of an 8-bp site


def test_planted_sites_are_recovered(data):
    _, _, truth, hits = data
    strong = truth[truth["strength"] > 0.1]
    found = [any(_overlaps(h, t) and h.motif == t.motif and h.strand == t.strand
                 for h in hits[hits["seq"] == t.seq].itertuples()) for t in strong.itertuples()]
    correct = [any(_overlaps(h, t) and h.motif == t.motif
                   for t in truth[truth["seq"] == h.seq].itertuples()) for h in hits.itertuples()]
    assert np.mean(found) >= 0.95, np.mean(found)        # recall of the strong sites
    assert np.mean(correct) >= 0.95, np.mean(correct)    # precision


def test_overlapping_sites_of_two_motifs_are_both_called(data):
    # sequences 0, 10, …: A at 30–38 with B planted over its last 3 bases (35–43): the
    # joint fit takes each one's share off the other's window
    onehot, contrib, truth, _ = data
    hits = scan_hits(contrib, MOTIFS, onehot=onehot, min_similarity=SIMILARITY)
    strong = truth[(truth["strength"] > 0.1) & (truth["seq"] % 10 == 0)]
    pairs = strong.groupby("seq")["motif"].nunique()
    both = [set(hits[hits["seq"] == s]["motif"]) >= {"A", "B"} for s in pairs.index[pairs == 2]]
    assert len(both) >= 5 and np.mean(both) >= 0.8  # 5 of 6 here


def test_hit_columns_are_what_they_say(data):
    onehot, contrib, _, hits = data
    assert list(hits.columns) == ["seq", "start", "end", "strand", "motif", "score",
                                  "contribution", "similarity", "p", "q"]
    exact = []
    for h in hits.itertuples():
        window = contrib[h.seq, h.start:h.end].astype(np.float64)
        cwm = next(m.cwm for m in MOTIFS if m.name == h.motif)
        cwm = cwm if h.strand == "+" else cwm[::-1, ::-1]
        assert h.contribution == pytest.approx(window.sum(), abs=1e-5)
        cos = (window * cwm).sum() / np.linalg.norm(window) / np.linalg.norm(cwm)
        proj = (window * cwm).sum() / np.linalg.norm(cwm)
        # a hit fitted jointly with an overlapping candidate of another motif has the
        # similarity and score of its window with that one's fit taken off
        exact.append(abs(h.similarity - cos) < 1e-6 and abs(h.score - proj) < 1e-5)
        assert h.similarity >= SIMILARITY and h.q <= 0.1
    assert np.mean(exact) >= 0.3, np.mean(exact)  # lone hits: their own window exactly


def test_q_values_lie_in_0_1_and_fall_as_scores_rise(data):
    onehot, contrib, _, _ = data
    every = scan_hits(contrib, MOTIFS, onehot=onehot, fdr=1.0, min_similarity=-1)
    assert every["q"].between(0, 1).all() and every["p"].between(0, 1).all()
    assert (every["q"] >= every["p"] - 1e-12).all()
    for _, part in every.groupby("motif"):
        part = part.sort_values("score")
        assert (np.diff(part["q"].to_numpy()) <= 1e-12).all()   # higher score, lower q


def test_no_contribution_no_hits(data):
    onehot, _, _, _ = data
    rng = np.random.default_rng(3)
    noise = (onehot * rng.normal(0, 0.03, (N, L, 1))).astype(np.float32)
    assert len(scan_hits(noise, MOTIFS, onehot=onehot)) <= 2  # next to nothing


def test_collapse_keeps_the_strongest_of_overlapping_hits_of_one_motif():
    table = pd.DataFrame({
        "seq": [0, 0, 0, 0, 0, 1], "start": [10, 14, 17, 30, 12, 10],
        "end": [18, 22, 25, 38, 20, 18], "strand": ["+", "-", "+", "+", "+", "+"],
        "motif": ["A", "A", "A", "A", "B", "A"], "score": [1.0, 2.0, 1.5, 0.5, 0.1, 0.2]})
    kept = collapse_overlaps(table, 40).sort_values(["seq", "motif", "start"])
    # A in seq 0: 14–22 (2.0) beats 10–18 and 17–25 (both overlap it); 30–38 stands alone;
    # B overlapping A stays (another motif); seq 1 is another sequence
    assert list(zip(kept["seq"], kept["motif"], kept["start"])) == [
        (0, "A", 14), (0, "A", 30), (0, "B", 12), (1, "A", 10)]


def test_null_moves_contributions_onto_the_same_sequence(data):
    onehot, contrib, _, _ = data
    null = null_contributions(contrib, onehot, seed=1)
    assert ((null != 0) <= (onehot != 0)).all()           # only on the bases there
    assert np.allclose(np.sort(null.sum(-1), 1), np.sort(contrib.sum(-1), 1))  # same values
    assert not np.allclose(null, contrib)


@pytest.fixture(scope="module")
def scores_file(tmp_path_factory, data):
    onehot, contrib, _, _ = data
    d = tmp_path_factory.mktemp("hits")
    # the sequences as genome windows, every other one from the minus strand
    ids = np.array([f"chr1:{1000 * i}-{1000 * i + L}({'+-'[i % 2]})" for i in range(N)])
    Attributions({"ids": ids, "onehot": onehot, "alphabet": np.array("ACGT"),
                  "deepshap": contrib, "deepshap_hypothetical": contrib}).write(
        d / "attributions.npz")
    write_meme([Motif("A", "A", PFM_A, "test"), Motif("B", "B", PFM_B, "test")],
               d / "ab.meme")
    return d


def test_files_have_their_columns_and_genome_coordinates(scores_file, data):
    d = scores_file
    _, _, _, hits = data
    result = hits_files(d / "attributions.npz", d / "ab.meme", d / "out",
                        min_similarity=SIMILARITY)
    table = pd.read_csv(d / "out" / "hits.tsv", sep="\t")
    assert list(table.columns) == HITS_COLUMNS + ["chrom", "genome_start", "genome_end"]
    assert len(table) == len(hits) == len(result.hits)
    i = table["id"].str.extract(r"chr1:(\d+)-")[0].astype(int).to_numpy() // 1000
    minus = i % 2 == 1
    lo = 1000 * i
    assert (table["genome_start"] == np.where(minus, lo + L - table["end"],
                                              lo + table["start"])).all()
    assert (table["genome_end"] - table["genome_start"] == 8).all()
    lines = (d / "out" / "hits.bed").read_text().splitlines()
    assert lines[0].startswith("track ") and 'itemRgb="On"' in lines[0]
    bed = [line.split("\t") for line in lines[1:]]
    assert all(len(f) == 9 for f in bed) and len(bed) == len(table)
    assert {f[8] for f in bed if f[3] == "A"} != {f[8] for f in bed if f[3] == "B"}
    # a hit on a minus record lies on the other genome strand
    assert [f[5] for f in bed] == [({"+": "-", "-": "+"}[s] if m else s)
                                   for s, m in zip(table["strand"], minus)]
    assert all(0 <= int(f[4]) <= 1000 for f in bed)
    counts = pd.read_csv(d / "out" / "counts.tsv", sep="\t")
    assert list(counts.columns) == ["id", "count:A", "contribution:A", "count:B",
                                    "contribution:B"]
    assert len(counts) == N
    per = table.groupby(["id", "motif"]).size()
    assert all(counts.set_index("id").loc[k, f"count:{m}"] == v for (k, m), v in per.items())
    assert counts["count:A"].sum() + counts["count:B"].sum() == len(table)


def test_a_motifs_folder_gives_its_cwms(tmp_path):
    cwm = np.zeros((6, 4))
    cwm[np.arange(6), [0, 1, 2, 3, 0, 1]] = -0.5
    np.savez(tmp_path / "cwms.npz", ids=np.array(["neg_1"]), alphabet=np.array("ACGT"),
             neg_1_cwm=cwm, neg_1_pfm=np.abs(cwm) * 2, neg_1_hcwm=cwm)
    (motif,) = read_hit_motifs(tmp_path)
    assert motif.name == "neg_1" and motif.sign == -1 and np.allclose(motif.cwm, cwm)


def test_a_modisco_file_gives_its_trimmed_cwms(tmp_path):
    import h5py

    cwm = np.zeros((30, 4))
    cwm[10:18] = MOTIFS[0].cwm            # motif A in the middle of a 30-column pattern
    cwm[5, 0] = 0.01                      # a faint column outside: trimmed away
    with h5py.File(tmp_path / "modisco.h5", "w") as h5:
        h5["pos_patterns/pattern_0/contrib_scores"] = cwm
        h5["neg_patterns/pattern_0/contrib_scores"] = -cwm
    pos, neg = read_hit_motifs(tmp_path / "modisco.h5")
    assert (pos.name, pos.sign, neg.name, neg.sign) == (
        "pos_patterns.pattern_0", 1, "neg_patterns.pattern_0", -1)
    assert np.allclose(pos.cwm, MOTIFS[0].cwm) and np.allclose(neg.cwm, -MOTIFS[0].cwm)


def test_every_target_of_a_multi_task_file_and_the_class_table(tmp_path, data):
    # target "a" sees motif A's sites (B's at 5 %), target "b" the other way round
    onehot, contrib, truth, _ = data
    arrays = {"ids": np.array([f"r{i}" for i in range(N)]), "onehot": onehot,
              "alphabet": np.array("ACGT"), "targets": np.array(["a", "b"])}
    for target, other in (("a", "B"), ("b", "A")):
        scores = contrib.copy()
        for t in truth[truth["motif"] == other].itertuples():
            scores[t.seq, t.start:t.end] *= 0.05
        arrays[f"deepshap@{target}"] = arrays[f"deepshap@{target}_hypothetical"] = scores
    Attributions(arrays).write(tmp_path / "multi.npz")
    write_meme([Motif("A", "A", PFM_A, "test"), Motif("B", "B", PFM_B, "test")],
               tmp_path / "ab.meme")
    hits_files(tmp_path / "multi.npz", tmp_path / "ab.meme", tmp_path / "out", target="all",
               min_similarity=SIMILARITY)
    classes = pd.read_csv(tmp_path / "out" / "classes.tsv", sep="\t").set_index("target")
    assert list(classes.columns) == ["count:A", "contribution:A", "count:B", "contribution:B"]
    strong = truth[truth["strength"] > 0.1]["motif"].value_counts()
    assert classes.at["a", "count:A"] >= 0.9 * strong["A"] and classes.at["a", "count:B"] <= 2
    assert classes.at["b", "count:B"] >= 0.9 * strong["B"] and classes.at["b", "count:A"] <= 2
    assert classes.at["a", "contribution:A"] > 10 * abs(classes.at["a", "contribution:B"])
    table = pd.read_csv(tmp_path / "out" / "hits.tsv", sep="\t")
    for (target, motif), n in table.groupby(["target", "motif"]).size().items():
        assert classes.at[target, f"count:{motif}"] == n
    assert (tmp_path / "out" / "classes.png").stat().st_size > 0
    one = tmp_path / "one.npz"
    Attributions({k: v for k, v in arrays.items() if "@" not in k and k != "targets"}
                 | {"deepshap": contrib, "deepshap_hypothetical": contrib}).write(one)
    with pytest.raises(SeqexplainError, match="explains one target"):
        hits_files(one, tmp_path / "ab.meme", tmp_path / "x", target="all")


def test_a_finemo_regions_file_is_read_as_its_contributions(tmp_path, data):
    # Fi-NeMo's input (finemo extract-regions-*): channels first, float16 contributions
    onehot, contrib, _, _ = data
    np.savez(tmp_path / "regions.npz", sequences=onehot.transpose(0, 2, 1).astype(np.int8),
             contributions=contrib.transpose(0, 2, 1).astype(np.float16),
             chr=np.array(["chr2"] * N), start=np.arange(N) * 500)
    write_meme([Motif("A", "A", PFM_A, "test"), Motif("B", "B", PFM_B, "test")],
               tmp_path / "ab.meme")
    result = hits_files(tmp_path / "regions.npz", tmp_path / "ab.meme", tmp_path / "out",
                        min_similarity=SIMILARITY)
    direct = scan_hits(contrib.astype(np.float16).astype(np.float32), MOTIFS, onehot=onehot,
                       min_similarity=SIMILARITY)
    assert len(result.hits) == len(direct) > 50
    assert (result.hits["genome_start"].to_numpy()
            == 500 * direct["seq"].to_numpy() + direct["start"].to_numpy()).all()


def test_a_repressive_motif_is_called_on_negative_contributions(data):
    # the same sites with every contribution negated, called with the negated CWMs
    # (sign −1, as a motifs folder gives neg_ motifs): the same hits, contribution negated
    onehot, contrib, _, hits = data
    negative = [HitMotif(m.name, -m.cwm, -1) for m in MOTIFS]
    found = scan_hits(-contrib, negative, onehot=onehot, min_similarity=SIMILARITY)
    cols = ["seq", "start", "end", "strand", "motif"]
    assert found[cols].equals(hits[cols]) and len(found) > 50
    assert np.allclose(found["contribution"], -hits["contribution"], atol=1e-5)
    assert np.allclose(found["score"], hits["score"], atol=1e-5) and (found["score"] > 0).all()
