"""Variant effects: a model, a VCF and the genome → the effect of every variant on every
output, the attribution maps of both alleles, and the motif instance a variant breaks or
creates.

The VCF is read with cyvcf2 (htslib; one wheel, where pysam also bundles samtools and
bcftools) and streamed in chunks of records: memory is bounded by one chunk plus one table
row per variant. For each alternative allele (multi-allelic records are split):

- **windows**: the reference and alternative sequences of the model's length ``L``, each
  allele centred in its own window: ``floor((L − len(allele)) / 2)`` genome bases on its
  left, the allele, then the genome to the right of the reference allele. For an SNV both
  windows differ at position ``(L − 1) // 2`` only, so ``alt − ref`` is the ISM value of
  that substitution; for an indel both windows stay centred on the variant (the flank on the
  right absorbs the length change). Alleles longer than ``L`` are cut to their central ``L``
  bases. Beyond a chromosome end the windows hold N.
- **scores**, for every output ``t``: ``ref_logit_t``, ``alt_logit_t``, ``alt_minus_ref_t``
  (logits) and ``log2fc_t`` = log2(p_alt / p_ref) of the probability (sigmoid/softmax of the
  logits; for a bare Keras file the one its final layer applies; regression outputs have
  none). ``effect`` is ``alt_minus_ref`` of the chosen target; the table is sorted by
  ``|effect|``.
- **skipped, counted and reported**: symbolic or structural alleles (``<DEL>``, breakends,
  ``*``), and a REF allele that does not match the genome (never scored).
- **attributions** (``methods``): for each method ``M``, ``M_ref_site``/``M_alt_site`` (the
  allele's contribution at the variant, summed over its bases) and ``M_change`` (Σ |alt −
  ref| of the observed-base maps on the reference window, aligned on the allele's start:
  :func:`aligned_difference`); DeepSHAP uses the same shuffled references for both alleles (shuffles of the
  reference window), so the maps differ only by the allele.
- **motifs** (``motifs``): see :func:`seqexplain.motifs.scan.allele_motif_effects`.

:func:`variants_files` is what ``seqexplain variants`` does (files → a new folder).
Outputs (:func:`write_variants`): ``variants.tsv``; ``top_attributions.npz`` (the maps of
the logos' variants, :func:`write_top_attributions`); ``variants.vcf.gz`` (BGZF) — the input
records with INFO fields ``SX_REF``, ``SX_ALT``, ``SX_EFFECT``, ``SX_LOG2FC`` (Number=A: one
value per alternative allele, ``.`` where not scored), ``SX_BROKEN``/``SX_CREATED`` with
motifs, and ``SX_SKIPPED`` (why an allele was not scored), described in the header; and
``logos/`` — paired ref/alt logos of the top ``K`` variants by ``|effect|``.
"""

from __future__ import annotations

import heapq
import math
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .bundle import ModelBundle, load_model
from .edit import insert
from .errors import OptionError, SeqexplainError, check_int
from .genome import Genome, open_genome
from .progress import Progress

#: what a symbolic or structural ALT looks like
_SYMBOLIC = ("<", "[", "]", "*", ".")
#: logo half-width around the variant
LOGO_FLANK = 30
INFO_LINES = [
    '##INFO=<ID=SX_REF,Number=A,Type=Float,Description="seqexplain: reference-allele logit '
    'of the target output">',
    '##INFO=<ID=SX_ALT,Number=A,Type=Float,Description="seqexplain: alternative-allele logit '
    'of the target output">',
    '##INFO=<ID=SX_EFFECT,Number=A,Type=Float,Description="seqexplain: alt - ref logit of the '
    'target output">',
    '##INFO=<ID=SX_LOG2FC,Number=A,Type=Float,Description="seqexplain: log2(p_alt / p_ref) '
    'of the target output">',
    '##INFO=<ID=SX_BROKEN,Number=A,Type=String,Description="seqexplain: motif instance the '
    'allele breaks (reference relative score >= 0.8, log-odds falling >= 2)">',
    '##INFO=<ID=SX_CREATED,Number=A,Type=String,Description="seqexplain: motif instance the '
    'allele creates (alternative relative score >= 0.8, log-odds rising >= 2)">',
    '##INFO=<ID=SX_SKIPPED,Number=A,Type=String,Description="seqexplain: why an allele was '
    'not scored (symbolic, ref_mismatch)">',
]


