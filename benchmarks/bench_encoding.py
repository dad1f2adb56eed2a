"""Benchmark seqexplain's one-hot encoder against simple and third-party alternatives.

What it measures, side by side in one run (fixed random seed):

* ``seqexplain.encode`` / ``seqexplain.one_hot`` on random DNA strings (default 200,000 x 200 bp
  = 40 M bases): a fixed-length case, a variable-length case that needs padding and cropping,
  and a case with lower-case letters and IUPAC codes (N, R, Y, ...).
* a plain-Python per-character encoder (dict lookup per character into a preallocated numpy
  array) on a subset, as the "naive" baseline.
* ``tangermeme.utils.one_hot_encode`` (one sequence at a time -> torch int8 tensor of shape
  (4, L)), looped over the sequences and stacked as a user would, and tangermeme's batched
  ``_one_hot_encode_rows`` (a private helper; tangermeme has no public batched API). Only when
  tangermeme imports; otherwise the rows say why they were skipped.
* streaming a FASTA file from disk end to end (a temporary file of the same random sequences,
  80 bases a line): ``seqexplain.iter_encoded`` (bounded memory) and ``seqexplain.read_encoded``
  (whole file), each for two file sizes (n/4 and n records), with the streaming peak of both
  sizes compared in a line below the table: it should not grow with the file.

For every row it prints the seconds of the best of up to ``--repeats`` timed calls (after one
warm-up call on the same input; the warm-up's own time is printed as "1st s", because the first
large allocation of a process pays the page faults for fresh memory; a method stops repeating
once its timed calls add up to ``--budget`` seconds), throughput in million input bases per
second, the output size, and its peak memory:

* ``peak/out`` -- ``tracemalloc``'s peak during one extra, untimed call (numpy reports its
  buffers to tracemalloc, and Python strings are traced too) divided by the output array's
  bytes. tracemalloc does not see torch's allocations, so the torch rows show n/a.
* ``rss/out`` -- growth of the process's peak resident memory (Linux ``VmHWM``, reset through
  ``/proc/self/clear_refs``) during the timed calls (the largest), divided by the output bytes.
  This one sees every allocator, torch included. Memory that the allocator kept from earlier
  calls and reuses is not counted, so it can read low.

The load average is printed at the start and the end: on a shared machine other jobs make the
timings noisy (the memory columns are not affected).

Targets for seqexplain's encoder: >= 50 M bases/s on a 2-core machine and peak/out <= 1.5.

Run (default run takes about 1-2 minutes and needs about 3 GB of memory)::

    python benchmarks/bench_encoding.py                      # 200,000 x 200 bp
    python benchmarks/bench_encoding.py --n 20000 --length 1000 --repeats 5
    python benchmarks/bench_encoding.py --n 20000            # quick run (~20 s)
    python benchmarks/bench_encoding.py --extra              # + tangermeme on lower/IUPAC input

To measure the tangermeme columns too, use a separate virtualenv (CPU-only torch; any other
torch version pulls gigabytes of CUDA wheels)::

    python3 -m venv .venv-bench
    . .venv-bench/bin/activate
    pip install torch==2.13.0            # FIRST: the CPU build
    pip install tangermeme               # then check: pip list | grep -i -E 'torch|nvidia'
                                         # (torch must still be 2.13.0, no nvidia-* packages)
    pip install numpy biopython          # all that seqexplain's encoding/FASTA modules need
    pip install -e . --no-deps           # seqexplain itself, without TensorFlow (the encoding
                                         # and FASTA modules do not import it)
    python benchmarks/bench_encoding.py
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import tempfile
import time
import tracemalloc

import numpy as np

import seqexplain

IUPAC = "NRYSWKMBDHV"
MB = 1e6


# ----------------------------------------------------------------------------------------------
# inputs

def random_sequences(rng: np.random.Generator, n: int, length: int) -> list[str]:
    """``n`` random upper-case ACGT strings of exactly ``length`` bases."""
    letters = np.frombuffer(b"ACGT", np.uint8)
    joined = letters[rng.integers(0, 4, n * length, dtype=np.uint8)].tobytes().decode("ascii")
    return [joined[i * length:(i + 1) * length] for i in range(n)]


def variable_sequences(rng: np.random.Generator, n: int, length: int) -> list[str]:
    """Random ACGT strings with lengths uniform in [length/2, 3*length/2]: about half are padded
    and half cropped to ``length``."""
    lengths = rng.integers(length // 2, length * 3 // 2 + 1, n)
    letters = np.frombuffer(b"ACGT", np.uint8)
    joined = letters[rng.integers(0, 4, int(lengths.sum()), dtype=np.uint8)].tobytes().decode()
    ends = np.cumsum(lengths)
    starts = ends - lengths
    return [joined[s:e] for s, e in zip(starts.tolist(), ends.tolist())]


def mixed_case_iupac(rng: np.random.Generator, n: int, length: int) -> list[str]:
    """Random DNA with ~30% lower-case (soft-masked) bases and ~1% IUPAC codes (N, R, Y, ...)."""
    upper = np.frombuffer(b"ACGT", np.uint8)[rng.integers(0, 4, n * length, dtype=np.uint8)]
    amb = np.frombuffer(IUPAC.encode(), np.uint8)
    is_amb = rng.random(n * length) < 0.01
    upper[is_amb] = amb[rng.integers(0, len(amb), int(is_amb.sum()))]
    lower = rng.random(n * length) < 0.30
    upper[lower] += 32  # ASCII upper -> lower
    joined = upper.tobytes().decode("ascii")
    return [joined[i * length:(i + 1) * length] for i in range(n)]


def write_fasta(path: str, sequences: list[str], wrap: int = 80) -> None:
    with open(path, "w") as fh:
        for i, seq in enumerate(sequences):
            fh.write(f">seq{i} random sequence {i}\n")
            if wrap:
                fh.write("\n".join(seq[k:k + wrap] for k in range(0, len(seq), wrap)))
                fh.write("\n")
            else:
                fh.write(seq + "\n")


# ----------------------------------------------------------------------------------------------
# encoders that are not seqexplain's

def python_per_character(sequences: list[str], length: int) -> np.ndarray:
    """The naive encoder: one dict lookup per character into a preallocated float32 array
    (ACGT one-hot, any case; other letters stay zero; longer sequences are cut on the right)."""
    lut = {c: i for i, c in enumerate("ACGT")}
    lut.update({c.lower(): i for c, i in list(lut.items())})
    out = np.zeros((len(sequences), length, 4), dtype=np.float32)
    for i, seq in enumerate(sequences):
        row = out[i]
        for j, ch in enumerate(seq[:length]):
            k = lut.get(ch)
            if k is not None:
                row[j, k] = 1.0
    return out


def tangermeme_status() -> tuple[object | None, str]:
    """(tangermeme.utils module or None, a line saying which torch/tangermeme or why not)."""
    try:
        import torch
        import tangermeme
        import tangermeme.utils as tu
    except Exception as exc:  # ImportError, or a broken torch install
        return None, (f"tangermeme columns skipped: cannot import it here "
                      f"({type(exc).__name__}: {exc})")
    version = getattr(tangermeme, "__version__", None)
    if version is None:
        try:
            from importlib.metadata import version as _v
            version = _v("tangermeme")
        except Exception:
            version = "?"
    return tu, f"tangermeme {version} with torch {torch.__version__}"


# ----------------------------------------------------------------------------------------------
# measuring

def _proc_status(key: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def nbytes_of(result) -> int:
    """Bytes of an encoder's output (numpy array, torch tensor, OneHot, or (x, OneHot))."""
    if isinstance(result, tuple):
        result = result[-1]
    if isinstance(result, seqexplain.OneHot):
        result = result.onehot
    if hasattr(result, "nbytes"):
        return int(result.nbytes)
    return int(result.element_size() * result.nelement())  # torch without .nbytes


