"""Are motif hits right, in genome coordinates, and as good as Fi-NeMo's? Targets: recall and
precision ≥ 0.9 against the planted sites the model responds to; F1 ≥ Fi-NeMo 0.41's on the
same contributions and motifs, in no more wall time.

1. A random genome (three 1.2 Mb chromosomes) with sites *sampled from JASPAR PWMs* (CTCF,
   NFKB1, ELK1) planted in 200 bp windows: a strong site (sampled from the PFM) in every
   window, and in half of them a second site, weak (sampled from the PFM flattened to its
   square root) or strong, a quarter of the pairs overlapping by 3 bases; as many windows
   without sites. A random genome also holds chance matches of the PWMs, to which a model
   responds as it does to planted ones: those scoring above the motif's 1e-4 quantile of
   random sites (FIMO's usual p < 1e-4) and overlapping no planted site join the truth as
   ``chance`` sites. The truth table is written by this script (``truth.tsv``: chrom, start,
   end, motif, strand, strength — strong, weak or chance — and the model's response).
2. ``seqexplain train --regions sites.bed --regions plain.bed --genome g.fa`` (default
   architecture for the data size); the sites the model **responds to**: those whose own
   bases (of an overlapping pair, not the shared ones: replacing those breaks the partner
   too), replaced by random bases (3 draws), lower the logit by at least ``--response`` (2.0,
   the fall `seqexplain variants` calls a broken site: odds e² ≈ 7.4 times lower) on
   average.
3. ``seqexplain explain --regions all.narrowPeak --genome g.fa -m deepshap`` (both kinds of
   windows).
4. ``seqexplain hits … --motifs motifs.meme`` (the three PFMs), timed as a command; Fi-NeMo
   0.41 (``.venv-bench``, CPU torch) on the same DeepSHAP scores (``finemo
   extract-regions-modisco-fmt`` with the same windows as peaks, then ``finemo call-hits``,
   timed apart; its ``hits.tsv``, ``hits_unique.tsv`` and ``collapse-hits`` primaries) with
   the same motifs — the CWMs seqexplain derives from the PFMs (their logos)
   written as a TF-MoDISco h5, padded to one width.
5. Scoring, in genome coordinates: calls and planted sites are matched one to one (a call to
   an unmatched site of the same motif that overlaps it by half the shorter of the two,
   strongest calls first); a call matched to a site the model ignores is neither right nor
   wrong (left out of precision), every other unmatched call is a false positive — a second
   call on one site included. Recall is over the sites the model responds to.

6. ``--ctcf``: the CTCF example — the shipped ``models/ctcf`` explained with DeepSHAP on its
   300 held-out peaks (``examples/data/ctcf_test.fa``), ``seqexplain hits --motifs CTCF``
   (JASPAR MA0139.2), and the fraction of hits whose bases hold a CTCF PWM match of p < 1e-4
   (log-odds, uniform background, as FIMO scores; the threshold the 1 − 1e-4 quantile of 10⁶
   random sites) on either strand (target ≥ 90 %).

    python benchmarks/bench_hits.py [--windows 2500] [--epochs 40] [--response 2.0]
                                    [--keep DIR [--reuse]]
    python benchmarks/bench_hits.py --ctcf
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
MOTIFS = ROOT / "examples" / "data" / "jaspar2024_selected.meme"
PEER = Path("/work/main/.venv-bench/bin")
NAMES = ("CTCF", "NFKB1", "ELK1")
L = 200
SIZES = {"chr1": 1_200_000, "chr2": 1_200_000, "chr3": 1_200_000}


def sample_site(pfm: np.ndarray, rng, weak: bool) -> np.ndarray:
    p = np.sqrt(pfm) if weak else pfm
    p = p / p.sum(1, keepdims=True)
    return np.array([rng.choice(4, p=row) for row in p])


def build(tmp: Path, n: int, seed: int):
    """The genome, the windows and the truth table (genome coordinates)."""
    from seqexplain.motif_io import Motif, read_motifs, write_meme

    rng = np.random.default_rng(seed)
    found = {m.name: m for m in read_motifs(MOTIFS)}
    pfms = {k: found[k].pfm for k in NAMES}
    write_meme([Motif(found[k].id, k, pfms[k], "bench") for k in NAMES], tmp / "motifs.meme",
               force=True)
    genome = {c: rng.integers(0, 4, s) for c, s in SIZES.items()}
    slots = [(c, s) for c, size in SIZES.items() for s in range(1000, size - 1000, 400)]
    chosen = rng.choice(len(slots), 2 * n, replace=False)
    windows = [slots[k] for k in chosen]
    truth = []
    for c, s in windows[:n]:
        k = 1 + int(rng.random() < 0.5)
        names = rng.choice(NAMES, k)
        at = int(rng.integers(s + 30, s + 90))
        for j, name in enumerate(names):
            pfm = pfms[name]
            width = len(pfm)
            if j == 1:  # overlapping by 3 bases (a quarter of the pairs), else apart
                at = at + prev - 3 if rng.random() < 0.25 else at + prev + int(
                    rng.integers(5, 30))
                if at + width > s + L - 10:
                    break
            weak = j == 1 and bool(rng.random() < 0.5)
            bases = sample_site(pfm, rng, weak)
            strand = "+-"[rng.integers(0, 2)]
            if strand == "-":
                bases = 3 - bases[::-1]
            genome[c][at:at + width] = bases
            truth.append((c, at, at + width, str(name), strand, "weak" if weak else "strong"))
            prev = width
    letters = np.array(list("ACGT"))
    with open(tmp / "g.fa", "w") as fh:
        for c, seq in genome.items():
            text = "".join(letters[seq])
            fh.write(f">{c}\n" + "\n".join(text[i:i + 60] for i in range(0, len(text), 60))
                     + "\n")
    bed = lambda ws: "".join(f"{c}\t{s}\t{s + L}\n" for c, s in ws)  # noqa: E731
    (tmp / "sites.bed").write_text(bed(windows[:n]))
    (tmp / "plain.bed").write_text(bed(windows[n:]))
    (tmp / "all.narrowPeak").write_text("".join(
        f"{c}\t{s}\t{s + L}\tw{i}\t0\t.\t0\t0\t0\t{L // 2}\n" for i, (c, s) in
        enumerate(windows)))
    truth = pd.DataFrame(truth, columns=["chrom", "start", "end", "motif", "strand",
                                         "strength"])
    truth = pd.concat([truth, chance_sites(genome, windows, truth, pfms, rng)],
                      ignore_index=True)
    truth.to_csv(tmp / "truth.tsv", sep="\t", index=False)
    return truth, windows


def log_odds(pfm: np.ndarray) -> np.ndarray:
    return np.log2(pfm + 0.01) - np.log2(0.25 + 0.01)


def chance_sites(genome, windows, planted: pd.DataFrame, pfms, rng, p: float = 1e-3):
    """Matches of the PWMs that nobody planted (a random genome holds some): every window
    (with sites or not) scanned on both strands; a match scores above the motif's 1 − ``p``
    quantile of 10⁶ uniform random sites, overlaps no planted site, and is the best of the
    matches of its motif that overlap it."""
    rows = []
    for name, pfm in pfms.items():
        lo = log_odds(pfm)
        width = len(pfm)
        random_sites = rng.integers(0, 4, (1_000_000, width))
        cut = np.quantile(lo[np.arange(width), random_sites].sum(1), 1 - p)
        for c, s in windows:
            seq = genome[c][s:s + L]
            idx = np.arange(L - width + 1)[:, None] + np.arange(width)[None]
            fwd = lo[np.arange(width), seq[idx]].sum(1)
            rev = lo[::-1, ::-1][np.arange(width), seq[idx]].sum(1)
            best = np.maximum(fwd, rev)
            for k in np.argsort(-best):
                if best[k] < cut:
                    break
                a = s + int(k)
                if any(r[0] == c and r[3] == name and min(r[2], a + width) > max(r[1], a)
                       for r in rows):
                    continue
                rows.append((c, a, a + width, name, "+" if fwd[k] >= rev[k] else "-",
                             "chance"))
    chance = pd.DataFrame(rows, columns=planted.columns)
    keep = []
    for r in chance.itertuples():
        mine = planted[planted["chrom"] == r.chrom]
        keep.append(not ((mine["start"] < r.end) & (mine["end"] > r.start)).any())
    return chance[np.array(keep, bool)]


def cli(*args, quiet=True):
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "seqexplain", *map(str, args)], check=True,
                   stderr=subprocess.DEVNULL if quiet else None)
    return time.perf_counter() - t


def responses(tmp: Path, truth: pd.DataFrame, windows, seed: int,
              own: bool = True) -> np.ndarray:
    """Mean logit drop when each site's bases are replaced by random bases (3 draws). With
    ``own``, only the site's own bases: those it shares with another site (an overlapping
    pair) stay, else the drop of the other site would be counted as this one's."""
    import seqexplain as sx
    from seqexplain.genome import Genome

    bundle = sx.load_model(tmp / "model")
    g = Genome(tmp / "g.fa")
    start_of = {}
    for c, s in windows:
        start_of.setdefault(c, []).append(s)
    rng = np.random.default_rng(seed)
    X, edits = [], []
    by_chrom = {c: part for c, part in truth.groupby("chrom")}
    for t in truth.itertuples():
        s = max(w for w in start_of[t.chrom] if w <= t.start)
        seq = np.frombuffer(g.fetch(t.chrom, s, s + L).encode(), np.uint8)
        onehot = (seq[:, None] == np.frombuffer(b"ACGT", np.uint8)[None]).astype(np.float32)
        X.append(onehot)
        mine = np.arange(t.start, t.end)
        if own:
            part = by_chrom[t.chrom]
            others = part[(part.index != t.Index) & (part["start"] < t.end)
                          & (part["end"] > t.start)]
            for o in others.itertuples():
                mine = mine[(mine < o.start) | (mine >= o.end)]
        for _ in range(3):
            edit = onehot.copy()
            edit[mine - s] = np.eye(4, dtype=np.float32)[rng.integers(0, 4, len(mine))]
            edits.append(edit)
    ref = sx.predict(bundle, np.stack(X), target=0, output="logit")
    alt = sx.predict(bundle, np.stack(edits), target=0, output="logit").reshape(-1, 3)
    return ref - alt.mean(1)


