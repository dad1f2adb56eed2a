"""`seqexplain report`: content of the HTML, and the page as a real browser shows it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from seqexplain.cli import main

ROOT = Path(__file__).resolve().parents[1]
CTCF = ROOT / "models" / "ctcf"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The shipped CTCF model's report with attributions of 8 demo peaks."""
    tmp = tmp_path_factory.mktemp("report")
    fa = tmp / "demo.fa"
    lines = (ROOT / "examples" / "data" / "ctcf_demo.fa").read_text().splitlines()
    fa.write_text("\n".join(lines[:16]) + "\n")
    r = CliRunner().invoke(main, ["explain", str(CTCF), str(fa), "-m", "saliency,ism",
                                  "--logos", "0", "-q", "-o", str(tmp / "ex")])
    assert r.exit_code == 0, r.output
    out = tmp / "report.html"
    r = CliRunner().invoke(main, ["report", str(CTCF), "-a", str(tmp / "ex" / "attributions.npz"),
                                  "--top", "3", "-o", str(out)])
    assert r.exit_code == 0, r.output
    return out, tmp / "ex" / "attributions.npz"


def test_report_content(report):
    out, npz = report
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    # self-contained: every image inline, nothing fetched from anywhere
    srcs = re.findall(r'src="([^"]*)"', text)
    assert len(srcs) == 1 + 3  # training curves + 3 sequences
    assert all(s.startswith("data:image/png;base64,") for s in srcs)
    assert not re.search(r'(href|src)="(https?:|//)|url\(|<link|<script', text)
    # the numbers shown are the model's own
    import json

    metrics = json.loads((CTCF / "metrics.json").read_text())
    assert f"{metrics['cnn']['auroc']:.4f}" in text
    assert f"{metrics['baselines']['kmer4']['auroc']:.4f}" in text
    assert "76,513" in text  # parameters of the shipped model (75,713 + the positional path)
    assert "L2 1e-06" in text and "patience 10" in text
    d = np.load(npz)
    best = [str(d["ids"][i]) for i in np.argsort(-d["logits"][:, 0], kind="stable")[:3]]
    positions = [text.index(f"<h3>{k}. {i}</h3>") for k, i in enumerate(best, start=1)]
    assert positions == sorted(positions)


def test_report_without_attributions_and_errors(tmp_path, report):
    out = tmp_path / "r.html"
    r = CliRunner().invoke(main, ["report", str(CTCF), "-o", str(out)])
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert "Top sequences" not in text and text.count('src="data:image/png') == 1
    r = CliRunner().invoke(main, ["report", str(CTCF), "-o", str(out)])
    assert r.exit_code == 1 and "exists; pass --force" in r.output
    r = CliRunner().invoke(main, ["report", str(tmp_path / "nope"), "-o",
                                  str(tmp_path / "x.html")])
    assert r.exit_code == 1 and "no such model folder" in r.output
    r = CliRunner().invoke(main, ["report", str(CTCF), "-a", str(out), "-o",
                                  str(tmp_path / "y.html")])
    assert r.exit_code == 1 and "not an attributions file" in r.output
    r = CliRunner().invoke(main, ["report", str(CTCF), "--window", "9:1", "-o",
                                  str(tmp_path / "z.html")])
    assert r.exit_code == 2 and "START must not exceed END" in r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]


def test_report_names_a_motif_only_with_a_significant_match(tmp_path):
    """A motif whose best known match has q ≥ 0.05 is "no significant match" in the report's
    table and heading; one with q < 0.05 is named."""
    import pandas as pd

    from seqexplain.motifs.pipeline import MOTIF_COLUMNS

    folder = tmp_path / "motifs"
    folder.mkdir()
    common = dict.fromkeys(MOTIF_COLUMNS, "") | {"seqlets": 40, "sequences": 30, "width": 12,
                                                 "supported": "yes", "enrichment": 4.2}
    rows = [common | {"motif": "pos_1", "sign": "+", "consensus": "CCACCAGGGGGC",
                      "best_match": "CTCF", "best_match_id": "MA0139.2",
                      "best_match_family": "zinc fingers", "best_match_q": 1e-6},
            common | {"motif": "neg_1", "sign": "-", "consensus": "CTAAAAATAG",
                      "best_match": "MEF2A", "best_match_id": "MA0052.5",
                      "best_match_family": "MADS", "best_match_q": 0.096}]
    pd.DataFrame(rows, columns=MOTIF_COLUMNS).to_csv(folder / "motifs.tsv", sep="\t",
                                                     index=False)
    out = tmp_path / "r.html"
    r = CliRunner().invoke(main, ["report", str(CTCF), "--motifs", str(folder), "-o", str(out)])
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert "<h3>pos_1 — CTCF <span" in text and "CTCF (MA0139.2; zinc fingers)" in text
    assert "<h3>neg_1 — no significant match <span" in text
    assert "<td class=\"\">no significant match</td><td class=\"n\">0.096</td>" in text
    assert "MEF2A" not in text and "MA0052" not in text


def test_report_says_why_no_motif_was_found(tmp_path):
    """seqexplain motifs on 3 sequences finds nothing; the report gives the reason the command
    printed (threshold, value, suggestion), read from the motifs folder."""
    import html

    from test_motifs import planted_attributions, save_npz

    npz = save_npz(tmp_path / "a.npz", planted_attributions(n=3)[0])
    folder = tmp_path / "motifs"
    r = CliRunner().invoke(main, ["motifs", str(npz), "--no-support", "--maps", "0",
                                  "-o", str(folder)])
    assert r.exit_code == 0, r.output
    prefix = f"{folder}: no motifs found: "
    assert r.output.startswith(prefix) and "(--min-seqlets 10)" in r.output
    reason = r.output.strip()[len(prefix):]
    out = tmp_path / "r.html"
    r = CliRunner().invoke(main, ["report", str(CTCF), "--motifs", str(folder), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert (f"<p>No motifs were found in the attributions: {html.escape(reason)}.</p>"
            in out.read_text())


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        if path := shutil.which(name):
            return path
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail("Chromium is missing: .ci/run installs the Debian package chromium")
    pytest.skip("no Chromium installed")


PROBE = """<script>
window.addEventListener("load", () => {
  const imgs = [...document.images];
  const ok = imgs.filter(i => i.complete && i.naturalWidth > 0 && i.naturalHeight > 0);
  document.body.setAttribute("data-probe", `images=${imgs.length} loaded=${ok.length} ` +
    `height=${document.documentElement.scrollHeight} text=${document.body.innerText.length}`);
});
</script></body>"""


def run_chromium(args, tmp_path) -> str:
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_report_in_headless_chromium(report, tmp_path):
    import matplotlib.image

    out, _ = report
    # probe a copy: the report itself carries no script
    probe = tmp_path / "probe.html"
    probe.write_text(out.read_text().replace("</body>", PROBE))
    dom = run_chromium(["--virtual-time-budget=10000", "--dump-dom", probe.as_uri()], tmp_path)
    m = re.search(r'data-probe="images=(\d+) loaded=(\d+) height=(\d+) text=(\d+)"', dom)
    assert m, dom[:500]
    images, loaded, height, text = map(int, m.groups())
    assert images == loaded == 4  # every image decoded
    assert height > 2000 and text > 500

    shot = tmp_path / "shot.png"
    run_chromium(["--window-size=1280,2400", f"--screenshot={shot}", out.as_uri()], tmp_path)
    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (2400, 1280)
    ink = (pixels < 0.9).any(axis=-1)
    assert 0.02 < ink.mean() < 0.9  # text, tables and figures drawn; not blank
    colours = np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 100  # figures, not just black text on white
