"""Package-level properties: the core's dependency direction, the public API, the CLI, and a
releasable package (one version, licence, URLs, dependency floors, a wheel that installs)."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

import ltcjax
from ltcjax.cli import main


def test_core_import_pulls_in_no_framework():
    code = (
        "import sys, ltcjax; "
        "print(sorted(m for m in ('flax', 'equinox', 'optax', 'diffrax', 'orbax', 'torch') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_public_names_resolve():
    for name in ltcjax.__all__:
        assert getattr(ltcjax, name) is not None, name


def test_cli_usage_and_unknown_command(capsys):
    assert main(["--help"]) == 0
    assert "demo" in capsys.readouterr().out
    assert main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert ltcjax.__version__ in capsys.readouterr().out


ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = """
import jax, jax.numpy as jnp, ltcjax
cell = ltcjax.LTCCell(input_size=3, wiring=ltcjax.AutoNCP(16, 2))
params = cell.init(jax.random.key(0))
x = jax.random.normal(jax.random.key(1), (8, 50, 3))
dt = jax.random.uniform(jax.random.key(2), (8, 50), minval=0.1, maxval=1.0)
y, state = cell.apply(params, x, timespans=dt, lengths=jnp.full(8, 40))
grads = jax.jit(jax.grad(lambda p: jnp.mean(cell.apply(p, x, timespans=dt)[0] ** 2)))(params)
print(ltcjax.__file__)
print(y.shape, state.shape, ltcjax.__version__)
"""


def run(*args, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{args}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def test_version_has_one_source():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"]
    assert "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "ltcjax.__version__"}
    assert importlib.metadata.version("ltcjax") == ltcjax.__version__  # the installed metadata
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.dev\d+|rc\d+)?", ltcjax.__version__)


def test_license_urls_and_dependency_floors():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "Apache License" in (ROOT / "LICENSE").read_text()[:200]
    assert pyproject["license"] == "Apache-2.0" and pyproject["license-files"] == ["LICENSE"]
    assert {"Homepage", "Source", "Documentation", "Changelog"} <= set(pyproject["urls"])
    floors = dict(re.match(r"([\w\-]+)>=([\w.]+)", d).groups() for d in pyproject["dependencies"])
    assert floors["jax"] == "0.10.2"  # the oldest JAX the suite is run with (docs/index.md)
    for name, floor in floors.items():  # the environment running the tests meets every floor
        installed = importlib.metadata.version(name)
        as_tuple = lambda v: tuple(int(p) for p in re.findall(r"\d+", v)[:3])  # noqa: E731
        assert as_tuple(installed) >= as_tuple(floor), (name, installed, floor)


@pytest.mark.slow
def test_wheel_builds_passes_twine_and_runs_the_quickstart_in_a_clean_venv(tmp_path):
    """``python -m build``, ``twine check``, then the wheel alone (no source tree, no editable
    install) in a new virtual environment that borrows this one's dependencies (no network)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "ltcjax", src / "ltcjax", ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, src)
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(dist.iterdir())
    assert wheels[0].name == f"ltcjax-{ltcjax.__version__}-py3-none-any.whl"
    run(sys.executable, "-m", "twine", "check", "--strict", *wheels, *sdists)
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = wheel.namelist()
        info = f"ltcjax-{ltcjax.__version__}.dist-info"
        assert f"{info}/licenses/LICENSE" in names
        assert "ltcjax/py.typed" in names and "ltcjax/models/ltc.py" in names
        assert not [n for n in names if n.startswith(("tests/", "notebooks/", "docs/"))]
        metadata = wheel.read(f"{info}/METADATA").decode()
    assert "License-Expression: Apache-2.0" in metadata
    assert "Project-URL: Source," in metadata and "Requires-Dist: jax>=0.10.2" in metadata

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    site = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    # This environment's packages come after the new one's (a plain path: no .pth processing,
    # so the editable ltcjax of this checkout stays out).
    deps = next(p for p in map(Path, sys.path) if p.name == "site-packages" and p.is_dir())
    (Path(site.stdout.strip()) / "borrowed.pth").write_text(f"{deps}\n")
    run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--no-deps",
        "--no-index",
        "--quiet",
        wheels[0],
    )
    out = run(python, "-c", QUICKSTART, cwd=tmp_path).stdout.splitlines()
    assert out[0].startswith(str(venv)), f"imported {out[0]}, not the installed wheel"
    assert out[1] == f"(8, 50, 2) (8, 16) {ltcjax.__version__}"
    cli = run(venv / "bin" / "ltcjax", "--version", cwd=tmp_path)
    assert ltcjax.__version__ in cli.stdout
