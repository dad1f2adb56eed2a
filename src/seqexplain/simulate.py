"""Simulated sequence data sets with known ground truth (the DragoNN / Koo-lab approach).

Motif instances are sampled from position frequency matrices (not just the consensus) and
planted, each on a random strand, at random non-overlapping positions of a background:

- ``"iid"``: independent bases with a given GC content;
- a FASTA file (plain or .gz): random windows of its sequences (upper-cased; windows holding N or
  any other non-ACGT letter are skipped), as they are (``background_mode="windows"``) or
  dinucleotide-shuffled (``"shuffle"``, which keeps the local composition but destroys any
  real motif).

Tasks and their label columns:

- ``binary`` (one motif): ``label`` 1 when the motif is planted, 0 otherwise;
- ``multiclass`` (two or more motifs): ``label`` = the name of the one motif planted;
- ``multilabel`` (one or more motifs): one 0/1 column per motif name, each motif planted
  independently;
- ``and`` (two motifs): ``label`` 1 when both are planted; the negatives are split evenly
  between "first motif only", "second motif only" and "neither", so one motif alone does not
  predict the label.

Position control (``positions``): by default sites go anywhere. With ``positions`` each motif
is planted with its start at a fixed offset from a **landmark** at position ``length // 2``
(0-based), give or take ``position_window`` bases (uniform) — a positional grammar such as a
bacterial promoter, motif A at −35 and B at −10 from the transcription start
(``positions=[-35, -10]``, task ``and``). ``decoys`` then plants that many extra instances of
every motif in every sequence at random places away from the positional windows, so that only
the position, not the presence, of a motif tells the label.

Pair grammar (``grammar``, a :class:`PairRule` or its text, e.g. ``"A,B,spacing=12±1,
orientation=++"``): a binary task over two motifs whose positives hold A and B in that
arrangement — B's start − A's start within ``spacing ± tolerance``, A and B on the strands the
orientation gives — and whose negatives are split evenly between A alone, B alone, the pair at
another spacing (at least ``tolerance + 3`` bp off, the orientation kept) and the pair in
another orientation (the spacing kept). Every sequence's arrangement is recorded
(``arrangements``), and the rule itself is the truth table a grammar analysis should recover.

The ground truth lists every planted instance (``role`` ``site``, or ``decoy``, with its
``offset`` = start − landmark); a real-genome background may of course hold further,
unplanted matches by chance.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .edit import sample_pwm, substitute
from .encoding import decode, reverse_complement
from .errors import SeqexplainError
from .fasta import read_fasta
from .motif_io import Motif, load_motifs, write_meme
from .outputs import atomic_dir, check_writable
from .shuffle import RandomState, dinucleotide_shuffle

TASKS = ("binary", "multiclass", "multilabel", "and")
BACKGROUND_MODES = ("windows", "shuffle")
#: GC content of the i.i.d. background by default: the human genome's average.
DEFAULT_GC = 0.41
DEFAULT_POSITIVE_FRACTION = 0.5
SITE_COLUMNS = ["id", "motif", "start", "end", "strand", "instance", "offset", "role"]
#: arrangements of a pair-grammar task: the rule (the positives), then the four negatives
ARRANGEMENTS = ("pair", "a_only", "b_only", "wrong_spacing", "wrong_orientation")
PAIR_ORIENTATIONS = ("++", "+-", "-+", "--")
#: wrong-spacing negatives are at least this many bp outside the rule's spacing ± tolerance
WRONG_SPACING_MARGIN = 3
_BASES = np.frombuffer(b"ACGT", dtype=np.uint8)


@dataclass(frozen=True)
class PairRule:
    """A pair rule: motif ``a`` and motif ``b`` (names) with ``b``'s start − ``a``'s start in
    ``spacing ± tolerance`` (negative: ``b`` comes first), on the strands of ``orientation``
    (``"+-"``: ``a`` as given, ``b`` reverse complemented)."""

    a: str
    b: str
    spacing: int
    tolerance: int = 0
    orientation: str = "++"

    def __str__(self) -> str:
        return (f"{self.a},{self.b},spacing={self.spacing}±{self.tolerance},"
                f"orientation={self.orientation}")

    def table(self) -> pd.DataFrame:
        """The truth table: one row (motif_a, motif_b, orientation, spacing, tolerance)."""
        return pd.DataFrame([dict(motif_a=self.a, motif_b=self.b, orientation=self.orientation,
                                  spacing=self.spacing, tolerance=self.tolerance)])


_SPACING = re.compile(r"^(-?\d+)\s*(?:(?:±|\+-|\+/-)\s*(\d+))?$")


def parse_pair_rule(text: str) -> PairRule:
    """``"A,B,spacing=12±1,orientation=++"`` (``±`` may be written ``+-`` or ``+/-``; the
    tolerance and the orientation are optional, default 0 and ``++``) → :class:`PairRule`."""
    parts = [p.strip() for p in str(text).split(",") if p.strip()]
    names = [p for p in parts if "=" not in p]
    keys = dict(p.split("=", 1) for p in parts if "=" in p)
    where = f"grammar rule {text!r}"
    if len(names) != 2:
        raise SeqexplainError(f"{where}: name two motifs, e.g. A,B,spacing=12±1,orientation=++")
    unknown = sorted(set(keys) - {"spacing", "orientation"})
    if unknown:
        raise SeqexplainError(f"{where}: unknown key {unknown[0]!r}; use spacing= and "
                              f"orientation=")
    if "spacing" not in keys:
        raise SeqexplainError(f"{where}: give spacing=S or spacing=S±T (start of the second "
                              f"motif − start of the first, bp)")
    m = _SPACING.match(keys["spacing"].strip())
    if not m:
        raise SeqexplainError(f"{where}: spacing {keys['spacing']!r} is not S or S±T")
    orientation = keys.get("orientation", "++").strip()
    if orientation not in PAIR_ORIENTATIONS:
        raise SeqexplainError(f"{where}: orientation {orientation!r} is not one of "
                              f"{', '.join(PAIR_ORIENTATIONS)}")
    return PairRule(names[0], names[1], int(m.group(1)), int(m.group(2) or 0), orientation)


@dataclass
class SimulatedData:
    """A simulated data set.

    Attributes
    ----------
    ids : sequence ids ``seq00001``, ``seq00002``, ...
    sequences : upper-case DNA strings, all of the same length.
    labels : ``id`` plus the task's target columns (see the module docstring).
    sites : every planted instance: ``id``, ``motif`` (name), ``start``, ``end`` (0-based,
        half-open), ``strand`` (``+``/``-``) and ``instance`` — the sampled bases as read on
        the motif's strand, so ``sequence[start:end]`` is ``instance`` on ``+`` and its
        reverse complement on ``-``; ``offset`` = start − landmark (:func:`landmark` of the
        length); ``role``: ``site`` (what the label says) or ``decoy`` (see ``decoys``).
    motifs : the motifs planted.
    task : the task (one of :data:`TASKS`).
    background : a short description of the background, for summaries.
    rule : the pair rule of a grammar task, else None.
    arrangements : a grammar task's arrangement of every sequence: ``id``, ``arrangement``
        (one of :data:`ARRANGEMENTS`), ``orientation``, ``spacing`` (empty for one motif).
    seed : the seed it was drawn with, where one integer seed was given
        (:func:`simulate_files`).
    """

    ids: list[str]
    sequences: list[str]
    labels: pd.DataFrame
    sites: pd.DataFrame
    motifs: list[Motif]
    task: str
    background: str
    rule: PairRule | None = None
    arrangements: pd.DataFrame | None = None
    seed: int | None = None

    def summary(self) -> str:
        """One line, e.g. ``1000 sequences × 200 bp, binary (CTCF): 500 positive, 500 sites``."""
        names = ", ".join(m.name for m in self.motifs)
        if self.task == "multiclass":
            counts = self.labels["label"].value_counts()
            labels = ", ".join(f"{m.name} {counts.get(m.name, 0)}" for m in self.motifs)
        elif self.task == "multilabel":
            labels = ", ".join(f"{m.name} in {int(self.labels[m.name].sum())}"
                               for m in self.motifs)
        else:
            labels = f"{int(self.labels['label'].sum())} positive"
        length = len(self.sequences[0]) if self.sequences else 0
        if self.rule is not None:
            names = f"rule {self.rule}"
        return (f"{len(self.sequences)} sequences × {length} bp, {self.task} ({names}): "
                f"{labels}; {len(self.sites)} planted sites; background {self.background}")

    def write(self, folder: str | os.PathLike, force: bool = False) -> Path:
        """Write ``sequences.fa``, ``labels.tsv``, ``motif_sites.tsv`` and ``motifs.meme`` into
        ``folder`` (a grammar task adds ``grammar_truth.tsv``, the rule, and
        ``arrangements.tsv``), atomically: the folder appears complete or not at all. An
        existing folder is refused unless ``force``."""
        with atomic_dir(folder, force=force) as tmp:
            (tmp / "sequences.fa").write_text(
                "".join(f">{i}\n{s}\n" for i, s in zip(self.ids, self.sequences)),
                encoding="ascii")
            self.labels.to_csv(tmp / "labels.tsv", sep="\t", index=False)
            self.sites.to_csv(tmp / "motif_sites.tsv", sep="\t", index=False)
            write_meme(self.motifs, tmp / "motifs.meme")
            if self.rule is not None:
                self.rule.table().to_csv(tmp / "grammar_truth.tsv", sep="\t", index=False)
                self.arrangements.to_csv(tmp / "arrangements.tsv", sep="\t", index=False)
        return Path(folder)


def simulate(motifs: Sequence[Motif], n: int = 1000, length: int = 200, task: str = "binary",
             background: str | os.PathLike = "iid", background_mode: str = "windows",
             gc: float | None = None, positive_fraction: float | None = None,
             instances: int = 1, positions: int | Sequence[int] | None = None,
             position_window: int = 0, decoys: int = 0,
             grammar: PairRule | str | None = None,
             random_state: RandomState = None) -> SimulatedData:
    """Simulate ``n`` sequences with planted motifs, their labels and the ground truth.

    Parameters
    ----------
    motifs : the motifs to plant (see :func:`seqexplain.motif_io.load_motifs`); their names
        become label values or columns and must be distinct. ``binary`` takes one motif,
        ``and`` two, ``multiclass`` two or more, ``multilabel`` one or more.
    n, length : number and length (bp) of the sequences.
    task : ``"binary"``, ``"multiclass"``, ``"multilabel"`` or ``"and"``.
    background : ``"iid"``, or the path of a FASTA file (plain or .gz) to take windows from.
    background_mode : with a FASTA background: ``"windows"`` (as they are) or ``"shuffle"``
        (each window dinucleotide-shuffled).
    gc : GC content of the i.i.d. background (default :data:`DEFAULT_GC`).
    positive_fraction : fraction of positives (binary, and), or of sequences holding each
        motif (multilabel); default 0.5. Counts are rounded to whole sequences. Not used by
        multiclass, whose classes are balanced.
    instances : instances of each present motif planted per sequence.
    positions : ``None`` (sites anywhere), one offset for every motif, or one per motif: the
        site's start relative to the landmark at ``length // 2`` (negative = upstream).
        Needs ``instances=1``.
    position_window : sites start up to this many bases either side of their offset
        (uniform); needs ``positions``.
    decoys : instances of every motif added to every sequence at random places outside the
        positional windows (role ``decoy``); needs ``positions``.
    grammar : a :class:`PairRule` (or its text, :func:`parse_pair_rule`) over the two
        ``motifs``: a binary task whose positives hold the pair in that arrangement (see the
        module docstring). Task ``binary`` or ``and``; not with positions or instances > 1.
    random_state : seed or ``np.random.Generator``; the same seed gives the same data set.

    Raises
    ------
    SeqexplainError
        Invalid arguments: an unknown task or mode, the wrong number of motifs for the task,
        duplicate motif names, motifs that do not fit in ``length``, a background FASTA with
        too few clean windows, ...
    """
    motifs = list(motifs)
    iid = os.fspath(background) == "iid"
    if grammar is not None:
        grammar = _check_rule(grammar, motifs, length, task, instances, positions, decoys)
        task = "and"  # two motifs, one label: the checks of the and task apply
    _check_arguments(motifs, n, length, task, iid, background_mode, gc, positive_fraction,
                     instances)
    positions = _check_positions(motifs, length, task, instances, positions, position_window,
                                 decoys)
    rng = np.random.default_rng(random_state)
    present = _plan(task, n, len(motifs), positive_fraction, rng)

    if iid:
        gc = DEFAULT_GC if gc is None else gc
        letters = _iid_background(n, length, gc, rng)
        description = f"iid (GC {gc:g})"
    else:
        letters = _fasta_windows(os.fspath(background), n, length, rng)
        if background_mode == "shuffle":
            shuffled = dinucleotide_shuffle([w.tobytes().decode() for w in letters],
                                            random_state=rng)
            letters = np.frombuffer("".join(s[0] for s in shuffled).encode(), np.uint8
                                    ).reshape(n, length).copy()
        description = (f"{'dinucleotide-shuffled ' if background_mode == 'shuffle' else ''}"
                       f"windows of {Path(background).name}")

    width = max(5, len(str(n)))
    ids = [f"seq{i:0{width}d}" for i in range(1, n + 1)]
    # planting is an edit of one-hot sequences (seqexplain.edit), like any in-silico experiment
    X = np.eye(4, dtype=np.float32)[np.searchsorted(_BASES, letters)]
    if grammar is not None:
        kinds = _arrangement_plan(n, positive_fraction, rng)
        sites, arrangements = _plant_pairs(X, kinds, motifs, grammar, ids, rng)
        labels = pd.DataFrame({"id": ids, "label": (kinds == 0).astype(int)})
        return SimulatedData(ids=ids, sequences=decode(X), labels=labels, sites=sites,
                             motifs=motifs, task="binary", background=description, rule=grammar,
                             arrangements=arrangements)
    if positions is None:
        sites = _plant(X, present, motifs, instances, ids, rng)
    else:
        sites = _plant_at(X, present, motifs, positions, position_window, decoys, ids, rng)
    sequences = decode(X)
    return SimulatedData(ids=ids, sequences=sequences, labels=_labels(task, ids, present, motifs),
                         sites=sites, motifs=motifs, task=task, background=description)


def simulate_files(motifs, out, *, motif_files=(), seed: int | None = None,
                   force: bool = False, background: str | os.PathLike | None = None,
                   **options) -> SimulatedData:
    """What ``seqexplain simulate`` does: the motifs named by ``motifs`` (ids or names in
    ``motif_files``, or IUPAC consensus strings; :func:`~seqexplain.motif_io.load_motifs`),
    :func:`simulate` with ``options`` (``n``, ``length``, ``task``, ``background_mode``,
    ``gc``, ``positive_fraction``, ``instances``, ``positions``, ``position_window``,
    ``decoys``; ``background``: a FASTA file, ``None`` for i.i.d. bases) and ``seed`` (``None``:
    a fresh seed, kept in the result's ``seed``), written to the folder ``out``
    (:meth:`SimulatedData.write`; replaced only with ``force``)."""
    check_writable(out, force, kind="folder")  # fail before the work, not after it
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    data = simulate(load_motifs(motifs, motif_files),
                    background=background if background is not None else "iid",
                    random_state=seed, **options)
    data = replace(data, seed=seed)
    data.write(out, force=force)
    return data


def _check_arguments(motifs: list[Motif], n, length, task, iid: bool, background_mode, gc,
                     positive_fraction, instances) -> None:
    if task not in TASKS:
        raise SeqexplainError(f"unknown task {task!r}: choose one of {', '.join(TASKS)}")
    low, high = {"binary": (1, 1), "and": (2, 2), "multiclass": (2, None),
                 "multilabel": (1, None)}[task]
    if len(motifs) < low or (high is not None and len(motifs) > high):
        wanted = f"exactly {low}" if low == high else f"at least {low}"
        raise SeqexplainError(f"task {task!r} needs {wanted} motif{'s' if low > 1 else ''}, "
                              f"got {len(motifs)}")
    names = [m.name for m in motifs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise SeqexplainError(f"motif names must be distinct (they label the data); "
                              f"{', '.join(repeated)} given more than once")
    for value, what in ((n, "number of sequences"), (length, "sequence length"),
                        (instances, "instances per motif")):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise SeqexplainError(f"{what} must be a positive integer, got {value!r}")
    if background_mode not in BACKGROUND_MODES:
        raise SeqexplainError(f"unknown background mode {background_mode!r}: choose one of "
                              f"{', '.join(BACKGROUND_MODES)}")
    if iid and background_mode != "windows":
        raise SeqexplainError(f"background mode {background_mode!r} needs a background FASTA")
    if gc is not None:
        if not iid:
            raise SeqexplainError("GC content applies to the i.i.d. background only, not to "
                                  "a background FASTA")
        if not 0 <= gc <= 1:
            raise SeqexplainError(f"GC content must be between 0 and 1, got {gc}")
    if positive_fraction is not None:
        if task == "multiclass":
            raise SeqexplainError("positive fraction does not apply to multiclass (classes "
                                  "are balanced)")
        if not 0 < positive_fraction < 1:
            raise SeqexplainError(f"positive fraction must be between 0 and 1 (exclusive), got "
                                  f"{positive_fraction}")
    if task != "multiclass" and _n_positive(n, positive_fraction) in (0, n):
        fraction = positive_fraction or DEFAULT_POSITIVE_FRACTION
        raise SeqexplainError(f"a positive fraction of {fraction:g} of {n} sequences gives "
                              f"{_n_positive(n, positive_fraction)} positives; labels need "
                              "both positives and negatives")
    # The most bases planted in one sequence: every motif at once, except in multiclass.
    widths = [m.width for m in motifs]
    planted = (max(widths) if task == "multiclass" else sum(widths)) * instances
    if planted > length:
        raise SeqexplainError(
            f"motifs do not fit: {instances} × ({' + '.join(map(str, widths))} bp) "
            f"{'for the widest motif ' if task == 'multiclass' else ''}need {planted} bp, but "
            f"sequences are {length} bp")


def _n_positive(n: int, positive_fraction: float | None) -> int:
    """Number of positives: the fraction of ``n`` rounded half up."""
    fraction = DEFAULT_POSITIVE_FRACTION if positive_fraction is None else positive_fraction
    return int(np.floor(n * fraction + 0.5))


def _plan(task: str, n: int, n_motifs: int, positive_fraction: float | None,
          rng: np.random.Generator) -> np.ndarray:
    """Which motifs each sequence gets: bool array, shape (n, n_motifs)."""
    n_positive = _n_positive(n, positive_fraction)
    present = np.zeros((n, n_motifs), dtype=bool)
    if task == "multilabel":
        for j in range(n_motifs):
            present[rng.choice(n, n_positive, replace=False), j] = True
        return present
    if task == "multiclass":
        present[np.arange(n), np.arange(n) % n_motifs] = True
    elif task == "binary":
        present[:n_positive] = True
    else:  # "and": positives have both; negatives split between A only, B only, neither
        present[:n_positive] = True
        n_negative = n - n_positive
        n_only_first = n_negative // 3 + (n_negative % 3 > 0)
        n_only_second = n_negative // 3 + (n_negative % 3 > 1)
        present[n_positive:n_positive + n_only_first, 0] = True
        present[n_positive + n_only_first:n_positive + n_only_first + n_only_second, 1] = True
    return present[rng.permutation(n)]


def _labels(task: str, ids: list[str], present: np.ndarray, motifs: list[Motif]
            ) -> pd.DataFrame:
    labels = pd.DataFrame({"id": ids})
    if task == "multiclass":
        labels["label"] = np.array([m.name for m in motifs], dtype=object)[present.argmax(1)]
    elif task == "multilabel":
        for j, motif in enumerate(motifs):
            labels[motif.name] = present[:, j].astype(int)
    else:
        labels["label"] = present.all(axis=1).astype(int)
    return labels


def _iid_background(n: int, length: int, gc: float, rng: np.random.Generator) -> np.ndarray:
    """i.i.d. bases as ASCII codes, shape (n, length)."""
    p = [(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2]
    return _BASES[rng.choice(4, size=(n, length), p=p)]


def _fasta_windows(path: str, n: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct random windows of the FASTA's sequences holding only A, C, G, T, as
    upper-case ASCII codes, shape (n, length)."""
    records = read_fasta(path, check_duplicates=False)
    # One buffer; a non-base byte between records keeps windows from spanning two of them.
    genome = np.frombuffer("\0".join(records.sequences).upper().encode("ascii", "replace"),
                           dtype=np.uint8)
    bad_before = np.concatenate([[0], np.cumsum(~np.isin(genome, _BASES))])
    n_windows = len(genome) - length + 1
    clean = (np.flatnonzero(bad_before[length:] == bad_before[:n_windows])
             if n_windows > 0 else np.array([], dtype=np.int64))
    if len(clean) < n:
        raise SeqexplainError(f"{path}: only {len(clean)} windows of {length} bp hold only "
                              f"A, C, G, T; {n} are needed")
    starts = rng.choice(clean, size=n, replace=False)
    return genome[starts[:, None] + np.arange(length)]


def _sample_instances(motif: Motif, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` instances drawn from the motif's PFM as ASCII codes, shape (count, width)."""
    return _BASES[sample_pwm(motif.pfm, count, rng).argmax(axis=2)]


def _plant(X: np.ndarray, present: np.ndarray, motifs: list[Motif], instances: int,
           ids: list[str], rng: np.random.Generator) -> pd.DataFrame:
    """Plant ``instances`` of each present motif into ``X`` (n, length, 4), row by row, at
    random non-overlapping positions on random strands. Returns the sites table."""
    n, length = X.shape[:2]
    # Draw every motif's instances and strands at once; hand them out sequence by sequence.
    drawn = []
    for j, motif in enumerate(motifs):
        count = int(present[:, j].sum()) * instances
        drawn.append((iter(_sample_instances(motif, count, rng)),
                      iter(rng.integers(2, size=count).astype(bool))))
    rows = []
    for i in range(n):
        planted = np.repeat(np.flatnonzero(present[i]), instances)
        if not len(planted):
            continue
        planted = planted[rng.permutation(len(planted))]  # left-to-right order of the sites
        widths = np.array([motifs[j].width for j in planted])
        # Uniform over all arrangements: choose the free bases before each site as k sorted
        # distinct draws from (free + k) slots, minus their rank (stars and bars).
        free = length - int(widths.sum())
        gaps = np.sort(rng.choice(free + len(planted), size=len(planted), replace=False))
        starts = gaps - np.arange(len(planted)) + np.cumsum(widths) - widths
        for j, start in zip(planted, starts):
            instances_of, minus_strand = drawn[j]
            instance = next(instances_of).tobytes().decode("ascii")
            on_minus = next(minus_strand)
            end = start + motifs[j].width
            bases = reverse_complement(instance) if on_minus else instance
            X[i] = substitute(X[i], bases, int(start))
            rows.append((ids[i], motifs[j].name, int(start), int(end), "-" if on_minus else "+",
                         instance, int(start) - landmark(length), "site"))
    return pd.DataFrame(rows, columns=SITE_COLUMNS)


def landmark(length: int) -> int:
    """The landmark of a simulated sequence of ``length`` bp: position ``length // 2``."""
    return length // 2


def _check_positions(motifs: list[Motif], length: int, task: str, instances: int, positions,
                     window, decoys) -> list[int] | None:
    """Positions as one offset per motif (or ``None``), after checking that every site fits
    and that sites of motifs planted together cannot overlap."""
    for value, what in ((window, "position window"), (decoys, "decoys")):
        if not isinstance(value, (int, np.integer)) or value < 0:
            raise SeqexplainError(f"{what} must be an integer ≥ 0, got {value!r}")
    if positions is None:
        if window or decoys:
            raise SeqexplainError(f"{'a position window needs' if window else 'decoys need'} "
                                  "motif positions (--position)")
        return None
    if isinstance(positions, (int, np.integer)):
        positions = [positions] * len(motifs)
    positions = list(positions)
    if len(positions) == 1:
        positions = positions * len(motifs)
    if len(positions) != len(motifs):
        raise SeqexplainError(f"{len(positions)} positions for {len(motifs)} motifs; give one "
                              f"position for all or one per motif")
    if not all(isinstance(p, (int, np.integer)) for p in positions):
        raise SeqexplainError(f"positions must be integers, got {positions!r}")
    if instances != 1:
        raise SeqexplainError("motif positions plant one instance per motif; use instances=1 "
                              "(decoys add more)")
    centre = landmark(length)
    spans = []
    for motif, offset in zip(motifs, positions):
        first, last = centre + offset - window, centre + offset + window + motif.width
        if first < 0 or last > length:
            raise SeqexplainError(
                f"motif {motif.name} at offset {offset:+d} (window ±{window}) from the landmark "
                f"at {centre} spans {first}..{last}, outside the {length} bp sequence")
        spans.append((first, last, motif.name))
    if task != "multiclass":  # motifs planted together must not overlap
        spans.sort()
        for (a0, a1, a), (b0, b1, b) in zip(spans, spans[1:]):
            if b0 < a1:
                raise SeqexplainError(f"motifs {a} and {b} would overlap at their positions "
                                      f"(bases {b0}..{min(a1, b1)}); move them apart")
    if decoys:
        free = length - sum(last - first for first, last, _ in spans) \
            - decoys * sum(m.width for m in motifs)
        if free < 0:
            raise SeqexplainError(f"{decoys} decoy(s) of every motif do not fit beside the "
                                  f"positional windows of a {length} bp sequence")
    return [int(p) for p in positions]


def _plant_at(X: np.ndarray, present: np.ndarray, motifs: list[Motif],
              positions: list[int], window: int, decoys: int, ids: list[str],
              rng: np.random.Generator) -> pd.DataFrame:
    """Plant each present motif at its offset from the landmark (± ``window``), and
    ``decoys`` instances of every motif elsewhere. Returns the sites table."""
    n, length = X.shape[:2]
    centre = landmark(length)
    blocked = np.zeros(length, dtype=bool)  # the positional windows: no decoy goes there
    for motif, offset in zip(motifs, positions):
        blocked[centre + offset - window:centre + offset + window + motif.width] = True
    rows = []

    def put(i: int, j: int, start: int, role: str) -> None:
        instance = _sample_instances(motifs[j], 1, rng)[0].tobytes().decode("ascii")
        on_minus = bool(rng.integers(2))
        bases = reverse_complement(instance) if on_minus else instance
        end = start + motifs[j].width
        X[i] = substitute(X[i], bases, int(start))
        rows.append((ids[i], motifs[j].name, int(start), int(end), "-" if on_minus else "+",
                     instance, int(start) - centre, role))

    for i in range(n):
        for j in np.flatnonzero(present[i]):
            put(i, int(j), centre + positions[j] + int(rng.integers(-window, window + 1)),
                "site")
        taken = blocked.copy()
        for j in rng.permutation(np.repeat(np.arange(len(motifs)), decoys)):
            width = motifs[j].width
            # starts whose whole span is free
            free = np.concatenate([[0], np.cumsum(taken)])
            ok = np.flatnonzero(free[width:] == free[:length - width + 1])
            if not len(ok):
                raise SeqexplainError(f"no room left for a decoy of {motifs[j].name} in "
                                      f"{ids[i]}; use fewer decoys or longer sequences")
            start = int(rng.choice(ok))
            taken[start:start + width] = True
            put(i, int(j), start, "decoy")
    return pd.DataFrame(rows, columns=SITE_COLUMNS)


def _check_rule(rule, motifs: list[Motif], length: int, task: str, instances: int, positions,
                decoys) -> PairRule:
    """The rule, parsed and checked against the motifs and the length; ``a``/``b`` renamed to
    the motifs' own names (a rule may name a motif by id)."""
    rule = rule if isinstance(rule, PairRule) else parse_pair_rule(rule)
    if task not in ("binary", "and"):
        raise SeqexplainError(f"a grammar rule makes a binary task; task {task!r} does not go "
                              f"with it")
    if positions is not None or decoys or instances != 1:
        raise SeqexplainError("a grammar rule places the motifs itself: it does not go with "
                              "positions, decoys or instances > 1")
    if len(motifs) != 2:
        raise SeqexplainError(f"a grammar rule needs exactly the two motifs it names; "
                              f"{len(motifs)} given")
    def find(name):
        hits = [m for m in motifs if name in (m.name, m.id)]
        if not hits:
            raise SeqexplainError(f"grammar rule {rule}: no motif {name!r} among "
                                  f"{', '.join(m.name for m in motifs)}")
        return hits[0]
    a, b = find(rule.a), find(rule.b)
    if a is b:
        raise SeqexplainError(f"grammar rule {rule}: the two motifs must differ")
    if rule.tolerance < 0:
        raise SeqexplainError(f"grammar rule {rule}: the tolerance must be ≥ 0")
    for s in (rule.spacing - rule.tolerance, rule.spacing + rule.tolerance):
        if not _pair_fits(s, a.width, b.width, length):
            raise SeqexplainError(
                f"grammar rule {rule}: at spacing {s} motifs {a.name} ({a.width} bp) and "
                f"{b.name} ({b.width} bp) overlap or do not fit in {length} bp")
    motifs[:] = [a, b]  # the rule's order: a first
    return PairRule(a.name, b.name, rule.spacing, rule.tolerance, rule.orientation)


def _pair_fits(spacing: int, width_a: int, width_b: int, length: int) -> bool:
    """Whether ``b`` at ``spacing`` from ``a`` neither overlaps it nor leaves the sequence."""
    apart = spacing >= width_a or spacing <= -width_b
    first, last = min(0, spacing), max(width_a, spacing + width_b)
    return apart and last - first <= length


def _arrangement_plan(n: int, positive_fraction: float | None, rng: np.random.Generator
                      ) -> np.ndarray:
    """Index into :data:`ARRANGEMENTS` per sequence: the positives' share of ``pair``, the
    negatives split evenly between the four others, shuffled."""
    n_positive = _n_positive(n, positive_fraction)
    negatives = np.arange(n - n_positive) % 4 + 1
    return rng.permutation(np.concatenate([np.zeros(n_positive, dtype=int), negatives]))


def _plant_pairs(X: np.ndarray, kinds: np.ndarray, motifs: list[Motif], rule: PairRule,
                 ids: list[str], rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plant each sequence's arrangement; the sites and arrangements tables."""
    n, length = X.shape[:2]
    a, b = motifs
    far = [s for s in range(-length, length + 1) if _pair_fits(s, a.width, b.width, length)
           and abs(s - rule.spacing) >= rule.tolerance + WRONG_SPACING_MARGIN]
    if not far:
        raise SeqexplainError(f"grammar rule {rule}: no spacing {WRONG_SPACING_MARGIN} bp or "
                              f"more outside the rule fits in {length} bp for the negatives")
    others = [o for o in PAIR_ORIENTATIONS if o != rule.orientation]
    sites, arrangements = [], []
    centre = landmark(length)

    def put(i: int, motif: Motif, start: int, strand: str) -> None:
        instance = _sample_instances(motif, 1, rng)[0].tobytes().decode("ascii")
        bases = reverse_complement(instance) if strand == "-" else instance
        X[i] = substitute(X[i], bases, int(start))
        sites.append((ids[i], motif.name, int(start), int(start) + motif.width, strand,
                      instance, int(start) - centre, "site"))

    for i, kind in enumerate(kinds):
        name = ARRANGEMENTS[kind]
        if name in ("a_only", "b_only"):
            motif = a if name == "a_only" else b
            put(i, motif, int(rng.integers(0, length - motif.width + 1)),
                "+-"[int(rng.integers(2))])
            arrangements.append((ids[i], name, "", ""))
            continue
        spacing = {"pair": rule.spacing + int(rng.integers(-rule.tolerance, rule.tolerance + 1)),
                   "wrong_spacing": int(rng.choice(far)),
                   "wrong_orientation": rule.spacing + int(rng.integers(-rule.tolerance,
                                                                          rule.tolerance + 1))
                   }[name]
        orientation = others[int(rng.integers(3))] if name == "wrong_orientation" \
            else rule.orientation
        lowest = max(0, -spacing)  # a's start: both motifs inside the sequence
        highest = min(length - a.width, length - b.width - spacing)
        start = int(rng.integers(lowest, highest + 1))
        put(i, a, start, orientation[0])
        put(i, b, start + spacing, orientation[1])
        arrangements.append((ids[i], name, orientation, spacing))
    return (pd.DataFrame(sites, columns=SITE_COLUMNS),
            pd.DataFrame(arrangements, columns=["id", "arrangement", "orientation", "spacing"]))
