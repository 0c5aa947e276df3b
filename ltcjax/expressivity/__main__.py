"""``python -m ltcjax.expressivity``: see :mod:`ltcjax.expressivity.cli`."""

from .cli import main

raise SystemExit(main())