def finemo_inputs(tmp: Path):
    """The scores as Fi-NeMo reads them, and the motifs as a TF-MoDISco h5 (one width)."""
    import h5py

    from seqexplain.attributions import Attributions
    from seqexplain.exports import write_modisco
    from seqexplain.motif_hits import read_hit_motifs

    data = Attributions.read(tmp / "ex" / "attributions.npz", ["deepshap"])
    (tmp / "fn").mkdir()
    write_modisco(data, "deepshap", tmp / "fn")
    motifs = read_hit_motifs(tmp / "motifs.meme")
    width = 30
    with h5py.File(tmp / "fn" / "motifs.h5", "w") as h5:
        group = h5.create_group("pos_patterns")
        for i, m in enumerate(motifs):
            pad = (width - m.width) // 2
            cwm = np.zeros((width, 4))
            cwm[pad:pad + m.width] = m.cwm
            pattern = group.create_group(f"pattern_{i}")
            pattern["contrib_scores"] = cwm
            pattern["hypothetical_contribs"] = cwm
            pattern["sequence"] = np.where(cwm.sum(1, keepdims=True) > 0,
                                           cwm / np.maximum(cwm.sum(1, keepdims=True), 1e-9),
                                           0.25)
    (tmp / "fn" / "names.tsv").write_text("".join(
        f"pos_patterns.pattern_{i}\t{m.name}\n" for i, m in enumerate(motifs)))


