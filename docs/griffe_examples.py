"""A griffe extension for the API pages: ltcjax's docstrings head their doctests with the
Google-style ``Example:``; griffe renders only ``Examples:`` as code (any other title is an
admonition whose ``>>>`` lines would be read as Markdown), so this renames the heading."""

from __future__ import annotations

import re

import griffe

HEADING = re.compile(r"^(?P<indent>[ \t]*)Example:[ \t]*$", re.MULTILINE)


class SingularExamples(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = HEADING.sub(r"\g<indent>Examples:", obj.docstring.value)
