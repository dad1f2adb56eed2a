"""In-silico experiments and the grammar study (issue 24): a planted pair rule recovered,
experiment throughput against ``sx.predict``, and tangermeme 1.6 side by side.

Three parts, one run:

1. **A simulated grammar task.** ``simulate --grammar "SOX2,FOXA1,spacing=14±1,orientation=++"``
   (positives: the pair so; negatives: each motif alone, the pair at other spacings, the pair
   in other orientations), ``train`` with the defaults, then ``grammar`` with SOX2, FOXA1 and
   REST (absent from the data) on dinucleotide shuffles of the sequences. Checks: the best
   arrangement of the pair is the rule (±1 bp) — or its reverse-complement mirror, which a
   strand-symmetric model cannot tell apart (``a+ b+`` at s reads ``a- b-`` at
   ``w_a − w_b − s`` on the other strand) — with a cooperativity CI above 0; each motif's
   marginal effect under a third of the pair's; REST not significant.
2. **Throughput**: ``sx.marginalize`` runs 2n forward passes (before and after); its sequences
   per second against ``sx.predict`` on the same 2n sequences (target ≥ 80 %).
3. **tangermeme 1.6** ``marginalize`` and ``space`` on the same network (the reference CNN of
   ``tests/data/reference`` and its PyTorch twin, CPU, ``.venv-bench``), same backgrounds, motifs
   and starts: the largest difference against the output scale, and the time of each side.

Run: ``python benchmarks/bench_grammar.py [--n-train 3000] [--epochs 50]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _common import TORCH_REFERENCE_CNN, best_time  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
REFERENCE = ROOT / "tests" / "data" / "reference" / "tangermeme_maxpool.npz"
MEME = ROOT / "examples" / "data" / "jaspar2024_selected.meme"
BENCH_PYTHONS = [ROOT / ".venv-bench" / "bin" / "python",
                 ROOT.parent / "main" / ".venv-bench" / "bin" / "python"]
RULE = "SOX2,FOXA1,spacing=14±1,orientation=++"

TANGERMEME_SCRIPT = r"""
import json, sys, time, warnings
import numpy as np, torch
from tangermeme.marginalize import marginalize
from tangermeme.space import space
torch.set_num_threads(int(sys.argv[4]))
ref = np.load(sys.argv[1]); X = np.load(sys.argv[2]); job = json.loads(sys.argv[5])
W = lambda name, part: torch.tensor(ref[f"weights/{name}/{part}"])
""" + TORCH_REFERENCE_CNN + r"""
model = Net().eval()
X = torch.tensor(X).permute(0, 2, 1).contiguous()
out = {}
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    kw = dict(device="cpu", batch_size=job["batch"], verbose=False)
    marginalize(model, X[:4], job["motif"], start=job["start"], **kw)
    t = time.perf_counter()
    before, after = marginalize(model, X, job["motif"], start=job["start"], **kw)[:2]
    out["marginalize_s"] = time.perf_counter() - t
    np.save(sys.argv[3] + "_marg.npy", np.stack([before.numpy(), after.numpy()]))
    gaps = [[g] for g in job["gaps"]]
    t = time.perf_counter()
    before, afters = space(model, X, job["pair"], gaps, start=job["start"], **kw)[:2]
    out["space_s"] = time.perf_counter() - t
    np.save(sys.argv[3] + "_space.npy", afters.numpy())
