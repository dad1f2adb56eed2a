"""Sequence design: the fewest edits that make a model say what you ask, each edit explained by
the motif instance it makes or breaks.

:func:`design` edits a batch of sequences towards a **goal** on one model or several:

=====================  ==========================================================  ==========
goal                   the quantity ``q`` (per model)                               better
=====================  ==========================================================  ==========
``"max"``              the target's output                                          higher
``"min"``              the target's output                                          lower
``"value:V"``          the target's output                                          closer to V
``"specific:A>B"``     output of target A − output of target B                      higher
=====================  ==========================================================  ==========

Several models (a list: folds, an ensemble) are combined as their mean (``ensemble="mean"``:
the goal on the mean of ``q``) or their worst (``ensemble="min"``: the smallest per-model
objective, a design that every model agrees on). A goal is **met** when ``threshold`` is
reached (``max``/``specific``: ``score ≥ threshold``; ``min``: ``score ≤ threshold``;
``value``: ``|score − V| ≤ tolerance``); a ``max``/``min``/``specific`` goal without a
threshold is met at a local optimum (no allowed substitution improves it). A sequence that
does not get there within ``max_edits`` is reported (``status``), never silently.

Methods:

- ``"greedy"`` (in-silico evolution): each round scores every single substitution of every
  sequence with one in-silico mutagenesis pass (fast ISM,
  :func:`~seqexplain.attribution.methods.ism_targets`: the mutants' predictions, each
  recomputed only inside its receptive field) and takes the best allowed one; ``beam=k`` keeps
  the ``k`` best sequences per input each round (beam search). A position is edited at most
  once, so the number of edits is the Hamming distance to the input.
- ``"ledidi"``: a relaxation in TensorFlow (after ledidi, Schreiber et al.): a weight per
  position and letter, sequences drawn from it by a straight-through Gumbel-softmax, the loss
  ``−objective + λ × edits`` (for ``value:V``, ``(score − V)² + λ × edits``) minimised by
  Adam with early stopping; then edits are pruned
  greedily (each reverted while its reversal costs less than ``prune``), the constraints
  enforced by reverting the cheapest edits that break them, and the design polished by an
  exact local search on the same loss (each round one fast-ISM pass proposes every single
  move, every revert-plus-move pair and every two-reverts-plus-move swap; the best that
  lowers the loss when predicted exactly is taken). ``restarts`` runs several relaxations
  of each sequence in one batch and keeps the design with the lowest exact loss.
- ``"motif"``: writes a motif (a string, a PWM, a one-hot array or a JASPAR id/name) over the
  best position and strand, ``copies`` times (copies never overlap).

Constraints are enforced exactly, never as penalties: an edit that breaks one is never made.

- ``mask``: positions that must not change — ``"0-10,50-60"`` (0-based, half-open), a list of
  ``(start, end)``, a boolean array (length,) or (n, length) (True: protected); lowercase
  letters of string input are protected too;
- ``max_edits``: substituted positions per sequence;
- ``forbidden``: IUPAC strings (e.g. a restriction site ``GAATTC``), both strands: an edit that
  creates a match not there before is skipped;
- ``gc``: ``(low, high)`` GC fraction; an edit that leaves it (or, for a sequence that starts
  outside, moves it farther away) is skipped.

With ``motifs`` (PFMs: a MEME/JASPAR file, JASPAR ids, or a dict name → PFM), every edit is
linked to the motif instance it creates or breaks, as variants are
(:func:`~seqexplain.motifs.scan.allele_motif_effects`).
"""

from __future__ import annotations

import numbers
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import OptionError, SeqexplainError

#: kinds of goal
GOALS = ("max", "min", "value", "specific")
#: design methods
DESIGN_METHODS = ("greedy", "motif", "ledidi")
#: how several models are combined
ENSEMBLES = ("mean", "min")
#: why a sequence's design stopped
STATUSES = ("met", "optimum", "max_edits", "copies", "blocked")
#: columns of :attr:`Design.edits`
EDIT_COLUMNS = ("id", "round", "position", "ref", "alt", "score_before", "score_after",
                "motif_created", "motif_broken")
#: columns of :attr:`Design.trajectory`
TRAJECTORY_COLUMNS = ("id", "edits", "score", "objective")


@dataclass(frozen=True)
class Goal:
    """A parsed goal: ``kind`` (one of :data:`GOALS`), ``value`` (V of ``value:V``) and the
    two target specs of ``specific:A>B`` (``high``, ``low``)."""

    kind: str
    value: float | None = None
    high: str | None = None
    low: str | None = None

    def __str__(self) -> str:
        if self.kind == "value":
            return f"value:{self.value:g}"
        if self.kind == "specific":
            return f"specific:{self.high}>{self.low}"
        return self.kind


def parse_goal(spec) -> Goal:
    """``"max"``, ``"min"``, ``"value:V"`` or ``"specific:A>B"`` (A, B target specs: an index,
    an output or class name, ``counts:0`` …) → :class:`Goal`; a :class:`Goal` as it is.

    Raises :class:`~seqexplain.errors.OptionError` (one line) for anything else."""
    if isinstance(spec, Goal):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise OptionError(f"goal {spec!r}: use max, min, value:V or specific:A>B", "--goal")
    text = spec.strip()
    kind, _, rest = text.partition(":")
    kind = kind.strip().lower()
    if kind in ("max", "min"):
        if rest:
            raise OptionError(f"goal {spec!r}: {kind} takes no argument (a bar to reach is "
                              "--threshold)", "--goal")
        return Goal(kind)
    if kind == "value":
        try:
            value = float(rest)
        except ValueError:
            value = None
        if value is None or not np.isfinite(value):
            raise OptionError(f"goal {spec!r}: value:V needs a number V, e.g. value:0.5",
                              "--goal")
        return Goal("value", value=value)
    if kind == "specific":
        high, sep, low = rest.partition(">")
        if not sep or not high.strip() or not low.strip():
            raise OptionError(f"goal {spec!r}: specific:A>B needs two targets, e.g. "
                              "specific:0>1", "--goal")
        if high.strip() == low.strip():
            raise OptionError(f"goal {spec!r}: A and B are the same target", "--goal")
        return Goal("specific", high=high.strip(), low=low.strip())
    raise OptionError(f"goal {spec!r}: use max, min, value:V or specific:A>B", "--goal")


@dataclass(frozen=True)
class Design:
    """What :func:`design` returns.

    Attributes
    ----------
    X : designed one-hot sequences, shape=(n, length, C).
    original : the input, one-hot, shape=(n, length, C).
    ids : one name per sequence (``seq0``, … unless given).
    score_before, score_after : the combined score of every sequence before and after, (n,).
    met : whether the goal is met, bool (n,).
    status : why design stopped, one of :data:`STATUSES` per sequence: ``met``, ``optimum``
        (no allowed edit improves; ledidi: the relaxation stopped improving), ``max_edits``
        (edits used up), ``copies`` (method motif:
        every copy written), ``blocked`` (no allowed edit left).
    edits : one row per edit (:data:`EDIT_COLUMNS`; ``position`` 0-based; for a motif
        insertion ``position`` is its start and ``ref``/``alt`` the replaced and written
        letters).
    trajectory : score and objective after 0, 1, … edits per sequence
        (:data:`TRAJECTORY_COLUMNS`).
    goal, letters : the goal and the alphabet's letters.
    """

    X: np.ndarray
    original: np.ndarray
    ids: list[str]
    score_before: np.ndarray
    score_after: np.ndarray
    met: np.ndarray
    status: np.ndarray
    edits: pd.DataFrame
    trajectory: pd.DataFrame
    goal: Goal
    letters: str
    threshold: float | None = None
    settings: dict = field(default_factory=dict)

    @property
    def sequences(self) -> list[str]:
        """The designed sequences as strings (``N`` for all-zero rows)."""
        return _decode(self.X, self.letters)

    @property
    def n_edits(self) -> np.ndarray:
        """Substituted positions per sequence, (n,)."""
        return (np.abs(self.X - self.original).sum(axis=-1) > 0).sum(axis=1)

    def summary(self) -> str:
        """One line: the goal, how many sequences got there (or why not), edits and scores."""
        n = len(self.X)
        labels = dict(met="met it", optimum="at a local optimum", max_edits="out of edits",
                      copies="with every copy written", blocked="with no allowed edit left")
        counts = pd.Series(self.status).value_counts()
        parts = [f"{counts[k]} {labels[k]}" for k in STATUSES if k in counts and k != "met"]
        bar = "" if self.threshold is None else f" ≥ {self.threshold:g}" \
            if self.goal.kind != "min" else f" ≤ {self.threshold:g}"
        return (f"{n} sequences, goal {self.goal}{bar}: {int(self.met.sum())} met it"
                f"{' (' + ', '.join(parts) + ')' if parts else ''}; median "
                f"{float(np.median(self.n_edits)) if n else 0:g} edits, score "
                f"{_median(self.score_before):.4g} → {_median(self.score_after):.4g}")