@dataclass
class VariantSettings:
    """How variants are scored: the target output (sorting, VCF INFO, logos), attribution
    methods (none: predictions only), logos of the top K, DeepSHAP references and chunking."""

    target: int = 0
    methods: tuple[str, ...] = ()
    logos: int = 0
    n_references: int = 20
    batch_size: int = 256
    chunk_size: int = 2000
    seed: int = 0


@dataclass
class VariantReport:
    records: int = 0
    scored: int = 0
    multiallelic: int = 0
    symbolic: int = 0
    ref_mismatch: int = 0
    first_mismatch: str | None = None
    no_alt: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        parts = [f"{self.scored} variants scored from {self.records} VCF records"]
        if self.multiallelic:
            parts.append(f"{self.multiallelic} multi-allelic records split")
        if self.symbolic:
            parts.append(f"{self.symbolic} symbolic/structural alleles skipped")
        if self.no_alt:
            parts.append(f"{self.no_alt} records without an alternative allele (ALT '.') "
                         "skipped")
        if self.ref_mismatch:
            parts.append(f"{self.ref_mismatch} REF alleles not matching the genome skipped "
                         f"(first: {self.first_mismatch})")
        rate = self.scored / max(self.seconds, 1e-9)
        return "; ".join(parts) + f" ({rate:.0f} variants/s)"


def allele_window(left: str, allele: str, right: str, length: int) -> tuple[str, int]:
    """The window of ``length`` with ``allele`` centred: ``(sequence, position of the
    allele's first base)``. ``left``/``right`` are the genome flanks (at least ``length``
    long each)."""
    if len(allele) >= length:
        cut = (len(allele) - length) // 2
        return allele[cut:cut + length], 0
    k = (length - len(allele)) // 2
    # the genome around the allele, with the allele inserted at k (the right flank trimmed)
    genome = left[len(left) - k:] + right[:length - k]
    return insert(genome, allele, k), k


def _is_symbolic(alt: str | None) -> bool:
    return alt is None or alt.startswith(_SYMBOLIC) or any(c in alt for c in "[]<>") or \
        not set(alt.upper()) <= set("ACGTN")


@dataclass
class _Allele:
    record: int  # index of the VCF record in the chunk
    alt_index: int
    chrom: str
    pos: int
    vid: str
    ref: str
    alt: str
    ref_seq: str = ""
    alt_seq: str = ""
    ref_at: int = 0
    alt_at: int = 0


@dataclass
class _Top:
    """The top-K variants by |effect|, with the attribution windows of their logos."""

    k: int
    heap: list = field(default_factory=list)
    count: int = 0

    def offer(self, key: float, item) -> None:
        self.count += 1
        entry = (key, -self.count, item)
        if len(self.heap) < self.k:
            heapq.heappush(self.heap, entry)
        elif key > self.heap[0][0]:
            heapq.heapreplace(self.heap, entry)

    def items(self) -> list:
        return [e[2] for e in sorted(self.heap, key=lambda e: (-e[0], -e[1]))]


def _probabilities(logits: np.ndarray, task: str) -> np.ndarray | None:
    if task in ("binary", "multilabel"):
        return 1 / (1 + np.exp(-logits.astype(np.float64)))
    if task == "multiclass":
        z = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)
    return None


def _probability_task(bundle) -> str:
    """The task whose probabilities the logits give: the model folder's, or for a bare Keras
    file the final activation that the logit model strips (sigmoid: one probability per
    output; softmax: one distribution)."""
    if bundle.task != "unknown":
        return bundle.task
    from .attribution.logits import final_squashing

    squash = final_squashing(bundle.model) if bundle.single_output else None
    return {"sigmoid": "multilabel", "softmax": "multiclass"}.get(squash, "unknown")


