"""Recompute every figure the README quotes, and the Quick-start image, from the shipped
examples — so that the documentation cannot drift from what the code gives.

The README marks each quoted figure as ``<!--fig:NAME-->VALUE<!--/fig-->`` (invisible when
rendered) and timings as ``<!--time:NAME-->SECONDS<!--/time-->``. The values come from the
outputs of the README's own blocks, run in order in a fresh workspace by the test suite
(``conftest.py`` at the repository root, with Sybil):

- in the tests, the ``<!-- check-figures -->`` line at the end of the README compares every
  ``fig`` marker with :func:`compute` (timings vary by machine and are not compared);
- ``python examples/make_docs_figures.py`` runs the same blocks with
  ``SEQEXPLAIN_UPDATE_FIGURES=1``, which writes the values and timings into README.md and
  copies the Quick-start figure to ``docs/images/ctcf_top_peak.png`` and the design
  section's before/after logos to ``docs/images/ctcf_design.png``, and the grammar block's
  ``spacing.png`` to ``docs/images/grammar_pair_spacing.png``.

Timings are measured on the machine that runs the script; the README states it (2 CPU cores).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
FIGURE = re.compile(r"<!--fig:(\w+)-->(.*?)<!--/fig-->", re.S)
TIME = re.compile(r"<!--time:(\w+)-->(.*?)<!--/time-->", re.S)
#: the README block each timing measures (a substring of the block's command)
TIMED = {"quickstart": "examples/data/ctcf_test.fa --method deepshap,saliency,ism --motifs"}
IMAGE = ROOT / "docs" / "images" / "ctcf_top_peak.png"
DESIGN_IMAGE = ROOT / "docs" / "images" / "ctcf_design.png"
GRAMMAR_IMAGE = ROOT / "docs" / "images" / "grammar_pair_spacing.png"


def _count_records(path: Path) -> int:
    return sum(1 for line in path.read_text().splitlines() if line.startswith(">"))


def _model_figures(name: str) -> tuple[float, str, float]:
    """(CNN test metric, best baseline name, its metric) of a shipped model."""
    metrics = json.loads((ROOT / "models" / name / "metrics.json").read_text())
    key = metrics["main_metric"]
    base = {b: m[key] for b, m in metrics["baselines"].items() if b != "trivial"}
    best = max(base, key=base.get)
    return metrics["cnn"][key], best, base[best]


def _baseline_label(name: str) -> str:
    return "k-mer" if name.startswith("kmer") else name


def compute(workspace: Path) -> dict[str, str]:
    """Every ``fig`` value, from the outputs the README's blocks wrote in ``workspace``."""
    ws = Path(workspace)
    figs = {"ctcf_test_n": str(_count_records(ROOT / "examples" / "data" / "ctcf_test.fa"))}
    motifs = pd.read_csv(ws / "ctcf_explained" / "motifs" / "motifs.tsv", sep="\t",
                         keep_default_na=False)
    top = motifs.iloc[0]
    figs["quickstart_motif"] = str(top["consensus"])
    figs["quickstart_match"] = (f"{top['best_match']} (JASPAR {top['best_match_id']}, "
                                f"q = {float(top['best_match_q']):.0e})")
    figs["quickstart_enrichment"] = f"{float(top['enrichment']):.1f}"
    figs["quickstart_supported"] = ("supported" if top["supported"] == "yes"
                                    else "not supported")
    index = pd.read_csv(ws / "ctcf_explained" / "logos" / "index.tsv", sep="\t")
    figs["quickstart_top_id"] = str(index["id"].iloc[0])
    auroc, base, base_value = _model_figures("ctcf")
    figs["ctcf_auroc"] = f"{auroc:.3f}"
    figs["ctcf_baseline"] = f"{_baseline_label(base)} {base_value:.3f}"
    figs["ww_auroc"] = f"{_model_figures('ww')[0]:.3f}"
    auroc, base, base_value = _model_figures("grammar")
    figs["grammar_auroc"] = f"{auroc:.3f}"
    figs["grammar_baseline"] = f"{_baseline_label(base)} {base_value:.3f}"
    pair = pd.read_csv(ws / "pair_grammar" / "grammar.tsv", sep="\t").iloc[0]
    figs["grammar_best"] = (f"{pair['motif_a']}+{pair['motif_b']} {pair['orientation']} at "
                            f"{int(pair['spacing'])} bp")
    figs["grammar_coop"] = f"{float(pair['cooperativity']):.1f}"
    marginal = pd.read_csv(ws / "pair_grammar" / "marginal.tsv", sep="\t")
    plus = marginal[marginal["strand"] == "+"].set_index("motif")["effect"]
    figs["grammar_sox2"] = f"{float(plus['SOX2']):.2f}"
    figs["grammar_foxa1"] = f"{float(plus['FOXA1']):.2f}"
    sim = pd.read_csv(ws / "sim_motifs" / "motifs.tsv", sep="\t", keep_default_na=False)
    figs["sim_motif"] = (f"{sim['motif'].iloc[0]}, best match {sim['best_match'].iloc[0]}"
                         if len(sim) else "none found")
    filters = pd.read_csv(ws / "ctcf_filters" / "filters.tsv", sep="\t",
                          keep_default_na=False)
    best = filters.iloc[0]
    figs["top_filter"] = (f"`{best['consensus']}`, best match {best['best_match']}"
                          if best["best_match"] else f"`{best['consensus']}`, no match")
    return figs