import tangermeme
out["tangermeme"] = getattr(tangermeme, "__version__", "?"); out["torch"] = torch.__version__
print(json.dumps(out))
"""


def simulated_task(work: Path, n_train: int, epochs: int, figure: Path | None = None) -> dict:
    import seqexplain as sx
    from seqexplain.cli import main
    from click.testing import CliRunner

    from seqexplain.grammar import grammar_files
    from seqexplain.motif_io import load_motifs

    run = CliRunner()
    t0 = time.perf_counter()
    r = run.invoke(main, ["simulate", "--motif", "SOX2", "--motif", "FOXA1", "--motif-file",
                          str(MEME), "--grammar", RULE, "-n", str(n_train), "--length", "200",
                          "--seed", "7", "--out", str(work / "sim")])
    assert r.exit_code == 0, r.output
    r = run.invoke(main, ["train", str(work / "sim" / "sequences.fa"), "--labels",
                          str(work / "sim" / "labels.tsv"), "--epochs", str(epochs), "--seed", "0",
                          "--out", str(work / "model")])
    assert r.exit_code == 0, r.output
    train_s = time.perf_counter() - t0
    meta = json.loads((work / "model" / "metadata.json").read_text())
    metrics = json.loads((work / "model" / "metrics.json").read_text())
    test_auroc = round(metrics["cnn"]["auroc"], 3)
    best_baseline = max(round(b["auroc"], 3) for b in metrics["baselines"].values())
    motifs = load_motifs(["SOX2", "FOXA1"], [str(MEME)])
    widths = {m.name: m.width for m in motifs}
    t0 = time.perf_counter()
    result = grammar_files(work / "model", work / "sim" / "sequences.fa",
                           "SOX2,FOXA1,REST",
                           work / "grammar", n_backgrounds=100, max_spacing=30, seed=0)
    grammar_s = time.perf_counter() - t0
    if figure is not None:
        import shutil

        shutil.copyfile(work / "grammar" / "spacing.png", figure)
    print(result.marginal[["motif", "strand", "effect", "control_effect", "q", "significant"]]
          .to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    g = result.grammar.sort_values("cooperativity", ascending=False)
    g = g[g["motif_a"].isin(["SOX2", "FOXA1"]) & g["motif_b"].isin(["SOX2", "FOXA1"])].iloc[0]
    mirror = widths["SOX2"] - widths["FOXA1"] - 14
    as_rule = g["orientation"] == "++" and abs(int(g["spacing"]) - 14) <= 1
    as_mirror = g["orientation"] == "--" and abs(int(g["spacing"]) - mirror) <= 1
    if g["motif_a"] == "FOXA1":  # the pair read the other way round
        as_rule = g["orientation"] == "++" and abs(int(g["spacing"]) + 14) <= 1
        as_mirror = g["orientation"] == "--" and abs(int(g["spacing"]) + mirror) <= 1
    sp = result.spacing
    at = sp[(sp["orientation"] == g["orientation"]) & (sp["spacing"] == g["spacing"])].iloc[0]
    marginal = result.marginal.set_index(["motif", "strand"])
    rest_significant = bool(marginal.loc["REST"]["significant"].any())
    return dict(train_s=train_s, grammar_s=grammar_s, test_auroc=test_auroc,
                best=f"{g['motif_a']}/{g['motif_b']} {g['orientation']} at {int(g['spacing'])}",
                rule_or_mirror=bool(as_rule or as_mirror), mirror_spacing=mirror,
                cooperativity=float(g["cooperativity"]), ci_low=float(g["ci_low"]),
                effect_pair=float(at["effect_pair"]), effect_a=float(at["effect_a"]),
                effect_b=float(at["effect_b"]), rest_significant=rest_significant,
                tier=meta.get("choices", {}).get("capacity", {}).get("tier"),
                best_baseline=best_baseline, sx=sx.__name__)


def throughput(n: int) -> dict:
    import seqexplain as sx
    from toy_models import random_onehot, reference_model

    model = reference_model(REFERENCE)
    X = random_onehot(n, 200, seed=0)
    XX = np.concatenate([X, X])
    sx.predict(model, XX)
    sx.marginalize(model, X, "ACGTGCAAATTGCA")
    t_pred, _ = best_time(lambda: sx.predict(model, XX), 3)
    t_marg, _ = best_time(lambda: sx.marginalize(model, X, "ACGTGCAAATTGCA"), 3)
    return dict(n=n, predict_seq_s=2 * n / t_pred, marginalize_seq_s=2 * n / t_marg,
                ratio=t_pred / t_marg)


def tangermeme_side(n: int, threads: int) -> dict:
    import seqexplain as sx
    from toy_models import random_onehot, reference_model

    python = next((p for p in BENCH_PYTHONS if p.exists()), None)
    if python is None:
        return dict(note="no .venv-bench (see benchmarks/README.md)")
    model = reference_model(REFERENCE)
    X = random_onehot(n, 200, seed=1)
    motif, pair, start = "GGGTGACGTCACCC", ["CACGTG", "TGACTCA"], 60
    spacings = list(range(6, 41))  # start to start; tangermeme's gap = spacing − width of a
    job = dict(motif=motif, pair=pair, start=start, batch=256,
               gaps=[s - len(pair[0]) for s in spacings])
    sx.marginalize(model, X[:4], motif, start=start)
    t0 = time.perf_counter()
    ours_m = sx.marginalize(model, X, motif, start=start)
    ours_m_s = time.perf_counter() - t0
    sx.space(model, X[:4], pair, spacings[:2], start=start)
    t0 = time.perf_counter()
    ours_s = sx.space(model, X, pair, spacings, start=start)
    ours_s_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        script, x_path, out = Path(tmp, "t.py"), Path(tmp, "X.npy"), Path(tmp, "o")
        script.write_text(TANGERMEME_SCRIPT)
        np.save(x_path, X)
        run = subprocess.run([str(python), str(script), str(REFERENCE), str(x_path), str(out),
                              str(threads), json.dumps(job)], capture_output=True, text=True)
        if run.returncode != 0:
            return dict(note=run.stderr.strip().splitlines()[-1][:160])
        info = json.loads(run.stdout.strip().splitlines()[-1])
        marg = np.load(f"{out}_marg.npy")
        space_after = np.load(f"{out}_space.npy")  # (n, n_spacings, 1)
    scale = float(np.abs(ours_m.after).max())
    diff_m = max(np.abs(ours_m.before - marg[0]).max(), np.abs(ours_m.after - marg[1]).max())
    ours_after = np.moveaxis(ours_s.after, 0, 1)  # (n, n_spacings, 1)
    diff_s = float(np.abs(ours_after - space_after).max())
    return dict(n=n, marginalize=(ours_m_s, info["marginalize_s"]),
                space=(ours_s_s, info["space_s"]), n_spacings=len(spacings),
                rel_diff_marginalize=float(diff_m) / scale, rel_diff_space=diff_s / scale,
                versions=f"tangermeme {info['tangermeme']}, torch {info['torch']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--n", type=int, default=1000, help="backgrounds for parts 2 and 3")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-task", action="store_true")
    parser.add_argument("--only-task", action="store_true", help="part 1 alone")
    parser.add_argument("--save-figure", type=Path, default=None,
                        help="copy part 1's spacing.png here (the README's figure)")
    args = parser.parse_args()
    print(f"# load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPU cores")
    if not args.skip_task:
        with tempfile.TemporaryDirectory() as tmp:
            t = simulated_task(Path(tmp), args.n_train, args.epochs, args.save_figure)
        print(f"## 1. simulated grammar task: {RULE}, {args.n_train} sequences × 200 bp")
        print(f"train {t['train_s']:.0f} s (tier {t['tier']}), test AUROC {t['test_auroc']} "
              f"(best baseline {t['best_baseline']}); "
              f"grammar {t['grammar_s']:.0f} s")
        print(f"best arrangement: {t['best']} (rule ++ at 14, or its mirror -- at "
              f"{t['mirror_spacing']}): {'recovered' if t['rule_or_mirror'] else 'NOT recovered'}")
        print(f"cooperativity {t['cooperativity']:.2f}, CI low {t['ci_low']:.2f} "
              f"({'> 0' if t['ci_low'] > 0 else '≤ 0'})")
        print(f"at that arrangement: pair {t['effect_pair']:.2f}, SOX2 alone {t['effect_a']:.2f}, "
              f"FOXA1 alone {t['effect_b']:.2f} (each < a third of the pair: "
              f"{max(t['effect_a'], t['effect_b']) < t['effect_pair'] / 3})")
        print(f"REST significant: {t['rest_significant']}")
    if args.only_task:
        return
    th = throughput(args.n)
    print(f"## 2. throughput, reference CNN, {2 * th['n']} forward passes")
    print(f"sx.predict {th['predict_seq_s']:.0f} seq/s; sx.marginalize "
          f"{th['marginalize_seq_s']:.0f} seq/s: {100 * th['ratio']:.0f} % (target ≥ 80 %)")
    tg = tangermeme_side(args.n, args.threads)
    print("## 3. tangermeme side by side (reference CNN, CPU)")
    if "note" in tg:
        print("skipped:", tg["note"])
    else:
        print(tg["versions"])
        print("| experiment | seqexplain (s) | tangermeme (s) | speed-up | max |diff| / output scale |")
        print("|---|---|---|---|---|")
        for name, key in (("marginalize", "rel_diff_marginalize"), ("space", "rel_diff_space")):
            ours, theirs = tg[name]
            label = name if name == "marginalize" else f"space ({tg['n_spacings']} spacings)"
            print(f"| {label}, n = {tg['n']} | {ours:.2f} | {theirs:.2f} | "
                  f"{theirs / ours:.1f}× | {tg[key]:.1e} |")


if __name__ == "__main__":
    main()