def _log2_ratio(p_alt: np.ndarray, p_ref: np.ndarray) -> np.ndarray:
    tiny = np.finfo(np.float64).tiny
    return np.log2(np.maximum(p_alt, tiny)) - np.log2(np.maximum(p_ref, tiny))


def _motif_pwms(motifs) -> tuple[list[np.ndarray], list[str]]:
    from .motifs.scan import log_odds

    return [log_odds(m.pfm) for m in motifs], [m.name or m.id for m in motifs]


def score_variants(bundle: ModelBundle, vcf, genome, settings: VariantSettings | None = None,
                   motifs=None, progress: bool = True):
    """Score every variant of ``vcf`` (path) on ``genome`` (path or :class:`Genome`) with a
    model (anything :func:`~seqexplain.bundle.load_model` takes); ``motifs``: a list of :class:`seqexplain.motif_io.Motif` to test for broken or
    created instances.

    Returns ``(table, report)``: the :class:`pandas.DataFrame` of ``variants.tsv`` (sorted by
    |effect|) and the :class:`VariantReport` (counts of scored and skipped alleles). To write
    the files, use :func:`write_variants`."""
    table, report, _ = _run(bundle, vcf, genome, settings or VariantSettings(), motifs,
                            None, progress, logos_dir=None)
    return table, report


def write_variants(bundle: ModelBundle, vcf, genome, out_dir,
                   settings: VariantSettings | None = None, motifs=None,
                   progress: bool = True) -> tuple[pd.DataFrame, VariantReport]:
    """Score ``vcf`` and write ``variants.tsv``, ``variants.vcf.gz`` and (with
    ``settings.logos`` and methods) ``logos/`` into ``out_dir`` (an existing folder; the CLI
    passes an atomic temporary folder). Returns the table and the report."""
    out_dir = Path(out_dir)
    settings = settings or VariantSettings()
    table, report, top = _run(bundle, vcf, genome, settings, motifs,
                              out_dir / "variants.vcf.gz", progress,
                              logos_dir=out_dir / "logos")
    table.to_csv(out_dir / "variants.tsv", sep="\t", index=False, float_format="%.6g")
    return table, report


@dataclass
class VariantsRun:
    """What :func:`variants_files` did: ``out``, the folder as given; ``table``, the rows of
    ``variants.tsv``; ``report``, the counts of scored and skipped alleles; ``motifs``: whether
    motifs were tested for broken or created instances."""

    out: str
    table: pd.DataFrame
    report: VariantReport
    motifs: bool = False

    def summary(self) -> list[str]:
        """The lines ``seqexplain variants`` prints: the counts, then (with motifs) how many
        variants break or create a motif instance."""
        lines = [f"{self.out}: {self.report.line()}"]
        if self.motifs and len(self.table):
            lines.append(f"{self.out}: {int((self.table['motif_broken'] != '').sum())} "
                         f"variants break and {int((self.table['motif_created'] != '').sum())}"
                         " create a motif instance")
        return lines