def _median(a) -> float:
    return float(np.median(a)) if len(a) else float("nan")


def _decode(X: np.ndarray, letters: str) -> list[str]:
    table = np.frombuffer(("N" + letters).encode(), np.uint8)
    idx = np.where(X.max(axis=-1) > 0, X.argmax(axis=-1) + 1, 0)
    return [table[row].tobytes().decode() for row in idx]


# -- constraints --------------------------------------------------------------------------------
def parse_ranges(text: str, length: int) -> list[tuple[int, int]]:
    """``"0-10,50-60"`` → ``[(0, 10), (50, 60)]`` (0-based, half-open; ``"7"`` is ``7-8``),
    each inside ``0 … length``."""
    out = []
    for token in str(text).split(","):
        token = token.strip()
        if not token:
            continue
        m = re.fullmatch(r"(\d+)(?:\s*-\s*(\d+))?", token)
        if not m:
            raise OptionError(f"mask {text!r}: {token!r} is not START-END (0-based, "
                              "half-open) or a position", "--mask")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) is not None else lo + 1
        if not lo < hi <= length:
            raise OptionError(f"mask {text!r}: {token!r} is not a range inside the "
                              f"{length}-long sequences (start < end ≤ {length})", "--mask")
        out.append((lo, hi))
    if not out:
        raise OptionError(f"mask {text!r}: no ranges", "--mask")
    return out


def mask_array(mask, n: int, length: int) -> np.ndarray:
    """Any form of ``mask`` (see the module docstring) as bool (n, length), True where a
    position must not change."""
    out = np.zeros((n, length), bool)
    if mask is None:
        return out
    if isinstance(mask, str):
        for lo, hi in parse_ranges(mask, length):
            out[:, lo:hi] = True
        return out
    array = np.asarray(mask, dtype=object) if not isinstance(mask, np.ndarray) else mask
    if isinstance(mask, np.ndarray) and mask.dtype == bool:
        if mask.shape == (length,):
            return np.broadcast_to(mask, (n, length)).copy()
        if mask.shape == (n, length):
            return mask.copy()
        raise OptionError(f"mask: boolean array of shape {mask.shape}; expected ({length},) "
                          f"or ({n}, {length})", "--mask")
    try:
        pairs = [(int(a), int(b)) for a, b in array.tolist()]
    except (TypeError, ValueError):
        raise OptionError("mask: expected 'START-END,…', a list of (start, end) or a boolean "
                          "array", "--mask") from None
    for lo, hi in pairs:
        if not 0 <= lo < hi <= length:
            raise OptionError(f"mask: range ({lo}, {hi}) is not inside the {length}-long "
                              "sequences", "--mask")
        out[:, lo:hi] = True
    return out


def _check_gc(gc) -> tuple[float, float] | None:
    if gc is None:
        return None
    if isinstance(gc, str):
        m = re.fullmatch(r"\s*([0-9.]+)\s*[-,:]\s*([0-9.]+)\s*", gc)
        gc = (m.group(1), m.group(2)) if m else ()
    try:
        low, high = (float(v) for v in gc)
    except (TypeError, ValueError):
        raise OptionError(f"gc {gc!r}: expected LOW-HIGH fractions, e.g. 0.4-0.6",
                          "--gc") from None
    if not 0 <= low <= high <= 1:
        raise OptionError(f"gc {gc!r}: expected 0 ≤ LOW ≤ HIGH ≤ 1", "--gc")
    return low, high


def forbidden_patterns(forbidden, alphabet) -> list[np.ndarray]:
    """IUPAC strings → allowed-letter matrices (w, C) of 0/1, each string and (for DNA/RNA)
    its reverse complement."""
    from .encoding import one_hot

    if isinstance(forbidden, str):
        forbidden = [t for t in re.split(r"[,\s]+", forbidden) if t]
    out = []
    letters = set(alphabet.accepted_letters().upper())
    for site in forbidden:
        if not isinstance(site, str) or not site or not set(site.upper()) <= letters:
            raise OptionError(f"forbidden site {site!r}: use {alphabet.name} letters "
                              "(IUPAC codes for DNA/RNA)", "--forbid")
        rows = (one_hot([site.upper()], alphabet, unknown="uniform")[0] > 0).astype(np.int8)
        out.append(rows)
        if alphabet.is_nucleic:
            rc = rows[::-1, ::-1].copy()
            if not np.array_equal(rc, rows):
                out.append(rc)
    return out


def _window_matches(X: np.ndarray, pattern: np.ndarray) -> np.ndarray:
    """Per window start, how many of the pattern's positions ``X`` matches: (n, L − w + 1)."""
    w = len(pattern)
    if w > X.shape[1]:
        return np.zeros((len(X), 0), np.int32)
    windows = np.lib.stride_tricks.sliding_window_view(X, w, axis=1)  # (n, S, C, w)
    return np.einsum("nscw,wc->ns", (windows > 0.5).astype(np.int8), pattern,
                     dtype=np.int32)


def creates_sites(before: np.ndarray, after: np.ndarray, patterns: list[np.ndarray]
                  ) -> np.ndarray:
    """bool (n,): whether ``after`` has a match of a pattern at a place ``before`` has none."""
    out = np.zeros(len(after), bool)
    for p in patterns:
        w = len(p)
        out |= ((_window_matches(after, p) == w) & (_window_matches(before, p) < w)).any(axis=1)
    return out


def substitutions_creating(X: np.ndarray, patterns: list[np.ndarray]) -> np.ndarray:
    """bool (n, L, C): whether setting position l to letter c creates a match of a pattern
    that is not there now (a window one letter short of matching, the missing one at l)."""
    n, length, channels = X.shape
    out = np.zeros((n, length, channels), bool)
    hot = X > 0.5
    for p in patterns:
        w = len(p)
        matches = _window_matches(X, p)                      # (n, S)
        seq, start = np.nonzero(matches == w - 1)
        if not len(seq):
            continue
        # the one position of each near-miss window that does not match
        window = hot[seq[:, None], start[:, None] + np.arange(w)[None, :]]  # (k, w, C)
        ok = (window & (p[None] > 0)).any(axis=2)            # (k, w)
        j = (~ok).argmax(axis=1)
        pos = start + j
        for c in range(channels):
            fits = p[j, c] > 0
            out[seq[fits], pos[fits], c] = True
    return out


def _gc_counts(X: np.ndarray, letters: str) -> np.ndarray | None:
    gc = [i for i, c in enumerate(letters) if c in "CG"]
    if len(gc) != 2:
        return None
    return X[..., gc].sum(axis=(-1, -2))


