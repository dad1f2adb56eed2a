"""``seqexplain motifs --compare A B``: two sets of motifs matched to each other (TOMTOM)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from seqexplain.annotate import KnownMotif, file_motifs
from seqexplain.cli import main
from seqexplain.motif_compare import COMPARE_COLUMNS, compare_motifs
from seqexplain.motif_io import Motif, write_meme

ROOT = Path(__file__).resolve().parents[1]
JASPAR = {m.name: m for m in file_motifs(ROOT / "examples" / "data" /
                                         "jaspar2024_selected.meme")}


def _blurred(m: KnownMotif, new_id: str, trim: int = 0, rc: bool = False) -> KnownMotif:
    """The motif as another run would learn it: flanks trimmed, probabilities flattened
    towards uniform, optionally the reverse complement."""
    pfm = 0.8 * m.pfm[trim:len(m.pfm) - trim] + 0.05
    return KnownMotif(new_id, m.name, pfm[::-1, ::-1] if rc else pfm)


def test_shared_and_lone_motifs_with_strand():
    """compare_motifs (tomtom both ways): JASPAR motifs against blurred, trimmed or reverse
    complemented copies of some of them and a motif A lacks."""
    a = [JASPAR[k] for k in ("CTCF", "REST", "ELK1")]
    b = [_blurred(JASPAR["ELK1"], "b1", rc=True), _blurred(JASPAR["NFKB1"], "b2"),
         _blurred(JASPAR["CTCF"], "b3", trim=2)]
    table = compare_motifs(a, b)
    assert list(table.columns) == COMPARE_COLUMNS
    shared = table[table["status"] == "shared"]
    assert sorted(zip(shared["name_a"], shared["motif_b"], shared["strand"])) == [
        ("CTCF", "b3", "+"), ("ELK1", "b1", "-")]
    assert (shared["q"] < 0.05).all() and (shared["p"] <= shared["q"]).all()
    assert table.loc[table["status"] == "only_a", "name_a"].tolist() == ["REST"]
    assert table.loc[table["status"] == "only_b", "name_b"].tolist() == ["NFKB1"]
    # the same pairs the other way round, A and B swapped
    back = compare_motifs(b, a)
    assert sorted(zip(back.loc[back["status"] == "shared", "motif_a"],
                      back.loc[back["status"] == "shared", "name_b"])) == [
        ("b1", "ELK1"), ("b3", "CTCF")]
    # nothing to compare with: every motif lone
    assert compare_motifs(a, [])["status"].tolist() == ["only_a"] * 3


@pytest.mark.slow  # a motif discovery (logos drawn in worker processes): about 10 s
def test_cli_compares_a_scores_file_with_a_motif_file(tmp_path):
    """A scores file's motifs are discovered (OUT/a, a full motifs folder), then matched to
    a MEME file: the planted motif it holds is shared, a motif it lacks is only in B."""
    from test_motifs import M1, M2, planted_attributions, save_npz

    from seqexplain.encoding import one_hot

    data, _ = planted_attributions(n=60, seed=3)
    npz = save_npz(tmp_path / "a.npz", data)
    write_meme([Motif("X1", "planted1", 0.9 * one_hot([M1])[0].astype(float) + 0.025,
                      "test"),
                Motif("X9", "elk1", JASPAR["ELK1"].pfm, "test")], tmp_path / "b.meme")
    out = tmp_path / "cmp"
    r = CliRunner().invoke(main, ["motifs", "--compare", str(npz), str(tmp_path / "b.meme"),
                                  "--no-support", "--maps", "0", "--database",
                                  str(tmp_path / "b.meme"), "-o", str(out)])
    assert r.exit_code == 0, r.output
    table = pd.read_csv(out / "compare.tsv", sep="\t", keep_default_na=False)
    found = file_motifs(out / "a" / "motifs.meme")
    assert (out / "a" / "hits.tsv").is_file() and not (out / "b").exists()
    shared = table[table["status"] == "shared"]
    assert shared["motif_b"].tolist() == ["X1"]
    assert table.loc[table["status"] == "only_b", "motif_b"].tolist() == ["X9"]
    # every discovered motif is in the table once; the one paired with X1 reads M1 or its
    # reverse complement
    assert sorted(table["motif_a"][table["motif_a"] != ""]) == sorted(m.id for m in found)
    pfm = next(m.pfm for m in found if m.id == shared["motif_a"].iat[0])
    consensus = "".join("ACGT"[i] for i in pfm.argmax(1))
    rc = consensus[::-1].translate(str.maketrans("ACGT", "TGCA"))
    assert M1 in (consensus, rc) or M1 in consensus or M1 in rc
    assert M2 not in (consensus, rc)
    assert f"{out}: 1 shared motifs" in r.output
    assert np.isfinite(shared["q"].astype(float)).all()