def variants_files(model, vcf, genome, out, *, methods=None, target=None, logos: int = 10,
                   motifs=None, database=None, alphabet: str | None = None,
                   n_references: int = 20, batch_size: int = 256, chunk_size: int = 2000,
                   seed: int = 0, progress: bool = True, force: bool = False) -> VariantsRun:
    """What ``seqexplain variants`` does: every variant of ``vcf`` (a VCF path, plain or
    bgzipped) on ``genome`` (its FASTA) scored by ``model`` (a model folder or a Keras file;
    ``alphabet`` for a bare file), written to the new folder ``out`` (:func:`write_variants`;
    replaced only with ``force``).

    ``methods``: attribution methods of both alleles (names or aliases, a list or a
    comma-separated string; none: predictions only), with paired ``logos`` of the top K;
    ``target``: the output whose effect sorts the table [0; a model of several outputs: the
    first column of its vector outputs]; ``motifs``: a ``seqexplain motifs`` output folder
    (its ``motifs.meme``) or ``database``: a MEME/JASPAR file, whose motifs are tested for
    instances the variants break or create. The inputs are checked before TensorFlow
    starts."""
    from ._tf import import_tensorflow
    from .motif_io import read_motifs
    from .outputs import atomic_dir, check_writable

    check_writable(out, force, kind="folder")
    if motifs and database:
        raise OptionError("give --motifs or --database, not both")
    motif_file = None
    if motifs:
        motif_file = Path(motifs) / "motifs.meme"
        if not motif_file.is_file():
            raise SeqexplainError(f"{motifs}: not a `seqexplain motifs` output folder "
                                  "(no motifs.meme)")
    elif database:
        motif_file = Path(database)
        if not motif_file.is_file():
            raise SeqexplainError(f"{database}: no such motif file (--database)")
    chosen = ()
    if methods:
        from .attribution.registry import resolve_methods

        chosen = resolve_methods(methods)
    for path, what in ((vcf, "VCF"), (genome, "genome")):
        if not Path(path).exists():
            raise SeqexplainError(f"{path}: no such {what} file")
    g = open_genome(genome)  # a bad genome or VCF is reported before TensorFlow starts
    check_vcf_records(vcf)
    motif_list = read_motifs(motif_file) if motif_file else None
    import_tensorflow()
    from .explain import resolve_target
    from .heads import column_names

    bundle = load_model(model, alphabet)
    # several outputs: the default is the first column of the vector outputs
    if target is None and not bundle.single_output:
        chosen_target = 0
        bundle.tell_default_target(column_names(bundle.outputs)[0])
    else:
        chosen_target = resolve_target(bundle, target)
    settings = VariantSettings(target=chosen_target, methods=chosen, logos=logos,
                               n_references=n_references, batch_size=batch_size,
                               chunk_size=chunk_size, seed=seed)
    with atomic_dir(out, force=force) as tmp:
        table, report = write_variants(bundle, vcf, g, tmp, settings, motif_list,
                                       progress=progress)
    return VariantsRun(str(out), table, report, motifs=motif_list is not None)


def _quiet_htslib() -> None:
    """htslib (inside cyvcf2) prints a warning per chromosome missing from the VCF header; the
    chromosomes are checked against the genome here, so keep htslib to its errors."""
    import ctypes

    import cyvcf2.cyvcf2 as native

    try:
        ctypes.CDLL(native.__file__).hts_set_log_level(1)  # HTS_LOG_ERROR
    except (OSError, AttributeError):  # a build without the symbol: warnings stay
        pass


def check_vcf_records(path: str) -> int:
    """One streaming pass over the VCF text: every record has 8+ tab-separated columns, a
    positive integer POS and a REF of letters (htslib crashes on some malformed records
    instead of reporting them). Returns the number of records."""
    import gzip

    from .fasta import GZIP_MAGIC

    with open(path, "rb") as fh:
        gz = fh.read(2) == GZIP_MAGIC
    n, header = 0, False
    try:
        with (gzip.open(path, "rt", encoding="utf-8") if gz else
              open(path, "rt", encoding="utf-8")) as fh:
            for number, line in enumerate(fh, start=1):
                if line.startswith("#CHROM"):
                    header = True
                if line.startswith("#") or not line.strip():
                    continue
                if not header:
                    raise SeqexplainError(f"{path}: not a VCF file (line {number} comes "
                                          "before any '#CHROM' header line)")
                cols = line.rstrip("\r\n").split("\t")
                where = f"{path}, line {number}"
                if len(cols) < 8:
                    raise SeqexplainError(f"{where}: expected 8 tab-separated VCF columns, "
                                          f"found {len(cols)}")
                if not cols[1].isdigit() or int(cols[1]) < 1:
                    raise SeqexplainError(f"{where}: POS must be a positive integer, found "
                                          f"{cols[1]!r}")
                if not cols[3].isalpha():
                    raise SeqexplainError(f"{where}: REF must be bases, found {cols[3]!r}")
                if not cols[4]:
                    raise SeqexplainError(f"{where}: empty ALT")
                n += 1
        if not header:
            raise SeqexplainError(f"{path}: not a VCF file (no '#CHROM' header line)")
    except (UnicodeDecodeError, EOFError, OSError) as exc:
        raise SeqexplainError(f"{path}: not a readable VCF file ({exc})") from None
    return n


