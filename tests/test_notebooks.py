"""The notebooks run in small mode and show their key result; the stored .ipynb files are the
outputs of a full run of the current .py sources; every notebook installs from the one URL.

Each notebook runs as its own test (so ``pytest -n 2`` spreads them) in a fresh Jupyter kernel
with ``LTCJAX_NOTEBOOK_SMALL=1``, from its jupytext source (the source of truth). A notebook
ends by printing ``RESULT {json}``; the checks below read it, independently of the
notebook's own asserts, both from the small run and from the stored full run.
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
sys.path.insert(0, str(NOTEBOOKS))
from _execute import execute, result_line, sources  # noqa: E402

SOURCES = sources()


def check_quickstart(r, small):
    assert r["test_mse_final"] < (0.8 if small else 0.15) * r["test_mse_initial"], r
    assert r["tau_within_bounds"]


def check_irregular_diffrax(r, small):
    assert r["loss_last"] < 0.5 * r["loss_first"]
    assert r["dense_gap"] < 1e-5  # dense output at the observation times = the solution there
    fused, tsit5 = r["fused_errors"], r["tsit5_errors"]
    assert all(a > b for a, b in zip(fused, fused[1:], strict=False)), fused  # more unfolds
    assert all(a > b for a, b in zip(tsit5, tsit5[1:], strict=False)), tsit5  # tighter rtol
    assert tsit5[-1] < 1e-3 and tsit5[-1] < fused[-1]


def check_ncp_cheetah(r, small):
    assert r["test_mse_final"] < r["test_mse_initial"]
    if not small:  # the stored run trained on the real data and beats the mean predictor
        assert r["data"] == "cheetah" and r["test_mse_final"] < 0.5 * r["mean_baseline"], r
    assert r["tau_within_bounds"] and r["tau_spread"] > 1.0


def check_expressivity(r, small):
    # The paper's finding (its code's weight convention): the LTC's trajectories are the
    # longest, at sigma_w^2 = 2 and at the largest sigma_w^2 of the run.
    assert r["ltc_longest"][r["sigma_w2"].index(2.0)] and r["ltc_longest"][-1], r
    ltc = r["median_length"]["ltc"]
    assert ltc[-1] > ltc[0], ltc  # longer with a larger sigma_w^2
    text = r["text_convention_median_length"]  # N(0, sigma_w^2 / k): the order reverses
    assert text["ltc"] < max(text["ctrnn"], text["node"]), text


def check_from_ncps(r, small):
    assert r["max_diff"] < 1e-5
    # small mode trains a few steps only (without torch: 0.429 -> 0.278 in CI)
    assert r["loss_last"] < (0.8 if small else 0.5) * r["loss_first"]


def check_data_parallel(r, small):
    assert r["devices"] >= 4  # 4 host devices on CPU, all accelerators elsewhere
    assert r["max_loss_difference"] < 1e-4  # same training on one device and on all
    assert r["throughput_one"] > 0 and r["throughput_all"] > 0


CHECKS = {
    "quickstart": check_quickstart,
    "irregular_diffrax": check_irregular_diffrax,
    "ncp_cheetah": check_ncp_cheetah,
    "expressivity": check_expressivity,
    "from_ncps": check_from_ncps,
    "data_parallel": check_data_parallel,
}


def parse_result(notebook) -> dict:
    line = result_line(notebook)
    assert line is not None, "the notebook printed no RESULT line"
    return json.loads(line.removeprefix("RESULT "))


def test_every_notebook_has_a_check():
    assert sorted(CHECKS) == sorted(p.stem for p in SOURCES)


@pytest.mark.slow
@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_notebook_runs_small(source, monkeypatch):
    monkeypatch.setenv("LTCJAX_NOTEBOOK_SMALL", "1")
    monkeypatch.delenv("XLA_FLAGS", raising=False)
    notebook, _ = execute(source, timeout=600)
    CHECKS[source.stem](parse_result(notebook), small=True)


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_stored_notebook_is_a_full_run_of_its_source(source):
    ipynb = source.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} missing: run python notebooks/_execute.py {source.stem}"
    stored = nbformat.read(ipynb, as_version=4)
    expected = jupytext.read(source)
    code = [c.source for c in expected.cells if c.cell_type == "code"]
    assert [c.source for c in stored.cells if c.cell_type == "code"] == code, (
        f"{ipynb.name} is out of date: run python notebooks/_execute.py {source.stem}"
    )
    assert all(c.execution_count for c in stored.cells if c.cell_type == "code"), "not executed"
    for cell in stored.cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error", f"{ipynb.name} stored an error"
            assert "small run" not in output.get("text", ""), f"{ipynb.name}: a small run"
    CHECKS[source.stem](parse_result(stored), small=False)


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_notebook_installs_from_the_project_url_and_lists_devices(source):
    url = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Source"]
    code = [c.source for c in jupytext.read(source).cells if c.cell_type == "code"]
    install, devices = code[0], code[1]
    assert f'LTCJAX_SOURCE = "{url}"' in install, "the install cell's URL is not [project.urls]"
    assert 'f"ltcjax @ git+{LTCJAX_SOURCE}"' in install
    assert "pip" in install and "find_spec" in install  # installs only what is missing
    assert "jax.devices()" in devices and "print(" in devices
    assert 'os.environ.get("LTCJAX_NOTEBOOK_SMALL") == "1"' in "\n".join(code)
