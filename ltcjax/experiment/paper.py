"""The paper's reported results (Tables 3, 4 and 6; mean and std over 5 runs), in the units
the paper prints: accuracy in percent, MSE and F1 as they are.

Example:
    >>> PAPER_RESULTS["gesture"]["ltc"]
    (69.55, 1.13)
    >>> display_value("gesture", 0.5)  # our accuracy (a fraction) in the paper's units
    50.0
"""

from __future__ import annotations

__all__ = ["PAPER_RESULTS", "PAPER_TABLE", "display_value"]

_ORDER = ("lstm", "ctrnn", "node", "ctgru", "ltc")


def _row(*pairs: tuple[float, float]) -> dict[str, tuple[float, float]]:
    return dict(zip(_ORDER, pairs, strict=True))


#: ``PAPER_RESULTS[task][model] = (mean, std)`` (Table 3; person: Table 4; cheetah: Table 6).
PAPER_RESULTS: dict[str, dict[str, tuple[float, float]]] = {
    "gesture": _row((64.57, 0.59), (59.01, 1.22), (46.97, 3.03), (68.31, 1.78), (69.55, 1.13)),
    "occupancy": _row((93.18, 1.66), (94.54, 0.54), (90.15, 1.71), (91.44, 1.67), (94.63, 0.17)),
    "har": _row((95.85, 0.29), (95.73, 0.47), (97.26, 0.10), (96.16, 0.39), (95.67, 0.575)),
    "smnist": _row((98.41, 0.12), (96.73, 0.19), (97.61, 0.14), (98.27, 0.14), (97.57, 0.18)),
    "traffic": _row(
        (0.169, 0.004), (0.224, 0.008), (1.512, 0.179), (0.389, 0.076), (0.099, 0.0095)
    ),
    "power": _row((0.628, 0.003), (0.742, 0.005), (1.254, 0.149), (0.586, 0.003), (0.642, 0.021)),
    "ozone": _row((0.284, 0.025), (0.236, 0.011), (0.168, 0.006), (0.260, 0.024), (0.302, 0.0155)),
    # Table 4: the "Neural ODE" column is a Latent ODE there.
    "person": _row((83.59, 0.40), (81.54, 0.33), (76.48, 0.56), (85.27, 0.39), (85.48, 0.40)),
    "cheetah": _row((2.500, 0.140), (2.838, 0.112), (3.805, 0.313), (3.014, 0.134), (2.308, 0.015)),
}
#: Which table of the paper each task's values are from.
PAPER_TABLE = {task: "Table 3" for task in PAPER_RESULTS} | {
    "person": "Table 4",
    "cheetah": "Table 6",
}
#: Tasks whose metric the paper prints in percent.
PERCENT_TASKS = ("gesture", "occupancy", "har", "smnist", "person", "person_irregular")


def display_value(task: str, value: float) -> float:
    """``value`` of our metric in the paper's units (accuracy x 100)."""
    return 100.0 * value if task in PERCENT_TASKS else value