def _run(bundle, vcf_path, genome, settings: VariantSettings, motifs, vcf_out: Path | None,
         progress, logos_dir):
    """Score the VCF; write the annotated VCF to ``vcf_out`` (None: nothing is written)."""
    import contextlib

    from cyvcf2 import VCF

    from Bio import bgzf

    from .attribution import explained_model

    bundle = load_model(bundle)
    vcf_path = os.fspath(vcf_path)
    if not os.path.isfile(vcf_path):
        raise SeqexplainError(f"{vcf_path}: no such VCF file")
    check_int("chunk_size", settings.chunk_size, 1)
    g = open_genome(genome)
    check_vcf_records(vcf_path)
    if not bundle.alphabet.is_nucleic or bundle.alphabet.channels != 4:
        raise SeqexplainError("variants need a DNA model (4 channels)")
    _quiet_htslib()
    try:
        reader = VCF(vcf_path, lazy=True, threads=1)
    except (OSError, ValueError) as exc:
        raise SeqexplainError(f"{vcf_path}: not a readable VCF file ({exc})") from None
    names = bundle.class_names if bundle.task == "multiclass" and bundle.class_names \
        else bundle.output_names
    if not bundle.single_output:  # several outputs: the vector outputs' columns are scored
        if not names:
            raise SeqexplainError("variants score a model's vector outputs; this model has "
                                  "only per-position outputs ("
                                  f"{', '.join(o.name for o in bundle.outputs)})")
        if isinstance(settings.target, str) and settings.target in names:
            settings = replace(settings, target=names.index(settings.target))
    if isinstance(settings.target, str):
        raise SeqexplainError(f"target {settings.target!r}: variants score the columns of "
                              f"the model's vector outputs ({', '.join(names)})")
    if not (isinstance(settings.target, int) and 0 <= settings.target < len(names)):
        raise SeqexplainError(f"target {settings.target!r} is out of range: the model has "
                              f"{len(names)} output(s) ({', '.join(names)})")
    logit = explained_model(bundle.model, "logit") if bundle.single_output \
        else _VectorOutputs(bundle)
    pwms, motif_names = _motif_pwms(motifs or [])
    report = VariantReport()
    top = _Top(settings.logos) if settings.logos and settings.methods else None
    rows: list[pd.DataFrame] = []
    t0 = time.perf_counter()
    header = reader.raw_header.rstrip("\n").split("\n")
    header = header[:-1] + INFO_LINES + header[-1:]
    checked: set[str] = set()
    writer = (contextlib.nullcontext() if vcf_out is None
              else bgzf.BgzfWriter(os.fspath(vcf_out), "wb"))
    with writer as out, Progress(None, "variants", unit="rec", enabled=progress) as bar:
        if out is not None:
            out.write(("\n".join(header) + "\n").encode())
        chunk: list = []
        try:
            for record in reader:
                chrom = record.CHROM
                if chrom not in checked:
                    g.missing([chrom], vcf_path)
                    checked.add(chrom)
                chunk.append(record)
                if len(chunk) >= settings.chunk_size:
                    rows.append(_score_chunk(chunk, g, bundle, logit, names, settings, pwms,
                                             motif_names, report, top, out, vcf_path))
                    bar.update(len(chunk))
                    chunk = []
        except (OSError, ValueError) as exc:  # htslib parse errors
            raise SeqexplainError(f"{vcf_path}: cannot read VCF record ({exc})") from None
        if chunk:
            rows.append(_score_chunk(chunk, g, bundle, logit, names, settings, pwms,
                                     motif_names, report, top, out, vcf_path))
            bar.update(len(chunk))
    reader.close()
    if report.records == 0:
        raise SeqexplainError(f"{vcf_path}: no variant records")
    report.seconds = time.perf_counter() - t0
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    if len(table):
        order = np.argsort(-np.abs(table["effect"].to_numpy()), kind="stable")
        table = table.iloc[order].reset_index(drop=True)
    if top is not None and logos_dir is not None and top.heap:
        _write_pair_logos(top.items(), logos_dir, bundle.alphabet.letters, settings.methods)
        write_top_attributions(top.items(), logos_dir.parent / "top_attributions.npz",
                               settings.methods)
    return table, report, top


