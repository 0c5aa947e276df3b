"""The LTC as parameterised by the paper's TensorFlow code (``ltc_model.py`` of the paper's
repository), for reproducing its tables.

It is :class:`~ltcjax.LTCCell`'s fused semi-implicit step with three differences
(``../shared/REFERENCE.md`` section 5):

* the trained capacitance ``cm`` *is* ``cm_t``, the paper code's ``C / dt`` of one unfold: it
  multiplies ``v`` directly in each of the ``ode_unfolds`` sub-steps and does not depend on
  the elapsed time (ncps's form ``cm / (dt / unfolds)``, with cm = 0.5 at dt = 1 and 6
  unfolds, is 6x that value);
* no epsilon in the denominator;
* the paper's initialisation (gleak 1, cm 0.5, w in U(0.01, 1), dense +-1 erev) and clipped
  constraints after every optimiser update: cm to [1e-6, 1000], gleak, w and sensory_w to
  [1e-5, 1000].

The elapsed time only matters through ``dt = 0``, which leaves the state unchanged (padding).
The output is every neuron's potential (``output_mapping="none"``): the paper puts a Dense
readout after the cell.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ltcjax.models.ltc import POSITIVE_PARAMS, LTCCell, LTCParams, project_params
from ltcjax.solvers import Fused
from ltcjax.validation import argument_error

__all__ = ["TF_PROJECTION_MAXIMUM", "LTCTFCell"]

#: The upper clip of ``cm, gleak, w, sensory_w`` in the paper's TF code.
TF_PROJECTION_MAXIMUM = 1000.0


@dataclasses.dataclass(frozen=True, kw_only=True)
class LTCTFCell(LTCCell):
    """The paper's TF-code LTC: ``cm`` is ``cm_t`` (per unfold), no epsilon, clipped weights.

    Takes :class:`~ltcjax.LTCCell`'s arguments, with the paper code's defaults
    (``init_scheme="paper"``, ``constraint="clip"``, ``output_mapping="none"``,
    ``epsilon=0``); the solver must be the fused one.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> cell = LTCTFCell(input_size=2, units=4)
        >>> p = cell.init(jax.random.key(0))
        >>> float(p.cm[0]), float(p.gleak[0])
        (0.5, 1.0)
        >>> ys, v = cell.apply(p, jnp.ones((3, 5, 2)))
        >>> ys.shape  # every neuron is an output
        (3, 5, 4)
        >>> # cm_t does not depend on the elapsed time (only dt = 0 differs: no change)
        >>> a = cell.apply(p, jnp.ones((1, 5, 2)), timespans=1.0)[1]
        >>> b = cell.apply(p, jnp.ones((1, 5, 2)), timespans=7.0)[1]
        >>> bool(jnp.allclose(a, b))
        True
    """

    output_mapping: Literal["affine", "linear", "none"] = "none"
    constraint: Literal["softplus", "clip"] = "clip"
    init_scheme: Literal["ncps", "paper"] = "paper"
    epsilon: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.solver, Fused):
            raise argument_error(
                "solver", "the fused solver (the paper's TF code has no other)", repr(self.solver)
            )

    def fused_solve(
        self,
        params: LTCParams,
        v: Float[Array, "... units"],
        x: Float[ArrayLike, "... inputs"],
        dt: Float[ArrayLike, ...],
    ) -> Float[Array, "... units"]:
        """The fused solve with ``cm_t = cm``: LTCCell's solve over ``dt = ode_unfolds``
        (where ``cm / (dt / unfolds) = cm``), and over 0 (no change) where ``dt = 0``."""
        dt = jnp.asarray(dt, v.dtype)
        per_unfold = jnp.where(dt > 0, float(self.ode_unfolds), 0.0).astype(v.dtype)
        return super().fused_solve(params, v, x, per_unfold)

    def project(self, params: LTCParams) -> LTCParams:
        """Clip ``cm`` to [1e-6, 1000] and ``gleak, w, sensory_w`` to [1e-5, 1000] (the TF
        code's constraints; see :data:`ltcjax.models.ltc.PROJECTION_MINIMA`).

        Example:
            >>> import jax, jax.numpy as jnp
            >>> cell = LTCTFCell(input_size=1, units=2)
            >>> p = cell.init(jax.random.key(0))._replace(cm=jnp.array([-1.0, 5e3]))
            >>> [f"{v:.1g}" for v in cell.project(p).cm.tolist()]
            ['1e-06', '1e+03']
        """
        params = project_params(self, params)
        if self.constraint == "softplus":
            return params
        top = TF_PROJECTION_MAXIMUM
        return params._replace(**{k: jnp.minimum(getattr(params, k), top) for k in POSITIVE_PARAMS})
