"""notebooks/results.ipynb runs top to bottom on a results folder that esc-tables wrote."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient

from esc.config import PROJECT_ROOT

NOTEBOOK = PROJECT_ROOT / "notebooks" / "results.ipynb"


def test_the_results_notebook_redraws_every_table_and_figure(tiny_results, monkeypatch):
    monkeypatch.setenv("ESC_RESULTS", str(tiny_results))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    ).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    tables = [o for o in outputs if "text/markdown" in o.get("data", {})]
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(tables) == 2 and "minmax W8A8" in tables[-1]["data"]["text/markdown"]
    assert len(figures) == 5, "the int8 table, convergence, θ, the clips ablation, activation ranges"