def run_finemo(tmp: Path) -> tuple[dict, float, float]:
    """Fi-NeMo's calls — ``hits.tsv``, ``hits_unique.tsv`` and the primary hits of ``finemo
    collapse-hits`` (its own rule for overlapping hits) — and the seconds of extraction and
    of ``call-hits``."""
    fn = tmp / "fn"
    t = time.perf_counter()
    subprocess.run([str(PEER / "finemo"), "extract-regions-modisco-fmt", "-s", fn / "ohe.npz",
                    "-a", fn / "shap.npz", "-p", tmp / "all.narrowPeak", "-w", str(L),
                    "-o", fn / "regions.npz"], check=True, capture_output=True)
    extract = time.perf_counter() - t
    t = time.perf_counter()
    subprocess.run([str(PEER / "finemo"), "call-hits", "-r", fn / "regions.npz", "-m",
                    fn / "motifs.h5", "-N", fn / "names.tsv", "-o", fn / "out", "-d", "cpu"],
                   check=True, capture_output=True)
    call = time.perf_counter() - t
    subprocess.run([str(PEER / "finemo"), "collapse-hits", "-i", fn / "out" / "hits.tsv",
                    "-o", fn / "out" / "hits_collapsed.tsv"], check=True, capture_output=True)
    tables = {}
    for name in ("hits.tsv", "hits_unique.tsv", "hits_collapsed.tsv"):
        hits = pd.read_csv(fn / "out" / name, sep="\t")
        if "is_primary" in hits:
            hits = hits[hits["is_primary"].astype(str).isin(["1", "True", "true"])]
        tables[name] = pd.DataFrame({"chrom": hits["chr"], "start": hits["start"],
                                     "end": hits["end"], "motif": hits["motif_name"],
                                     "score": hits["hit_coefficient"]})
    return tables, extract, call