def measure(fn, repeats: int, warmup=None, budget: float = 5.0, traced: bool = True) -> dict:
    """Time ``fn()`` (best of up to ``repeats`` calls, after a warm-up) and its peak memory.

    ``warmup``: a cheaper callable to warm up with (e.g. a subset for a slow encoder); by
    default ``fn`` itself. Repeating stops early once the timed calls add up to ``budget``
    seconds (at least one timed call). The growth of peak RSS is read around each timed call
    (the largest is kept); tracemalloc's peak comes from one further, untimed call (skipped
    with ``traced=False``, for torch code whose allocations tracemalloc does not see)."""
    gc.collect()
    t0 = time.perf_counter()
    result = (warmup or fn)()
    first = time.perf_counter() - t0
    del result
    times, rss_growth = [], None
    while len(times) < max(1, repeats) and (not times or sum(times) < budget):
        gc.collect()
        rss0 = _proc_status("VmRSS")
        reset = rss0 is not None and _reset_peak_rss()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        hwm = _proc_status("VmHWM") if reset else None
        if hwm is not None:
            rss_growth = max(rss_growth or 0, hwm - rss0)
        out_bytes = nbytes_of(result)
        del result

    # peak traced memory (numpy buffers + Python objects) during one call
    peak = None
    if traced:
        gc.collect()
        tracemalloc.start()
        tracemalloc.reset_peak()
        result = fn()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        del result
        gc.collect()
    return {"best": min(times), "n_timed": len(times), "first": first if warmup is None else None,
            "out_bytes": out_bytes, "peak": peak, "rss": rss_growth}


