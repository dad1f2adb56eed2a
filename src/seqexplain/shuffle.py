"""Shuffles that keep a sequence's composition: letters (:func:`shuffle`) or every k-mer
(:func:`dinucleotide_shuffle`, k = 2 by default).

The k-mer shuffle is the Altschul–Erickson algorithm as an Euler path: the (k-1)-mers of a
sequence are the vertices of a multigraph, each k-mer is an edge, and every Euler path from the
first (k-1)-mer to the last one spells a sequence with exactly the same k-mer counts and the same
first and last (k-1)-mer. A random path is drawn uniformly among all of them:

1. each vertex except the last one draws its *last exit* — the out-edges used last must form a
   tree pointing to the last vertex, drawn uniformly by cycle popping (Propp & Wilson 1998);
2. the path walks from the first vertex, leaving each vertex by an exit drawn uniformly from
   its unused ones, and by its last exit only when no other one is left.

Every step is vectorised across all sequences × shuffles at once; the only Python loops run
over the positions of one walk and over cycle-popping rounds (a handful for DNA).

One-hot inputs may contain rows that are not one-hot (all-zero N or padding rows, fractional
IUPAC rows): each distinct row is its own symbol, so they are shuffled and preserved like letters.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .errors import SeqexplainError

RandomState = int | np.random.Generator | None

#: Walks × max(edges, vertices) handled at once: bounds peak memory (~200 MB) for large inputs.
_MAX_ENTRIES_PER_CHUNK = 1 << 22


def dinucleotide_shuffle(x: str | Sequence[str] | np.ndarray, n: int = 1, k: int = 2,
                         random_state: RandomState = None):
    """Shuffle sequences keeping every k-mer count (dinucleotides by default) exactly.

    The first and last ``k - 1`` symbols are kept too. Each shuffle is drawn uniformly from all
    sequences with the same k-mer counts and ends (Altschul–Erickson). A sequence whose k-mers
    allow only one arrangement (e.g. ``"ACGTACGT"`` for k = 2) comes back unchanged.

    Parameters
    ----------
    x : a string, a list of strings, or a one-hot array ``shape=(length, C)`` or
        ``shape=(n_seqs, length, C)``. Strings are case-sensitive (``a`` and ``A`` are different
        symbols); in arrays every distinct row is a symbol (all-zero N/padding rows included).
    n : shuffles per sequence.
    k : length of the preserved k-mers; ``k=1`` is :func:`shuffle`.
    random_state : seed or ``np.random.Generator``; the same seed gives the same shuffles.

    Returns
    -------
    For a string, a list of ``n`` strings; for a list of strings, one such list per string;
    for an array ``shape=(length, C)``, ``shape=(n, length, C)``; for ``shape=(n_seqs, length, C)``,
    ``shape=(n_seqs, n, length, C)`` — the reference layout attribution methods use. Arrays keep
    their dtype.
    """
    _check_counts(n, k)
    rng = np.random.default_rng(random_state)
    if k == 1:
        return shuffle(x, n=n, random_state=rng)
    return _apply(x, lambda tokens: _euler_shuffle(tokens, n, k, rng))


def shuffle(x: str | Sequence[str] | np.ndarray, n: int = 1, random_state: RandomState = None):
    """Shuffle the positions of each sequence (keeps letter counts only).

    Takes and returns the same types and shapes as :func:`dinucleotide_shuffle`.
    """
    _check_counts(n, 1)
    rng = np.random.default_rng(random_state)

    def permute(tokens: np.ndarray) -> np.ndarray:
        m, length = tokens.shape
        order = np.argsort(rng.random((m, n, length)), axis=-1)
        return np.take_along_axis(np.broadcast_to(tokens[:, None], order.shape), order, axis=-1)

    return _apply(x, permute)


def _check_counts(n: int, k: int) -> None:
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise SeqexplainError(f"n (shuffles per sequence) must be a positive integer, got {n!r}")
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise SeqexplainError(f"k (k-mer length) must be a positive integer, got {k!r}")


def _apply(x, shuffle_tokens):
    """Turn ``x`` into integer symbols (m, length), shuffle them into (m, n, length), turn back.

    ``shuffle_tokens`` maps tokens (m, length) to shuffled tokens (m, n, length)."""
    if isinstance(x, str):
        return _apply([x], shuffle_tokens)[0]
    if isinstance(x, np.ndarray):
        return _shuffle_onehot(x, shuffle_tokens)
    if isinstance(x, Sequence) and all(isinstance(s, str) for s in x):
        return _shuffle_strings(list(x), shuffle_tokens)
    raise SeqexplainError(f"cannot shuffle a {type(x).__name__}: expected a string, a list of "
                          "strings or a one-hot array (length, C) / (n, length, C)")


def _shuffle_strings(seqs: list[str], shuffle_tokens) -> list[list[str]]:
    out: list[list[str]] = [[] for _ in seqs]
    lengths = np.fromiter(map(len, seqs), dtype=np.int64, count=len(seqs))
    # Strings of one length are shuffled together; UTF-32 gives one fixed-size code per character.
    for length in np.unique(lengths):
        idx = np.flatnonzero(lengths == length)
        codes = np.frombuffer("".join(seqs[i] for i in idx).encode("utf-32-le"), np.uint32)
        shuffled = shuffle_tokens(codes.reshape(len(idx), int(length)))
        for i, rows in zip(idx, shuffled):
            out[i] = [row.tobytes().decode("utf-32-le") for row in rows]
    return out


def _shuffle_onehot(x: np.ndarray, shuffle_tokens) -> np.ndarray:
    if x.ndim not in (2, 3):
        raise SeqexplainError(f"one-hot array has shape {x.shape}; expected (length, C) or "
                              "(n, length, C)")
    batch = x[None] if x.ndim == 2 else x
    m, length, channels = batch.shape
    flat = batch.reshape(-1, channels)
    tokens = flat.argmax(axis=1)
    rows = np.eye(channels, dtype=x.dtype)
    is_one_hot = (flat.max(axis=1) == 1) & (np.count_nonzero(flat, axis=1) == 1)
    if not is_one_hot.all():
        # All-zero (N, padding) and fractional rows: each distinct one is one more symbol.
        other_rows, other_tokens = np.unique(flat[~is_one_hot], axis=0, return_inverse=True)
        tokens[~is_one_hot] = channels + other_tokens.ravel()
        rows = np.concatenate([rows, other_rows])
    shuffled = rows[shuffle_tokens(tokens.reshape(m, length))]
    return shuffled[0] if x.ndim == 2 else shuffled


def _euler_shuffle(tokens: np.ndarray, n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-mer shuffles of equal-length token rows: (m, length) → (m, n, length)."""
    m, length = tokens.shape
    out = np.empty((m, n, length), dtype=tokens.dtype)
    if length <= k or m == 0:
        # At most one k-mer: the sequence itself is the only one with its k-mer counts.
        out[:] = tokens[:, None]
        return out
    symbols, codes = np.unique(tokens, return_inverse=True)
    codes = codes.reshape(m, length)
    vertices, last_symbol = _kmer_vertices(codes, k - 1)
    # Walks hold (edges,) and (vertices,) arrays; bound the larger of the two per chunk.
    per_walk = max(vertices.shape[1] - 1, len(last_symbol))
    per_chunk = max(1, _MAX_ENTRIES_PER_CHUNK // (n * per_walk))
    for lo in range(0, m, per_chunk):
        paths = _random_euler_paths(vertices[lo:lo + per_chunk], n, rng)
        # A path spells the first vertex's symbols, then the last symbol of each next vertex.
        out[lo:lo + per_chunk, :, :k - 1] = tokens[lo:lo + per_chunk, None, :k - 1]
        out[lo:lo + per_chunk, :, k - 1:] = symbols[last_symbol[paths[..., 1:]]]
    return out


def _kmer_vertices(codes: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Dense ids of the ``width``-mers at each position, ``shape=(m, length - width + 1)``, and
    the last symbol code of each id."""
    m, length = codes.shape
    n_pos = length - width + 1
    ids = codes[:, :n_pos]
    n_symbols = int(codes.max()) + 1
    for j in range(1, width):
        # Re-densify after each step so the ids never overflow, whatever k and alphabet.
        _, ids = np.unique(ids * n_symbols + codes[:, j:j + n_pos], return_inverse=True)
        ids = ids.reshape(m, n_pos)
    last_symbol = np.empty(int(ids.max()) + 1, dtype=np.int64)
    last_symbol[ids] = codes[:, width - 1:]
    return ids, last_symbol


def _random_euler_paths(vertices: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform random Euler paths through each row's multigraph.

    Parameters
    ----------
    vertices : shape=(m, n_pos) — vertex ids along each sequence; edge i goes from
        ``vertices[:, i]`` to ``vertices[:, i + 1]``.

    Returns
    -------
    shape=(m, n, n_pos) — vertex ids along each shuffled path.
    """
    m, n_pos = vertices.shape
    n_vertices = int(vertices.max()) + 1
    src, dst = vertices[:, :-1], vertices[:, 1:]
    n_edges = n_pos - 1
    root = vertices[:, -1]

    # Per sequence: edges grouped by source vertex (self-loops last within a group: they can
    # never be a last exit), with each group's start and size.
    is_loop = src == dst
    by_source = np.argsort(src * 2 + is_loop, axis=1, kind="stable")
    flat = (np.arange(m)[:, None] * n_vertices + src).ravel()
    out_degree = np.bincount(flat, minlength=m * n_vertices).reshape(m, n_vertices)
    non_loop_exits = np.bincount(flat, weights=~is_loop.ravel(), minlength=m * n_vertices)
    non_loop_exits = non_loop_exits.reshape(m, n_vertices).astype(np.int64)
    group_start = np.cumsum(out_degree, axis=1) - out_degree

    walk_seq = np.repeat(np.arange(m), n)  # walk w shuffles sequence walk_seq[w]
    n_walks = m * n
    exit_to = np.take_along_axis(dst, by_source, axis=1)  # targets, grouped by source vertex
    # Every vertex that is left at least once, except the final one, needs a last exit. (Such a
    # vertex always has an exit that is not a self-loop, since the path must leave it.)
    needs_exit = out_degree[walk_seq] > 0
    needs_exit[np.arange(n_walks), root[walk_seq]] = False
    last_exit = np.zeros((n_walks, n_vertices), dtype=np.int64)  # position in exit_to
    parent = np.repeat(root[walk_seq][:, None], n_vertices, axis=1)
    # Cycle popping: vertices on a cycle of last exits draw again until no cycle is left;
    # only the walks that still have a cycle are looked at.
    active, redraw = np.arange(n_walks), needs_exit
    while len(active):
        row, v = np.nonzero(redraw)
        w = active[row]
        s = walk_seq[w]
        last_exit[w, v] = group_start[s, v] + rng.integers(non_loop_exits[s, v])
        parent[w, v] = exit_to[s, last_exit[w, v]]
        on_cycle = _on_cycle(parent[active], root[walk_seq[active]])
        has_cycle = on_cycle.any(axis=1)
        active, redraw = active[has_cycle], on_cycle[has_cycle]

    # Each walk's own copy of the exits, its last exits swapped to the end of their groups.
    walk_exits = exit_to[walk_seq]
    w, v = np.nonzero(needs_exit)
    group_end = group_start[walk_seq[w], v] + out_degree[walk_seq[w], v] - 1
    walk_exits[w, last_exit[w, v]], walk_exits[w, group_end] = (
        walk_exits[w, group_end], walk_exits[w, last_exit[w, v]])
    walk_exits = walk_exits.ravel()

    # Walk, leaving each vertex by an exit drawn uniformly from its unused ones (a lazy
    # Fisher–Yates shuffle of each group), by the last exit only when no other one is left.
    # Per (walk, vertex) slot: where its first unused exit is in walk_exits, and where its
    # free exits end (the reserved last exit sits there).
    first_unused = (group_start[walk_seq] + np.arange(n_walks)[:, None] * n_edges).ravel()
    free_end = first_unused + (out_degree[walk_seq] - needs_exit).ravel()
    walk_rows = np.arange(n_walks) * n_vertices
    paths = np.empty((n_pos, n_walks), dtype=np.int64)
    current = vertices[walk_seq, 0]
    paths[0] = current
    for step in range(1, n_pos):
        slot = walk_rows + current
        first = first_unused[slot]
        # With no free exit left, the pick is ``first``: the reserved last exit.
        pick = first + (rng.random(n_walks) * (free_end[slot] - first)).astype(np.int64)
        current = walk_exits[pick]
        walk_exits[pick] = walk_exits[first]
        first_unused[slot] = first + 1
        paths[step] = current
    return paths.T.reshape(m, n, n_pos)


def _on_cycle(parent: np.ndarray, root: np.ndarray) -> np.ndarray:
    """Which vertices lie on a cycle of the map ``parent`` (each row its own map; the root
    points to itself and is never on a cycle). ``parent: shape=(walks, n_vertices)``."""
    n_walks, n_vertices = parent.shape
    # After ≥ n_vertices steps every vertex has reached its cycle (or the root), and every
    # vertex on a cycle is reached: the image of parent^(2^t) is exactly the cycle vertices.
    image = parent
    for _ in range(max(1, int(np.ceil(np.log2(n_vertices))))):
        image = np.take_along_axis(image, image, axis=1)
    on_cycle = np.zeros_like(parent, dtype=bool)
    on_cycle[np.arange(n_walks)[:, None], image] = True
    on_cycle[np.arange(n_walks), root] = False
    return on_cycle