# -- scoring ------------------------------------------------------------------------------------
class _Scorer:
    """The goal's score and objective (higher is better) of sequences, and of all their
    single substitutions, on one model or several."""

    def __init__(self, bundles, goal: Goal, target, output: str, batch_size: int,
                 ensemble: str):
        self.bundles, self.goal, self.output = bundles, goal, output
        self.batch_size, self.ensemble = batch_size, ensemble
        if goal.kind == "specific":
            specs = [goal.high, goal.low]
            if target is not None:
                raise OptionError("target= and a specific:A>B goal: the goal names its "
                                  "targets", "--target")
        else:
            specs = [target]
        self.specs, self.targets = [], []
        for bundle in bundles:
            resolved = []
            for s in specs:
                found = bundle.targets(_as_spec(s))
                if len(found) != 1:
                    raise OptionError(f"target {s!r} names {len(found)} targets; design "
                                      "needs one", "--target")
                resolved.append(found[0])
            self.targets.append(resolved)
            # the resolved name reads the same target in sx.predict (None: the default)
            self.specs.append([t.name for t in resolved])
        # a sigmoid output is read as logits and squashed in float64: float32 probabilities
        # saturate at 1 (every mutant of a strong site ties), float64 ones tell them apart
        self.reads = [self._read(b) for b in bundles]

    def _read(self, bundle) -> tuple[str, bool]:
        if self.output != "prob" or not bundle.single_output:
            return self.output, False
        from .attribution.logits import final_squashing

        if final_squashing(bundle.model) == "sigmoid":
            return "logit", True
        return self.output, False

    @staticmethod
    def _squash(values, sigmoid: bool):
        return 1.0 / (1.0 + np.exp(-values)) if sigmoid else values

    def _combine(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-model quantities (models, …) → (score, objective), each (…)."""
        if self.ensemble == "mean":
            score = q.mean(axis=0)
            return score, self._objective(score)
        per_model = self._objective(q)
        worst = per_model.argmin(axis=0)
        return np.take_along_axis(q, worst[None], 0)[0], per_model.min(axis=0)

    def _objective(self, q: np.ndarray) -> np.ndarray:
        g = self.goal
        if g.kind == "min":
            return -q
        if g.kind == "value":
            return -np.abs(q - g.value)
        return q

    def _quantity(self, values: list[np.ndarray]) -> np.ndarray:
        return values[0] - values[1] if self.goal.kind == "specific" else values[0]

    def score(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(score, objective) of ``X`` (m, L, C), float64 (m,)."""
        from .prediction import predict

        q = []
        for bundle, specs, (read, sigmoid) in zip(self.bundles, self.specs, self.reads):
            y = predict(bundle, X, target=list(specs), output=read, batch_size=self.batch_size)
            y = self._squash(np.asarray(y, np.float64).reshape(len(X), len(specs)), sigmoid)
            q.append(self._quantity([y[:, k] for k in range(len(specs))]))
        return self._combine(np.stack(q))

    def substitutions(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(score, objective) of every single substitution of ``X``, (m, L, C) each: one
        ISM pass per model (the wild type plus each mutant's change)."""
        from .attribution.methods import ism_targets
        from .prediction import predict

        q = []
        for bundle, specs, targets, (read, sigmoid) in zip(self.bundles, self.specs,
                                                           self.targets, self.reads):
            wild = np.asarray(predict(bundle, X, target=list(specs), output=read,
                                      batch_size=self.batch_size), np.float64)
            wild = wild.reshape(len(X), len(specs))
            deltas = ism_targets(bundle.model, X, targets, max(self.batch_size, 256),
                                 output=read)
            values = [self._squash(wild[:, k, None, None] + d.astype(np.float64), sigmoid)
                      for k, d in enumerate(deltas)]
            q.append(self._quantity(values))
        return self._combine(np.stack(q))


def _as_spec(s):
    if isinstance(s, str) and re.fullmatch(r"\d+", s.strip()):
        return int(s)
    return s


def _met(goal: Goal, score: np.ndarray, threshold, tolerance: float) -> np.ndarray:
    if goal.kind == "value":
        return np.abs(score - goal.value) <= tolerance
    if threshold is None:
        return np.zeros(score.shape, bool)
    return score <= threshold if goal.kind == "min" else score >= threshold


# -- the verb -----------------------------------------------------------------------------------
def design(model, X, goal="max", *, method: str = "greedy", max_edits: int | None = None,
           mask=None, target=None, forbidden=(), gc=None, beam: int = 1,
           threshold: float | None = None, tolerance: float = 0.01, output: str = "prob",
           ensemble: str = "mean", motif=None, copies: int = 1, ledidi: dict | None = None,
           motifs=None, ids=None,
           batch_size: int = 256, random_state=0, alphabet: str | None = None) -> Design:
    """Edit ``X`` towards ``goal`` (see the module docstring).

    Parameters
    ----------
    model : a Keras model, ``.keras``/``.h5`` file, model folder or ModelBundle; or a list of
        them (an ensemble, combined by ``ensemble``). They must take the same input.
    X : one-hot, shape=(n, length, C) (or (length, C)); or a string or list of strings
        (lowercase letters are protected, as ``mask``).
    goal : ``"max"``, ``"min"``, ``"value:V"``, ``"specific:A>B"`` or a :class:`Goal`.
    method : ``"greedy"``, ``"motif"`` or ``"ledidi"``.
    max_edits : most substituted positions per sequence; default 10 for greedy, unlimited
        for motif and ledidi (whose edit penalty sets the number).
    mask : protected positions: ``"START-END,…"``, a list of (start, end), or a boolean
        array (length,) or (n, length).
    target : the target spec of max/min/value (as ``sx.predict``; default the first).
    forbidden : IUPAC sites (a list, or one string separated by commas) never to create.
    gc : ``(low, high)`` GC fraction (or ``"0.4-0.6"``).
    beam : sequences kept per input each greedy round (1: plain greedy).
    threshold : the bar of max/min/specific (met when reached; design stops there).
    tolerance : how close to V a ``value:V`` goal must get.
    output : ``"prob"`` (the model's outputs as given) or ``"logit"``.
    ensemble : ``"mean"`` or ``"min"`` for several models.
    motif : what ``method="motif"`` writes: a string of the alphabet's letters, a one-hot
        array or PWM (L_m, C) (a PWM gives each sequence its own seeded draw), or a JASPAR id
        or name (its consensus).
    copies : how many copies ``method="motif"`` writes (each at the best place left).
    ledidi : settings of ``method="ledidi"`` over :data:`LEDIDI_DEFAULTS`: ``penalty`` (λ,
        objective units per edit), ``tau`` (Gumbel-softmax temperature), ``samples`` (draws
        per sequence and step), ``max_iter``, ``patience`` (steps without improvement before
        a sequence stops), ``learning_rate`` (Adam), ``prune`` (an edit whose reversal costs
        less objective than this is reverted; default ``penalty``: an edit that does not earn
        its penalty goes), ``polish`` (rounds of the exact local search after pruning, 0:
        none; an edit it adds must gain at least ``prune``), ``restarts`` (relaxations per
        sequence, the best design by exact loss kept).
    motifs : PFMs to explain edits with: a dict name → (w, 4), a MEME/JASPAR file, or
        comma-separated JASPAR ids; ``None``: no motif columns filled.
    ids : names of the sequences (default ``seq0``, …).
    batch_size : sequences per model call.
    random_state : seeds tie-breaking among equally good edits and PWM draws.
    alphabet : of a bare Keras model.

    Returns
    -------
    :class:`Design`.
    """
    from .bundle import load_models

    goal = parse_goal(goal)
    if method not in DESIGN_METHODS:
        raise OptionError(f"method={method!r}: choose one of {', '.join(DESIGN_METHODS)}",
                          "--method")
    if ensemble not in ENSEMBLES:
        raise OptionError(f"ensemble={ensemble!r}: choose mean or min", "--ensemble")
    if output not in ("prob", "logit"):
        raise OptionError(f"output={output!r}: choose prob or logit", "--output")
    if max_edits is None:
        max_edits = 10 if method == "greedy" else None
    elif isinstance(max_edits, bool) or not isinstance(max_edits, numbers.Integral) \
            or max_edits < 0:
        raise OptionError(f"max_edits={max_edits!r}: expected an integer ≥ 0", "--max-edits")
    if isinstance(beam, bool) or not isinstance(beam, numbers.Integral) or beam < 1:
        raise OptionError(f"beam={beam!r}: expected an integer ≥ 1", "--beam")
    if threshold is not None and goal.kind == "value":
        raise OptionError("threshold with a value:V goal: use tolerance", "--threshold")
    if not np.isfinite(tolerance) or tolerance < 0:
        raise OptionError(f"tolerance={tolerance!r}: expected a number ≥ 0", "--tolerance")
    gc = _check_gc(gc)
    bundles = load_models(model, alphabet)
    first = bundles[0]
    soft = None
    if isinstance(X, str):
        X = [X]
    if isinstance(X, (list, tuple)) and all(isinstance(s, str) for s in X):
        soft = _soft_mask(first, list(X))
    if isinstance(X, np.ndarray) and X.ndim == 2:
        X = X[None]
    X = first.onehot_input(X).astype(np.float32)
    n, length, _ = X.shape
    protected = mask_array(mask, n, length)
    if soft is not None:
        protected |= soft
    letters = "".join(first.alphabet.letters)
    patterns = forbidden_patterns(forbidden, first.alphabet) if forbidden else []
    if gc is not None and _gc_counts(X[:1], letters) is None:
        raise OptionError("gc: the alphabet has no G and C", "--gc")
    ids = [f"seq{i}" for i in range(n)] if ids is None else [str(i) for i in ids]
    if len(ids) != n:
        raise OptionError(f"ids: {len(ids)} names for {n} sequences", "ids")
    pfms = _motif_pfms(motifs) if motifs is not None else None
    scorer = _Scorer(bundles, goal, target, output, batch_size, ensemble)
    rng = np.random.default_rng(random_state)
    run = _Run(scorer, goal, threshold, tolerance, protected, patterns, gc, letters,
               max_edits, rng)
    if method == "greedy":
        result = run.greedy(X, beam)
    elif method == "ledidi":
        result = run.ledidi(X, ledidi or {}, int(rng.integers(2**31)))
    else:
        if motif is None:
            raise OptionError("method='motif' needs motif= (a string, PWM or JASPAR id)",
                              "--motif")
        if isinstance(copies, bool) or not isinstance(copies, numbers.Integral) or copies < 1:
            raise OptionError(f"copies={copies!r}: expected an integer ≥ 1", "--copies")
        result = run.motif(X, _motif_rows(motif, first.alphabet, n, rng), copies)
    designed, histories, trajectories, status = result
    return _assemble(X, designed, histories, trajectories, status, ids, goal, threshold,
                     tolerance, letters, pfms, scorer,
                     dict(method=method, max_edits=max_edits, beam=beam, output=output,
                          ensemble=ensemble, target=target, threshold=threshold))


def _soft_mask(bundle, seqs: list[str]) -> np.ndarray:
    """Lowercase letters (and padding) of strings as the model reads them: True = keep."""
    letters = bundle.alphabet.letters
    marks = ["".join(letters[0] if ch.islower() else letters[1] for ch in s) for s in seqs]
    enc = bundle.encode(marks).onehot
    return enc[..., 1] < 0.5


def _motif_pfms(motifs) -> dict[str, np.ndarray]:
    if isinstance(motifs, dict):
        return {str(k): np.asarray(v, np.float64) for k, v in motifs.items()}
    from .grammar import read_motif_spec

    return read_motif_spec(str(motifs))


def _motif_rows(motif, alphabet, n: int, rng) -> np.ndarray:
    """What method="motif" writes, per sequence: (n, L_m, C) one-hot."""
    from .edit import motif_rows as rows_of, sample_pwm

    if isinstance(motif, str):
        valid = set(alphabet.accepted_letters().upper())
        if not set(motif.upper()) <= valid:
            from .grammar import consensus, read_motif_spec

            pfm = next(iter(read_motif_spec(motif).values()))
            if pfm.shape[1] != alphabet.channels:
                raise OptionError(f"motif {motif!r}: {pfm.shape[1]} letters; the model takes "
                                  f"{alphabet.channels}", "--motif")
            motif = consensus(pfm, "".join(alphabet.letters))
        rows, is_pwm = rows_of(motif.upper(), alphabet.channels, alphabet)
    else:
        rows, is_pwm = rows_of(motif, alphabet.channels, alphabet)
    rows = np.asarray(rows, np.float32)
    if is_pwm:
        return sample_pwm(rows, n, rng)
    return np.broadcast_to(rows, (n, *rows.shape)).copy()


@dataclass
class _Member:
    """A sequence of the beam: its array, edited positions, edit history, score."""

    origin: int
    x: np.ndarray
    edited: np.ndarray
    history: list
    trajectory: list
    score: float
    objective: float


class _Run:
    def __init__(self, scorer, goal, threshold, tolerance, protected, patterns, gc, letters,
                 max_edits, rng):
        self.scorer, self.goal, self.threshold = scorer, goal, threshold
        self.tolerance, self.protected, self.patterns = tolerance, protected, patterns
        self.gc, self.letters, self.max_edits, self.rng = gc, letters, max_edits, rng

    def met(self, score) -> np.ndarray:
        return _met(self.goal, np.asarray(score), self.threshold, self.tolerance)

    def _gc_ok(self, before: np.ndarray, after: np.ndarray, length: int) -> np.ndarray:
        """Whether GC counts ``after`` are allowed given ``before`` (broadcast)."""
        low, high = self.gc[0] * length, self.gc[1] * length
        dist = lambda g: np.maximum(low - g, 0) + np.maximum(g - high, 0)  # noqa: E731
        d_after = dist(after)
        return (d_after <= 1e-9) | (d_after <= dist(before) + 1e-9)

    def _start(self, X):
        score, objective = self.scorer.score(X)
        return [[_Member(i, X[i].copy(), np.zeros(X.shape[1], bool), [], [(score[i], objective[i])],
                         float(score[i]), float(objective[i]))] for i in range(len(X))]

    def greedy(self, X: np.ndarray, beam: int):
        n, length, channels = X.shape
        beams = self._start(X)
        status = np.array([""] * n, dtype=object)
        for i, members in enumerate(beams):
            if self.met(members[0].score):
                status[i] = "met"
        rnd = 0
        while True:
            active = [i for i in range(n) if not status[i]]
            if not active:
                break
            if self.max_edits is not None and rnd >= self.max_edits:
                for i in active:
                    status[i] = "max_edits"
                break
            rnd += 1
            owners = [(i, k) for i in active for k in range(len(beams[i]))]
            batch = np.stack([beams[i][k].x for i, k in owners])
            score, objective = self.scorer.substitutions(batch)
            allowed = self._allowed_substitutions(batch, [beams[i][k] for i, k in owners])
            # ties broken at random (seeded): a tiny jitter far below any real difference
            jitter = self.rng.random(objective.shape) * 1e-12
            ranked = np.where(allowed, objective + jitter, -np.inf)
            chosen: dict[int, list] = {i: [] for i in active}
            for row, (i, k) in enumerate(owners):
                parent = beams[i][k]
                flat = ranked[row].ravel()
                top = np.argsort(-flat, kind="stable")[:beam]
                for f in top:
                    if not np.isfinite(flat[f]):
                        break
                    p, c = divmod(int(f), channels)
                    chosen[i].append((float(objective[row, p, c]), row, k, p, c))
            new_rows, new_owner = [], []
            for i in active:
                cands = sorted(chosen[i], key=lambda t: -t[0])
                if not cands:
                    status[i] = "blocked"
                    continue
                seen = set()
                picked = []
                for obj, row, k, p, c in cands:
                    parent = beams[i][k]
                    key = (tuple(sorted((h[0], h[2]) for h in parent.history) + [(p, c)]))
                    key = tuple(sorted(key))
                    if key in seen or obj <= parent.objective:
                        continue
                    seen.add(key)
                    picked.append((row, k, p, c))
                    if len(picked) == beam:
                        break
                if not picked:
                    status[i] = "optimum"
                    continue
                for row, k, p, c in picked:
                    x = batch[row].copy()
                    x[p] = 0
                    x[p, c] = 1
                    new_rows.append(x)
                    new_owner.append((i, k, p, c))
            if not new_rows:
                continue
            new_X = np.stack(new_rows)
            exact_score, exact_obj = self.scorer.score(new_X)
            next_beams: dict[int, list] = {}
            for (i, k, p, c), x, s, o in zip(new_owner, new_X, exact_score, exact_obj):
                parent = beams[i][k]
                if o <= parent.objective:  # the mutant's change was within rounding
                    continue
                ref = int(parent.x[p].argmax()) if parent.x[p].max() > 0 else -1
                edited = parent.edited.copy()
                edited[p] = True
                next_beams.setdefault(i, []).append(_Member(
                    i, x, edited, parent.history + [(p, ref, c, parent.score, float(s))],
                    parent.trajectory + [(float(s), float(o))], float(s), float(o)))
            for i in active:
                if status[i]:
                    continue
                members = next_beams.get(i)
                if not members:
                    status[i] = "optimum"
                    continue
                members.sort(key=lambda m: -m.objective)
                beams[i] = members[:beam]
                if self.met(members[0].score):
                    status[i] = "met"
        best = [max(members, key=lambda m: m.objective) for members in beams]
        return self._finish(best, status)

    def _finish(self, best, status):
        designed = np.stack([m.x for m in best])
        met = self.met(np.array([m.score for m in best]))
        if self.goal.kind != "value" and self.threshold is None:
            met = status == "optimum"
        status = np.where(met & (status != "optimum"), "met", status)
        return designed, [m.history for m in best], [m.trajectory for m in best], status

    def _allowed_substitutions(self, batch: np.ndarray, members) -> np.ndarray:
        m, length, channels = batch.shape
        allowed = ~(batch > 0.5)                                    # not the base it has
        edited = np.stack([mem.edited for mem in members])
        keep = edited | np.stack([self.protected[mem.origin] for mem in members])
        allowed &= ~keep[:, :, None]
        if self.max_edits is not None:
            used = edited.sum(axis=1)
            allowed &= (used < self.max_edits)[:, None, None]
        if self.patterns:
            allowed &= ~substitutions_creating(batch, self.patterns)
        if self.gc is not None:
            counts = _gc_counts(batch, self.letters)                  # (m,)
            gc_channel = np.array([ch in "CG" for ch in self.letters], float)
            after = (counts[:, None, None] - (batch @ gc_channel)[:, :, None]
                     + gc_channel[None, None, :])
            allowed &= self._gc_ok(counts[:, None, None], after, length)
        return allowed

    def ledidi(self, X: np.ndarray, settings: dict, seed: int):
        unknown = set(settings) - set(LEDIDI_DEFAULTS)
        if unknown:
            raise OptionError(f"ledidi: unknown setting(s) {', '.join(sorted(unknown))} (use "
                              f"{', '.join(LEDIDI_DEFAULTS)})", "--ledidi")
        options = {**LEDIDI_DEFAULTS, **settings}
        if options["prune"] is None:
            options["prune"] = options["penalty"]
        for key in ("samples", "max_iter", "patience", "restarts"):
            if int(options[key]) < 1:
                raise OptionError(f"ledidi: {key} must be ≥ 1", "--ledidi")
        if int(options["polish"]) < 0:
            raise OptionError("ledidi: polish must be ≥ 0", "--ledidi")
        for key in ("penalty", "prune"):
            if float(options[key]) < 0:
                raise OptionError(f"ledidi: {key} must be ≥ 0", "--ledidi")
        for key in ("tau", "learning_rate"):
            if float(options[key]) <= 0:
                raise OptionError(f"ledidi: {key} must be > 0", "--ledidi")
        # each restart is its own copy of the sequence in one batch; the best design of
        # each sequence by the exact loss is kept
        k = int(options["restarts"])
        starts = np.repeat(X, k, axis=0)
        protected = np.repeat(self.protected, k, axis=0)
        designed = _ledidi_search(self, starts, protected, options, seed)
        designed = _ledidi_finish(self, starts, designed, float(options["prune"]))
        if int(options["polish"]):
            designed = _ledidi_polish(self, starts, protected, designed,
                                      float(options["penalty"]), float(options["prune"]),
                                      int(options["polish"]))
        if k > 1:
            score, _ = self.scorer.score(designed)
            edits = (np.abs(designed - starts).sum(axis=-1) > 0).sum(axis=1)
            loss = _smooth_loss(self.goal, score) + float(options["penalty"]) * edits
            designed = designed[np.arange(len(X)) * k + loss.reshape(-1, k).argmin(axis=1)]
        histories, trajectories = _ordered_history(self, X, designed)
        best = [_Member(i, designed[i], np.zeros(X.shape[1], bool), histories[i],
                        trajectories[i], trajectories[i][-1][0], trajectories[i][-1][1])
                for i in range(len(X))]
        status = np.array(["optimum"] * len(X), dtype=object)
        for i, m in enumerate(best):
            if self.met(m.score) and (self.threshold is not None or self.goal.kind == "value"):
                status[i] = "met"
            elif self.max_edits is not None and len(m.history) >= self.max_edits:
                status[i] = "max_edits"
        return self._finish(best, status)

    def motif(self, X: np.ndarray, rows: np.ndarray, copies: int):
        n, length, channels = X.shape
        width = rows.shape[1]
        if width > length:
            raise OptionError(f"motif: {width} long, the sequences {length}", "--motif")
        nucleic = self.letters in ("ACGT", "ACGU")
        variants = [rows] + ([rows[:, ::-1, ::-1]] if nucleic else [])
        starts = np.arange(length - width + 1)
        members = [m[0] for m in self._start(X)]
        status = np.array([""] * n, dtype=object)
        occupied = np.zeros((n, length), bool)
        for i, mem in enumerate(members):
            if self.met(mem.score):
                status[i] = "met"
        for _copy in range(copies):
            active = [i for i in range(n) if not status[i]]
            if not active:
                break
            cand, owner = [], []
            for i in active:
                for strand, v in enumerate(variants):
                    for s in starts:
                        x = members[i].x.copy()
                        x[s:s + width] = v[i]
                        cand.append(x)
                        owner.append((i, strand, int(s)))
            cand = np.stack(cand)
            ok = np.ones(len(cand), bool)
            parents = np.stack([members[i].x for i, _, _ in owner])
            changed = (np.abs(cand - parents).sum(axis=-1) > 0)          # (k, L)
            prot = np.stack([self.protected[i] | occupied[i] for i, _, _ in owner])
            ok &= ~(changed & prot).any(axis=1)
            ok &= changed.any(axis=1)
            if self.max_edits is not None:
                origin = X[[o[0] for o in owner]]
                ok &= (np.abs(cand - origin).sum(axis=-1) > 0).sum(axis=1) <= self.max_edits
            if self.patterns:
                ok &= ~creates_sites(parents, cand, self.patterns)
            if self.gc is not None:
                ok &= self._gc_ok(_gc_counts(parents, self.letters),
                                  _gc_counts(cand, self.letters), length)
            index = np.flatnonzero(ok)
            score = np.full(len(cand), np.nan)
            objective = np.full(len(cand), -np.inf)
            if len(index):
                score[index], objective[index] = self.scorer.score(cand[index])
            objective = objective + self.rng.random(len(cand)) * 1e-12
            owners = np.array([o[0] for o in owner])
            for i in active:
                rows_i = np.flatnonzero(owners == i)
                j = rows_i[np.argmax(objective[rows_i])]
                if not np.isfinite(objective[j]):
                    status[i] = "blocked"
                    continue
                if objective[j] <= members[i].objective + 1e-12:
                    status[i] = "optimum"
                    continue
                _, strand, s = owner[j]
                parent = members[i]
                ref = _decode(parent.x[None, s:s + width], self.letters)[0]
                alt = _decode(cand[j][None, s:s + width], self.letters)[0]
                occupied[i, s:s + width] = True
                o = float(objective[j])
                members[i] = _Member(i, cand[j], parent.edited | changed[j], parent.history +
                                     [(s, ref, alt, parent.score, float(score[j]))],
                                     parent.trajectory + [(float(score[j]), o)],
                                     float(score[j]), o)
                if self.met(members[i].score):
                    status[i] = "met"
        status[status == ""] = "copies"
        return self._finish(members, status)


def _assemble(X, designed, histories, trajectories, status, ids, goal, threshold, tolerance,
              letters, pfms, scorer, settings) -> Design:
    rows = []
    for i, history in enumerate(histories):
        for r, (p, ref, alt, before, after) in enumerate(history, start=1):
            if isinstance(ref, str):
                ref_l, alt_l = ref, alt
            else:
                ref_l = letters[ref] if ref >= 0 else "N"
                alt_l = letters[alt]
            rows.append(dict(id=ids[i], round=r, position=int(p), ref=ref_l, alt=alt_l,
                             score_before=before, score_after=after, motif_created="",
                             motif_broken=""))
    edits = pd.DataFrame(rows, columns=list(EDIT_COLUMNS))
    if pfms and len(edits):
        _link_motifs(edits, X, histories, letters, pfms)
    traj = pd.DataFrame([dict(id=ids[i], edits=k, score=s, objective=o)
                         for i, t in enumerate(trajectories) for k, (s, o) in enumerate(t)],
                        columns=list(TRAJECTORY_COLUMNS))
    before = np.array([t[0][0] for t in trajectories], np.float64)
    after = np.array([t[-1][0] for t in trajectories], np.float64)
    met = np.asarray(status) == "met"
    if goal.kind != "value" and threshold is None:
        met = np.asarray(status) == "optimum"
    return Design(designed, X, list(ids), before, after, met, np.asarray(status, dtype=str),
                  edits, traj, goal, letters, threshold, settings)


def _link_motifs(edits: pd.DataFrame, X: np.ndarray, histories, letters: str,
                 pfms: dict[str, np.ndarray]) -> None:
    """Fill ``motif_created``/``motif_broken`` of every edit: the PWM instance the edit makes
    or breaks among the windows overlapping it (both strands), as for variants."""
    from .encoding import one_hot
    from .motifs.scan import allele_motif_effects, log_odds

    if len(letters) != 4:
        return
    pwms = [log_odds(p) for p in pfms.values()]
    names = list(pfms)
    before, after, lo, hi = [], [], [], []
    for i, history in enumerate(histories):
        x = X[i].copy()
        for p, ref, alt, _, _ in history:
            before.append(x.copy())
            if isinstance(alt, str):
                width = len(alt)
                x[p:p + width] = one_hot([alt], _alphabet_of(letters))[0]
            else:
                width = 1
                x[p] = 0
                x[p, alt] = 1
            after.append(x.copy())
            lo.append(p)
            hi.append(p + width)
    lo, hi = np.array(lo), np.array(hi)
    fx = allele_motif_effects(np.stack(before), np.stack(after), (lo, hi), (lo, hi), pwms,
                              names)
    edits["motif_created"] = fx["created"]
    edits["motif_broken"] = fx["broken"]


def _alphabet_of(letters: str):
    from .alphabets import alphabet_from_letters

    return alphabet_from_letters(letters)


# -- files --------------------------------------------------------------------------------------
def read_mask_file(path, ids: list[str], length: int, windows=None,
                   chroms=()) -> np.ndarray:
    """A BED-like mask file → bool (n, length): lines ``ID START END`` (tab or space
    separated; 0-based, half-open positions in that sequence as the model reads it; ``#``
    comments and ``track``/``browser`` lines skipped). Errors name the file and line.

    With ``windows`` (the genome windows of ``--regions``, one per id, :class:`~seqexplain.
    genome.Window`) a line may also name a chromosome of ``chroms`` (the genome's): then
    START END are genome coordinates, and the part of the range inside each window on that
    chromosome is protected (counted from the window's end on a ``-`` strand window, as the
    model reads it)."""
    index = {name: i for i, name in enumerate(ids)}
    chroms = set(chroms) if windows is not None else set()
    out = np.zeros((len(ids), length), bool)
    genomic: dict[str, list[tuple[int, int]]] = {}
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields or fields[0].startswith("#") or fields[0] in ("track", "browser"):
                continue
            where = f"{path}, line {number}"
            if len(fields) < 3:
                raise SeqexplainError(f"{where}: expected ID START END")
            name, lo, hi = fields[:3]
            if name not in index and name in chroms:
                if not (lo.isdigit() and hi.isdigit()) or not int(lo) < int(hi):
                    raise SeqexplainError(f"{where}: {lo}-{hi} is not a genome range "
                                          "(0-based, half-open, START < END)")
                genomic.setdefault(name, []).append((int(lo), int(hi)))
                continue
            if name not in index:
                also = " or chromosome of the genome" if windows is not None else ""
                raise SeqexplainError(f"{where}: no sequence{also} {name!r} in the input")
            if not (lo.isdigit() and hi.isdigit()) or not int(lo) < int(hi) <= length:
                raise SeqexplainError(f"{where}: {lo}-{hi} is not a range inside the "
                                      f"{length}-long sequence (0-based, half-open)")
            out[index[name], int(lo):int(hi)] = True
    for i, w in enumerate(windows or ()):
        for lo, hi in genomic.get(w.chrom, ()):
            lo, hi = max(lo, w.start) - w.start, min(hi, w.end) - w.start
            if lo >= hi:
                continue
            if w.strand == "-":
                lo, hi = length - hi, length - lo
            out[i, lo:hi] = True
    return out


def design_files(model, inputs, out, *, goal="max", force: bool = False, mask=None,
                 logos: int = 5, logo_method: str = "deepshap", dpi: int = 120,
                 alphabet: str | None = None, regions=None, genome=None,
                 off_edge: str = "pad", soft_masked: bool = False, **options) -> Design:
    """What ``seqexplain design`` does: read the FASTA ``inputs`` (lowercase letters are
    protected) or the ``regions`` (BED/narrowPeak) of ``genome`` (windows of the model's
    length; read in upper case: a soft-masked genome's lowercase bases are protected only
    with ``soft_masked=True``), run
    :func:`design` (``options``: its keyword arguments), and write the folder ``out``
    atomically:

    - ``designed.fa``: the designed sequences (ids as the input's);
    - ``edits.tsv`` (:data:`EDIT_COLUMNS`, one row per edit, positions 0-based);
    - ``trajectory.tsv`` (:data:`TRAJECTORY_COLUMNS`) and ``trajectory.png``;
    - ``designs.tsv``: per sequence ``id, status, met, edits, score_before, score_after``;
    - ``logos/``: before/after attribution logos (``logo_method``, the first model) of the
      ``logos`` designs of highest objective, edited positions shaded.

    ``model``: one model, or several (a list, or one string of paths separated by commas).
    ``mask``: ranges ``"START-END,…"`` or a BED-like file (:func:`read_mask_file`; with
    ``regions`` its lines may be genome coordinates, ``CHROM START END``).
    """
    from ._tf import import_tensorflow
    from .genome import check_input_option
    from .outputs import atomic_dir, check_writable

    check_writable(out, force, kind="folder")
    # the choice of inputs and the goal are checked before TensorFlow loads
    check_input_option([inputs] if inputs else [], [regions] if regions else [], genome)
    if soft_masked and not regions:
        raise OptionError("--soft-masked is used with --regions (lowercase letters of a "
                          "FASTA input are protected already)", "--soft-masked")
    parse_goal(goal)
    import_tensorflow()
    from .bundle import load_models
    from .fasta import read_fasta

    bundles = load_models(model, alphabet)
    from .genome import sequence_inputs

    source = sequence_inputs([inputs] if inputs else [], [regions] if regions else [], genome,
                             length=bundles[0].length, off_edge=off_edge).sources[0]
    records = read_fasta(source)
    sequences = list(records.sequences)
    if regions:
        sequences = [seq.upper() for seq in sequences]
    if not len(records.ids):
        raise SeqexplainError(f"{inputs or regions}: no records")
    # the input's letters checked (and named by file, record and position) before any work
    bundles[0].encode(sequences, ids=list(records.ids), source=str(inputs or regions))
    windows = source.windows if regions else None
    if isinstance(mask, (str, Path)) and Path(mask).is_file():
        mask = read_mask_file(mask, list(records.ids), bundles[0].length, windows,
                              source.genome.lengths if regions else ())
    if soft_masked:
        # lowercase genome bases (soft-masked repeats) as the model reads each window
        soft = source.soft_masked()
        mask = soft | mask_array(mask, len(soft), bundles[0].length)
    result = design(bundles if len(bundles) > 1 else bundles[0], sequences, goal,
                    mask=mask, ids=list(records.ids), **options)
    figures = _logo_figures(bundles[0], result, logos, logo_method, options) if logos else []
    with atomic_dir(out, force=force) as tmp:
        write_design(result, tmp, figures, dpi=dpi)
    return result


def _logo_figures(bundle, result: Design, top: int, method: str, options: dict):
    """(name, figure) of the before/after attribution logos of the ``top`` best designs."""
    from .attribution.registry import attribute
    from .logos import plot_before_after

    objective = result.trajectory.groupby("id", sort=False)["objective"].last()
    order = [result.ids.index(i) for i in objective.sort_values(ascending=False).index[:top]]
    order = [i for i in order if len(result.edits[result.edits["id"] == result.ids[i]])]
    if not order:
        return []
    target = result.goal.high if result.goal.kind == "specific" else options.get("target")
    target = bundle.targets(_as_spec(target))[0].name if target is not None else None
    both = np.concatenate([result.original[order], result.X[order]])
    kwargs = dict(random_state=options.get("random_state", 0))
    if target is not None:
        kwargs["target"] = target
    scores = np.asarray(attribute(bundle, both, method=method, **kwargs)) * both
    figures = []
    for k, i in enumerate(order):
        edits = result.edits[result.edits["id"] == result.ids[i]]
        spans = [(int(r.position), int(r.position) + len(r.alt)) for r in edits.itertuples()]
        title = (f"{result.ids[i]}: {len(edits)} edits, score {result.score_before[i]:.3g} → "
                 f"{result.score_after[i]:.3g} ({method})")
        fig = plot_before_after(scores[k], scores[len(order) + k], result.letters, spans, title)
        figures.append((f"{k + 1:02d}_{_safe(result.ids[i])}.png", fig))
    return figures


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:80]


def design_table(result: Design) -> pd.DataFrame:
    """Per sequence: ``id, status, met, edits, score_before, score_after``."""
    return pd.DataFrame(dict(id=result.ids, status=result.status, met=result.met,
                             edits=result.n_edits, score_before=result.score_before,
                             score_after=result.score_after))


def write_design(result: Design, folder, figures=(), dpi: int = 120) -> None:
    """The files of :func:`design_files` into ``folder`` (which exists)."""
    import matplotlib.pyplot as plt

    from .plots import plot_trajectory

    folder = Path(folder)
    with open(folder / "designed.fa", "w") as fh:
        for name, seq in zip(result.ids, result.sequences):
            fh.write(f">{name}\n{seq}\n")
    result.edits.to_csv(folder / "edits.tsv", sep="\t", index=False, float_format="%.6g")
    result.trajectory.to_csv(folder / "trajectory.tsv", sep="\t", index=False,
                             float_format="%.6g")
    design_table(result).to_csv(folder / "designs.tsv", sep="\t", index=False,
                                float_format="%.6g")
    fig = plot_trajectory(result.trajectory, result.threshold)
    fig.savefig(folder / "trajectory.png", dpi=dpi)
    if figures:
        (folder / "logos").mkdir()
        for name, figure in figures:
            figure.savefig(folder / "logos" / name, dpi=dpi)
    plt.close("all")


def summary_line(out, result: Design) -> str:
    return f"{out}: {result.summary()}"


# -- ledidi: a relaxation in TensorFlow ---------------------------------------------------------
#: defaults of method="ledidi" (λ per edit as ledidi 2.2's ``l``: the L1 distance / 2)
LEDIDI_DEFAULTS = dict(penalty=0.1, tau=1.0, samples=16, max_iter=1000, patience=100,
                       learning_rate=1.0, prune=None, polish=100, restarts=1)


def _tf_objective(scorer: _Scorer):
    """``f(x) → objective (m,)`` in TensorFlow, differentiable in ``x`` (m, L, C); for a
    ``value:V`` goal ``−(q − V)²`` (a smooth loss, ledidi's mean squared error) in place of
    ``−|q − V|``."""
    import tensorflow as tf

    from .attribution.engine import select_output
    from .attribution.multi_output import anchor_of, explained_target

    reads = []
    for bundle, targets, (read, sigmoid) in zip(scorer.bundles, scorer.targets, scorer.reads):
        parts = []
        for t in targets:
            model, column = explained_target(bundle.model, t, read)
            if anchor_of(model) is not None:
                raise OptionError("method='ledidi' reads columns of vector outputs, not a "
                                  "profile target", "--target")
            parts.append((model, column))
        reads.append((parts, sigmoid))
    goal, ensemble = scorer.goal, scorer.ensemble

    def g(q):
        if goal.kind == "min":
            return -q
        if goal.kind == "value":
            return -tf.square(q - goal.value)
        return q

    def objective(x):
        qs = []
        for parts, sigmoid in reads:
            values = []
            for model, column in parts:
                y = tf.cast(select_output(model(x, training=False), column), tf.float32)
                values.append(tf.sigmoid(y) if sigmoid else y)
            qs.append(values[0] - values[1] if goal.kind == "specific" else values[0])
        q = tf.stack(qs)
        if ensemble == "mean":
            return g(tf.reduce_mean(q, axis=0))
        return tf.reduce_min(g(q), axis=0)

    return objective


def _ledidi_search(run: "_Run", X: np.ndarray, protected: np.ndarray, options: dict,
                   seed: int) -> np.ndarray:
    """The relaxation: per sequence, weights W (L, C) over letters, samples drawn by a
    straight-through Gumbel-softmax of ``log(X + ε) + W``, loss ``−objective + penalty ×
    edits``, Adam on W; the best hard sample of each sequence (lowest loss) is kept, and a
    sequence stops once it has not improved for ``patience`` steps. Protected positions are
    always the input's. Returns the best samples (n, L, C)."""
    import keras
    import tensorflow as tf

    n, length, channels = X.shape
    samples, tau = int(options["samples"]), float(options["tau"])
    penalty = float(options["penalty"])
    objective = _tf_objective(run.scorer)
    x0 = tf.constant(X, tf.float32)
    log_x = tf.math.log(x0 + 1e-4)
    keep = tf.constant(protected[:, None, :, None])              # (n, 1, L, 1)
    real = tf.constant((X.sum(axis=-1) > 0)[:, None, :, None], tf.float32)  # not N rows
    weights = tf.Variable(tf.zeros_like(x0))
    optimizer = keras.optimizers.Adam(learning_rate=float(options["learning_rate"]))

    @tf.function(autograph=False)
    def step(key):
        with tf.GradientTape() as tape:
            logits = tf.repeat((log_x + weights)[:, None], samples, axis=1)  # (n, S, L, C)
            u = tf.random.stateless_uniform(tf.shape(logits), key, 1e-10, 1.0)
            soft = tf.nn.softmax((logits - tf.math.log(-tf.math.log(u))) / tau, axis=-1)
            hard = tf.one_hot(tf.argmax(soft, axis=-1), channels, dtype=soft.dtype)
            x = hard - tf.stop_gradient(soft) + soft
            x = tf.where(keep, x0[:, None], x)
            edits = tf.reduce_sum(tf.abs(x - x0[:, None]) * real, axis=[2, 3]) / 2.0
            value = tf.reshape(objective(tf.reshape(x, (-1, length, channels))),
                               (n, samples))
            loss = -value + penalty * edits                               # (n, S)
            total = tf.reduce_sum(tf.reduce_mean(loss, axis=1))
        optimizer.apply_gradients([(tape.gradient(total, weights), weights)])
        return tf.where(keep, x0[:, None], hard), loss

    start = -np.concatenate([objective(tf.constant(X[lo:lo + 256])).numpy()
                             for lo in range(0, n, 256)]).astype(np.float64)  # no edit
    best_loss = start.copy()
    best = X.copy()
    stalled = np.zeros(n, int)
    for it in range(int(options["max_iter"])):
        hard, loss = step(tf.constant([seed, it], tf.int64))
        loss = loss.numpy()
        pick = loss.argmin(axis=1)
        low = loss[np.arange(n), pick]
        better = low < best_loss - 1e-9
        if better.any():
            best[better] = hard.numpy()[np.flatnonzero(better), pick[better]]
            best_loss[better] = low[better]
        stalled = np.where(better, 0, stalled + 1)
        if (stalled >= int(options["patience"])).all():
            break
    return best


def _ledidi_finish(run: "_Run", X: np.ndarray, designed: np.ndarray, prune: float):
    """Exact constraints and pruning on the relaxation's designs.

    Edits are reverted one at a time, the one whose reversal costs least objective first:
    while one costs less than ``prune``; while there are more than ``max_edits``; while the
    design has a forbidden site the input did not have (among the edits in a new site); while
    its GC is out of range and farther than the input's (among the edits that moved it out).
    Every sequence still being pruned takes one step per model call.
    """
    n, length, _ = X.shape
    x = designed.copy()
    active = list(range(n))
    gc_ch = np.array([c in "CG" for c in run.letters], float)
    _, now = run.scorer.score(x)
    while active:
        plans = []
        for i in active:
            diff = np.flatnonzero(np.abs(x[i] - X[i]).sum(axis=-1) > 0)
            if not len(diff):
                continue
            candidates, must = diff, run.max_edits is not None and len(diff) > run.max_edits
            if run.patterns:
                new = _new_site_positions(X[i], x[i], run.patterns)
                if len(new):
                    candidates, must = np.intersect1d(diff, new), True
            if run.gc is not None and not must and not run._gc_ok(
                    _gc_counts(X[i][None], run.letters), _gc_counts(x[i][None], run.letters),
                    length)[0]:
                candidates = diff[(x[i][diff] @ gc_ch) != (X[i][diff] @ gc_ch)]
                must = True
            plans.append((i, candidates, must))
        if not plans:
            break
        trials = np.concatenate([np.repeat(x[i][None], len(c), axis=0) for i, c, _ in plans])
        owners = np.concatenate([np.full(len(c), i) for i, c, _ in plans])
        where = np.concatenate([c for _, c, _ in plans])
        trials[np.arange(len(trials)), where] = X[owners, where]
        _, objs = run.scorer.score(trials)
        active = []
        for i, _, must in plans:
            rows = np.flatnonzero(owners == i)
            j = rows[np.argmin(now[i] - objs[rows])]
            if must or now[i] - objs[j] < prune:
                x[i], now[i] = trials[j], objs[j]
                active.append(i)
    return x


def _new_site_positions(x0: np.ndarray, x: np.ndarray, patterns) -> np.ndarray:
    """Positions covered by forbidden-site matches in ``x`` that ``x0`` does not have."""
    positions = set()
    for p in patterns:
        w = len(p)
        before = _window_matches(x0[None], p)[0] == w
        after = _window_matches(x[None], p)[0] == w
        for s in np.flatnonzero(after & ~before):
            positions.update(range(s, s + w))
    return np.array(sorted(positions), int)


def _ordered_history(run: "_Run", X: np.ndarray, designed: np.ndarray):
    """The edits of each design applied one at a time, best objective first (all sequences
    in one model call per step): (histories, trajectories)."""
    n = len(X)
    x = X.copy()
    s0, o0 = run.scorer.score(X)
    histories = [[] for _ in range(n)]
    trajectories = [[(float(s0[i]), float(o0[i]))] for i in range(n)]
    scores = s0.astype(float).copy()
    todo = [list(np.flatnonzero(np.abs(designed[i] - X[i]).sum(axis=-1) > 0))
            for i in range(n)]
    while any(todo):
        owners = np.array([i for i in range(n) for _ in todo[i]], int)
        where = np.array([p for i in range(n) for p in todo[i]], int)
        trials = x[owners].copy()
        trials[np.arange(len(trials)), where] = designed[owners, where]
        s, o = run.scorer.score(trials)
        for i in range(n):
            rows = np.flatnonzero(owners == i)
            if not len(rows):
                continue
            j = rows[np.argmax(o[rows])]
            p = int(where[j])
            todo[i].remove(p)
            ref = int(x[i, p].argmax()) if x[i, p].max() > 0 else -1
            x[i] = trials[j]
            histories[i].append((p, ref, int(x[i, p].argmax()), float(scores[i]), float(s[j])))
            trajectories[i].append((float(s[j]), float(o[j])))
            scores[i] = float(s[j])
    return histories, trajectories


def _smooth_loss(goal: Goal, score: np.ndarray) -> np.ndarray:
    """The relaxation's loss of a score, without the edit penalty: ``(q − V)²`` for
    ``value:V``, ``q`` for ``min``, ``−q`` otherwise (the score is the ensemble's mean, or
    its worst model's quantity, so this is the loss the relaxation minimised)."""
    if goal.kind == "value":
        return np.square(score - goal.value)
    return score if goal.kind == "min" else -score


def _breaks_constraints(run: "_Run", x0: np.ndarray, x: np.ndarray) -> bool:
    """Whether design ``x`` of input ``x0`` (L, C) breaks max_edits, a forbidden site the
    input did not have, or the GC range (farther out than the input)."""
    edits = int((np.abs(x - x0).sum(axis=-1) > 0).sum())
    if run.max_edits is not None and edits > run.max_edits:
        return True
    if run.patterns and len(_new_site_positions(x0, x, run.patterns)):
        return True
    if run.gc is not None:
        return not run._gc_ok(_gc_counts(x0[None], run.letters),
                              _gc_counts(x[None], run.letters), len(x0))[0]
    return False


def _ledidi_polish(run: "_Run", X: np.ndarray, protected: np.ndarray, designed: np.ndarray,
                   penalty: float, prune: float, rounds: int,
                   candidates: int = 8) -> np.ndarray:
    """Exact local search after the relaxation: each round, one fast-ISM pass per design
    proposes every single move (add an edit, change an edited letter, revert one) and every
    swap (revert one or two edits and make another move, scored as the sum of the ISM
    changes); the ``candidates`` best of each kind by the relaxation's loss ``h(score) +
    penalty × edits`` are predicted exactly and the best that lowers that loss, and keeps the constraints, is taken. An added
    edit must also gain at least ``prune`` of the objective (pruning would revert it
    otherwise). Stops per sequence when no move helps, after ``rounds`` rounds at most.

    ``designed`` (n, L, C) → the polished designs (n, L, C).
    """
    n = len(X)
    goal = run.goal
    x = designed.copy()
    ref = X > 0.5                                                   # (n, L, C)
    real = X.sum(axis=-1) > 0                                       # not N rows
    score, objective = run.scorer.score(x)
    edits = (np.abs(x - X).sum(axis=-1) > 0).sum(axis=1)
    loss = _smooth_loss(goal, score) + penalty * edits
    active = np.arange(n)
    for _ in range(int(rounds)):
        if not len(active):
            break
        batch = x[active]
        s_move, _ = run.scorer.substitutions(batch)                 # (m, L, C) scores
        cur = batch > 0.5
        edited = (np.abs(batch - X[active]).sum(axis=-1) > 0)      # (m, L)
        at_ref = ref[active]
        movable = ~protected[active] & real[active]
        adds = movable[:, :, None] & ~edited[:, :, None] & ~cur     # one edit more
        changes = edited[:, :, None] & ~cur & ~at_ref               # the same count
        reverts = edited[:, :, None] & at_ref                       # one edit fewer
        trials, owners = [], []
        for row, i in enumerate(active):
            # every single move, and the reverts among them, with the change of score each
            # makes (ISM) and the change of edit count
            mv_pos, mv_c = np.nonzero(adds[row] | changes[row] | reverts[row])
            d_mv = s_move[row, mv_pos, mv_c] - score[i]
            step = np.where(edited[row, mv_pos],
                            np.where(at_ref[row, mv_pos, mv_c], -1, 0), 1)
            rev = np.flatnonzero(step < 0)
            # combinations: a single move; one revert and another move; two reverts and
            # another move (a swap of two weak edits for one strong one), each scored as the
            # sum of its ISM changes (exact where the positions do not interact)
            every = np.arange(len(mv_pos))
            combos = [every[:, None]]
            if len(rev):
                combos.append(np.stack(np.meshgrid(rev, every, indexing="ij"), -1)
                              .reshape(-1, 2))
            if len(rev) > 1:
                r1, r2 = np.triu_indices(len(rev), 1)
                two = np.repeat(np.stack([rev[r1], rev[r2]], -1), len(every), axis=0)
                combos.append(np.concatenate([two, np.tile(every, len(r1))[:, None]], 1))
            options = []                                            # (approximate loss, moves)
            for members in combos:
                picked = mv_pos[members]
                # the last move is at a position of its own, and after the reverts when it
                # is one too (each set of reverts once)
                last = picked[:, -1:]
                ok = (picked[:, :-1] != last).all(axis=1)
                ok &= (step[members[:, -1]] >= 0) | (picked[:, :-1] < last).all(axis=1)
                count = edits[i] + step[members].sum(axis=1)
                if run.max_edits is not None:
                    ok &= count <= run.max_edits
                approx = np.where(ok, _smooth_loss(goal, score[i] + d_mv[members].sum(axis=1))
                                  + penalty * count, np.inf)
                for f in np.argsort(approx, kind="stable")[:candidates]:
                    if approx[f] < loss[i]:
                        options.append((approx[f], [(mv_pos[m], mv_c[m]) for m in members[f]]))
            # the best ``candidates`` of each kind: single moves are exact, and sums of ISM
            # changes that promise more must not crowd them out
            for _, moves in options:
                t = x[i].copy()
                for p, c in moves:
                    t[p] = 0
                    t[p, c] = 1
                trials.append(t)
                owners.append(i)
        if not trials:
            break
        trials = np.stack(trials)
        owners = np.array(owners)
        t_score, t_obj = run.scorer.score(trials)
        t_edits = (np.abs(trials - X[owners]).sum(axis=-1) > 0).sum(axis=1)
        t_loss = _smooth_loss(goal, t_score) + penalty * t_edits
        moved = []
        for i in np.unique(owners):
            best = None
            for j in np.flatnonzero(owners == i):
                if t_loss[j] >= loss[i] - 1e-12 or (best is not None and
                                                     t_loss[j] >= t_loss[best]):
                    continue
                if t_edits[j] > edits[i] and t_obj[j] - objective[i] < prune:
                    continue
                if _breaks_constraints(run, X[i], trials[j]):
                    continue
                best = j
            if best is not None:
                x[i], score[i], objective[i] = trials[best], t_score[best], t_obj[best]
                edits[i], loss[i] = t_edits[best], t_loss[best]
                moved.append(i)
        active = np.array(moved, int)
    return x
