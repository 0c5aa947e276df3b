"""Reproducing the LTC paper's experiments (Tables 3, 4 and 6): its five models with the
paper code's settings (:mod:`~ltcjax.experiment.models`), several runs of a model trained
together (:func:`train_ensemble`), the runner that writes one JSON per run
(:func:`run_experiment`) and the table of ours against the paper's values
(:func:`write_table`). The command line is ``ltcjax experiment run`` / ``table``.

Example:
    >>> from ltcjax.experiment import PAPER_MODELS, PAPER_RESULTS
    >>> sorted(PAPER_MODELS)[:3], PAPER_RESULTS["ozone"]["ltc"]
    (['ctgru', 'ctrnn', 'lstm'], (0.302, 0.0155))
"""

from ltcjax.experiment.ensemble import EnsembleResult, train_ensemble
from ltcjax.experiment.models import PAPER_MODELS, TABLE_MODELS, PaperCTGRUCell, paper_model
from ltcjax.experiment.paper import PAPER_RESULTS
from ltcjax.experiment.runner import Budget, run_experiment, scale_timespans, task_of
from ltcjax.experiment.table import collect_results, results_table, write_table

__all__ = [
    "PAPER_MODELS",
    "PAPER_RESULTS",
    "TABLE_MODELS",
    "Budget",
    "EnsembleResult",
    "PaperCTGRUCell",
    "collect_results",
    "paper_model",
    "results_table",
    "run_experiment",
    "scale_timespans",
    "task_of",
    "train_ensemble",
    "write_table",
]
