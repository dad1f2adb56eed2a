"""Variant effects: windows of both alleles (SNVs, indels, multi-allelic records), the scores
against ISM and hand-built windows, skipped alleles, the output files, motif instances broken
and created, and the command."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import write_genome
from toy_models import toy_model

from seqexplain import one_hot
from seqexplain.bundle import ModelBundle
from seqexplain.cli import main
from seqexplain.errors import SeqexplainError
from seqexplain.motif_io import read_motifs
from seqexplain.motifs.scan import allele_motif_effects, log_odds, overlap_scores, relative
from seqexplain.variants import VariantSettings, allele_window, score_variants, write_variants

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "data"
L = 40


@pytest.fixture(scope="module")
def bundle():
    model = toy_model("relu", length=L, seed=3)
    meta = {"alphabet": {"name": "dna", "letters": "ACGT"},
            "input": {"length": L, "channels": 4, "pad": "center", "crop": "center",
                      "unknown": "zero"},
            "task": "binary", "output_names": ["y"], "class_names": ["0", "1"]}
    return ModelBundle(model=model, metadata=meta)


@pytest.fixture(scope="module")
def genome(tmp_path_factory):
    d = tmp_path_factory.mktemp("vgenome")
    seqs = write_genome(d / "g.fa", {"chr1": 3000, "chr2": 1500}, seed=5)
    return d / "g.fa", seqs


def write_vcf(path, rows, contigs=("chr1", "chr2")) -> Path:
    head = ["##fileformat=VCFv4.2"] + [f"##contig=<ID={c}>" for c in contigs] + [
        '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    Path(path).write_text("\n".join(head + ["\t".join(map(str, r)) for r in rows]) + "\n")
    return Path(path)


def other(base: str, k: int = 1) -> str:
    return "ACGT"[("ACGT".index(base) + k) % 4]


def test_allele_window_centres_each_allele():
    left, right = "a" * 50, "b" * 50
    assert allele_window(left, "X", right, 9) == ("aaaaXbbbb", 4)
    assert allele_window(left, "XYZ", right, 9) == ("aaaXYZbbb", 3)
    assert allele_window(left, "XY", right, 9) == ("aaaXYbbbb", 3)
    assert allele_window(left, "0123456789AB", right, 9) == ("123456789", 0)  # central L


@pytest.fixture(scope="module")
def scored(bundle, genome, tmp_path_factory):
    path, seqs = genome
    c1 = seqs["chr1"]
    rows = [(f"chr1\t{p + 1}\tsnv{i}\t{c1[p]}\t{other(c1[p], 1 + i % 3)}\t50\tPASS\tDP=10")
            for i, p in enumerate(range(100, 2900, 150))]
    rows += [
        f"chr1\t3\tedge\t{c1[2]}\t{other(c1[2])}\t.\tPASS\t.",            # window off the start
        f"chr2\t701\tmulti\t{seqs['chr2'][700]}\t{other(seqs['chr2'][700])},"
        f"{other(seqs['chr2'][700], 2)}\t.\tPASS\t.",
        f"chr2\t801\tdel\t{seqs['chr2'][800:806]}\t{seqs['chr2'][800]}\t.\tPASS\t.",
        f"chr2\t901\tins\t{seqs['chr2'][900]}\t{seqs['chr2'][900]}GATTACA\t.\tPASS\t.",
        f"chr2\t1001\tsv\t{seqs['chr2'][1000]}\t<DEL>\t.\tPASS\t.",
        f"chr2\t1101\tbnd\t{seqs['chr2'][1100]}\t{seqs['chr2'][1100]}]chr1:5]\t.\tPASS\t.",
        f"chr2\t1201\tmismatch\t{other(seqs['chr2'][1200])}\tA\t.\tPASS\t.",
    ]
    vcf = tmp_path_factory.mktemp("vcf") / "v.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n##contig=<ID=chr1>\n##contig=<ID=chr2>\n"
                   '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">\n'
                   "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + "\n".join(rows) + "\n")
    out = vcf.parent / "out"
    out.mkdir()
    table, report = write_variants(bundle, vcf, path, out, VariantSettings(chunk_size=7),
                                   progress=False)
    return table, report, out, seqs


def logits_of(bundle, seqs) -> np.ndarray:
    from seqexplain.attribution import explained_model

    X = one_hot(seqs, "dna")
    return np.asarray(explained_model(bundle.model, "logit")(X), np.float64)[:, 0]


def test_snv_effect_equals_ism(bundle, scored):
    from seqexplain.attribution.methods import ism

    table, _, _, seqs = scored
    snv = table[table["id"].str.startswith("snv") | (table["id"] == "edge")]
    assert len(snv) == 20
    windows, alt_channel = [], []
    for row in snv.itertuples():
        p0 = row.pos - 1
        k = (L - 1) // 2
        window = "".join(seqs["chr1"][i] if 0 <= i < 3000 else "N"
                         for i in range(p0 - k, p0 - k + L))
        assert window[k] == row.ref
        windows.append(window)
        alt_channel.append("ACGT".index(row.alt))
    X = one_hot(windows, "dna")
    delta = ism(bundle.model, X, center=False)[np.arange(len(X)), (L - 1) // 2, alt_channel]
    scale = max(1.0, float(np.abs(snv["ref_logit_y"]).max()))
    assert np.abs(snv["effect"].to_numpy() - delta).max() <= 1e-5 * scale
    assert np.allclose(snv["ref_logit_y"], logits_of(bundle, windows), atol=1e-5 * scale)


def test_indels_multiallelic_and_probabilities(bundle, scored):
    table, report, _, seqs = scored
    c2 = seqs["chr2"]
    by_id = table.set_index("variant")
    # deletion GXXXXX>G at 0-based 800: each allele centred in its own window
    ref, alt = c2[800:806], c2[800]
    k_ref, k_alt = (L - 6) // 2, (L - 1) // 2
    ref_win = c2[800 - k_ref:800 - k_ref + L]
    alt_win = c2[800 - k_alt:800] + alt + c2[806:806 + L - k_alt - 1]
    row = by_id.loc[f"chr2:801:{ref}>{alt}"]
    got = logits_of(bundle, [ref_win, alt_win])
    assert np.allclose([row["ref_logit_y"], row["alt_logit_y"]], got, atol=1e-5)
    # insertion: the inserted bases sit in the middle of the alt window
    ins = c2[900] + "GATTACA"
    k = (L - 8) // 2
    alt_win = c2[900 - k:900] + ins + c2[901:901 + L - k - 8]
    row = by_id.loc[f"chr2:901:{c2[900]}>{ins}"]
    assert np.isclose(row["alt_logit_y"], logits_of(bundle, [alt_win])[0], atol=1e-5)
    # a multi-allelic record is two rows, one per alternative allele
    multi = table[table["id"] == "multi"]
    assert sorted(multi["alt"]) == sorted([other(c2[700]), other(c2[700], 2)])
    # log2 fold change of the sigmoid probability; table sorted by |effect|
    p = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    assert np.allclose(table["log2fc"], np.log2(p(table["alt_logit_y"]) /
                                                p(table["ref_logit_y"])), atol=1e-9)
    assert np.all(np.diff(np.abs(table["effect"].to_numpy())) <= 0)
    assert (report.records, report.scored, report.multiallelic, report.symbolic,
            report.ref_mismatch) == (26, 24, 1, 2, 1)
    assert "chr2:1201" in report.first_mismatch
    line = report.line()
    assert "2 symbolic/structural alleles skipped" in line and \
        "1 REF alleles not matching the genome skipped" in line
    assert not table["id"].isin(["sv", "bnd", "mismatch"]).any()


def test_output_vcf_keeps_every_record_with_info(scored):
    from cyvcf2 import VCF

    from seqexplain.genome import _is_bgzf

    table, _, out, _ = scored
    path = out / "variants.vcf.gz"
    assert _is_bgzf(path.read_bytes()[:18])
    text = gzip.decompress(path.read_bytes()).decode()
    assert '##INFO=<ID=SX_EFFECT,Number=A,Type=Float' in text and "##INFO=<ID=DP" in text
    records = {v.ID: v for v in VCF(str(path))}
    assert len(records) == 26
    multi = records["multi"]
    effects = multi.INFO["SX_EFFECT"]
    want = table[table["id"] == "multi"].set_index("alt")["effect"]
    assert np.allclose(effects, [want[a] for a in multi.ALT], atol=1e-5)
    assert records["snv0"].INFO["DP"] == 10  # the input INFO is kept
    assert records["sv"].INFO["SX_SKIPPED"] == "symbolic"
    assert records["mismatch"].INFO["SX_SKIPPED"] == "ref_mismatch"
    assert records["mismatch"].INFO.get("SX_EFFECT") is None
    saved = pd.read_csv(out / "variants.tsv", sep="\t")
    assert list(saved["variant"]) == list(table["variant"])


def test_vcf_chromosome_not_in_genome(bundle, genome, tmp_path):
    path, seqs = genome
    vcf = write_vcf(tmp_path / "v.vcf", [("chr1", 10, ".", seqs["chr1"][9], "A", ".", ".", "."),
                                         ("1", 10, ".", "A", "C", ".", ".", ".")])
    with pytest.raises(SeqexplainError, match=r"v.vcf: 1 chromosome\(s\) not in the genome .*"
                                              r"'1'.*'chr' prefix"):
        score_variants(bundle, vcf, path, progress=False)


def test_scoring_alone_writes_nothing(bundle, genome, scored, monkeypatch):
    """score_variants computes the table without any file: no VCF writer, no temporary
    folder (write_variants writes)."""
    import tempfile

    from Bio import bgzf

    def refuse(*args, **kwargs):
        raise AssertionError("score_variants wrote a file")

    monkeypatch.setattr(bgzf, "BgzfWriter", refuse)
    monkeypatch.setattr(tempfile, "TemporaryDirectory", refuse)
    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    table, _, out, _ = scored
    alone, report = score_variants(bundle, out.parent / "v.vcf", genome[0], progress=False)
    assert report.scored == len(table) > 0
    assert list(alone["variant"]) == list(table["variant"])
    scale = max(1.0, float(np.abs(table["effect"]).max()))
    np.testing.assert_allclose(alone["effect"], table["effect"], atol=1e-5 * scale)


def test_bgzipped_vcf_reads_the_same(bundle, genome, scored, tmp_path):
    from Bio import bgzf

    table, _, out, _ = scored
    text = (out.parent / "v.vcf").read_bytes()
    with bgzf.BgzfWriter(str(tmp_path / "v.vcf.gz"), "wb") as fh:
        fh.write(text)
    again, _ = score_variants(bundle, tmp_path / "v.vcf.gz", genome[0], progress=False)
    assert list(again["variant"]) == list(table["variant"])
    scale = max(1.0, float(np.abs(table["ref_logit_y"]).max()))  # other chunks: other batches
    assert np.abs(again["effect"].to_numpy() - table["effect"].to_numpy()).max() <= 1e-5 * scale


def test_target_out_of_range(bundle, genome, tmp_path):
    path, seqs = genome
    vcf = write_vcf(tmp_path / "v.vcf", [("chr1", 10, ".", seqs["chr1"][9], "A", ".", ".", ".")])
    with pytest.raises(SeqexplainError, match=r"target 3 is out of range: the model has 1 "):
        score_variants(bundle, vcf, path, VariantSettings(target=3), progress=False)


def test_overlap_scores_against_brute_force():
    rng = np.random.default_rng(2)
    X = one_hot(["".join(rng.choice(list("ACGTN"), 30, p=[.24, .24, .24, .24, .04]))
                 for _ in range(25)], "dna")
    pwm = log_odds(rng.dirichlet(np.ones(4), 6))
    lo = rng.integers(0, 29, 25)
    hi = lo + rng.integers(1, 4, 25)
    hi = np.minimum(hi, 30)
    got = overlap_scores(X, pwm, lo, hi)
    for i in range(25):
        best = -np.inf
        for s in range(0, 30 - 6 + 1):
            if s < hi[i] and s + 6 > lo[i]:
                win = X[i, s:s + 6]
                best = max(best, (win * pwm).sum(), (win[::-1, ::-1] * pwm).sum())
        assert np.isclose(got[i], best)
    assert np.all(relative(got, pwm) <= 1)


def test_planted_motif_broken_and_created(bundle, tmp_path):
    ctcf = next(m for m in read_motifs(DATA / "jaspar2024_selected.meme") if m.name == "CTCF")
    best = "".join("ACGT"[i] for i in ctcf.pfm.argmax(axis=1))
    core = int(np.argmax(ctcf.pfm.max(axis=1)))
    worst = "ACGT"[int(np.argmin(ctcf.pfm[core]))]
    rng = np.random.default_rng(9)
    chrom = list("".join(rng.choice(list("AT"), 1000)))  # AT-rich: no CTCF-like site
    chrom[300:300 + len(best)] = best
    broken_site = list(best)
    broken_site[core] = worst
    chrom[600:600 + len(best)] = broken_site
    seq = "".join(chrom)
    (tmp_path / "g.fa").write_text(f">chrM\n{seq}\n")
    vcf = write_vcf(tmp_path / "v.vcf", [
        ("chrM", 301 + core, "breaks", best[core], worst, ".", ".", "."),
        ("chrM", 601 + core, "creates", worst, best[core], ".", ".", "."),
        ("chrM", 901, "neutral", seq[900], other(seq[900]), ".", ".", ".")], contigs=("chrM",))
    table, _ = score_variants(bundle, vcf, tmp_path / "g.fa", motifs=[ctcf], progress=False)
    t = table.set_index("id")
    assert t.loc["breaks", "motif_broken"] == "CTCF" and t.loc["breaks", "motif_created"] == ""
    pwm = log_odds(ctcf.pfm)
    hand = lambda site: relative(sum(pwm[i, "ACGT".index(b)] for i, b in enumerate(site)),  # noqa: E731
                                 pwm)
    assert np.isclose(t.loc["breaks", "broken_ref_score"], hand(best))
    assert np.isclose(t.loc["breaks", "broken_alt_score"], hand(broken_site))
    assert pwm[core].max() - pwm[core].min() >= 2  # the fall that makes it "broken"
    assert t.loc["creates", "motif_created"] == "CTCF"
    assert t.loc["creates", "created_alt_score"] > 0.99
    assert t.loc["neutral", "motif_broken"] == "" == t.loc["neutral", "motif_created"]
    # the arrays step alone: swapping the alleles swaps broken and created
    X = one_hot([seq[280:320 + 20][:L]], "dna")
    span = (np.array([21 + core - 1]), np.array([22 + core - 1]))
    fx = allele_motif_effects(X, X, span, span, [log_odds(ctcf.pfm)], ["CTCF"])
    assert fx["broken"][0] == "" == fx["created"][0]


def test_attributions_of_both_alleles(bundle, genome, tmp_path):
    from seqexplain.attribution.registry import MethodSettings, compute

    path, seqs = genome
    c1 = seqs["chr1"]
    vcf = write_vcf(tmp_path / "v.vcf", [("chr1", p + 1, f"v{p}", c1[p], other(c1[p]), ".",
                                          ".", ".") for p in (200, 400, 600)])
    table, _ = score_variants(bundle, vcf, path, VariantSettings(methods=("saliency", "ism")),
                              progress=False)
    k = (L - 1) // 2
    for row in table.itertuples():
        p0 = row.pos - 1
        ref = one_hot([c1[p0 - k:p0 - k + L]], "dna")
        alt = ref.copy()
        alt[0, k] = one_hot([row.alt], "dna")[0, 0]
        sr = compute(bundle.model, ref, "saliency", MethodSettings())
        sa = compute(bundle.model, alt, "saliency", MethodSettings())
        assert np.isclose(row.saliency_ref_site, sr.observed[0, k].sum(), atol=1e-6)
        assert np.isclose(row.saliency_alt_site, sa.observed[0, k].sum(), atol=1e-6)
        assert np.isclose(row.saliency_change, np.abs(sa.observed - sr.observed).sum(),
                          atol=1e-5)


def test_variants_command(tmp_path):
    data = DATA / "genome"
    vcf = tmp_path / "some.vcf"
    lines = (data / "variants.vcf").read_text().splitlines(keepends=True)
    head = [x for x in lines if x.startswith("#")]
    body = [x for x in lines if not x.startswith("#")]
    vcf.write_text("".join(head + body[:40] + [x for x in body if "\tsymbolic\t" in x]))
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["variants", str(ROOT / "models" / "ctcf"), "--vcf", str(vcf),
                                  "--genome", str(data / "genome.fa"), "-m", "saliency",
                                  "--logos", "2", "--database",
                                  str(DATA / "jaspar2024_selected.meme"), "-q", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "41 VCF records" in r.output and "1 symbolic/structural alleles skipped" in r.output
    table = pd.read_csv(out / "variants.tsv", sep="\t", keep_default_na=False)
    assert len(table) == 40 and {"effect", "log2fc", "saliency_change", "motif_broken",
                                 "motif_created"} <= set(table.columns)
    destroying = table[table["id"].str.endswith("_core")]
    assert len(destroying) and (destroying["motif_broken"] == "CTCF").mean() > 0.7
    logos = sorted(p.name for p in (out / "logos").iterdir())
    assert len(logos) == 2 and logos[0].startswith("001_") and logos[0].endswith(
        "_saliency.png")
    with np.load(out / "top_attributions.npz") as top:
        assert list(top["variant"]) == list(table["variant"][:2])
        assert top["saliency_ref"].shape == top["saliency_diff"].shape == (2, 200, 4)
        snv = [i for i, v in enumerate(top["variant"]) if len(v.split(">")[1]) == 1 and
               len(v.split(":")[2].split(">")[0]) == 1]
        assert np.allclose(top["saliency_diff"][snv], (top["saliency_alt"] -
                                                       top["saliency_ref"])[snv])


def test_aligned_difference():
    from seqexplain.variants import aligned_difference

    ref = np.arange(12, dtype=float).reshape(6, 2)
    alt = 100 + np.arange(12, dtype=float).reshape(6, 2)
    assert np.array_equal(aligned_difference(ref, alt, 0), alt - ref)
    # alt allele starts 2 positions earlier in its window: alt row p - 2 ↔ ref row p
    d = aligned_difference(ref, alt, -2)
    assert np.array_equal(d[2:], alt[:4] - ref[2:]) and np.array_equal(d[:2], -ref[:2])
    d = aligned_difference(ref, alt, 1)
    assert np.array_equal(d[:5], alt[1:] - ref[:5]) and np.array_equal(d[5], -ref[5])


def test_motifs_folder_of_seqexplain_motifs(tmp_path):
    import shutil

    data = DATA / "genome"
    folder = tmp_path / "ctcf_motifs"  # what `seqexplain motifs` leaves: motifs.meme among others
    folder.mkdir()
    shutil.copy(DATA / "jaspar2024_selected.meme", folder / "motifs.meme")
    lines = (data / "variants.vcf").read_text().splitlines(keepends=True)
    cores = [x for x in lines if "_core\t" in x][:5]
    vcf = tmp_path / "few.vcf"
    vcf.write_text("".join(x for x in lines if x.startswith("#")) + "".join(cores))
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["variants", str(ROOT / "models" / "ctcf"), "--vcf", str(vcf),
                                  "--genome", str(data / "genome.fa"), "--motifs", str(folder),
                                  "-q", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "5 variants scored from 5 VCF records" in r.output
    table = pd.read_csv(out / "variants.tsv", sep="\t", keep_default_na=False)
    assert (table["motif_broken"] != "").sum() >= 4 and (table["effect"] < 0).all()
    assert not (out / "logos").exists()  # no --method: no attribution logos


def test_model_with_several_outputs(genome, tmp_path):
    """A BPNet-style model (profile + counts heads): its vector outputs' columns are scored,
    the default target is the first; --target picks a column and attributions follow it."""
    from architectures import architecture

    path, seqs = genome
    model = architecture("bpnet", length=L, seed=2)
    model.save(tmp_path / "bpnet.keras")
    c1 = seqs["chr1"]
    vcf = write_vcf(tmp_path / "v.vcf", [("chr1", p + 1, f"v{p}", c1[p], other(c1[p]), ".",
                                          ".", ".") for p in (200, 400, 600)])
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["variants", str(tmp_path / "bpnet.keras"), "--vcf", str(vcf),
                                  "--genome", str(path), "--target", "counts:1", "-m",
                                  "saliency", "--logos", "1", "-q", "-o", str(out)])
    assert r.exit_code == 0, r.output
    table = pd.read_csv(out / "variants.tsv", sep="\t").set_index("id")
    k = (L - 1) // 2
    ref = one_hot([c1[p - k:p - k + L] for p in (200, 400, 600)], "dna")
    alt = ref.copy()
    for i, p in enumerate((200, 400, 600)):
        alt[i, k] = one_hot([other(c1[p])], "dna")[0, 0]
    counts_ref, counts_alt = (np.asarray(model(X)[1], np.float64) for X in (ref, alt))
    ids = [f"v{p}" for p in (200, 400, 600)]
    scale = max(1.0, float(np.abs(counts_ref).max()))
    for j in (0, 1):
        assert np.allclose(table.loc[ids, f"ref_logit_counts:{j}"], counts_ref[:, j],
                           atol=1e-5 * scale)
    assert np.allclose(table.loc[ids, "effect"], counts_alt[:, 1] - counts_ref[:, 1],
                       atol=1e-5 * scale)
    assert table["log2fc"].isna().all() and "saliency_change" in table.columns
    from seqexplain.bundle import load_model

    table0, _ = score_variants(load_model(tmp_path / "bpnet.keras"), vcf, path, progress=False)
    table0 = table0.set_index("id")
    assert np.allclose(table0.loc[ids, "effect"], counts_alt[:, 0] - counts_ref[:, 0],
                       atol=1e-5 * scale)


@pytest.mark.parametrize("activation, units", [("sigmoid", 2), ("softmax", 3)])
def test_bare_keras_file_gets_probabilities(genome, tmp_path, activation, units):
    """A bare .keras file (no task recorded): log2fc comes from the probabilities its own
    final sigmoid/softmax gives, checked against the model's outputs."""
    import keras

    from seqexplain.bundle import load_model

    path, seqs = genome
    keras.utils.set_random_seed(4)
    model = keras.Sequential([keras.Input((L, 4)), keras.layers.Conv1D(8, 5, activation="relu"),
                              keras.layers.GlobalMaxPooling1D(),
                              keras.layers.Dense(units, activation=activation)])
    model.save(tmp_path / "m.keras")
    c1 = seqs["chr1"]
    sites = (300, 500, 700)
    vcf = write_vcf(tmp_path / "v.vcf", [("chr1", q + 1, f"v{q}", c1[q], other(c1[q]), ".",
                                          ".", ".") for q in sites])
    table, _ = score_variants(load_model(tmp_path / "m.keras"), vcf, path, progress=False)
    table = table.set_index("id")
    k = (L - 1) // 2
    ref = one_hot([c1[q - k:q - k + L] for q in sites], "dna")
    alt = ref.copy()
    for i, q in enumerate(sites):
        alt[i, k] = one_hot([other(c1[q])], "dna")[0, 0]
    p_ref, p_alt = (np.asarray(model(X), np.float64) for X in (ref, alt))
    ids = [f"v{q}" for q in sites]
    for j in range(units):
        # float32 probabilities: compare the ratio to 1e-5 of the probabilities' scale
        expected = np.log2(p_alt[:, j] / p_ref[:, j])
        assert np.allclose(table.loc[ids, f"log2fc_{j}"], expected, atol=1e-4)
    assert np.allclose(table.loc[ids, "log2fc"], np.log2(p_alt[:, 0] / p_ref[:, 0]), atol=1e-4)


def test_record_without_alt_is_counted(bundle, genome, tmp_path):
    path, seqs = genome
    c1 = seqs["chr1"]
    vcf = write_vcf(tmp_path / "v.vcf", [("chr1", 301, "mono", c1[300], ".", ".", ".", "."),
                                         ("chr1", 501, "snv", c1[500], other(c1[500]), ".",
                                          ".", ".")])
    table, report = score_variants(bundle, vcf, path, progress=False)
    assert list(table["id"]) == ["snv"] and (report.records, report.no_alt) == (2, 1)
    assert "1 records without an alternative allele (ALT '.') skipped" in report.line()
