"""One self-contained HTML report of a trained model (and, optionally, its attributions).

Everything is inline — CSS in a ``<style>`` element, figures as base64 ``data:`` PNGs — so the
file can be mailed, archived or opened offline; it loads nothing from the network.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .attributions import Attributions
from .errors import SeqexplainError

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1200px;padding:0 1.5em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.1em}h2{font-size:1.25em;border-bottom:1px solid #ddd;
padding-bottom:.2em;margin-top:1.8em}h3{font-size:1.05em;margin-bottom:.3em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.92em}
th,td{border-bottom:1px solid #e4e4e4;padding:.25em .7em;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.best td{font-weight:600}.muted{color:#666;font-size:.9em}
.warn{background:#fff4e5;border-left:4px solid #f0a020;padding:.5em .8em}
img{max-width:100%;height:auto;display:block;margin:.3em 0 1em}
dl{display:grid;grid-template-columns:max-content auto;gap:.15em 1.2em}dt{color:#555}
dd{margin:0}code{font-size:.95em}
"""


def png_data_uri(fig_or_path, dpi: int = 90) -> str:
    """A figure (closed after saving) or a PNG file as a ``data:image/png;base64`` URI."""
    if isinstance(fig_or_path, (str, Path)):
        data = Path(fig_or_path).read_bytes()
    else:
        import matplotlib.pyplot as plt

        buf = io.BytesIO()
        fig_or_path.savefig(buf, format="png", dpi=dpi)
        plt.close(fig_or_path)
        data = buf.getvalue()
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _e(value) -> str:
    return html.escape(str(value))


def _num(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    return f"{value:.{digits}g}" if abs(value) >= 1e4 or (value and abs(value) < 1e-3) \
        else f"{value:.{digits}f}"


def _table(header: list[str], rows: list[list], numeric: set[int] = frozenset(),
           best: int | None = None) -> str:
    out = ["<table><thead><tr>"]
    out += [f'<th class="{"n" if i in numeric else ""}">{_e(h)}</th>'
            for i, h in enumerate(header)]
    out.append("</tr></thead><tbody>")
    for r, row in enumerate(rows):
        out.append(f'<tr class="{"best" if r == best else ""}">')
        out += [f'<td class="{"n" if i in numeric else ""}">{_e(v)}</td>'
                for i, v in enumerate(row)]
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _dl(items: list[tuple[str, object]]) -> str:
    return "<dl>" + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items) + "</dl>"


# -- sections ---------------------------------------------------------------------------------
def _model_section(bundle) -> str:
    meta = bundle.metadata
    cfg = meta.get("model_config", {})
    train = meta.get("train_config", {})
    outputs = ", ".join(bundle.output_names)
    summary = [("task", meta["task"]), ("alphabet", f"{bundle.alphabet.name} "
                                        f"({bundle.alphabet.letters})"),
               ("input", f"{bundle.length} positions × {bundle.alphabet.channels} channels"),
               ("outputs", outputs)]
    if bundle.class_names:
        summary.append(("classes", ", ".join(map(str, bundle.class_names))))
    model = bundle.model
    summary.append(("parameters", f"{model.count_params():,}"))
    rows = []
    for layer in model.layers:
        try:
            shape = tuple(layer.output.shape)[1:]
        except (AttributeError, ValueError):
            shape = ""
        rows.append([layer.name, type(layer).__name__, shape, f"{layer.count_params():,}"])
    reg = []
    if cfg:
        kind = cfg.get("regularizer")
        strength = {"l1": f"L1 {cfg.get('l1')}", "l2": f"L2 {cfg.get('l2')}",
                    "l1_l2": f"L1 {cfg.get('l1')} + L2 {cfg.get('l2')}"}.get(kind, "none")
        reg = [("kernel regularisation", strength),
               ("dropout", f"{cfg.get('conv_dropout')} after conv blocks, "
                           f"{cfg.get('dense_dropout')} before dense"),
               ("batch normalisation", "on" if cfg.get("batch_norm") else "off"),
               ("optimiser", f"{cfg.get('optimizer')}, learning rate {cfg.get('learning_rate')}")]
    if train:
        reg += [("early stopping", f"patience {train.get('patience')} on validation loss; "
                                   f"best epoch {meta.get('best_epoch', 'n/a')}"),
                ("batch size / max epochs", f"{train.get('batch_size')} / {train.get('epochs')}"),
                ("seed", train.get("seed"))]
    return ("<h2>Model</h2>" + _dl(summary) + "<h3>Layers</h3>"
            + _table(["layer", "type", "output shape", "parameters"], rows, numeric={3})
            + ("<h3>Regularisation and training</h3>" + _dl(reg) if reg else ""))