class _VectorOutputs:
    """A model with several outputs as the ``predict`` of its vector outputs side by side
    (the columns of ``bundle.output_names``)."""

    def __init__(self, bundle):
        self.bundle = bundle

    def predict(self, X, batch_size=256, verbose=0):
        return self.bundle.predict_all(X, batch_size)[0]


def _score_chunk(records, g: Genome, bundle, logit, names, settings: VariantSettings, pwms,
                 motif_names, report: VariantReport, top, out, vcf_path) -> pd.DataFrame:
    L = bundle.length
    alleles: list[_Allele] = []
    skipped: dict[tuple[int, int], str] = {}
    for r, rec in enumerate(records):
        report.records += 1
        alts = rec.ALT
        if len(alts) > 1:
            report.multiallelic += 1
        elif not alts:
            report.no_alt += 1
        ref = rec.REF.upper()
        pos0 = rec.POS - 1
        vid = rec.ID or "."
        for a, alt in enumerate(alts):
            if _is_symbolic(alt) or _is_symbolic(ref):
                report.symbolic += 1
                skipped[(r, a)] = "symbolic"
                continue
            span = g.fetch(rec.CHROM, pos0 - L, pos0 + len(ref) + L)  # one read per allele
            left, here, right = span[:L], span[L:L + len(ref)], span[L + len(ref):]
            if here != ref:
                report.ref_mismatch += 1
                report.first_mismatch = report.first_mismatch or \
                    f"{rec.CHROM}:{rec.POS} REF {ref[:10]} genome {here[:10]}"
                skipped[(r, a)] = "ref_mismatch"
                continue
            al = _Allele(r, a, rec.CHROM, rec.POS, vid, ref, alt.upper())
            al.ref_seq, al.ref_at = allele_window(left, ref, right, L)
            al.alt_seq, al.alt_at = allele_window(left, al.alt, right, L)
            alleles.append(al)
    n = len(alleles)
    cols: dict[str, object] = {
        "variant": [f"{a.chrom}:{a.pos}:{a.ref}>{a.alt}" for a in alleles],
        "id": [a.vid for a in alleles], "chrom": [a.chrom for a in alleles],
        "pos": np.array([a.pos for a in alleles], np.int64),
        "ref": [a.ref for a in alleles], "alt": [a.alt for a in alleles]}
    values: dict[tuple[int, int], dict] = {}
    if n:
        source = os.fspath(vcf_path)
        X_ref = bundle.encode([a.ref_seq for a in alleles], source=source).onehot
        X_alt = bundle.encode([a.alt_seq for a in alleles], source=source).onehot
        both = np.asarray(logit.predict(np.concatenate([X_ref, X_alt]),
                                        batch_size=max(settings.batch_size, 1024), verbose=0),
                          np.float64).reshape(2 * n, -1)
        lr, la = both[:n], both[n:]
        task = _probability_task(bundle)
        pr, pa = _probabilities(lr, task), _probabilities(la, task)
        t = settings.target
        cols["effect"] = la[:, t] - lr[:, t]
        cols["log2fc"] = _log2_ratio(pa[:, t], pr[:, t]) if pr is not None else np.nan
        for j, name in enumerate(names):
            cols[f"ref_logit_{name}"] = lr[:, j]
            cols[f"alt_logit_{name}"] = la[:, j]
            cols[f"alt_minus_ref_{name}"] = la[:, j] - lr[:, j]
            if pr is not None:
                cols[f"ref_prob_{name}"] = pr[:, j]
                cols[f"alt_prob_{name}"] = pa[:, j]
                cols[f"log2fc_{name}"] = _log2_ratio(pa[:, j], pr[:, j])
        ref_span = (np.array([a.ref_at for a in alleles]),
                    np.array([a.ref_at + max(1, min(len(a.ref), L)) for a in alleles]))
        alt_span = (np.array([a.alt_at for a in alleles]),
                    np.array([a.alt_at + max(1, min(len(a.alt), L)) for a in alleles]))
        if settings.methods:
            cols.update(_attributions(bundle, X_ref, X_alt, ref_span, alt_span, alleles,
                                      settings, cols["effect"], top, report.scored))
        if pwms:
            from .motifs.scan import allele_motif_effects

            fx = allele_motif_effects(X_ref, X_alt, ref_span, alt_span, pwms, motif_names)
            cols["motif_broken"] = fx["broken"]
            cols["broken_ref_score"] = fx["broken_ref"]
            cols["broken_alt_score"] = fx["broken_alt"]
            cols["motif_created"] = fx["created"]
            cols["created_ref_score"] = fx["created_ref"]
            cols["created_alt_score"] = fx["created_alt"]
        for i, a in enumerate(alleles):
            v = {"SX_REF": lr[i, t], "SX_ALT": la[i, t], "SX_EFFECT": la[i, t] - lr[i, t],
                 "SX_LOG2FC": cols["log2fc"][i] if pr is not None else math.nan}
            if pwms:
                v["SX_BROKEN"] = cols["motif_broken"][i]
                v["SX_CREATED"] = cols["motif_created"][i]
            values[(a.record, a.alt_index)] = v
    report.scored += n
    for r, rec in enumerate(records if out is not None else ()):
        out.write(_vcf_line(str(rec), len(rec.ALT), r, values, skipped, bool(pwms)).encode())
    return pd.DataFrame(cols)


