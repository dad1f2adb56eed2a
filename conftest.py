"""The documentation runs as tests: every fenced block of README.md and of the guides
(docs/guide/*.md), in order, as a reader pasting them would — with Sybil.

- Each document runs in a fresh workspace (a temporary folder holding links to the
  repository's ``examples/`` and ``models/``), so it needs only what the repository ships or
  what its earlier blocks create.
- ``bash`` blocks run with ``bash -eo pipefail``; a leading ``pip install … &&`` is dropped
  (the suite runs inside the installed package). A block of plain ``seqexplain …`` lines runs
  them in the test process instead, through the same click group (see
  :func:`run_in_process`; ``SEQEXPLAIN_DOCS_SUBPROCESS=1`` turns this off). ``python`` blocks
  share one namespace per document. Blocks without a language are output shown to the reader,
  and are not run.
- ``<!-- skip: next -->`` skips the next block (the CI command itself; external tools that
  take minutes).
- ``<!-- check-figures -->`` (end of README.md) checks every ``<!--fig:NAME-->VALUE<!--/fig-->``
  against what ``examples/make_docs_figures.py`` computes from the outputs of the blocks above
  it; with ``SEQEXPLAIN_UPDATE_FIGURES=1`` it writes them in instead.
- Every block is marked ``slow``: ``python -m pytest -m "not slow"`` is the fast tier.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import pytest
from sybil import Region, Sybil
from sybil.parsers.markdown import CodeBlockParser, PythonCodeBlockParser, SkipParser

ROOT = Path(__file__).resolve().parent
PIP_INSTALL = re.compile(r"^\s*pip install [^&\n]*&&\s*", re.M)
BLOCK_TIMEOUT = 900
#: rough seconds of one slow and one fast test on 2 cores, to start the longest files first
SLOW_ITEM_S, FAST_ITEM_S = 25.0, 0.5


def _setup(namespace: dict) -> None:
    workspace = Path(tempfile.mkdtemp(prefix="seqexplain-docs-"))
    for name in ("examples", "models"):
        (workspace / name).symlink_to(ROOT / name)
    namespace["__workspace__"] = workspace
    namespace["__cwd__"] = os.getcwd()
    namespace["__timings__"] = []
    os.chdir(workspace)


def _teardown(namespace: dict) -> None:
    os.chdir(namespace["__cwd__"])
    import matplotlib.pyplot as plt

    plt.close("all")
    shutil.rmtree(namespace["__workspace__"], ignore_errors=True)


def _environment() -> dict:
    env = dict(os.environ, MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="2")
    # the `seqexplain` and `python` of the environment running the tests come first
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


#: shell syntax that only bash can run (pipes, redirection, variables, globs, chaining)
SHELL_ONLY = re.compile(r"[|&;<>$`*?~(){}\\]")


def seqexplain_commands(script: str) -> list[list[str]] | None:
    """The argument lists of a block made only of plain ``seqexplain …`` lines (no shell
    syntax), or None for any other block."""
    import shlex

    commands = []
    for line in script.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if SHELL_ONLY.search(line) or not line.startswith("seqexplain "):
            return None
        try:
            commands.append(shlex.split(line, comments=True)[1:])
        except ValueError:
            return None
    return commands or None


def run_in_process(commands: list[list[str]]) -> tuple[int, str]:
    """Run ``seqexplain`` commands in this process, one after another, as the console script
    would (the same click group, arguments and working folder): the exit status of the first
    that fails (or 0) and its output.

    A block of plain commands runs here rather than in a new ``bash``: each new process would
    import TensorFlow again, seconds each, for about 50 commands across the documents. What
    the console script adds around the group (signals, the worker thread) is tested in
    tests/test_interrupts.py; ``SEQEXPLAIN_DOCS_SUBPROCESS=1`` runs every block in bash."""
    from click.testing import CliRunner

    from seqexplain.cli import main

    for args in commands:
        result = CliRunner().invoke(main, args, prog_name="seqexplain")
        if result.exit_code != 0:
            crashed = result.exc_info and not isinstance(result.exception, SystemExit)
            detail = "".join(traceback.format_exception(*result.exc_info)) if crashed else ""
            return result.exit_code, result.output + detail
    return 0, ""


def run_bash(example) -> str | None:
    """Run one ``bash`` block in the document's workspace; a failure message, or None."""
    script = PIP_INSTALL.sub("", example.parsed)
    workspace = example.namespace["__workspace__"]
    start = time.perf_counter()
    commands = seqexplain_commands(script)
    if commands is not None and not any(os.environ.get(name) == "1" for name in (
            "SEQEXPLAIN_DOCS_SUBPROCESS", "SEQEXPLAIN_UPDATE_FIGURES")):
        previous = os.getcwd()
        os.chdir(workspace)
        try:
            status, output = run_in_process(commands)
        finally:
            os.chdir(previous)
    else:
        r = subprocess.run(["bash", "-eo", "pipefail", "-c", script], cwd=workspace,
                           env=_environment(), capture_output=True, text=True,
                           timeout=BLOCK_TIMEOUT)
        status, output = r.returncode, r.stdout + r.stderr
    example.namespace["__timings__"].append((script, time.perf_counter() - start))
    if status != 0:
        tail = "\n".join(output.strip().splitlines()[-15:])
        return f"block exited with status {status}:\n{script}\n--- output ---\n{tail}"
    return None


