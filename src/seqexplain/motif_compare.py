"""``seqexplain motifs --compare A B``: the motifs of two runs matched to each other.

A and B are each a motifs folder (``explain --motifs`` / ``seqexplain motifs``: its
``motifs.meme``), a MEME or JASPAR file, or a scores file of ``seqexplain explain`` — whose
motifs are discovered first (:func:`seqexplain.motifs.pipeline.run_and_write`, into
``OUT/a`` and ``OUT/b``). :func:`compare_motifs` matches them with TOMTOM (memelite) in both
directions and :func:`compare_files` writes ``compare.tsv``:

- ``status`` — ``shared``, ``only_a`` or ``only_b``;
- ``motif_a``, ``name_a``, ``motif_b``, ``name_b`` — the ids and names (a discovered motif's
  name is its best known match, else its id); empty on the side a motif is missing from;
- ``p``, ``q``, ``strand`` — TOMTOM's figures for a shared pair (``-``: one is the other's
  reverse complement), empty otherwise.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .annotate import DEFAULT_RELEASE, MATCH_Q, KnownMotif, file_motifs, tomtom
from .errors import SeqexplainError

COMPARE_COLUMNS = ["status", "motif_a", "name_a", "motif_b", "name_b", "p", "q", "strand"]


def compare_motifs(a: list[KnownMotif], b: list[KnownMotif], max_q: float = MATCH_Q
                   ) -> pd.DataFrame:
    """A's and B's motifs (PFMs, (width, C)) matched to each other: every motif of A is
    compared with every motif of B by TOMTOM (both strands; q: Benjamini–Hochberg over the
    other set, per query), and the other way round. A and B's motifs ``a_i`` and ``b_j`` are
    **shared** when ``b_j`` is ``a_i``'s best match with q < ``max_q``, or ``a_i`` is
    ``b_j``'s (a motif of B taken by one of A is not paired again); the others are
    ``only_a`` / ``only_b``. One row per pair or lone motif (:data:`COMPARE_COLUMNS`): shared
    pairs by q, then A's lone motifs, then B's, each in its file's order."""
    rows, paired_b = [], set()
    best_ab = [hits[0] for hits in tomtom([m.pfm for m in a], b, top=1)] if a and b else []
    best_ba = [hits[0] for hits in tomtom([m.pfm for m in b], a, top=1)] if a and b else []
    index_a = {m.id: i for i, m in enumerate(a)}
    index_b = {m.id: j for j, m in enumerate(b)}
    pairs = {}
    for i, hit in enumerate(best_ab):
        if hit["q"] < max_q:
            pairs[i] = (index_b[hit["id"]], hit)
    for j, hit in enumerate(best_ba):
        i = index_a[hit["id"]]
        if hit["q"] < max_q and i not in pairs and j not in {k for k, _ in pairs.values()}:
            pairs[i] = (j, hit)
    for i, (j, hit) in sorted(pairs.items(), key=lambda kv: kv[1][1]["p"]):
        paired_b.add(j)
        rows.append({"status": "shared", "motif_a": a[i].id, "name_a": a[i].name,
                     "motif_b": b[j].id, "name_b": b[j].name, "p": hit["p"], "q": hit["q"],
                     "strand": hit["strand"]})
    for i, m in enumerate(a):
        if i not in pairs:
            rows.append({"status": "only_a", "motif_a": m.id, "name_a": m.name})
    for j, m in enumerate(b):
        if j not in paired_b:
            rows.append({"status": "only_b", "motif_b": m.id, "name_b": m.name})
    return pd.DataFrame(rows, columns=COMPARE_COLUMNS)


def read_compared(path) -> list[KnownMotif]:
    """The motifs of a motifs folder (its ``motifs.meme``) or of a MEME/JASPAR file."""
    path = Path(path)
    if path.is_dir():
        if not (path / "motifs.meme").is_file():
            raise SeqexplainError(f"{path}: not a motifs folder (no motifs.meme; write one with "
                                  "seqexplain motifs or explain --motifs)")
        path = path / "motifs.meme"
    elif not path.is_file():
        raise SeqexplainError(f"{path}: no such motifs folder or file")
    return file_motifs(path)


def _is_scores_file(path) -> bool:
    from .attributions import Attributions

    path = Path(path)
    if not path.is_file() or path.suffix not in (".npz", ".h5"):
        return False
    try:
        return "ids" in Attributions.members(path)
    except SeqexplainError:
        return False


def compare_files(a, b, out, *, discover=None, force: bool = False) -> pd.DataFrame:
    """What ``seqexplain motifs --compare A B`` does: the motifs of ``a`` and ``b`` (see the
    module docstring) compared (:func:`compare_motifs`) into the new folder ``out``
    (``compare.tsv``; replaced only with ``force``). ``discover(scores_file, folder)``: writes
    the motifs folder of a scores file (the ``seqexplain motifs`` run, its options bound by
    the caller); needed only when A or B is one. Returns the comparison table."""
    from .outputs import atomic_dir, check_writable

    check_writable(out, force, kind="folder")
    with atomic_dir(out, force=force) as tmp:
        motifs = []
        for side, path in (("a", a), ("b", b)):
            if _is_scores_file(path):
                if discover is None:
                    raise SeqexplainError(f"{path}: a scores file; its motifs need discovering")
                (tmp / side).mkdir()
                discover(path, tmp / side)
                found = tmp / side / "motifs.meme"
                motifs.append(file_motifs(found) if found.is_file() else [])
            else:
                motifs.append(read_compared(path))
        table = compare_motifs(*motifs)
        table.to_csv(tmp / "compare.tsv", sep="\t", index=False, float_format="%.4g")
    return table


def summary_line(out, table: pd.DataFrame) -> str:
    counts = table["status"].value_counts()
    return (f"{out}: {counts.get('shared', 0)} shared motifs, {counts.get('only_a', 0)} only "
            f"in A, {counts.get('only_b', 0)} only in B")




def compare_runs(a, b, out, *, method: str = "deepshap", target=None, database=None,
                 jaspar_release: str = DEFAULT_RELEASE, taxon: str = "vertebrates",
                 support: bool = True, maps: int = 10, force: bool = False,
                 **settings) -> str:
    """What ``seqexplain motifs --compare A B`` does: :func:`compare_files` with a scores
    file's motifs discovered as ``seqexplain motifs`` would (the same options as
    :func:`~seqexplain.motifs.pipeline.motifs_files`; each scores file uses the model it
    records). Returns the summary line."""
    from .attributions import Attributions
    from .motifs.pipeline import run_and_write, run_settings

    chosen = run_settings(method, database, support, **settings)

    def discover(path, folder):
        run_and_write(Attributions.read(path, [chosen.method], target=target), folder, chosen,
                      str(path), database=database, jaspar_release=jaspar_release,
                      taxon=taxon, no_support=not support, n_maps=maps)

    table = compare_files(a, b, out, discover=discover, force=force)
    return summary_line(out, table)