def proposed_encode(sequences: list[str], length: int, chunk_bases: int = 1 << 16) -> np.ndarray:
    """Reference only, not seqexplain's API: the fixed-length path of ``seqexplain.encode``
    (join, ASCII-encode, validity check, reshape, table lookup) with the lookup done as
    ``np.take(..., mode="clip")`` in row chunks. ``mode="raise"`` (numpy's default, used by
    seqexplain) makes ``take`` write into a temporary copy of ``out``, and the uint8 codes are
    converted to an intp index array (8 bytes per base) before the lookup; chunking bounds that."""
    from seqexplain.alphabets import DNA
    rows, valid = DNA.table()
    n = len(sequences)
    buf = np.frombuffer("".join(sequences).encode("ascii"), dtype=np.uint8)
    if not valid[buf].all():
        raise ValueError("invalid character")
    codes = buf.reshape(n, length)
    out = np.empty((n, length, rows.shape[1]), dtype=np.float32)
    step = max(1, chunk_bases // length)
    for s in range(0, n, step):
        np.take(rows, codes[s:s + step], axis=0, out=out[s:s + step], mode="clip")
    return out


# ----------------------------------------------------------------------------------------------
# table

HEADER = (f"{'method':<52} {'input':<16} {'n bases':>11} {'1st s':>6} {'best s':>7} "
          f"{'runs':>4} {'Mb/s':>7} {'out MB':>7} {'peak MB':>8} {'peak/out':>8} {'rss/out':>7}")


def row(method: str, case: str, n_bases: int, m: dict | None, note: str = "",
        ref_bytes: int | None = None) -> str:
    """One line of the table; ``ref_bytes``: what peak/out divides by (default the output)."""
    if m is None:
        return f"{method:<52} {case:<16} {n_bases:>11,} {'-':>6} {'-':>7} {'-':>4} {'-':>7} " \
               f"{'-':>7} " \
               f"{'-':>8} {'-':>8} {'-':>7}  {note}"
    ref = ref_bytes or m["out_bytes"]
    first = f"{m['first']:.2f}" if m["first"] is not None else "-"
    rss = f"{m['rss'] / ref:.2f}" if m["rss"] is not None and ref else "n/a"
    peak_mb = f"{m['peak'] / MB:.1f}" if m["peak"] is not None else "n/a"
    peak_ratio = f"{m['peak'] / ref:.2f}" if m["peak"] is not None else "n/a"
    return (f"{method:<52} {case:<16} {n_bases:>11,} {first:>6} {m['best']:>7.3f} "
            f"{m['n_timed']:>4} "
            f"{n_bases / m['best'] / MB:>7.1f} {ref / MB:>7.1f} {peak_mb:>8} "
            f"{peak_ratio:>8} {rss:>7}" + (f"  {note}" if note else ""))


_T0 = time.perf_counter()


def emit(line: str) -> None:
    print(line, flush=True)
    if os.environ.get("BENCH_TRACE"):
        print(f"  [{time.perf_counter() - _T0:6.1f} s]", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200_000, help="number of sequences (200,000)")
    ap.add_argument("--length", type=int, default=200, help="sequence length in bp (200)")
    ap.add_argument("--repeats", type=int, default=3, help="timed calls per method; best is shown")
    ap.add_argument("--python-n", type=int, default=2_000,
                    help="sequences for the slow plain-Python encoder (2,000)")
    ap.add_argument("--batch-size", type=int, default=10_000, help="iter_encoded batch size")
    ap.add_argument("--budget", type=float, default=5.0,
                    help="stop repeating a method once its timed calls add up to this (s)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-tangermeme", action="store_true", help="skip the tangermeme rows")
    ap.add_argument("--no-fasta", action="store_true", help="skip the FASTA streaming rows")
    ap.add_argument("--extra", action="store_true",
                    help="also time tangermeme on the lower-case/IUPAC input (about +25 s)")
    args = ap.parse_args(argv)
    n, length, reps, budget = args.n, args.length, args.repeats, args.budget

    tu, tline = (None, "tangermeme columns skipped: --no-tangermeme") if args.no_tangermeme \
        else tangermeme_status()
    emit(f"seqexplain {seqexplain.__version__} | numpy {np.__version__} | Python "
         f"{platform.python_version()} | {platform.machine()} | {os.cpu_count()} CPU cores | "
         f"{sys.prefix}")
    emit(tline)
    emit(f"inputs: {n:,} random DNA sequences x {length} bp, seed {args.seed}; best of up to "
         f"{reps} timed calls after a warm-up; load average at start "
         f"{os.getloadavg()[0]:.2f}\n")

    rng = np.random.default_rng(args.seed)
    fixed = random_sequences(rng, n, length)
    variable = variable_sequences(rng, n, length)
    mixed = mixed_case_iupac(rng, n, length)
    n_fixed = n * length
    n_var = sum(map(len, variable))
    sub = fixed[:min(args.python_n, n)]
    warm_sub = fixed[:min(1_000, n)]
    # The inputs, torch and tangermeme are long-lived: move them out of the collector's reach so
    # that the gc.collect() before each call takes milliseconds, not ~0.3 s.
    gc.collect()
    gc.freeze()

    emit(HEADER)
    emit("-" * len(HEADER))
    checks = []

    # --- seqexplain, in memory
    m = measure(lambda: seqexplain.encode(fixed, "dna", length), reps, budget=budget)
    emit(row("seqexplain.encode", "ACGT fixed", n_fixed, m))
    m = measure(lambda: seqexplain.one_hot(fixed, "dna", length), reps, budget=budget)
    emit(row("seqexplain.one_hot", "ACGT fixed", n_fixed, m))
    m = measure(lambda: seqexplain.one_hot(variable, "dna", length), reps, budget=budget)
    emit(row("seqexplain.one_hot (pad/crop center)", "ACGT var. len", n_var, m,
             note="n bases = input bases"))
    m = measure(lambda: seqexplain.one_hot(mixed, "dna", length), reps, budget=budget)
    emit(row("seqexplain.one_hot", "lower+IUPAC", n_fixed, m))
    m = measure(lambda: proposed_encode(fixed, length), reps, budget=budget)
    emit(row("reference: same steps, chunked take(mode='clip')", "ACGT fixed", n_fixed, m,
             note="the lookup encode uses, inlined"))
    x_se = seqexplain.one_hot(sub, "dna", length)
    checks.append(("reference == seqexplain", np.array_equal(proposed_encode(sub, length), x_se)))

    # --- plain Python
    m = measure(lambda: python_per_character(sub, length), reps, budget=budget)
    emit(row("plain Python, dict lookup per character", "ACGT fixed", len(sub) * length, m,
             note=f"subset of {len(sub):,} sequences"))
    checks.append(("plain Python == seqexplain", np.array_equal(python_per_character(sub, length),
                                                                x_se)))

    # --- tangermeme
    if tu is None:
        for meth in ("tangermeme one_hot_encode, loop + torch.stack",
                     "tangermeme _one_hot_encode_rows (private, batched)"):
            emit(row(meth, "ACGT fixed", n_fixed, None, note="skipped (see above)"))
    else:
        import torch

        def tm_loop(seqs):
            return torch.stack([tu.one_hot_encode(s) for s in seqs])

        m = measure(lambda: tm_loop(fixed), reps, budget=budget, traced=False,
                    warmup=lambda: tm_loop(warm_sub))
        emit(row("tangermeme one_hot_encode, loop + torch.stack", "ACGT fixed", n_fixed, m,
                 note="int8 (n,4,L)"))
        m = measure(lambda: tm_loop(fixed).float(), reps, budget=budget, traced=False,
                    warmup=lambda: tm_loop(warm_sub))
        emit(row("tangermeme one_hot_encode, loop + stack + .float()", "ACGT fixed", n_fixed,
                 m, note="float32 (n,4,L)"))
        if hasattr(tu, "_one_hot_encode_rows"):
            m = measure(lambda: tu._one_hot_encode_rows(fixed), reps, budget=budget,
                        warmup=lambda: tu._one_hot_encode_rows(warm_sub))
            emit(row("tangermeme _one_hot_encode_rows (private, batched)", "ACGT fixed",
                     n_fixed, m, note="int8 (n,4,L), numba"))
        else:
            emit(row("tangermeme _one_hot_encode_rows (private, batched)", "ACGT fixed",
                     n_fixed, None, note="skipped: not in this tangermeme version"))
        if args.extra:
            ignore = list(IUPAC)

            def tm_mixed(seqs):
                return torch.stack([tu.one_hot_encode(s.upper(), ignore=ignore) for s in seqs])

            m = measure(lambda: tm_mixed(mixed), reps, budget=budget, traced=False,
                        warmup=lambda: tm_mixed(mixed[:1000]))
            emit(row("tangermeme loop, s.upper(), ignore=IUPAC", "lower+IUPAC", n_fixed, m,
                     note="IUPAC -> zero rows, not fractional"))
        else:
            emit(row("tangermeme loop, s.upper(), ignore=IUPAC", "lower+IUPAC", n_fixed, None,
                     note="not run (--extra runs it; IUPAC would be zero rows, not fractional)"))
        emit(row("tangermeme (variable length)", "ACGT var. len", n_var, None,
                 note="n/a: one_hot_encode has no pad/crop; rows cannot be stacked"))
        x_tm = tm_loop(sub).numpy().transpose(0, 2, 1)
        checks.append(("tangermeme == seqexplain (ACGT)", np.array_equal(x_tm, x_se)))

    # --- FASTA from disk
    stream_note = ""
    if not args.no_fasta:
        bs = args.batch_size
        with tempfile.TemporaryDirectory(prefix="seqexplain-bench-") as tmp:
            sizes = sorted({max(1, n // 4), n})
            paths = {}
            for k in sizes:
                paths[k] = os.path.join(tmp, f"random_{k}.fa")
                write_fasta(paths[k], fixed[:k])

            def stream(path):
                count = 0
                for ids, oh in seqexplain.iter_encoded(path, alphabet="dna", length=length,
                                                      batch_size=bs):
                    count += oh.onehot.shape[0]
                    del ids, oh  # a consumer that keeps one batch at a time
                return np.empty(0, np.uint8)  # nothing kept: out bytes reported per batch

            stream_peaks = {}
            for k in sizes:
                mb = os.path.getsize(paths[k]) / MB
                m = measure(lambda: stream(paths[k]), reps, budget=budget)
                stream_peaks[k] = m["peak"]
                batch_bytes = min(bs, k) * length * 4 * 4  # float32, 4 channels
                emit(row(f"iter_encoded(batch_size={bs:,})", f"FASTA {mb:.1f} MB", k * length,
                         m, note="out MB = one batch", ref_bytes=batch_bytes))
            for k in sizes:
                mb = os.path.getsize(paths[k]) / MB
                m = measure(lambda: seqexplain.read_encoded(paths[k], alphabet="dna",
                                                            length=length), reps, budget=budget)
                emit(row("read_encoded (whole file)", f"FASTA {mb:.1f} MB", k * length, m))
            if len(sizes) == 2:
                (k1, p1), (k2, p2) = sorted(stream_peaks.items())
                stream_note = (f"streaming peak: {p1 / MB:.1f} MB for {k1:,} records, "
                               f"{p2 / MB:.1f} MB for {k2:,} records ({k2 / k1:.0f}x the file): "
                               f"{(p2 - p1) / MB:+.1f} MB, {(p2 - p1) / (k2 - k1):.0f} bytes per "
                               f"extra record")
            got = [oh.onehot for _, oh in seqexplain.iter_encoded(
                paths[sizes[0]], alphabet="dna", length=length, batch_size=bs)]
            ok = np.array_equal(np.concatenate(got), seqexplain.one_hot(fixed[:sizes[0]], "dna",
                                                                          length))
            checks.append(("iter_encoded == one_hot", ok))

    emit("")
    if stream_note:
        emit(stream_note)
    emit("columns: 1st s = warm-up call (same input; '-' when warmed up on a 1,000-sequence "
         "subset); best s = best of the timed calls; runs = timed calls;")
    emit("  Mb/s = million input bases per second; out MB = output array; peak MB = tracemalloc "
         "peak during one call;")
    emit("  peak/out = peak MB / out MB (n/a for torch code: tracemalloc does not see torch's "
         "allocations; see rss/out);")
    emit("  rss/out = largest growth of peak RSS (VmHWM) during a timed call / out MB.")
    emit(f"load average at end {os.getloadavg()[0]:.2f}; wall time "
         f"{time.perf_counter() - _T0:.0f} s")
    emit("checks: " + ", ".join(f"{name}: {'ok' if ok else 'MISMATCH'}" for name, ok in checks))
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
