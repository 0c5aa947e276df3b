"""The notebooks run (at small size) and their .ipynb twins are in sync with the .py sources."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("*.py"))


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_notebook_runs(source, monkeypatch):
    monkeypatch.setenv("LTCJAX_NOTEBOOK_QUICK", "1")
    runpy.run_path(str(source), run_name="__main__")
    plt.close("all")


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_ipynb_matches_source(source):
    ipynb = source.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} missing: run `jupytext --sync {source.name}`"
    cells = json.loads(ipynb.read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    for line in source.read_text().splitlines():
        if line.strip() and not line.startswith("#") and line == line.lstrip():
            assert line in code, f"{ipynb.name} is out of date (no {line!r}); run jupytext --sync"
