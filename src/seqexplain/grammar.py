"""What motifs do, and how they combine: marginal effects, spacing and orientation, dosage —
with statistics — from a model, background sequences and a set of motifs.

Every number is a mean over backgrounds of a change of the target output (the logit unless
``output="prob"``), computed on edited one-hot arrays (:mod:`seqexplain.edit`) in one model
call per batch of edits:

- **marginal** (one row per motif and strand): the motif's consensus written at the centre of
  every background; ``effect`` its mean change, with a 95 % CI (normal, from the standard
  error over backgrounds); the **control** is the same insertion with the consensus's letters
  shuffled (seeded), ``z`` the paired z of motif − control per background, ``q``
  Benjamini–Hochberg over the table, and ``significant`` needs all three: the effect's CI
  excludes 0, it differs from the control's (``q < 0.05``), and by an amount worth reporting
  (``|effect − control_effect| ≥ min_effect``, in output units: 0.5 of a logit by default,
  a 1.65-fold change of the odds);
- **spacing** (one row per pair among the ``top`` motifs of largest ``|effect −
  control_effect|``, significant or not — a motif that acts only beside another has no
  marginal effect of its own; orientation ``++ +- -+ --`` and signed spacing = start of b −
  start of a, motifs not overlapping): ``effect_pair``, ``effect_a`` and ``effect_b`` (each
  motif alone at its place in that arrangement), ``cooperativity = effect_pair − effect_a −
  effect_b`` with its CI (per background) and ``q``;
- **grammar** (one row per pair): the arrangement of highest cooperativity, and for DNA a
  helical-periodicity test on that orientation's cooperativity curve: the share of its power
  at periods of 10–11 bp among periods 2 … half the curve, with a permutation p-value;
- **dosage** (one row per motif and copy number): copies evenly spread (no overlap).

Backgrounds are the caller's (the command line: dinucleotide shuffles of the user's
sequences, :func:`~seqexplain.experiments.shuffled_backgrounds`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .edit import substitute
from .encoding import reverse_complement
from .errors import SeqexplainError
from .experiments import arrangement_starts, default_target, dosage_starts

#: two-sided 95 % normal quantile
Z95 = 1.959963984540054
#: orientations of a pair, DNA/RNA (protein: ``++`` only)
ORIENTATIONS = ("++", "+-", "-+", "--")
#: the helical period range tested (bp)
HELICAL = (10.0, 11.0)


@dataclass(frozen=True)
class GrammarResult:
    """The tables of :func:`run_grammar` (columns as the module docstring says)."""

    marginal: pd.DataFrame
    spacing: pd.DataFrame
    grammar: pd.DataFrame
    dosage: pd.DataFrame


def consensus(pfm: np.ndarray, letters: str = "ACGT") -> str:
    """The most probable letter at each row of a PFM (width, C)."""
    return "".join(letters[i] for i in np.asarray(pfm).argmax(axis=1))


def shuffled_letters(seq: str, rng: np.random.Generator) -> str:
    """``seq``'s letters in a random order other than ``seq`` itself where one exists."""
    letters = np.array(list(seq))
    for _ in range(100):
        out = "".join(rng.permutation(letters))
        if out != seq:
            return out
    return seq  # a homopolymer has no other order


def mean_ci(values: np.ndarray) -> tuple[float, float, float, float]:
    """(mean, standard error, CI low, CI high) over axis 0 of ``values`` (n,)."""
    values = np.asarray(values, np.float64)
    mean = float(values.mean())
    se = float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else np.nan
    return mean, se, mean - Z95 * se, mean + Z95 * se


def _z_p(diff: np.ndarray) -> tuple[float, float]:
    """Paired z of ``diff`` (n,) against 0, and its two-sided normal p."""
    from scipy.stats import norm

    mean, se, _, _ = mean_ci(diff)
    if not np.isfinite(se) or se == 0:
        z = 0.0 if mean == 0 else np.copysign(np.inf, mean)
    else:
        z = mean / se
    return float(z), float(2 * norm.sf(abs(z)))


def _q(p) -> np.ndarray:
    from scipy.stats import false_discovery_control

    p = np.asarray(p, np.float64)
    return false_discovery_control(p) if len(p) else p


