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