def _figures_module():
    spec = importlib.util.spec_from_file_location(
        "make_docs_figures", ROOT / "examples" / "make_docs_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _file(item) -> str:
    """The file an item belongs to, as xdist's ``loadfile`` groups them."""
    return item.nodeid.split("::", 1)[0]


def pytest_collection_modifyitems(config, items) -> None:
    """Every documentation block is in the slow tier (``-m "not slow"`` leaves them out): most
    start a command that imports TensorFlow, and later blocks need the earlier ones."""
    from sybil.integration.pytest import SybilItem

    for item in items:
        if isinstance(item, SybilItem):
            item.add_marker(pytest.mark.slow)
    # Longest files first (xdist hands out whole files in this order, ``--dist loadfile
    # --no-loadscope-reorder``), so that no long file starts while the other workers are
    # finishing: a file's cost is estimated from its slow and fast items. Items keep their order
    # within a file (documentation blocks build on the blocks before them).
    cost: dict[str, float] = {}
    for item in items:
        slow = item.get_closest_marker("slow") is not None
        cost[_file(item)] = cost.get(_file(item), 0.0) + (SLOW_ITEM_S if slow
                                                                     else FAST_ITEM_S)
    order = {path: rank for rank, path in enumerate(sorted(cost, key=lambda p: -cost[p]))}
    items.sort(key=lambda item: order[_file(item)])


# -- memelite's TOMTOM, compiled once -------------------------------------------------------------
# numba compiles memelite's TOMTOM kernels on their first call: 1–2 minutes of one core, in every
# process that gets there before another has written numba's on-disk cache (cache=True), after
# which a process loads them in about 2 s. On a fresh install each worker (and each command a
# README block starts) would compile them again. So the session compiles them once, in the
# background from its start, and a test or block that will call TOMTOM waits for that first.
# A test that slips past the pattern still passes: it compiles the kernels itself.
TOMTOM_WARMUP = r"""
import sys, warnings
try:
    import numpy as np
    from memelite import tomtom as memelite_tomtom
    from seqexplain.annotate import file_motifs, jaspar_motifs, tomtom
    # the calls the suite makes: queries of many widths against the bundled JASPAR and against
    # a small file (kernels are specialised by path), and memelite's own call, forward only
    rng = np.random.default_rng(0)
    queries = [rng.dirichlet(np.ones(4), size=w) for w in (1, 2, 3, 5, 6, 7, 9, 12, 15, 21)]
    for database in (jaspar_motifs(), file_motifs(sys.argv[2])):
        tomtom(queries, database)
    one = [np.ascontiguousarray(rng.dirichlet(np.ones(4), size=1).T) for _ in range(41)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        memelite_tomtom(one[:1], one[1:], reverse_complement=False, n_jobs=1)
finally:
    open(sys.argv[1], "w").close()
"""
TOMTOM_READY = "SEQEXPLAIN_TEST_TOMTOM_READY"
#: what, in a test's source or a block's text, leads to a TOMTOM call
TOMTOM_USERS = re.compile(r"tomtom|--motifs|--database|discover_motifs|load_database|"
                          r"jaspar_motifs|run_motifs|seqexplain (motifs|filters) |"
                          r"(\[|invoke\()\s*[\"'](motifs|filters)[\"']\s*,\s*str\(")


def pytest_configure(config) -> None:
    """The controller (or the only process) starts the TOMTOM warm-up; workers inherit the
    path of the file it writes when done."""
    if hasattr(config, "workerinput") or TOMTOM_READY in os.environ:
        return
    ready = Path(tempfile.mkdtemp(prefix="seqexplain-tomtom-")) / "ready"
    os.environ[TOMTOM_READY] = str(ready)
    config._tomtom_warmup = subprocess.Popen(
        [sys.executable, "-c", TOMTOM_WARMUP, str(ready),
         str(ROOT / "examples" / "data" / "jaspar2024_selected.meme")], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)


def _uses_tomtom(item) -> bool:
    from sybil.integration.pytest import SybilItem

    if isinstance(item, SybilItem):
        example = item.example
        return bool(TOMTOM_USERS.search(example.document.text[example.start:example.end]))
    function = getattr(item, "function", None)
    if function is None:
        return False
    import inspect

    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        return False
    fixtures = " ".join(getattr(item, "fixturenames", ()))
    return bool(TOMTOM_USERS.search(source) or TOMTOM_USERS.search(fixtures))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item) -> None:
    ready = os.environ.get(TOMTOM_READY)
    if not ready or os.path.exists(ready) or not _uses_tomtom(item):
        return
    deadline = time.monotonic() + BLOCK_TIMEOUT
    while not os.path.exists(ready) and time.monotonic() < deadline:
        time.sleep(0.2)


