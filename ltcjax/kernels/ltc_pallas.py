"""A Pallas kernel for the LTC's fused semi-implicit solver over a whole sequence.

:func:`fused_sequence` runs ``T`` observation steps of ``unfolds`` sub-steps each::

    v <- (cm_t v + drive + num(v)) / (cm_t + conductance + den(v))      (per sub-step)

with ``num, den`` the recurrent synaptic currents (in the ``tanh`` form of
:class:`ltcjax.models.ltc.Synapses`), in one kernel launch. The grid has one program per
block of batch rows; each program keeps its rows' state on chip across all time steps and
sub-steps and writes the state after every observation step. Everything that does not
depend on the state (the sensory currents, the leak terms, ``cm / (dt / unfolds)``) is
computed before the kernel by XLA, as ``[T, B, N]`` arrays.

The reverse-mode derivative is a second kernel (hand-written, no autodiff through Pallas):
it walks the time steps backwards, recomputes each step's sub-step states from the stored
state of the previous observation (O(B * N * T) memory, never a B x N x N array per step),
back-propagates through the sub-steps and accumulates the synapse-parameter gradients of
its batch block on chip; the blocks' partial sums are added by XLA.

Platforms: ``"triton"`` (GPU, Pallas's Triton lowering), ``"mosaic_tpu"`` (TPU) and
``"interpret"`` (Pallas interpret mode: any backend, slow, for testing on CPU). The
numerics equal :func:`ltcjax.models.ltc.fused_unfolds` to float32 rounding
(``tests/test_kernels.py``). This module has no model import: it works on arrays.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
from collections.abc import Iterator
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ltcjax.validation import argument_error, check_choice

__all__ = [
    "PLATFORMS",
    "KernelConfig",
    "SynapseArrays",
    "default_platform",
    "fused_sequence",
    "tuning",
]

#: Where the kernel can run: GPU (Triton), TPU (Mosaic) or Pallas interpret mode (any device).
PLATFORMS = ("triton", "mosaic_tpu", "interpret")


class SynapseArrays(NamedTuple):
    """The recurrent synapses in the kernel's form (the fields of
    :class:`ltcjax.models.ltc.Synapses`): ``[pre, post]`` matrices and ``[post]`` sums."""

    slope: Float[Array, "pre post"]
    offset: Float[Array, "pre post"]
    half_w_erev: Float[Array, "pre post"]
    half_w: Float[Array, "pre post"]
    const_erev: Float[Array, " post"]
    const_w: Float[Array, " post"]


@dataclasses.dataclass(frozen=True)
class KernelConfig:
    """Static settings of one kernel: the platform, the batch rows per program
    (``block_batch``) and Triton's warps per program (ignored elsewhere)."""

    platform: str
    block_batch: int
    num_warps: int = 4

    def __post_init__(self) -> None:
        check_choice("platform", self.platform, PLATFORMS)
        if not (isinstance(self.block_batch, int) and self.block_batch >= 1):
            raise argument_error("block_batch", "a positive int", repr(self.block_batch))
        if self.platform == "triton" and self.block_batch & (self.block_batch - 1):
            raise argument_error(
                "block_batch", "a power of two (Triton block sizes)", self.block_batch
            )


def default_platform() -> str:
    """The kernel platform for JAX's default backend: ``"triton"`` on GPU, ``"mosaic_tpu"``
    on TPU, ``"interpret"`` elsewhere (CPU: Pallas interpret mode, slow, for testing).

    Example:
        >>> default_platform() in PLATFORMS
        True
    """
    backend = jax.default_backend()
    return {"gpu": "triton", "cuda": "triton", "rocm": "triton", "tpu": "mosaic_tpu"}.get(
        backend, "interpret"
    )


_TUNING: dict[str, int | None] = {"block_batch": None, "num_warps": None}


