"""mkdocs hooks: put the notebooks on the site, list every guide, and point links out of
docs/ at the repository.

A page ``docs/<name>.md`` that ``mkdocs.yml``'s nav does not name is appended to its
"Guides" section (titled by its first heading), so a new page is never left out of the site.

The notebooks live in ``notebooks/`` (next to their jupytext ``.py`` sources), not in
``docs/``; they are added as ``notebooks/<name>.ipynb`` before mkdocs-jupyter renders them.
A link from a page to a repository file outside ``docs/`` (``../examples/x.py``) becomes a
link to that file in the repository (``[project.urls] Source``); a link to a file that does
not exist is reported as a warning, which ``mkdocs build --strict`` turns into an error.
"""

from __future__ import annotations

import logging
import re
import tomllib
from pathlib import Path, PurePosixPath

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger("mkdocs.hooks.ltcjax")
LINK = re.compile(r"(\]\()(?P<target>\.\./[^)\s#]+)(?P<anchor>#[^)\s]*)?(\))")


def repository_url() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project["urls"]["Source"].rstrip("/")


@event_priority(100)  # before mkdocs-jupyter turns .ipynb files into pages
def on_files(files, config):
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        files.append(
            File(
                f"notebooks/{notebook.name}",
                src_dir=str(ROOT),
                dest_dir=config["site_dir"],
                use_directory_urls=config["use_directory_urls"],
            )
        )
    return files


def _named_pages(nav) -> set[str]:
    if isinstance(nav, str):
        return {nav}
    if isinstance(nav, dict):
        return set().union(*(_named_pages(v) for v in nav.values()))
    if isinstance(nav, list):
        return set().union(set(), *(_named_pages(v) for v in nav))
    return set()


def on_config(config):
    named = _named_pages(config["nav"])
    guides = next(
        item["Guides"] for item in config["nav"] if isinstance(item, dict) and "Guides" in item
    )
    for page in sorted(Path(config["docs_dir"]).glob("*.md")):
        if page.name not in named:
            heading = next(
                (ln[2:].strip() for ln in page.read_text().splitlines() if ln.startswith("# ")),
                page.stem,
            )
            guides.append({heading: page.name})
    return config


def on_page_markdown(markdown, page, config, files):
    page_dir = PurePosixPath(page.file.src_uri).parent
    docs = Path(config["docs_dir"]).resolve()
    base = f"{repository_url()}/blob/main"

    def rewrite(match: re.Match) -> str:
        target = (docs / page_dir / match["target"]).resolve()
        try:
            target.relative_to(docs)
            return match[0]  # inside docs/: mkdocs checks it
        except ValueError:
            pass
        if not target.exists():
            log.warning("%s links to %s, which does not exist", page.file.src_uri, match["target"])
            return match[0]
        rel = target.relative_to(ROOT).as_posix()
        return f"{match[1]}{base}/{rel}{match['anchor'] or ''}{match[4]}"

    return LINK.sub(rewrite, markdown)