def _data_section(meta: dict) -> str:
    data, split = meta.get("data", {}), meta.get("split", {})
    if not data and not split:
        return ""
    items = []
    if "sources" in data:
        items.append(("files", ", ".join(Path(s).name for s in data["sources"])))
    if "n_records" in data:
        items.append(("sequences", f"{data['n_records']:,}"))
    if data.get("class_counts"):
        items.append(("per class", ", ".join(f"{k}: {v:,}" for k, v in
                                             data["class_counts"].items())))
    if split:
        items.append(("split", f"train {split.get('train', 0):,} · validation "
                               f"{split.get('validation', 0):,} · test {split.get('test', 0):,}"
                      + (f" (grouped by {split['split_by']})" if split.get("split_by") else "")))
    if "n_padded" in data:
        items.append(("padded / cropped", f"{data['n_padded']:,} / {data['n_cropped']:,}"))
    return "<h2>Data</h2>" + _dl(items)


_METRIC_COLUMNS = ("auroc", "auprc", "accuracy", "precision", "recall", "f1", "mcc",
                   "macro_f1", "mse", "mae", "pearson_r", "spearman_rho", "r2")


def _metrics_section(metrics: dict) -> str:
    cnn = metrics.get("cnn") or {}
    cols = [c for c in _METRIC_COLUMNS if c in cnn]
    rows = [["CNN", *[_num(cnn.get(c)) for c in cols]]]
    for name, m in (metrics.get("baselines") or {}).items():
        rows.append([name, *[_num(m.get(c)) for c in cols]])
    out = ["<h2>Test metrics</h2>",
           f'<p class="muted">Held-out test set ({cnn.get("n", "?")} sequences); the CNN beside '
           "the baselines on the same split.</p>",
           _table(["model", *cols], rows, numeric=set(range(1, len(cols) + 1)), best=0)]
    if metrics.get("cnn_beats_baselines") is False:
        out.append('<p class="warn">The CNN does not beat the best baseline on the main metric '
                   f"({_e(metrics.get('main_metric'))}).</p>")
    for warning in metrics.get("warnings") or []:
        out.append(f'<p class="warn">{_e(warning)}</p>')
    key = metrics.get("main_metric")
    if len(metrics.get("restarts") or []) > 1 and key:
        s = metrics["restart_summary"][key]
        out.append(f"<p>{len(metrics['restarts'])} restarts: {key} {s['mean']:.4f} ± "
                   f"{s['sd']:.4f}</p>")
    if metrics.get("cv") and key:
        s = metrics["cv"]["summary"][key]
        out.append(f"<p>Cross-validation ({len(metrics['cv']['folds'])} folds): {key} "
                   f"{s['mean']:.4f} ± {s['sd']:.4f}</p>")
    return "".join(out)


def _curves_section(folder: Path, task: str) -> str:
    png = folder / "training_curves.png"
    if png.is_file():
        uri = png_data_uri(png)
    elif (folder / "history.csv").is_file():
        from .plots import plot_training_curves

        uri = png_data_uri(plot_training_curves(pd.read_csv(folder / "history.csv"), task))
    else:
        return ""
    return ('<h2>Training curves</h2><img alt="training curves: loss and main metric per '
            f'epoch" src="{uri}">')


