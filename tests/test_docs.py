"""The documentation site builds in strict mode (any warning — a broken link or
cross-reference, a docstring griffe cannot parse, a page left out of the nav — fails), and its
API page covers the whole public API."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import seqexplain as sx

ROOT = Path(__file__).resolve().parents[1]


def build(root: Path, out: Path) -> subprocess.CompletedProcess:
    # no -q: quiet mode drops warnings before strict mode counts them
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f",
                           str(root / "mkdocs.yml"), "-d", str(out)],
                          capture_output=True, text=True,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    r = build(ROOT, out)
    warnings = [line for line in r.stderr.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert r.returncode == 0 and not warnings, r.stderr
    return out


def test_site_has_every_page(site):
    for page in ["index.html", "getting-started/index.html", "tutorials/ctcf/index.html",
                 "tutorials/protein/index.html", "own-model/index.html", "formats/index.html",
                 "cli/index.html", "api/index.html", "architecture/index.html"]:
        assert (site / page).is_file(), page
    cli = (site / "cli" / "index.html").read_text()
    for command in ["train", "predict", "explain", "logo", "motifs", "report", "filters",
                    "simulate"]:
        assert f"seqexplain {command} [OPTIONS]" in cli, command


def test_api_page_documents_every_public_name(site):
    page = (ROOT / "docs" / "api.md").read_text()
    documented = set(re.findall(r'heading: "sx\.(\w+)"', page))
    constants = {"__version__", "DNA", "RNA", "PROTEIN"}
    assert documented == set(sx.__all__) - constants
    html = (site / "api" / "index.html").read_text()
    assert html.count('class="doc doc-heading"') >= len(documented)
    # the docstrings themselves are rendered, e.g. attribute's parameters
    assert "sx.attribute" in html and "Parameters" in html


def test_a_broken_reference_fails_the_build(tmp_path):
    """The strict build is a real check: one unresolvable cross-reference makes it fail."""
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copytree(ROOT / "src", tmp_path / "src")
    with open(tmp_path / "docs" / "formats.md", "a") as fh:
        fh.write("\nSee [this][seqexplain.no_such_module.Nothing].\n")
    r = build(tmp_path, tmp_path / "site")
    assert r.returncode != 0
    assert "seqexplain.no_such_module.Nothing" in r.stderr
