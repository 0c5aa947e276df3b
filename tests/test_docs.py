"""Every ```python block of README.md and docs/*.md runs as written, and the site builds strictly.

A page is read top to bottom, so its Python blocks run in order in one fresh interpreter
(a later block may use what an earlier block of the same page defined, never anything from
another page), with a temporary directory as the working directory. Blocks that are not
meant to run use other fences (```bash, ```text, or a bare ```). A block that needs an
optional package is marked by an HTML comment on the line before its fence,
``<!-- requires: ncps, torch -->``; it is left out when a package is missing
(``pip install -e ".[bench]"`` installs them), so later blocks must not depend on it. A
Python block that cannot run on one machine (a multi-host snippet) is marked
``<!-- skip: the reason -->`` and left out.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")
REQUIRES = re.compile(r"<!--\s*requires:\s*(?P<names>[\w\-, ]+?)\s*-->")
SKIP = re.compile(r"<!--\s*skip:\s*(?P<reason>.+?)\s*-->")


def extract_blocks(text: str) -> list[dict]:
    """The fenced code blocks of a markdown text: language, code, first line and requirements.

    >>> text = "<!-- requires: ncps -->\\n```python\\nx = 1\\n```\\n```bash\\nls\\n```"
    >>> blocks = extract_blocks(text)
    >>> [(b["lang"], b["code"], b["line"], b["requires"]) for b in blocks]
    [('python', 'x = 1\\n', 3, ['ncps']), ('bash', 'ls\\n', 6, [])]
    """
    lines = text.splitlines()
    blocks, i = [], 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, indent = match["fence"], match["indent"]
        lang = match["info"].strip().split(" ")[0].lower() if match["info"].strip() else ""
        previous = lines[i - 1] if i > 0 else ""
        req = REQUIRES.search(previous)
        requires = [n.strip() for n in req["names"].split(",") if n.strip()] if req else []
        body, j = [], i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence[0] * len(fence)):
            body.append(lines[j])
            j += 1
        if j == len(lines):
            raise ValueError(f"unclosed code fence opened on line {i + 1}")
        code = textwrap.dedent("\n".join(line.removeprefix(indent) for line in body))
        skip = SKIP.search(previous)
        blocks.append(
            {
                "lang": lang,
                "code": code + "\n",
                "line": i + 2,
                "requires": requires,
                "skip": skip["reason"] if skip else None,
            }
        )
        i = j + 1
    return blocks


def page_script(page: Path) -> tuple[str, list[str]]:
    """One script of the page's runnable Python blocks (a ``# ---`` line before each), and
    the blocks left out (marked skip, or needing a missing package)."""
    parts, left_out = [], []
    for block in extract_blocks(page.read_text()):
        if block["lang"] not in ("python", "py"):
            continue
        missing = [n for n in block["requires"] if importlib.util.find_spec(n) is None]
        if block["skip"] or missing:
            why = block["skip"] or f"needs {', '.join(missing)}"
            left_out.append(f"line {block['line']}: {why}")
            continue
        parts.append(f"# --- {page.name}, line {block['line']}\n{block['code']}")
    return "\n".join(parts), left_out


def test_extract_blocks_finds_the_blocks_of_a_page():
    text = (
        "Intro\n\n```python\na = 1\n```\n\n<!-- requires: torch -->\n~~~py\nb = a\n~~~\n"
        "```\nraw\n```\n<!-- skip: two hosts -->\n```python\nimport nothing\n```\n"
    )
    blocks = extract_blocks(text)
    assert [b["lang"] for b in blocks] == ["python", "py", "", "python"]
    assert [b["requires"] for b in blocks] == [[], ["torch"], [], []]
    assert [b["skip"] for b in blocks] == [None, None, None, "two hosts"]
    assert blocks[1]["code"] == "b = a\n"
    with pytest.raises(ValueError, match="unclosed code fence opened on line 1"):
        extract_blocks("```python\nx = 1\n")


def test_blocks_needing_a_missing_package_are_left_out(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "```python\na = 1\n```\n<!-- requires: no_such_module_xyz -->\n```python\nb = 2\n```\n"
        "<!-- skip: demo -->\n```python\nc = 3\n```\n```python\nprint(a)\n```\n"
    )
    script, left_out = page_script(page)
    assert "a = 1" in script and "print(a)" in script
    assert "b = 2" not in script and "c = 3" not in script
    assert left_out == ["line 6: needs no_such_module_xyz", "line 10: demo"]


def test_a_failing_block_fails_the_page(tmp_path):
    page = tmp_path / "bad.md"
    page.write_text("```python\nx = undefined_name\n```\n")
    script, _ = page_script(page)
    result = run_script(script, tmp_path)
    assert result.returncode != 0 and "NameError" in result.stderr


def run_script(script: str, cwd: Path) -> subprocess.CompletedProcess:
    # The docs must not use deprecated names: their warnings, attributed to the block, fail.
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "PYTHONWARNINGS": "error::DeprecationWarning:__main__",
    }
    env.pop("XLA_FLAGS", None)
    return subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, env=env, capture_output=True, text=True
    )


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_docs_code_blocks_run(page, tmp_path):
    script, left_out = page_script(page)
    if not script:
        pytest.skip(f"{page.name}: no Python block to run ({'; '.join(left_out) or 'none'})")
    result = run_script(script, tmp_path)
    assert result.returncode == 0, (
        f"a Python block of {page.relative_to(ROOT)} failed:\n{result.stderr[-4000:]}"
    )


@pytest.mark.slow
def test_mkdocs_builds_strictly(tmp_path):
    """``mkdocs build --strict``: a broken link, a missing page or API reference fails."""
    if shutil.which("mkdocs") is None and importlib.util.find_spec("mkdocs") is None:
        pytest.skip("mkdocs is not installed (pip install -e '.[dev]')")
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr[-6000:]
    assert (site / "index.html").exists()
    assert (site / "api" / "ltcjax" / "index.html").exists()
    api = (site / "api" / "ltcjax" / "index.html").read_text()
    assert "LTCCell" in api and "tau_sys" in api, "the API page lacks the public names"
    home = (site / "index.html").read_text()
    for page in sorted((ROOT / "docs").glob("*.md")):  # every guide is built and in the nav
        if page.stem != "index":
            assert (site / page.stem / "index.html").exists(), page.name
            assert f'href="{page.stem}/"' in home, f"{page.name} is not in the site's navigation"
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert (site / "notebooks" / notebook.stem / "index.html").exists(), notebook.name
        assert f'href="notebooks/{notebook.stem}/"' in home, notebook.name