def _attribution_section(attributions: Attributions, top: int, window: str) -> str:
    from .logos import plot_attribution, select_indices, sequence_scores

    methods = attributions.methods
    if not methods:
        raise SeqexplainError(f"{attributions.source}: no attribution scores in the file")
    index = select_indices(attributions, top=top)
    n = len(attributions)
    out = ["<h2>Top sequences</h2>",
           f'<p class="muted">The {len(index)} of {n:,} sequences with the highest explained '
           f"output; methods: {_e(', '.join(methods))}. Letter height = contribution of the "
           "observed base; the heatmap shows every substitution's centred ISM effect.</p>"]
    rows = []
    for rank, i in enumerate(index, start=1):
        seq = sequence_scores(attributions, i, methods)
        rows.append([rank, seq.id, _num(seq.logit), _num(seq.prediction)])
        out.append(f"<h3>{rank}. {_e(seq.id)}</h3>")
        out.append(f'<img alt="attributions of {_e(seq.id)}" '
                   f'src="{png_data_uri(plot_attribution(seq, methods, window))}">')
    out.insert(2, _table(["rank", "id", "logit", "prediction"], rows, numeric={0, 2, 3}))
    return "".join(out)


def _motifs_section(folder: Path) -> str:
    from .annotate import MATCH_Q, shown_match, significant_name
    from .motifs.pipeline import read_no_motifs

    table = pd.read_csv(folder / "motifs.tsv", sep="\t", keep_default_na=False)
    out = ["<h2>Motifs</h2>"]
    if not len(table):
        why = read_no_motifs(folder)
        return out[0] + ("<p>No motifs were found in the attributions"
                         + (f": {_e(why)}." if why else ".") + "</p>")
    out.append('<p class="muted">Motifs found in the attributions (seqlets clustered), matched '
               "to known motifs with TOMTOM. <em>Supported</em>: attribution mass at least twice "
               "that of the same pipeline on dinucleotide-shuffled sequences and a model output "
               "change when instances are shuffled out (both q &lt; 0.01). A motif is named "
               f"after its best known match only when that match has q &lt; {MATCH_Q:g}; "
               "motifs.tsv keeps every match.</p>")
    rows = []
    for r in table.to_dict("records"):
        name = significant_name(r["best_match"], r["best_match_q"])
        match = (f"{name} ({r['best_match_id']}; {r['best_match_family']})" if name
                 else shown_match(r["best_match"], r["best_match_q"]))
        rows.append([r["motif"], r["sign"], r["seqlets"], r["sequences"], r["consensus"],
                     r["supported"], _num(_float(r["enrichment"]), 3), match,
                     _num(_float(r["best_match_q"]), 3)])
    out.append(_table(["motif", "sign", "seqlets", "sequences", "consensus", "supported",
                       "enrichment", "best known match", "q"], rows, numeric={2, 3, 6, 8}))
    for r in table.to_dict("records"):
        shown = shown_match(r["best_match"], r["best_match_q"])
        out.append(f"<h3>{_e(r['motif'])}" + (f" — {_e(shown)}" if shown else "")
                   + f" <span class=\"muted\">({_e(r['supported'])} support)</span></h3>")
        for kind in ("pwm", "cwm"):
            png = folder / "logos" / f"{r['motif']}_{kind}.png"
            if png.is_file():
                out.append(f'<img alt="{kind.upper()} logo of {_e(r["motif"])}" '
                           f'src="{png_data_uri(png)}" style="display:inline-block;'
                           'max-width:48%;margin-right:1%">')
    for name, alt in (("positions.png", "instance positions per motif"),
                      ("cooccurrence.png", "motif co-occurrence")):
        if (folder / name).is_file():
            out.append(f'<h3>{_e(alt.capitalize())}</h3><img alt="{alt}" '
                       f'src="{png_data_uri(folder / name)}">')
    return "".join(out)


