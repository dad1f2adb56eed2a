"""Importing seqexplain changes no global state and stays light."""

import subprocess
import sys


def run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    return result.stdout.strip()


def test_plotting_modules_leave_the_matplotlib_backend_alone():
    out = run("import matplotlib; matplotlib.use('svg'); "
              "import seqexplain.logos, seqexplain.plots, seqexplain.report; "
              "print(matplotlib.get_backend())")
    assert out == "svg"


def test_method_table_is_read_without_tensorflow():
    out = run("import sys, seqexplain, seqexplain.attribution.registry as r; "
              "print(','.join(r.METHOD_NAMES), 'tensorflow' in sys.modules)")
    assert out == "saliency,grad_input,integrated_gradients,deeplift,deepshap,ism,shap False"


def library_import_graph() -> dict[str, set[str]]:
    """``module → seqexplain modules it imports`` (at the top or inside functions), for the
    library (the CLI package, which registers its commands on ``main``, is left out)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "src" / "seqexplain"
    graph = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        module = ".".join(parts)
        package = parts if path.name == "__init__.py" else parts[:-1]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = ".".join(package[:len(package) - node.level + 1])
                if node.module:
                    deps.add(f"{base}.{node.module}")
                else:
                    deps.update(f"{base}.{alias.name}" for alias in node.names)
            elif loaded := imported_by_importlib(node, package):
                deps.add(loaded)
        graph[module] = deps
    library = {m for m in graph if not m.startswith("seqexplain.cli")}
    return {m: {d for d in graph[m] if d in library and d != m} for m in library}


def imported_by_importlib(node, package: list[str]) -> str | None:
    """The module an ``importlib.import_module(name[, package])`` call ``node`` loads, when
    ``name`` is a string constant: absolute, or relative (leading dots) to ``package``."""
    import ast

    if not (isinstance(node, ast.Call) and node.args
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
        return None
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name != "import_module":
        return None
    target = node.args[0].value
    level = len(target) - len(target.lstrip("."))
    if not level:
        return target
    base = package[:len(package) - level + 1]
    return ".".join(base + [target[level:]]) if target[level:] else ".".join(base)


def test_import_graph_follows_importlib_loads():
    """A module loaded with ``importlib.import_module(".x", __package__)`` is an edge too (a
    cycle through such a load was once missed)."""
    import ast

    call = ast.parse('importlib.import_module(".methods", __package__)').body[0].value
    assert imported_by_importlib(call, ["seqexplain", "attribution"]) == \
        "seqexplain.attribution.methods"
    call = ast.parse('import_module("..bundle", __package__)').body[0].value
    assert imported_by_importlib(call, ["seqexplain", "attribution"]) == "seqexplain.bundle"
    graph = library_import_graph()
    assert "seqexplain.attribution.methods" in graph["seqexplain.attribution.registry"]


def test_library_imports_only_go_down():
    """No import cycle between library modules (the model-folder reader no longer imports
    train, which writes the folder)."""
    graph = library_import_graph()
    assert "seqexplain.train" not in graph["seqexplain.bundle"]
    state, path, cycles = {}, [], []

    def visit(module):
        state[module] = "open"
        path.append(module)
        for dep in sorted(graph[module]):
            if state.get(dep) == "open":
                cycles.append(" → ".join(path[path.index(dep):] + [dep]))
            elif dep not in state:
                visit(dep)
        path.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert cycles == []


def test_motif_steps_import_without_tensorflow():
    """The motif package's array steps (seqlets, clustering, hits, support, the TF-MoDISco
    adapter) run no model: importing them, and the pipeline module, imports no TensorFlow."""
    out = run("import sys, seqexplain.motifs as m; "
              "print('tensorflow' in sys.modules, 'keras' in sys.modules, "
              "callable(m.motif_support), callable(m.discover)); "
              "import seqexplain.motifs.pipeline; print('tensorflow' in sys.modules)")
    assert out.split() == ["False", "False", "True", "True", "False"]


def test_motif_package_exports_shadow_no_module():
    """A name exported by seqexplain.motifs that is also one of its modules would be replaced
    by the module on the first import of that module."""
    import pkgutil

    import seqexplain.motifs as m

    modules = {info.name for info in pkgutil.iter_modules(m.__path__)}
    assert {"seqlets", "clustering", "hits", "support", "modisco", "pipeline"} <= modules
    assert not modules & set(m.__all__)
    assert all(not isinstance(getattr(m, name), type(m)) for name in m.__all__)
