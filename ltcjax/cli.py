"""The ``ltcjax`` console command: ``ltcjax demo``, ``ltcjax train``, ``ltcjax expressivity``.

Subcommands are imported lazily, so ``ltcjax --help`` starts fast.
"""

from __future__ import annotations

import importlib
import sys

SUBCOMMANDS = {
    "demo": ("ltcjax.demo", "train a small NCP-wired LTC on a synthetic irregular task"),
    "train": ("ltcjax.train.cli", "train a model from the zoo on a data set"),
    "expressivity": ("ltcjax.expressivity.cli", "trajectory-length sweeps and plots"),
    "experiment": ("ltcjax.experiment.cli", "reproduce the paper's tables (run, table)"),
}


def _usage() -> str:
    lines = ["usage: ltcjax <command> [options]", "", "commands:"]
    lines += [f"  {name:<14}{help_}" for name, (_, help_) in SUBCOMMANDS.items()]
    lines += ["", "Run `ltcjax <command> --help` for a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ltcjax`` console script.

    Example:
        >>> main(["--help"])  # doctest: +ELLIPSIS
        usage: ltcjax <command> [options]
        ...
        0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0 if argv else 2
    if argv[0] in ("-V", "--version"):
        from ltcjax import __version__

        print(f"ltcjax {__version__}")
        return 0
    command, rest = argv[0], argv[1:]
    if command not in SUBCOMMANDS:
        print(f"ltcjax: unknown command {command!r}; expected one of {list(SUBCOMMANDS)}")
        print(_usage())
        return 2
    module = importlib.import_module(SUBCOMMANDS[command][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