def _fmt(value) -> str:
    if isinstance(value, str):
        return value.replace(",", "_").replace(";", "_").replace(" ", "_") or "."
    return "." if value is None or not np.isfinite(value) else f"{float(value):.6g}"


def _vcf_line(line: str, n_alt: int, r: int, values, skipped, motifs: bool) -> str:
    cols = line.rstrip("\n").split("\t")
    keys = ["SX_REF", "SX_ALT", "SX_EFFECT", "SX_LOG2FC"] + (
        ["SX_BROKEN", "SX_CREATED"] if motifs else [])
    added = []
    if any((r, a) in values for a in range(n_alt)):
        for key in keys:
            added.append(f"{key}=" + ",".join(
                _fmt(values[(r, a)][key]) if (r, a) in values else "." for a in range(n_alt)))
    if any((r, a) in skipped for a in range(n_alt)):
        added.append("SX_SKIPPED=" + ",".join(skipped.get((r, a), ".") for a in range(n_alt)))
    if added:
        info = cols[7] if len(cols) > 7 else "."
        cols[7] = ";".join(([] if info in (".", "") else [info]) + added)
    return "\t".join(cols) + "\n"


def _attributions(bundle, X_ref, X_alt, ref_span, alt_span, alleles, settings, effect, top,
                  offset) -> dict[str, np.ndarray]:
    from .attribution.registry import MethodSettings, compute
    from .explain import shuffled_references

    n = len(X_ref)
    refs = shuffled_references(X_ref, 0, settings.n_references, settings.seed + offset)
    target = settings.target if bundle.single_output else bundle.output_names[settings.target]
    options = MethodSettings(target=target, batch_size=settings.batch_size,
                      seed=settings.seed, references=refs,
                      n_references=settings.n_references)
    cols: dict[str, np.ndarray] = {}
    maps = {}
    for method in settings.methods:
        sr = compute(bundle.model, X_ref, method, options)
        sa = compute(bundle.model, X_alt, method, options)
        maps[method] = (sr, sa)
        rows = np.arange(n)
        site_r = np.array([sr.observed[i, ref_span[0][i]:ref_span[1][i]].sum() for i in rows])
        site_a = np.array([sa.observed[i, alt_span[0][i]:alt_span[1][i]].sum() for i in rows])
        # the maps aligned on the variant: position p of ref ↔ p - ref_at + alt_at
        shift = alt_span[0] - ref_span[0]
        change = np.array([np.abs(aligned_difference(sr.observed[i], sa.observed[i],
                                                     int(shift[i]))).sum() for i in rows])
        cols[f"{method}_ref_site"], cols[f"{method}_alt_site"] = site_r, site_a
        cols[f"{method}_change"] = change
    if top is not None:
        letters = bundle.alphabet.letters
        for i, a in enumerate(alleles):
            key = abs(float(effect[i]))
            if len(top.heap) >= top.k and key <= top.heap[0][0]:
                continue
            item = {"variant": f"{a.chrom}:{a.pos}:{a.ref}>{a.alt}", "id": a.vid,
                    "effect": float(effect[i]), "letters": letters,
                    "ref_at": (int(ref_span[0][i]), int(ref_span[1][i])),
                    "alt_at": (int(alt_span[0][i]), int(alt_span[1][i])),
                    "maps": {m: (sr.hypothetical[i] * X_ref[i], sa.hypothetical[i] * X_alt[i])
                             for m, (sr, sa) in maps.items()}}
            top.offer(key, item)
    return cols


