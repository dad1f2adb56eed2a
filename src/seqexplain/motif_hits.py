"""``seqexplain hits``: where given motifs are, called from a scores file's contributions.

The motifs (:func:`read_hit_motifs`) are a motifs folder of ``explain --motifs`` /
``seqexplain motifs`` (its CWMs, ``cwms.npz``, and their signs), a TF-MoDISco results
``.h5`` (its CWMs), a MEME or JASPAR file, or comma-separated JASPAR ids or names (the
JASPAR CORE bundled with pyjaspar); a PFM's CWM is its logo (probability × information
content). The scores are a scores file of ``seqexplain explain`` or a Fi-NeMo regions
``.npz`` (:func:`read_finemo_regions`). The calls are
:func:`seqexplain.motifs.scan_hits` (projection on the CWM, cosine similarity, a null of the
same contributions moved to random bases, Benjamini–Hochberg q; overlapping hits of one
motif collapsed to the strongest).

Files written (:func:`write_hits`):

- ``hits.tsv`` — ``id, start, end, strand, motif, score, contribution, similarity, q``
  (sequence coordinates, 0-based, half-open, counted from the record's first base), plus
  ``chrom, genome_start, genome_end`` when every record id is ``chrom:start-end(strand)``
  (from ``--regions``);
- ``hits.bed`` — BED9 with a ``track`` line (``itemRgb="On"``), one colour per motif, the BED
  score 0–1000 scaled to the strongest hit; genome coordinates when known (a hit on a ``-``
  record is on the other genome strand), else the record id as the chromosome;
- ``counts.tsv`` — one row per sequence: ``id``, then ``count:<motif>`` and
  ``contribution:<motif>`` (summed ``contribution`` of its hits) for each motif;
- with ``--target all`` (a file of several targets, e.g. the classes of a multi-task model):
  a ``target`` column in both tables, ``classes.tsv`` (targets × motifs: hit counts and
  summed signed contribution) and ``classes.png`` (that contribution as a heat map, rows and
  columns clustered).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .attributions import Attributions
from .errors import OptionError, SeqexplainError
from .fasta import genomic_strand, to_genome
from .motifs.hits import HitMotif, scan_hits
from .outputs import atomic_dir, check_writable

HITS_COLUMNS = ["id", "start", "end", "strand", "motif", "score", "contribution",
                "similarity", "q"]
GENOME_COLUMNS = ["chrom", "genome_start", "genome_end"]
#: tab10's colours (matplotlib's default cycle), as BED itemRgb
COLOURS = ["31,119,180", "255,127,14", "44,160,44", "214,39,40", "148,103,189",
           "140,86,75", "227,119,194", "127,127,127", "188,189,34", "23,190,207"]


def read_hit_motifs(spec) -> list[HitMotif]:
    """The motifs of ``spec``: a motifs folder (``cwms.npz``: each motif's CWM, signed by its
    summed contribution), a TF-MoDISco ``.h5`` (:func:`modisco_motifs`), a MEME/JASPAR file
    or JASPAR ids/names (their PFMs' logos; see :meth:`HitMotif.from_pfm`)."""
    path = Path(str(spec))
    if path.is_file() and path.suffix in (".h5", ".hdf5"):
        return modisco_motifs(path)
    cwms = path / "cwms.npz"
    if path.is_dir() and cwms.is_file():
        with np.load(cwms, allow_pickle=False) as npz:
            ids = [str(i) for i in npz["ids"]]
            motifs = []
            for mid in ids:
                cwm = np.asarray(npz[f"{mid}_cwm"], np.float64)
                sign = 1 if cwm.sum() >= 0 else -1
                motifs.append(HitMotif(mid, cwm, sign))
        return motifs
    if path.is_dir() and not (path / "motifs.meme").is_file():
        raise SeqexplainError(f"{path}: not a motifs folder (no cwms.npz or motifs.meme; write "
                              "one with seqexplain explain --motifs or seqexplain motifs)")
    from .grammar import read_motif_spec

    return [HitMotif.from_pfm(name, pfm) for name, pfm in read_motif_spec(str(spec)).items()]


#: a TF-MoDISco CWM keeps the columns holding at least this fraction of its largest column's
#: contribution (the outer ones; the usual trimming of modisco's reports)
MODISCO_TRIM = 0.3


def modisco_motifs(path) -> list[HitMotif]:
    """The CWMs of a TF-MoDISco (modisco-lite) results file: ``pos_patterns`` and
    ``neg_patterns``, each pattern's ``contrib_scores`` trimmed to the outermost columns
    holding :data:`MODISCO_TRIM` of its largest column's contribution; named
    ``pos_patterns.pattern_0`` and so on."""
    import h5py

    motifs = []
    try:
        with h5py.File(path, "r") as h5:
            for group, sign in (("pos_patterns", 1), ("neg_patterns", -1)):
                if group not in h5:
                    continue
                names = sorted(h5[group], key=lambda n: int(n.rsplit("_", 1)[-1])
                               if n.rsplit("_", 1)[-1].isdigit() else 0)
                for name in names:
                    cwm = np.asarray(h5[group][name]["contrib_scores"][()], np.float64)
                    mass = np.abs(cwm).sum(1)
                    keep = np.nonzero(mass >= MODISCO_TRIM * mass.max())[0]
                    cwm = cwm[keep[0]:keep[-1] + 1] if len(keep) else cwm
                    motifs.append(HitMotif(f"{group}.{name}", cwm, sign))
    except (OSError, KeyError) as exc:
        raise SeqexplainError(f"{path}: not a TF-MoDISco results file ({exc})") from None
    if not motifs:
        raise SeqexplainError(f"{path}: no pos_patterns or neg_patterns (not a TF-MoDISco "
                              "results file?)")
    return motifs


def read_finemo_regions(path) -> Attributions:
    """A Fi-NeMo regions file (``finemo extract-regions-*``: ``sequences`` and
    ``contributions``, (N, 4, L); ``chr`` and ``start`` when it was given peaks) as an
    :class:`Attributions` holding the contributions as ``deepshap`` scores (what those
    files hold: DeepSHAP of ChromBPNet/BPNet), observed ones being the contributions times
    the sequence; ids ``chrom:start-end(+)`` when the coordinates are there, so the hits get
    genome coordinates."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            seqs = np.asarray(npz["sequences"], np.float32).transpose(0, 2, 1)
            contrib = np.asarray(npz["contributions"], np.float32)
            chrom = npz["chr"] if "chr" in npz.files else None
            start = npz["start"] if "start" in npz.files else None
    except (OSError, ValueError, KeyError) as exc:
        raise SeqexplainError(f"{path}: not a Fi-NeMo regions file ({exc})") from None
    hyp = contrib.transpose(0, 2, 1) if contrib.ndim == 3 else (
        seqs * contrib[:, :, None])
    n, length = seqs.shape[:2]
    if chrom is not None and start is not None:
        ids = np.array([f"{c}:{int(s)}-{int(s) + length}(+)" for c, s in zip(chrom, start)])
    else:
        ids = np.array([f"region{i}" for i in range(n)])
    return Attributions({"ids": ids, "onehot": seqs, "alphabet": np.array("ACGT"),
                         "deepshap": hyp * seqs, "deepshap_hypothetical": hyp},
                        source=str(path))


def _is_finemo(path) -> bool:
    try:
        members = Attributions.members(path)
    except SeqexplainError:
        return False
    return "ids" not in members and {"sequences", "contributions"} <= set(members)


@dataclass(frozen=True)
class HitsResult:
    """The hits table (:data:`HITS_COLUMNS`, plus genome columns where known), the counts
    table and how many sequences and motifs were scanned."""

    hits: pd.DataFrame
    counts: pd.DataFrame
    motifs: list[str]
    sequences: int

    def summary_line(self, out) -> str:
        per = self.hits["motif"].value_counts()
        top = ", ".join(f"{m} {per.get(m, 0)}" for m in self.motifs[:5])
        more = ", …" if len(self.motifs) > 5 else ""
        return (f"{out}: {len(self.hits):,} hits of {len(self.motifs)} motifs in "
                f"{self.sequences:,} sequences ({top}{more})")


def call_motif_hits(attributions: Attributions, motifs: list[HitMotif], method: str, *,
                    fdr: float = 0.1, min_similarity: float = 0.75, seed: int = 0
                    ) -> HitsResult:
    """Hits of ``motifs`` in ``method``'s contributions of ``attributions`` (one target), in
    sequence (and genome) coordinates, and the sequences × motifs counts."""
    if attributions.letters != "ACGT" and any(m.cwm.shape[1] != len(attributions.letters)
                                              for m in motifs):
        raise SeqexplainError(f"{attributions.source}: the scores are over "
                              f"{attributions.letters}, the motifs over ACGT")
    contrib = attributions.scores(method)
    found = scan_hits(contrib, motifs, onehot=attributions.onehot, valid=attributions.valid(),
                      fdr=fdr, min_similarity=min_similarity, seed=seed)
    ids = attributions.ids
    seq = found["seq"].to_numpy().astype(np.int64)
    offsets = attributions.offsets
    off = np.zeros(len(ids), np.int64) if offsets is None else np.asarray(offsets, np.int64)
    hits = pd.DataFrame({
        "id": ids[seq], "start": found["start"].to_numpy() + off[seq],
        "end": found["end"].to_numpy() + off[seq], "strand": found["strand"].to_numpy(),
        "motif": found["motif"].to_numpy(), "score": found["score"].to_numpy(),
        "contribution": found["contribution"].to_numpy(),
        "similarity": found["similarity"].to_numpy(), "q": found["q"].to_numpy()})
    spans = [to_genome(str(i), s, e) for i, s, e in zip(ids, np.zeros(len(ids), int),
                                                        np.ones(len(ids), int))]
    if len(ids) and all(spans):
        where = [to_genome(i, s, e) for i, s, e in zip(hits["id"], hits["start"], hits["end"])]
        hits["chrom"] = [c for c, _, _ in where]
        hits["genome_start"] = np.array([s for _, s, _ in where], np.int64)
        hits["genome_end"] = np.array([e for _, _, e in where], np.int64)
    names = [m.name for m in motifs]
    counts = pd.DataFrame({"id": ids})
    for name in names:
        mine = found[found["motif"] == name]
        counts[f"count:{name}"] = np.bincount(mine["seq"].to_numpy().astype(np.int64),
                                              minlength=len(ids))
        counts[f"contribution:{name}"] = np.bincount(
            mine["seq"].to_numpy().astype(np.int64), weights=mine["contribution"].to_numpy(),
            minlength=len(ids))
    return HitsResult(hits, counts, names, len(ids))


def write_hits(result: HitsResult, folder) -> None:
    """``hits.tsv``, ``hits.bed`` and ``counts.tsv`` (see the module docstring) into the
    existing ``folder``."""
    folder = Path(folder)
    hits = result.hits
    hits.to_csv(folder / "hits.tsv", sep="\t", index=False, float_format="%.6g")
    result.counts.to_csv(folder / "counts.tsv", sep="\t", index=False, float_format="%.6g")
    colour = {m: COLOURS[i % len(COLOURS)] for i, m in enumerate(result.motifs)}
    top = float(hits["score"].abs().max()) if len(hits) else 1.0
    if "chrom" in hits:
        flip = np.array([genomic_strand(i) == "-" for i in hits["id"]], bool)
        strand = np.where(flip, hits["strand"].map({"+": "-", "-": "+"}), hits["strand"])
        chrom, start, end = hits["chrom"], hits["genome_start"], hits["genome_end"]
    else:
        strand, chrom, start, end = hits["strand"], hits["id"], hits["start"], hits["end"]
    bed = pd.DataFrame({
        "chrom": chrom, "start": start, "end": end, "name": hits["motif"],
        "score": np.clip(np.round(1000 * hits["score"].abs() / (top or 1.0)), 0,
                         1000).astype(int),
        "strand": strand, "thick_start": start, "thick_end": end,
        "rgb": hits["motif"].map(colour)})
    with open(folder / "hits.bed", "w", encoding="utf-8") as fh:
        fh.write('track name="hits" description="seqexplain hits" itemRgb="On"\n')
        bed.to_csv(fh, sep="\t", index=False, header=False)


def class_table(results: dict[str, HitsResult]) -> pd.DataFrame:
    """Targets × motifs: each motif's hit count (``count:<motif>``) and the summed, signed
    contribution of its hits (``contribution:<motif>``) over every sequence, per target (the
    "which class uses which motif" table of a multi-task model)."""
    rows = []
    for target, result in results.items():
        row = {"target": target}
        per = result.hits.groupby("motif")["contribution"]
        counts, sums = per.size(), per.sum()
        for m in result.motifs:
            row[f"count:{m}"] = int(counts.get(m, 0))
            row[f"contribution:{m}"] = float(sums.get(m, 0.0))
        rows.append(row)
    return pd.DataFrame(rows)


def hits_files(attributions, motifs, out, *, method: str | None = None, target=None,
               fdr: float = 0.1, min_similarity: float = 0.75, seed: int = 0,
               force: bool = False) -> HitsResult:
    """What ``seqexplain hits`` does: the motifs of ``motifs`` (see :func:`read_hit_motifs`)
    called in ``method``'s scores [deepshap when in the file, else its first method] of the
    scores file ``attributions``, written to the new folder ``out`` (:func:`write_hits`;
    replaced only with ``force``). ``target``: of a file of several targets, the one searched,
    or ``"all"``: every target — then ``hits.tsv`` and ``counts.tsv`` gain a ``target``
    column, and ``classes.tsv`` (:func:`class_table`) and ``classes.png`` (its contributions
    as a clustered heat map) compare the targets. Returns the hits (of every target)."""
    from .attribution.registry import resolve_method

    if not 0 < fdr <= 1:
        raise OptionError(f"--fdr must be in (0, 1], not {fdr}", option="--fdr")
    if not -1 <= min_similarity <= 1:
        raise OptionError(f"--min-similarity must be in [-1, 1], not {min_similarity}",
                          option="--min-similarity")
    check_writable(out, force, kind="folder")
    chosen = read_hit_motifs(motifs)
    if not chosen:
        raise SeqexplainError(f"{motifs}: holds no motifs")
    if _is_finemo(attributions):  # Fi-NeMo's input: its contributions as deepshap
        data = read_finemo_regions(attributions)
        if method is not None and resolve_method(method).name != "deepshap":
            raise SeqexplainError(f"{attributions}: a Fi-NeMo regions file holds one set of "
                                  "contributions (read as deepshap)")
        result = call_motif_hits(data, chosen, "deepshap", fdr=fdr,
                                 min_similarity=min_similarity, seed=seed)
        with atomic_dir(out, force=force) as tmp:
            write_hits(result, tmp)
        return result
    if method is None:
        have = Attributions.methods_of(attributions)
        if not have:
            raise SeqexplainError(f"{attributions}: no attribution scores")
        method = "deepshap" if "deepshap" in have else have[0]
    method = resolve_method(method).name
    if target == "all":
        targets = Attributions.targets_of(attributions)
        if not targets:
            raise SeqexplainError(f"{attributions}: explains one target; --target all is for "
                                  "files of several (explain --target all)")
    else:
        targets = [target]
    results = {}
    for t in targets:
        data = Attributions.read(attributions, [method], hypothetical=False, delta=False,
                                 target=t)
        results[t] = call_motif_hits(data, chosen, method, fdr=fdr,
                                     min_similarity=min_similarity, seed=seed)
    if target != "all":
        result = results[target]
    else:
        first = next(iter(results.values()))
        result = HitsResult(
            pd.concat([r.hits.assign(target=t) for t, r in results.items()],
                      ignore_index=True),
            pd.concat([r.counts.assign(target=t) for t, r in results.items()],
                      ignore_index=True), first.motifs, first.sequences)
    with atomic_dir(out, force=force) as tmp:
        write_hits(result, tmp)
        if target == "all":
            classes = class_table(results)
            classes.to_csv(tmp / "classes.tsv", sep="\t", index=False, float_format="%.6g")
            from .plots import plot_class_motifs, plt

            shown = classes.set_index("target")[[f"contribution:{m}" for m in result.motifs]]
            shown.columns = result.motifs
            fig = plot_class_motifs(shown)
            fig.savefig(tmp / "classes.png", dpi=120)
            plt.close(fig)
    return result