class _Scorer:
    """The target output of batches of edited backgrounds (one model call per batch)."""

    def __init__(self, bundle, target, output: str, batch_size: int):
        from .prediction import predict

        self.predict = predict
        self.bundle, self.target, self.output = bundle, target, output
        self.batch_size = batch_size

    def __call__(self, X: np.ndarray) -> np.ndarray:
        y = self.predict(self.bundle, X, target=self.target, output=self.output,
                         batch_size=self.batch_size)
        y = np.asarray(y, np.float64)
        return y.reshape(len(X), -1)[:, 0]

    def many(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        """Score several edited copies of the backgrounds in one pass."""
        n = len(arrays[0])
        y = self(np.concatenate(arrays))
        return [y[i * n:(i + 1) * n] for i in range(len(arrays))]


def _placed(X, seqs_at: list[tuple[str, int]], alphabet) -> np.ndarray:
    for seq, start in seqs_at:
        X = substitute(X, seq, start, alphabet=alphabet)
    return X


def marginal_table(score: _Scorer, X: np.ndarray, motifs: dict[str, str], strands,
                   alphabet, rng: np.random.Generator, min_effect: float) -> pd.DataFrame:
    base = score(X)
    plan, edited = [], []
    for name, seq in motifs.items():
        for strand in strands:
            s = seq if strand == "+" else reverse_complement(seq)
            control = shuffled_letters(s, rng)
            at = (X.shape[1] - len(s)) // 2
            plan.append((name, strand, s, control))
            edited += [_placed(X, [(s, at)], alphabet), _placed(X, [(control, at)], alphabet)]
    scored = score.many(edited)  # one model pass for every motif, strand and control
    rows = []
    for k, (name, strand, s, control) in enumerate(plan):
        d, c = scored[2 * k] - base, scored[2 * k + 1] - base
        effect, _, lo, hi = mean_ci(d)
        z, p = _z_p(d - c)
        rows.append(dict(motif=name, strand=strand, consensus=s, control=control, n=len(X),
                         effect=effect, ci_low=lo, ci_high=hi,
                         control_effect=float(c.mean()), z=z, p=p))
    table = pd.DataFrame(rows)
    table["q"] = _q(table["p"])
    excludes_zero = (table["ci_low"] > 0) | (table["ci_high"] < 0)
    table["significant"] = excludes_zero & (table["q"] < 0.05) & (
        (table["effect"] - table["control_effect"]).abs() >= min_effect)
    return table


def pair_spacings(width_a: int, width_b: int, max_spacing: int, length: int) -> list[int]:
    """Signed spacings (start b − start a) from −max to +max at which the two motifs do not
    overlap and fit in ``length``."""
    out = []
    for s in range(-max_spacing, max_spacing + 1):
        if (s >= 0 and s < width_a) or (s < 0 and -s < width_b):
            continue
        span = max(width_a, s + width_b) - min(0, s)
        if span <= length:
            out.append(s)
    return out


def spacing_table(score: _Scorer, X: np.ndarray, a: tuple[str, str], b: tuple[str, str],
                  orientations, max_spacing: int, alphabet) -> pd.DataFrame:
    """Rows for one pair ``a = (name, consensus)``, ``b``: every orientation and spacing."""
    base = score(X)
    rows = []
    for orientation in orientations:  # one model pass per orientation: every arrangement
        sa = a[1] if orientation[0] == "+" else reverse_complement(a[1])
        sb = b[1] if orientation[1] == "+" else reverse_complement(b[1])
        spacings = pair_spacings(len(sa), len(sb), max_spacing, X.shape[1])
        edited = []
        for s in spacings:
            pa, pb = arrangement_starts([len(sa), len(sb)], [s], X.shape[1])
            edited += [_placed(X, [(sa, pa), (sb, pb)], alphabet),
                       _placed(X, [(sa, pa)], alphabet), _placed(X, [(sb, pb)], alphabet)]
        scored = score.many(edited) if edited else []
        for k, s in enumerate(spacings):
            pair, only_a, only_b = scored[3 * k:3 * k + 3]
            coop = pair - only_a - only_b + base
            mean, _, lo, hi = mean_ci(coop)
            rows.append(dict(motif_a=a[0], motif_b=b[0], orientation=orientation, spacing=s,
                             n=len(X), effect_pair=float((pair - base).mean()),
                             effect_a=float((only_a - base).mean()),
                             effect_b=float((only_b - base).mean()),
                             cooperativity=mean, ci_low=lo, ci_high=hi, p=_z_p(coop)[1]))
    return pd.DataFrame(rows)


def helical_share(spacings: np.ndarray, values: np.ndarray, n_permutations: int = 1000,
                  rng: np.random.Generator | None = None) -> tuple[float, float]:
    """The share of a curve's spectral power at periods 10–11 among periods 2 … half its
    span (a periodogram evaluated on a grid of periods, the curve centred), and the share's
    permutation p-value (values shuffled over the same spacings)."""
    spacings = np.asarray(spacings, np.float64)
    values = np.asarray(values, np.float64)
    if len(values) < 12:
        return np.nan, np.nan
    periods = np.arange(2.0, max(3.0, (spacings.max() - spacings.min()) / 2) + 0.25, 0.25)
    basis = np.exp(2j * np.pi * spacings[None, :] / periods[:, None])  # (periods, n)
    helical = (periods >= HELICAL[0]) & (periods <= HELICAL[1])

    def share(curves: np.ndarray) -> np.ndarray:  # (k, n) → (k,)
        centred = curves - curves.mean(axis=1, keepdims=True)
        power = np.abs(centred @ basis.T) ** 2
        total = power.sum(axis=1)
        return np.where(total > 0, power[:, helical].sum(axis=1) / np.where(total > 0, total, 1),
                        0.0)

    observed = float(share(values[None])[0])
    rng = rng or np.random.default_rng(0)
    null = share(np.array([rng.permutation(values) for _ in range(n_permutations)]))
    return observed, float((1 + (null >= observed).sum()) / (1 + n_permutations))


def grammar_table(spacing: pd.DataFrame, nucleic: bool, rng: np.random.Generator
                  ) -> pd.DataFrame:
    rows = []
    for (a, b), rows_ab in spacing.groupby(["motif_a", "motif_b"], sort=False):
        best = rows_ab.loc[rows_ab["cooperativity"].idxmax()]
        row = dict(motif_a=a, motif_b=b, orientation=best["orientation"],
                   spacing=int(best["spacing"]), cooperativity=best["cooperativity"],
                   ci_low=best["ci_low"], ci_high=best["ci_high"], q=best["q"])
        if nucleic:
            curve = rows_ab[(rows_ab["orientation"] == best["orientation"])
                            & (rows_ab["spacing"] > 0)]
            row["helical_share"], row["helical_p"] = helical_share(
                curve["spacing"].to_numpy(), curve["cooperativity"].to_numpy(), rng=rng)
        rows.append(row)
    return pd.DataFrame(rows)


def dosage_table(score: _Scorer, X: np.ndarray, motifs: dict[str, str], copies, alphabet
                 ) -> pd.DataFrame:
    base = score(X)
    rows = []
    for name, seq in motifs.items():
        fits = [c for c in copies if c * len(seq) <= X.shape[1]]
        edited = [_placed(X, [(seq, s) for s in dosage_starts(len(seq), c, X.shape[1])],
                          alphabet) for c in fits]
        for c, y in zip(fits, score.many(edited)):
            effect, _, lo, hi = mean_ci(y - base)
            rows.append(dict(motif=name, copies=c, n=len(X), effect=effect, ci_low=lo,
                             ci_high=hi))
    return pd.DataFrame(rows)


def run_grammar(model, X: np.ndarray, motifs: dict[str, np.ndarray], *, target=None,
                output: str = "logit", top: int = 3, max_spacing: int = 30,
                copies=(1, 2, 3, 4), min_effect: float = 0.5, batch_size: int = 256,
                seed: int = 0) -> GrammarResult:
    """Marginal effects of every motif, spacing and orientation of every pair among the
    ``top`` motifs of largest effect over their controls, and dosage — as the module docstring says.

    Parameters
    ----------
    model : a model folder, Keras file, Keras model or ModelBundle.
    X : backgrounds, one-hot shape=(n, length, C), n ≥ 2.
    motifs : name → PFM (width, C); each is put in as its consensus.
    target, output, batch_size : as :func:`sx.predict` (``target=None``: the first column or
        output, as ``sx.attribute``).
    top : pairs among the ``top`` motifs with the largest ``|effect − control_effect|`` (either
        strand), significant or not: motifs that act only together have no marginal effect.
    max_spacing : spacings −max … +max (start to start).
    copies : copy numbers for dosage.
    min_effect : the smallest ``|effect − control_effect|`` called significant.
    seed : seeds the shuffled controls and the permutation tests.
    """
    from .bundle import load_model

    bundle = load_model(model)
    X = bundle.onehot_input(X)
    if len(X) < 2:
        raise SeqexplainError("grammar: give at least 2 backgrounds")
    if not motifs:
        raise SeqexplainError("grammar: no motifs")
    alphabet = bundle.alphabet
    letters = "".join(alphabet.letters)
    for name, pfm in motifs.items():
        if np.asarray(pfm).shape[1] != alphabet.channels:
            raise SeqexplainError(f"motif {name}: {np.asarray(pfm).shape[1]} letters; the "
                                  f"model takes {alphabet.name} ({alphabet.channels})")
    if target is None:
        target = default_target(bundle)
    score = _Scorer(bundle, target, output, batch_size)
    rng = np.random.default_rng(seed)
    seqs = {name: consensus(pfm, letters) for name, pfm in motifs.items()}
    strands = ("+", "-") if alphabet.is_nucleic else ("+",)
    marginal = marginal_table(score, X, seqs, strands, alphabet, rng, min_effect)
    # Pairs among the motifs of largest effect over their controls, significant or not: a motif
    # that acts only beside another (an AND of two sites) has no marginal effect of its own,
    # and asking for one would hide exactly the pairs that cooperate.
    size = (marginal["effect"] - marginal["control_effect"]).abs()
    best = size.groupby(marginal["motif"]).max().sort_values(ascending=False, kind="stable")
    chosen = list(best.index[:top])
    orientations = ORIENTATIONS if alphabet.is_nucleic else ("++",)
    spacing = pd.concat([spacing_table(score, X, (a, seqs[a]), (b, seqs[b]), orientations,
                                       max_spacing, alphabet)
                         for a, b in itertools.combinations(chosen, 2)] or
                        [pd.DataFrame(columns=["motif_a", "motif_b", "orientation", "spacing",
                                               "n", "effect_pair", "effect_a", "effect_b",
                                               "cooperativity", "ci_low", "ci_high", "p"])],
                        ignore_index=True)
    spacing["q"] = _q(spacing["p"].astype(float))
    grammar = grammar_table(spacing, alphabet.is_nucleic, rng) if len(spacing) else \
        pd.DataFrame(columns=["motif_a", "motif_b", "orientation", "spacing",
                              "cooperativity", "ci_low", "ci_high", "q"])
    dosage = dosage_table(score, X, {m: seqs[m] for m in (chosen or list(seqs)[:top])}, copies,
                          alphabet)
    return GrammarResult(marginal, spacing, grammar, dosage)


def write_grammar(result: GrammarResult, folder: Path, dpi: int = 150) -> None:
    """``marginal.tsv``, ``spacing.tsv``, ``grammar.tsv``, ``dosage.tsv`` and the figures
    ``marginal.png`` (forest plot), ``spacing.png`` (a panel per pair, a line per
    orientation) and ``dosage.png`` into ``folder``."""
    from .plots import plot_dosage, plot_marginal, plot_spacing

    folder = Path(folder)
    for name in ("marginal", "spacing", "grammar", "dosage"):
        getattr(result, name).to_csv(folder / f"{name}.tsv", sep="\t", index=False,
                                     float_format="%.6g")
    plot_marginal(result.marginal).savefig(folder / "marginal.png", dpi=dpi)
    if len(result.spacing):
        plot_spacing(result.spacing).savefig(folder / "spacing.png", dpi=dpi)
    if len(result.dosage):
        plot_dosage(result.dosage).savefig(folder / "dosage.png", dpi=dpi)
    import matplotlib.pyplot as plt

    plt.close("all")


def summary_line(out, result: GrammarResult) -> str:
    sig = result.marginal[result.marginal["significant"]]
    text = (f"{out}: {result.marginal['motif'].nunique()} motifs, "
            f"{sig['motif'].nunique()} with a significant effect")
    if len(result.grammar):
        g = result.grammar.loc[result.grammar["cooperativity"].idxmax()]
        text += (f"; most cooperative pair {g['motif_a']}+{g['motif_b']} "
                 f"{g['orientation']} at {g['spacing']} bp "
                 f"({g['cooperativity']:.2f}, CI {g['ci_low']:.2f}–{g['ci_high']:.2f})")
    return text


def read_motif_spec(spec: str) -> dict[str, np.ndarray]:
    """``name → PFM`` from a MEME/JASPAR file, a ``motifs/`` folder written by ``explain
    --motifs`` or ``seqexplain motifs`` (its ``motifs.meme``; a motif is named by its id and
    best match, e.g. ``pos_1 (CTCF)``), or comma-separated JASPAR ids or names (the JASPAR
    CORE bundled with pyjaspar: no network)."""
    from .motif_io import read_motifs

    path = Path(spec)
    if path.is_dir():
        meme = path / "motifs.meme"
        if not meme.is_file():
            raise SeqexplainError(f"{path}: not a motifs folder (no motifs.meme; write one with "
                                  "seqexplain explain --motifs or seqexplain motifs)")
        found = read_motifs(meme)
    elif path.is_file():
        found = read_motifs(path)
    else:
        from .annotate import jaspar_motifs

        tokens = [t.strip() for t in spec.split(",") if t.strip()]
        if not tokens:
            raise SeqexplainError(f"--motifs {spec!r}: no motif file, folder or JASPAR id")
        known = jaspar_motifs()
        found = []
        for token in tokens:
            key = token.casefold()
            hits = [m for m in known if m.id.casefold() == key
                    or m.id.casefold().split(".")[0] == key or m.name.casefold() == key]
            if not hits:
                raise SeqexplainError(f"--motifs {token!r}: no such file or folder, and no "
                                      f"JASPAR CORE motif of that id or name")
            found.append(hits[0])
    names: dict[str, np.ndarray] = {}
    for m in found:
        name = m.name or m.id
        if path.is_dir() and name != m.id:  # found motifs: their id links to motifs.tsv
            name = f"{m.id} ({name})"
        names[name if name not in names else f"{name}_{m.id}"] = np.asarray(m.pfm)
    if not names:
        raise SeqexplainError(f"{spec}: holds no motifs")
    return names


#: where the backgrounds of ``grammar_files`` come from
BACKGROUNDS = ("shuffle", "gc-matched", "low-scoring")


def grammar_files(model, fasta=None, motifs: str = "", out=None, *, regions=None, genome=None,
                  off_edge: str = "pad", background: str = "shuffle", force: bool = False,
                  target=None, top: int = 3, max_spacing: int = 30, n_backgrounds: int = 100,
                  min_effect: float = 0.5, batch_size: int = 256, seed: int = 0,
                  alphabet: str | None = None) -> GrammarResult:
    """What ``seqexplain grammar`` does: the inputs (a FASTA file, or ``regions`` of
    ``genome``), ``n_backgrounds`` backgrounds made from them, :func:`run_grammar` with the
    motifs of ``motifs`` (see :func:`read_motif_spec`), and the tables and figures written to
    the folder ``out`` (:func:`write_grammar`), atomically.

    ``background``: ``"shuffle"`` (default) — dinucleotide shuffles of the inputs: their
    composition, none of their motifs; ``"gc-matched"`` — genome windows with the GC
    distribution of the ``regions``, overlapping none of them (needs regions); ``"low-scoring"``
    — the inputs the model scores lowest (at most half of them): real sequence the model reads
    as neutral. Never uniform random DNA, whose GC content alone moves many models."""
    from ._tf import import_tensorflow
    from .genome import gc_matched_background, sequence_inputs
    from .outputs import atomic_dir, check_writable

    check_writable(out, force, kind="folder")
    if background not in BACKGROUNDS:
        raise SeqexplainError(f"background {background!r}: choose one of "
                              f"{', '.join(BACKGROUNDS)}")
    if background == "gc-matched" and not regions:
        raise SeqexplainError("gc-matched backgrounds are genome windows like the inputs: give "
                              "--regions and --genome")
    pfms = read_motif_spec(motifs)
    import_tensorflow()
    from .bundle import load_model
    from .experiments import low_scoring_backgrounds, shuffled_backgrounds
    from .fasta import read_fasta

    bundle = load_model(model, alphabet)
    found = sequence_inputs([fasta] if fasta else [], [regions] if regions else [], genome,
                            length=bundle.length, off_edge=off_edge, many=False)
    source = found.sources[0]

    def encode(src):
        records = read_fasta(src)
        return bundle.encode(list(records.sequences), ids=list(records.ids),
                             source=str(getattr(src, "name", src))).onehot

    X = encode(source)
    if background == "shuffle":
        backgrounds = shuffled_backgrounds(X, n_backgrounds, random_state=seed)
    elif background == "low-scoring":
        backgrounds = low_scoring_backgrounds(bundle, X, n_backgrounds, target=target,
                                              batch_size=batch_size)
    else:
        backgrounds = encode(gc_matched_background(source, n=n_backgrounds, seed=seed))
    result = run_grammar(bundle, backgrounds, pfms, target=target, top=top,
                         max_spacing=max_spacing, min_effect=min_effect,
                         batch_size=batch_size, seed=seed)
    with atomic_dir(out, force=force) as tmp:
        write_grammar(result, tmp)
    return result