def _design_section(folder: Path, top_edits: int = 30) -> str:
    """A ``seqexplain design`` folder: what happened per sequence, the first edits, the
    trajectory and the before/after logos."""
    designs = pd.read_csv(folder / "designs.tsv", sep="\t", keep_default_na=False)
    edits = pd.read_csv(folder / "edits.tsv", sep="\t", keep_default_na=False)
    out = ["<h2>Design</h2>"]
    met = designs["met"].astype(str).str.lower().eq("true")
    counts = designs["status"].value_counts()
    out.append(_dl([("sequences", len(designs)), ("met the goal", int(met.sum())),
                    *((f"stopped: {k}", int(v)) for k, v in counts.items()),
                    ("median edits", _num(float(designs["edits"].median()), 3)),
                    ("median score before → after",
                     f"{_num(float(designs['score_before'].median()))} → "
                     f"{_num(float(designs['score_after'].median()))}")]))
    rows = [[r["id"], r["round"], r["position"], r["ref"], r["alt"],
             _num(_float(r["score_before"])), _num(_float(r["score_after"])),
             r["motif_created"], r["motif_broken"]] for r in
            edits.head(top_edits).to_dict("records")]
    out.append(f'<p class="muted">The first {min(top_edits, len(edits))} of {len(edits)} '
               "edits (edits.tsv has all; positions 0-based).</p>")
    out.append(_table(["id", "round", "position", "ref", "alt", "score before",
                       "score after", "motif created", "motif broken"], rows,
                      numeric={1, 2, 5, 6}))
    if (folder / "trajectory.png").is_file():
        out.append('<h3>Score against edits</h3><img alt="score against edits" '
                   f'src="{png_data_uri(folder / "trajectory.png")}">')
    logos = sorted((folder / "logos").glob("*.png")) if (folder / "logos").is_dir() else []
    if logos:
        out.append("<h3>Attributions before and after (edits shaded)</h3>")
        out += [f'<img alt="before and after {_e(p.stem)}" src="{png_data_uri(p)}">'
                for p in logos]
    return "".join(out)


def _grammar_section(folder: Path) -> str:
    """A ``seqexplain grammar`` folder (or ``explain --motifs --grammar``'s ``grammar/``): the
    marginal effects, the best arrangement of each pair, and the figures."""
    marginal = pd.read_csv(folder / "marginal.tsv", sep="\t", keep_default_na=False)
    out = ["<h2>What the motifs do</h2>",
           '<p class="muted">Each motif written into background sequences, against the same '
           "insertion with its letters shuffled (marginal.tsv); pairs at every spacing and "
           "orientation (spacing.tsv, grammar.tsv).</p>"]
    rows = [[r["motif"], r["strand"], _num(_float(r["effect"])),
             f"{_num(_float(r['ci_low']))} – {_num(_float(r['ci_high']))}",
             _num(_float(r["control_effect"])), _num(_float(r["q"]), 2),
             "yes" if str(r["significant"]).lower() == "true" else "no"]
            for r in marginal.to_dict("records")]
    out.append(_table(["motif", "strand", "effect", "95 % CI", "control", "q", "significant"],
                      rows, numeric={2, 4, 5}))
    grammar = folder / "grammar.tsv"
    if grammar.is_file():
        pairs = pd.read_csv(grammar, sep="\t", keep_default_na=False)
        if len(pairs):
            out.append("<h3>Best arrangement of each pair</h3>")
            rows = [[f"{r['motif_a']} + {r['motif_b']}", r["orientation"], r["spacing"],
                     _num(_float(r["cooperativity"])),
                     f"{_num(_float(r['ci_low']))} – {_num(_float(r['ci_high']))}",
                     _num(_float(r["q"]), 2)] for r in pairs.to_dict("records")]
            out.append(_table(["pair", "orientation", "spacing (bp)", "cooperativity",
                               "95 % CI", "q"], rows, numeric={2, 3, 5}))
    for name, alt in (("marginal.png", "marginal effects"), ("spacing.png", "spacing curves"),
                      ("dosage.png", "dosage")):
        if (folder / name).is_file():
            out.append(f'<h3>{_e(alt.capitalize())}</h3><img alt="{alt}" '
                       f'src="{png_data_uri(folder / name)}">')
    return "".join(out)


