"""Package-level properties: the core's dependency direction, the public API, the CLI."""

from __future__ import annotations

import subprocess
import sys

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