def quoted(text: str) -> dict[str, str]:
    """The ``fig`` values a document quotes now."""
    return {name: " ".join(value.split()) for name, value in FIGURE.findall(text)}


def _core(consensus: str) -> str:
    """A consensus without its low-information flanks (lower case), upper-cased."""
    return consensus.strip("`").strip("acgtn").upper()


def _numbers(value: str) -> list[float]:
    return [float(x) for x in re.findall(r"\d+(?:\.\d+)?(?:e-?\d+)?", value)]


def same(name: str, quoted_value: str, value: str) -> bool:
    """Whether a quoted figure still holds. Figures computed from attributions may move in the
    last digit with the CPU's float rounding (seqlet thresholds, q-values), so those compare
    within a tolerance: a consensus by its upper-case core, an enrichment within 15 %, a
    q-value within a factor of 10. Everything else is exact."""
    if quoted_value == value:
        return True
    if name in ("quickstart_motif", "top_filter"):
        first = lambda v: v.split(",")[0]  # noqa: E731 — the consensus part
        return (_core(first(quoted_value)) == _core(first(value))
                and quoted_value.split(",")[1:] == value.split(",")[1:])
    if name == "quickstart_enrichment":
        a, b = float(quoted_value), float(value)
        return abs(a - b) <= 0.15 * max(a, b)
    if name == "quickstart_match":
        qa, qb = _numbers(quoted_value)[-1], _numbers(value)[-1]
        strip = lambda v: v[:v.rindex("q =")]  # noqa: E731
        return strip(quoted_value) == strip(value) and abs(math.log10(qa / qb)) <= 1
    return False


def stale(text: str, figs: dict[str, str]) -> list[str]:
    """One line per quoted figure that no longer holds (see :func:`same`), or that nothing
    computes."""
    lines = []
    for name, value in quoted(text).items():
        if name not in figs:
            lines.append(f"fig:{name}: quoted as {value!r} but nothing computes it")
        elif not same(name, value, figs[name]):
            lines.append(f"fig:{name}: the README says {value!r}, the code now gives "
                         f"{figs[name]!r}")
    return lines


def substitute(text: str, figs: dict[str, str], times: dict[str, float]) -> str:
    """``text`` with every marker's value replaced."""
    text = FIGURE.sub(lambda m: f"<!--fig:{m[1]}-->{figs.get(m[1], m[2])}<!--/fig-->", text)
    return TIME.sub(lambda m: (f"<!--time:{m[1]}-->{round(times[m[1]])}<!--/time-->"
                               if m[1] in times else m[0]), text)


def timings(blocks: list[tuple[str, float]]) -> dict[str, float]:
    """Named timings from (block text, seconds) of the blocks run."""
    out = {}
    for name, needle in TIMED.items():
        for text, seconds in blocks:
            if needle in text:
                out[name] = seconds
    return out


def update(document: Path, workspace: Path, blocks: list[tuple[str, float]]) -> None:
    """Write the figures, the timings and the Quick-start image (the top-scoring sequence's
    logo figure of the Quick-start run)."""
    figs = compute(workspace)
    document.write_text(substitute(document.read_text(), figs, timings(blocks)))
    index = pd.read_csv(Path(workspace) / "ctcf_explained" / "logos" / "index.tsv", sep="\t")
    shutil.copy(Path(workspace) / "ctcf_explained" / "logos" / index["file"].iloc[0], IMAGE)
    design_logos = sorted((Path(workspace) / "ctcf_design" / "logos").glob("*.png"))
    if design_logos:  # the best design's before/after logos (--logos 1)
        shutil.copy(design_logos[0], DESIGN_IMAGE)
    shutil.copy(Path(workspace) / "pair_grammar" / "spacing.png", GRAMMAR_IMAGE)


def main() -> None:
    """Run the README's blocks (through the test suite's runner) in update mode."""
    env = dict(os.environ, SEQEXPLAIN_UPDATE_FIGURES="1")
    sys.exit(subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                              str(ROOT / "README.md")], cwd=ROOT, env=env))


if __name__ == "__main__":
    main()
