"""Fast paths behind the same functions: a Pallas kernel for the LTC's fused solver.

See docs/kernels.md. The XLA path (:mod:`ltcjax.models.ltc`) is the fallback and the test
oracle; ``LTCCell(backend="pallas")`` selects the kernel, ``backend="auto"`` picks XLA on
every backend until the kernel is measured faster there.
"""

from ltcjax.kernels.dispatch import BACKENDS, resolve_backend
from ltcjax.kernels.ltc_pallas import (
    PLATFORMS,
    KernelConfig,
    SynapseArrays,
    default_platform,
    fused_sequence,
    tuning,
)

__all__ = [
    "BACKENDS",
    "PLATFORMS",
    "KernelConfig",
    "SynapseArrays",
    "default_platform",
    "fused_sequence",
    "resolve_backend",
    "tuning",
]