def aligned_difference(ref_map: np.ndarray, alt_map: np.ndarray, shift: int) -> np.ndarray:
    """``alt − ref`` of two (length, C) maps whose windows are offset by ``shift`` = alt
    allele start − ref allele start (0 for SNVs), on the reference window's positions;
    positions the alternative window does not cover count its map as 0."""
    length = len(ref_map)
    aligned = np.zeros_like(alt_map)
    lo, hi = max(0, -shift), length - max(0, shift)
    aligned[lo:hi] = alt_map[lo + shift:hi + shift]
    return aligned - ref_map


def write_top_attributions(items, path: Path, methods) -> None:
    """The attribution maps of the top variants (the logos'): ``variant``, ``ref_span``,
    ``alt_span`` (K, 2) and per method ``M_ref``, ``M_alt`` (K, length, C: observed-base
    maps) and ``M_diff`` (alt − ref on the reference window, :func:`aligned_difference`)."""
    arrays: dict[str, np.ndarray] = {
        "variant": np.array([it["variant"] for it in items]),
        "effect": np.array([it["effect"] for it in items]),
        "ref_span": np.array([it["ref_at"] for it in items], np.int64),
        "alt_span": np.array([it["alt_at"] for it in items], np.int64)}
    for method in methods:
        ref = np.stack([it["maps"][method][0] for it in items]).astype(np.float32)
        alt = np.stack([it["maps"][method][1] for it in items]).astype(np.float32)
        shift = arrays["alt_span"][:, 0] - arrays["ref_span"][:, 0]
        arrays[f"{method}_ref"], arrays[f"{method}_alt"] = ref, alt
        arrays[f"{method}_diff"] = np.stack([aligned_difference(r, a, int(k))
                                             for r, a, k in zip(ref, alt, shift)])
    np.savez_compressed(path, **arrays)


def _write_pair_logos(items, folder: Path, letters: str, methods) -> None:
    from .logos import plot_allele_pair, safe_name, save_figure

    folder.mkdir(exist_ok=True)
    taken: set[str] = set()
    for rank, item in enumerate(items, start=1):
        for method in methods:
            ref_map, alt_map = item["maps"][method]
            fig = plot_allele_pair(ref_map, alt_map, letters, item["ref_at"], item["alt_at"],
                                   title=f"{item['variant']} ({item['id']}): alt − ref "
                                         f"{item['effect']:+.3f}; {method}")
            name = safe_name(f"{rank:03d}_{item['variant']}_{method}", taken)
            save_figure(fig, folder / f"{name}.png")