def _float(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def build_report(model_dir, attributions=None, top: int = 5, window: str = "auto",
                 motifs=None, target: str | None = None, design=None, grammar=None) -> str:
    """The report as an HTML string. ``model_dir``: a folder from ``seqexplain train``;
    ``attributions``: an ``attributions.npz``/``.h5`` from ``seqexplain explain`` (optional);
    ``motifs``: a folder from ``seqexplain motifs`` (default: ``motifs/`` beside the
    attributions, when there is one); ``target``: the target shown, in an attributions file
    of several targets; ``design``: a folder from ``seqexplain design``; ``grammar``: a folder
    from ``seqexplain grammar`` (default: ``grammar/`` beside the attributions, when there is
    one)."""
    from .bundle import ModelBundle, load_model
    from .logos import check_window

    check_window(window)
    if design is not None and not (Path(design) / "designs.tsv").is_file():
        raise SeqexplainError(f"{design}: not a design folder (no designs.tsv; write one with "
                              "seqexplain design)")
    folder = Path(model_dir)
    attr = (Attributions.read(attributions, target=target) if attributions is not None
            else None)
    # a model folder (training metrics, curves), or any Keras model file (the model alone)
    bundle = load_model(folder) if folder.is_file() else ModelBundle.load(folder)
    if attr is not None:
        attr.check_model(bundle.model, str(folder), letters=bundle.alphabet.letters)
    metrics = {}
    if folder.is_dir() and (folder / "metrics.json").is_file():
        metrics = json.loads((folder / "metrics.json").read_text())
    title = f"seqexplain report: {folder.resolve().name}"
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
             f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{_e(title)}</h1>",
             f'<p class="muted">seqexplain {__version__} · model '
             f"<code>{_e(folder)}</code>"
             + (f" · attributions <code>{_e(attributions)}</code>" if attributions else "")
             + "</p>",
             _model_section(bundle), _data_section(bundle.metadata)]
    if metrics:
        parts.append(_metrics_section(metrics))
    if folder.is_dir():
        parts.append(_curves_section(folder, bundle.task))
    if attr is not None:
        parts.append(_attribution_section(attr, top, window))
    if motifs is None and attributions is not None:
        beside = Path(attributions).parent / "motifs"
        motifs = beside if (beside / "motifs.tsv").is_file() else None
    if motifs is not None:
        if not (Path(motifs) / "motifs.tsv").is_file():
            raise SeqexplainError(f"{motifs}: not a motifs folder (no motifs.tsv)")
        parts.append(_motifs_section(Path(motifs)))
    if grammar is None and attributions is not None:
        beside = Path(attributions).parent / "grammar"
        grammar = beside if (beside / "marginal.tsv").is_file() else None
    if grammar is not None:
        if not (Path(grammar) / "marginal.tsv").is_file():
            raise SeqexplainError(f"{grammar}: not a grammar folder (no marginal.tsv; write one "
                                  "with seqexplain grammar)")
        parts.append(_grammar_section(Path(grammar)))
    if design is not None:
        parts.append(_design_section(Path(design)))
    parts.append("</body></html>\n")
    return "".join(parts)


def write_report(model_dir, out, attributions=None, top: int = 5, window: str = "auto",
                 force: bool = False, motifs=None, target: str | None = None,
                 design=None, grammar=None) -> Path:
    """Write :func:`build_report` to ``out`` atomically; returns the path."""
    from ._tf import import_tensorflow
    from .outputs import atomic_file, check_writable

    check_writable(out, force, kind="file")
    import_tensorflow()
    text = build_report(model_dir, attributions, top, window, motifs, target, design, grammar)
    with atomic_file(out, force=force) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(out)