@contextlib.contextmanager
def tuning(block_batch: int | None = None, num_warps: int | None = None) -> Iterator[None]:
    """Override the kernel's default ``block_batch`` / ``num_warps`` for kernels *traced*
    inside the block (for benchmarks: trace a fresh ``jax.jit`` per setting).

    Example:
        >>> with tuning(block_batch=4):
        ...     pass
    """
    before = dict(_TUNING)
    _TUNING.update(block_batch=block_batch, num_warps=num_warps)
    try:
        yield
    finally:
        _TUNING.update(before)


def _next_power_of_2(n: int) -> int:
    return 1 << max(0, math.ceil(math.log2(max(n, 1))))


def _padded_units(units: int, platform: str) -> int:
    # Triton blocks need power-of-two sizes; padded neurons have no synapses (zero weights).
    return _next_power_of_2(units) if platform == "triton" else units


def _default_block_batch(batch: int, units: int, platform: str) -> int:
    if platform == "interpret":
        return min(batch, 128)
    if platform == "mosaic_tpu":
        return 8 if batch % 8 == 0 or batch > 8 else batch  # sublane tiles of 8 rows
    # Triton: keep a program's [rows, N, N] synapse block near 8k floats (registers).
    rows = max(1, 8192 // (units * units))
    return min(_next_power_of_2(batch), 1 << (rows.bit_length() - 1), 16)


def fused_sequence(
    rec: Any,
    v0: Float[Array, "batch units"],
    cm_t: Float[Array, "time batch units"],
    drive: Float[Array, "time batch units"],
    conductance: Float[Array, "time batch units"],
    keep: Float[Array, "time batch"],
    unfolds: int,
    *,
    platform: str | None = None,
    block_batch: int | None = None,
    num_warps: int | None = None,
) -> Float[Array, "time batch units"]:
    """The state after each of ``T`` fused-solver steps, in one Pallas kernel.

    Args:
        rec: the recurrent synapses: any NamedTuple with the fields of
            :class:`SynapseArrays` (e.g. :class:`ltcjax.models.ltc.Synapses`).
        v0: the state before the first step, ``[B, N]``.
        cm_t: ``cm / (dt / unfolds)`` per step, ``[T, B, N]`` (finite where ``keep`` is 0).
        drive: ``gleak * vleak`` plus the sensory numerator, ``[T, B, N]``.
        conductance: ``gleak`` plus the sensory denominator plus epsilon, ``[T, B, N]``.
        keep: 1.0 where a step moves the state, 0.0 where it leaves it unchanged (padding,
            ``dt = 0``), ``[T, B]``.
        unfolds: sub-steps per observation step.
        platform: one of :data:`PLATFORMS`; default: chosen when lowering for each
            platform (``jax.lax.platform_dependent``): Triton for CUDA and ROCm, Mosaic for
            TPU, interpret mode elsewhere, so ``jax.export`` from a CPU host for
            ``platforms=["cuda"]`` gets the Triton kernel.
        block_batch: batch rows per program (default: :func:`tuning`'s, else a
            per-platform heuristic).
        num_warps: Triton warps per program (default: :func:`tuning`'s, else 4).

    Returns:
        ``[T, B, N]``: the state after each step. Differentiable in reverse mode (a
        hand-written backward kernel) with respect to every array argument but ``keep``.

    Example:
        >>> import jax.numpy as jnp
        >>> z = jnp.zeros((3, 3))
        >>> rec = SynapseArrays(z, z, z, z, jnp.zeros(3), jnp.zeros(3))
        >>> one = jnp.ones((2, 1, 3))
        >>> vs = fused_sequence(rec, jnp.zeros((1, 3)), one, one, one, jnp.ones((2, 1)), 1,
        ...                     platform="interpret")
        >>> [round(float(v), 4) for v in vs[:, 0, 0]]  # v <- (v + 1) / 2, twice
        [0.5, 0.75]
    """
    if platform is None:  # chosen when lowering, per platform (also under jax.export)
        branch = lambda name: functools.partial(  # noqa: E731
            fused_sequence,
            unfolds=unfolds,
            platform=name,
            block_batch=block_batch,
            num_warps=num_warps,
        )
        return jax.lax.platform_dependent(
            rec,
            v0,
            cm_t,
            drive,
            conductance,
            keep,
            default=branch("interpret"),
            cuda=branch("triton"),
            rocm=branch("triton"),
            tpu=branch("mosaic_tpu"),
        )
    steps, batch, units = cm_t.shape
    block_batch = _TUNING["block_batch"] if block_batch is None else block_batch
    num_warps = (_TUNING["num_warps"] or 4) if num_warps is None else num_warps
    block = _default_block_batch(batch, units, platform) if block_batch is None else block_batch
    config = KernelConfig(platform, block, num_warps)
    if not (isinstance(unfolds, int) and unfolds >= 1):
        raise argument_error("unfolds", "a positive int", repr(unfolds))
    for name, a in (("drive", drive), ("conductance", conductance)):
        if a.shape != cm_t.shape:
            raise argument_error(name, f"shape {cm_t.shape} (that of cm_t)", a.shape)
    if v0.shape != (batch, units):
        raise argument_error("v0", f"shape {(batch, units)}", v0.shape)
    if keep.shape != (steps, batch):
        raise argument_error("keep", f"shape {(steps, batch)}", keep.shape)

    # Pad the batch to whole blocks and (Triton) the neurons to a power of two. Padded rows
    # and neurons have cm_t = conductance = 1, no drive and no synapses: they stay at 0.
    n_pad = _padded_units(units, platform) - units
    b_pad = -batch % block
    dtype = v0.dtype

    def pad_matrix(m: Array) -> Array:
        return jnp.pad(m, ((0, n_pad), (0, n_pad))) if n_pad else m

    def pad_row(r: Array) -> Array:
        return (jnp.pad(r, (0, n_pad)) if n_pad else r)[None, :]

    def pad_seq(a: Array, value: float) -> Array:
        if not (b_pad or n_pad):
            return a
        return jnp.pad(a, ((0, 0), (0, b_pad), (0, n_pad)), constant_values=value)

    arrays = SynapseArrays(
        *(pad_matrix(jnp.asarray(getattr(rec, f), dtype)) for f in SynapseArrays._fields[:4]),
        *(pad_row(jnp.asarray(getattr(rec, f), dtype)) for f in SynapseArrays._fields[4:]),
    )
    v0_p = jnp.pad(v0, ((0, b_pad), (0, n_pad))) if (b_pad or n_pad) else v0
    keep_p = jnp.pad(keep.astype(dtype), ((0, 0), (0, b_pad)))[..., None]
    vs = _fused_sequence(
        arrays,
        v0_p,
        pad_seq(cm_t, 1.0),
        pad_seq(drive, 0.0),
        pad_seq(conductance, 1.0),
        keep_p,
        unfolds,
        config,
    )
    return vs[:, :batch, :units]


# -- the kernels ---------------------------------------------------------------------------------
def _substep(syn, v, cm_t, drive, conductance):
    """One fused sub-step on a block: returns (new state, its denominator)."""
    slope, offset, half_w_erev, half_w, const_erev, const_w = syn
    t = jnp.tanh(slope[None, :, :] * v[:, :, None] - offset[None, :, :])  # [rows, pre, post]
    num = const_erev + jnp.sum(t * half_w_erev[None, :, :], axis=1)
    den = const_w + jnp.sum(t * half_w[None, :, :], axis=1)
    denominator = cm_t + conductance + den
    return (cm_t * v + drive + num) / denominator, denominator


def _load_synapses(refs):
    return tuple(r[...] for r in refs)


def _forward_kernel(unfolds, steps, *refs):
    syn_refs, (v0_ref, cm_ref, drive_ref, cond_ref, keep_ref), (vs_ref,) = (
        refs[:6],
        refs[6:11],
        refs[11:],
    )
    syn = _load_synapses(syn_refs)

    def body(t, v):
        cm_t, drive, cond = cm_ref[t], drive_ref[t], cond_ref[t]
        new = v
        for _ in range(unfolds):
            new, _ = _substep(syn, new, cm_t, drive, cond)
        v = jnp.where(keep_ref[t] > 0, new, v)
        vs_ref[t] = v
        return v

    jax.lax.fori_loop(0, steps, body, v0_ref[...])


def _backward_kernel(unfolds, steps, *refs):
    syn_refs = refs[:6]
    v0_ref, vs_ref, cm_ref, drive_ref, cond_ref, keep_ref, gvs_ref = refs[6:13]
    g_v0_ref, g_cm_ref, g_drive_ref, g_cond_ref = refs[13:17]
    g_syn_refs = refs[17:23]
    syn = _load_synapses(syn_refs)
    slope, offset, half_w_erev, half_w, _, _ = syn
    v0 = v0_ref[...]

    def body(i, carry):
        g, g_slope, g_offset, g_hwe, g_hw, g_ce, g_cw = carry
        t = steps - 1 - i
        g = g + gvs_ref[t]
        prev = jnp.where(t == 0, v0, vs_ref[jnp.maximum(t - 1, 0)])
        cm_t, drive, cond = cm_ref[t], drive_ref[t], cond_ref[t]
        keep = keep_ref[t] > 0
        states, denominators = [prev], []
        for _ in range(unfolds):
            new, denominator = _substep(syn, states[-1], cm_t, drive, cond)
            states.append(new)
            denominators.append(denominator)
        g_v = jnp.where(keep, g, 0.0)  # the solve's share; padded steps pass g through
        g_cm = jnp.zeros_like(g)
        g_drive = jnp.zeros_like(g)
        g_cond = jnp.zeros_like(g)
        for k in reversed(range(unfolds)):
            v = states[k]
            g_num = g_v / denominators[k]
            g_den = -g_num * states[k + 1]
            g_cm = g_cm + g_num * v + g_den
            g_drive = g_drive + g_num
            g_cond = g_cond + g_den
            th = jnp.tanh(slope[None, :, :] * v[:, :, None] - offset[None, :, :])
            g_z = (g_num[:, None, :] * half_w_erev[None] + g_den[:, None, :] * half_w[None]) * (
                1.0 - th * th
            )
            g_slope = g_slope + jnp.sum(g_z * v[:, :, None], axis=0)
            g_offset = g_offset - jnp.sum(g_z, axis=0)
            g_hwe = g_hwe + jnp.sum(th * g_num[:, None, :], axis=0)
            g_hw = g_hw + jnp.sum(th * g_den[:, None, :], axis=0)
            g_ce = g_ce + jnp.sum(g_num, axis=0, keepdims=True)
            g_cw = g_cw + jnp.sum(g_den, axis=0, keepdims=True)
            g_v = g_num * cm_t + jnp.sum(g_z * slope[None, :, :], axis=2)
        g_cm_ref[t] = g_cm
        g_drive_ref[t] = g_drive
        g_cond_ref[t] = g_cond
        g = jnp.where(keep, g_v, g)
        return g, g_slope, g_offset, g_hwe, g_hw, g_ce, g_cw

    zeros_m = jnp.zeros_like(slope)
    zeros_r = jnp.zeros_like(syn[4])
    init = (jnp.zeros_like(v0), zeros_m, zeros_m, zeros_m, zeros_m, zeros_r, zeros_r)
    g, *g_syn = jax.lax.fori_loop(0, steps, body, init)
    g_v0_ref[...] = g
    for ref, value in zip(g_syn_refs, g_syn, strict=True):
        ref[0] = value


# -- pallas_call plumbing --------------------------------------------------------------------------
def _call(kernel, config: KernelConfig, inputs, in_kinds, out_shapes, out_kinds, grid: int):
    """``pallas_call`` over ``grid`` batch blocks. A kind says how an array is blocked:
    "param" (whole array to every program), "rows" ([B, N]: a block of rows), "seq"
    ([T, B, X]: all steps of a block of rows), "partial" ([grid, ...]: one slice per program)."""
    from jax.experimental import pallas as pl

    rows = config.block_batch

    def spec(kind: str, shape: tuple[int, ...]):
        if kind == "param":
            return pl.BlockSpec(shape, lambda i: (0,) * len(shape))
        if kind == "rows":
            return pl.BlockSpec((rows, shape[1]), lambda i: (i, 0))
        if kind == "seq":
            return pl.BlockSpec((shape[0], rows, shape[2]), lambda i: (0, i, 0))
        return pl.BlockSpec((1, *shape[1:]), lambda i: (i,) + (0,) * (len(shape) - 1))

    compiler_params = None
    if config.platform == "triton":
        from jax.experimental.pallas import triton as plgpu

        compiler_params = plgpu.CompilerParams(num_warps=config.num_warps, num_stages=1)
    elif config.platform == "mosaic_tpu":
        from jax.experimental.pallas import tpu as pltpu

        compiler_params = pltpu.CompilerParams(dimension_semantics=("parallel",))
    return pl.pallas_call(
        kernel,
        out_shape=out_shapes,
        grid=(grid,),
        in_specs=[spec(k, a.shape) for k, a in zip(in_kinds, inputs, strict=True)],
        out_specs=[spec(k, s.shape) for k, s in zip(out_kinds, out_shapes, strict=True)],
        interpret=config.platform == "interpret",
        compiler_params=compiler_params,
        name="ltc_fused_sequence",
    )(*inputs)


def _forward(syn, v0, cm_t, drive, conductance, keep, unfolds, config):
    steps, batch, units = cm_t.shape
    grid = batch // config.block_batch
    (vs,) = _call(
        functools.partial(_forward_kernel, unfolds, steps),
        config,
        (*syn, v0, cm_t, drive, conductance, keep),
        ("param",) * 6 + ("rows", "seq", "seq", "seq", "seq"),
        [jax.ShapeDtypeStruct(cm_t.shape, cm_t.dtype)],
        ("seq",),
        grid,
    )
    return vs


@functools.partial(jax.custom_vjp, nondiff_argnums=(6, 7))
def _fused_sequence(syn, v0, cm_t, drive, conductance, keep, unfolds, config):
    return _forward(syn, v0, cm_t, drive, conductance, keep, unfolds, config)


def _fused_sequence_fwd(syn, v0, cm_t, drive, conductance, keep, unfolds, config):
    vs = _forward(syn, v0, cm_t, drive, conductance, keep, unfolds, config)
    return vs, (syn, v0, vs, cm_t, drive, conductance, keep)


def _fused_sequence_bwd(unfolds, config, residuals, g_vs):
    syn, v0, vs, cm_t, drive, conductance, keep = residuals
    steps, batch, units = cm_t.shape
    grid = batch // config.block_batch
    seq = jax.ShapeDtypeStruct(cm_t.shape, cm_t.dtype)
    partial = [jax.ShapeDtypeStruct((grid, *a.shape), a.dtype) for a in syn]
    outs = _call(
        functools.partial(_backward_kernel, unfolds, steps),
        config,
        (*syn, v0, vs, cm_t, drive, conductance, keep, g_vs),
        ("param",) * 6 + ("rows",) + ("seq",) * 6,
        [jax.ShapeDtypeStruct(v0.shape, v0.dtype), seq, seq, seq, *partial],
        ("rows", "seq", "seq", "seq") + ("partial",) * 6,
        grid,
    )
    g_v0, g_cm, g_drive, g_cond = outs[:4]
    g_syn = SynapseArrays(*(jnp.sum(p, axis=0) for p in outs[4:]))
    return g_syn, g_v0, g_cm, g_drive, g_cond, jnp.zeros_like(keep)


_fused_sequence.defvjp(_fused_sequence_fwd, _fused_sequence_bwd)