def pytest_unconfigure(config) -> None:
    warmup = getattr(config, "_tomtom_warmup", None)
    if warmup is not None and warmup.poll() is None:
        warmup.kill()


def pytest_xdist_auto_num_workers(config) -> int:
    """``-n auto``: one worker per core, at most 4 — every worker loads TensorFlow (about
    1 GB), and each worker's TensorFlow already uses several cores for the larger tests."""
    return max(1, min(4, os.cpu_count() or 1))


@pytest.fixture
def docs_figures():
    """``examples/make_docs_figures.py`` as a module (for tests/test_docs.py)."""
    return _figures_module()


def check_figures(example) -> str | None:
    """Every figure the document quotes is what the code gives now (or, in update mode,
    write them in)."""
    figures = _figures_module()
    workspace = example.namespace["__workspace__"]
    if os.environ.get("SEQEXPLAIN_UPDATE_FIGURES") == "1":
        figures.update(Path(example.path), workspace, example.namespace["__timings__"])
        return None
    stale = figures.stale(Path(example.path).read_text(), figures.compute(workspace))
    if stale:
        return ("figures quoted in the README are stale (run python "
                "examples/make_docs_figures.py):\n" + "\n".join(stale))
    return None


def parse_check_figures(document):
    for match in re.finditer(r"<!-- check-figures -->", document.text):
        yield Region(match.start(), match.end(), None, check_figures)


_parsers = [SkipParser(), CodeBlockParser(language="bash", evaluator=run_bash),
            PythonCodeBlockParser()]
readme = Sybil(parsers=[*_parsers, parse_check_figures], filenames=["README.md"],
               path=str(ROOT), setup=_setup, teardown=_teardown, name="readme")
guides = Sybil(parsers=_parsers, patterns=["*.md"], path=str(ROOT / "docs" / "guide"),
               setup=_setup, teardown=_teardown, name="guides")
pytest_collect_file = (readme + guides).pytest()