def evaluate(calls: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """One-to-one matching in genome coordinates (see the module docstring)."""
    used = np.zeros(len(truth), bool)
    by = {k: part for k, part in truth.groupby(["chrom", "motif"])}
    right = wrong = ignored = 0
    for c in calls.sort_values("score", ascending=False, key=np.abs).itertuples():
        part = by.get((c.chrom, c.motif))
        hit = None
        if part is not None:
            over = np.minimum(part["end"], c.end) - np.maximum(part["start"], c.start)
            need = 0.5 * np.minimum(part["end"] - part["start"], c.end - c.start)
            for k in part.index[(over >= need).to_numpy()]:
                if not used[k]:
                    hit = k
                    break
        if hit is None:
            wrong += 1
            continue
        used[hit] = True
        if truth.at[hit, "responds"]:
            right += 1
        else:
            ignored += 1
    responds = truth["responds"].to_numpy()
    recall = float((used & responds).sum() / max(responds.sum(), 1))
    precision = right / max(right + wrong, 1)
    f1 = 2 * recall * precision / max(recall + precision, 1e-12)
    return {"calls": len(calls), "right": right, "wrong": wrong, "ignored_sites": ignored,
            "recall": recall, "precision": precision, "f1": f1}


def ctcf_example(tmp: Path) -> None:
    """Hits of CTCF in the shipped model's DeepSHAP scores of its held-out peaks: how many
    fall on a CTCF PWM match of p < 1e-4."""
    from seqexplain.annotate import jaspar_motifs
    from seqexplain.attributions import Attributions

    t_explain = cli("explain", ROOT / "models" / "ctcf", ROOT / "examples" / "data" /
                    "ctcf_test.fa", "-m", "deepshap", "--logos", "0", "-q", "--force", "-o",
                    tmp / "ctcf_ex")
    t_hits = cli("hits", tmp / "ctcf_ex" / "attributions.npz", "--motifs", "MA0139",
                 "--force", "-o", tmp / "ctcf_hits")
    hits = pd.read_csv(tmp / "ctcf_hits" / "hits.tsv", sep="\t")
    pfm = next(m.pfm for m in jaspar_motifs() if m.id.startswith("MA0139"))
    lo, width = log_odds(pfm), len(pfm)
    rng = np.random.default_rng(0)
    cut = np.quantile(lo[np.arange(width), rng.integers(0, 4, (1_000_000, width))].sum(1),
                      1 - 1e-4)
    data = Attributions.read(tmp / "ctcf_ex" / "attributions.npz", ["deepshap"],
                             hypothetical=False, delta=False)
    row = {i: k for k, i in enumerate(data.ids)}
    offsets = data.offsets if data.offsets is not None else np.zeros(len(data), int)
    on = []
    for h in hits.itertuples():
        k = row[h.id]
        a, b = h.start - int(offsets[k]), h.end - int(offsets[k])
        seq = data.onehot[k, max(a, 0):b].argmax(1)
        scores = [lo[np.arange(width), seq[i:i + width]].sum()
                  for i in range(len(seq) - width + 1)]
        scores += [lo[::-1, ::-1][np.arange(width), seq[i:i + width]].sum()
                   for i in range(len(seq) - width + 1)]
        on.append(max(scores, default=-np.inf) >= cut)
    seqs = hits["id"].nunique()
    print(f"CTCF example: {len(hits)} hits in {seqs} of {len(data)} held-out peaks; "
          f"{np.mean(on):.1%} on a CTCF PWM match of p < 1e-4 (target ≥ 90 %); explain "
          f"{t_explain:.0f} s, hits {t_hits:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=2500)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--response", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None, help="Work in this folder.")
    parser.add_argument("--ctcf", action="store_true",
                        help="Only the CTCF example (models/ctcf on its held-out peaks).")
    parser.add_argument("--reuse", action="store_true",
                        help="With --keep: reuse the model and scores already there.")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or Path(scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        if args.ctcf:
            ctcf_example(tmp)
            return
        truth, windows = build(tmp, args.windows, args.seed)
        reuse = args.reuse and (tmp / "ex" / "attributions.npz").is_file()
        t_train = 0.0 if reuse else cli(
            "train", "--regions", tmp / "sites.bed", "--regions", tmp / "plain.bed",
            "--genome", tmp / "g.fa", "--length", L, "--epochs", args.epochs,
            "--seed", args.seed, "--force", "-o", tmp / "model")
        truth["delta"] = responses(tmp, truth, windows, args.seed)
        truth["responds"] = truth["delta"] >= args.response
        truth.to_csv(tmp / "truth.tsv", sep="\t", index=False)
        t_explain = 0.0 if reuse else cli(
            "explain", tmp / "model", "--regions", tmp / "all.narrowPeak", "--genome",
            tmp / "g.fa", "-m", "deepshap", "--logos", "0", "-q", "--force", "-o", tmp / "ex")
        t_hits = cli("hits", tmp / "ex" / "attributions.npz", "--motifs",
                     tmp / "motifs.meme", "--force", "-o", tmp / "hits")
        ours = pd.read_csv(tmp / "hits" / "hits.tsv", sep="\t")
        ours = ours.rename(columns={"start": "s", "end": "e"}).rename(
            columns={"genome_start": "start", "genome_end": "end"})
        if (tmp / "fn").exists():
            import shutil

            shutil.rmtree(tmp / "fn")
        finemo_inputs(tmp)
        theirs, t_extract, t_finemo = run_finemo(tmp)
        print(f"{len(windows):,} windows of {L} bp ({args.windows} with sites), "
              f"{len(truth)} planted sites ({(truth['strength'] == 'weak').sum()} weak); "
              f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
        print(f"train {t_train:.0f} s, explain (DeepSHAP) {t_explain:.0f} s")
        resp = truth.groupby(["motif", "strength"])["responds"].agg(["mean", "sum", "size"])
        print("sites the model responds to (logit drop ≥ "
              f"{args.response}):\n{resp.round(2).to_string()}")
        rows = [("seqexplain hits", evaluate(ours, truth), t_hits, "")]
        for name, table in theirs.items():
            rows.append((f"Fi-NeMo 0.41 {name}", evaluate(table, truth), t_finemo,
                         f" (+ {t_extract:.1f} s extract-regions)" if name == "hits.tsv"
                         else " (the same run)"))
        print(f"{'caller':<34} {'calls':>6} {'recall':>7} {'precision':>9} {'F1':>6} "
              f"{'wall s':>7}")
        for name, r, t, extra in rows:
            print(f"{name:<34} {r['calls']:>6} {r['recall']:7.3f} {r['precision']:9.3f} "
                  f"{r['f1']:6.3f} {t:7.1f}{extra}   (wrong {r['wrong']}, on ignored sites "
                  f"{r['ignored_sites']})")


if __name__ == "__main__":
    main()
