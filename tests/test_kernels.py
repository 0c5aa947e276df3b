"""The Pallas kernel of the LTC's fused solver (ltcjax.kernels): interpret mode on CPU equals
an independent recursion and the XLA path, in values and gradients; it lowers for CUDA
(Triton) and TPU (Mosaic); and backend dispatch.

Interpret mode compiles slowly, so each test compiles one small function (values and
gradients together) and the cases are chosen to cover many features at once.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ltcjax import LTCCell
from ltcjax.kernels import SynapseArrays, fused_sequence, resolve_backend
from ltcjax.models.ltc import prepare_synapses
from ltcjax.wirings import NCP, AutoNCP

TOL = 1e-5
#: Interpret-mode kernels compile slowly; XLA's cheapest optimisation level halves that.
_jit = functools.partial(jax.jit, compiler_options={"xla_backend_optimization_level": 0})


def _close(a, b, tol=TOL):
    """Elementwise |a - b| <= tol * max(1, max |b|) over two pytrees."""
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        scale = max(1.0, float(np.max(np.abs(y))))
        np.testing.assert_allclose(x, y, rtol=0, atol=tol * scale)


def _raw_synapses(key, n, mask):
    k = jax.random.split(key, 4)
    w = jax.random.uniform(k[0], (n, n), minval=0.001, maxval=1.0)
    sigma = jax.random.uniform(k[1], (n, n), minval=3.0, maxval=8.0)
    mu = jax.random.uniform(k[2], (n, n), minval=0.3, maxval=0.8)
    erev = jnp.where(jax.random.bernoulli(k[3], 0.5, (n, n)), 1.0, -1.0)
    return dict(w=w, sigma=sigma, mu=mu, erev=erev, mask=mask)


def _plain_recursion(raw, v0, cm_t, drive, conductance, keep, unfolds, xp=jnp):
    """Eq. 3 written out from REFERENCE.md (sigmoid form, no folding), in jnp or numpy."""
    w, sigma, mu, erev, mask = (raw[k] for k in ("w", "sigma", "mu", "erev", "mask"))
    v, states = v0, []
    for t in range(cm_t.shape[0]):
        new = v
        for _ in range(unfolds):
            a = w * mask / (1 + xp.exp(-sigma * (new[:, :, None] - mu)))  # [B, pre, post]
            num = cm_t[t] * new + drive[t] + (a * erev).sum(1)
            new = num / (cm_t[t] + conductance[t] + a.sum(1))
        v = xp.where(keep[t][:, None] > 0, new, v)
        states.append(v)
    return xp.stack(states)


def test_kernel_equals_the_plain_recursion_in_values_and_gradients():
    # 3 rows in blocks of 2 (two programs, one padded row), 5 neurons (not a power of 2),
    # a sparse mask, steps that keep the state (padding / dt = 0) and irregular cm_t.
    steps, batch, n, unfolds = 4, 3, 5, 2
    mask = (jax.random.uniform(jax.random.key(7), (n, n)) < 0.6).astype(jnp.float32)
    raw = _raw_synapses(jax.random.key(0), n, mask)
    k = jax.random.split(jax.random.key(1), 4)
    v0 = jax.random.uniform(k[0], (batch, n), minval=-0.5, maxval=0.5)
    cm_t = 6.0 * 0.5 / jax.random.uniform(k[1], (steps, batch, n), minval=0.2, maxval=2.0)
    drive = jax.random.normal(k[2], (steps, batch, n))
    conductance = 1.0 + jax.random.uniform(k[3], (steps, batch, n))
    keep = jnp.array([[1, 1, 0], [0, 1, 1], [1, 1, 1], [1, 0, 1]], jnp.float32)
    weights = jax.random.normal(jax.random.key(5), (steps, batch, n))

    def kernel_loss(raw, v0, cm_t, drive, conductance):
        syn = prepare_synapses(raw["w"], raw["erev"], raw["sigma"], raw["mu"], np.asarray(mask))
        vs = fused_sequence(
            syn, v0, cm_t, drive, conductance, keep, unfolds, platform="interpret", block_batch=2
        )
        return jnp.sum(vs * weights), vs

    def plain_loss(raw, v0, cm_t, drive, conductance):
        vs = _plain_recursion(raw, v0, cm_t, drive, conductance, keep, unfolds)
        return jnp.sum(vs * weights), vs

    args = ({k: raw[k] for k in ("w", "sigma", "mu", "erev")}, v0, cm_t, drive, conductance)
    grad = lambda f: _jit(jax.value_and_grad(f, argnums=(0, 1, 2, 3, 4), has_aux=True))  # noqa: E731
    ((_, vs), g_kernel) = grad(lambda r, *a: kernel_loss({**r, "mask": mask}, *a))(*args)
    ((_, _), g_plain) = grad(lambda r, *a: plain_loss({**r, "mask": mask}, *a))(*args)

    as64 = lambda a: np.asarray(a, np.float64)  # noqa: E731
    expected = _plain_recursion(
        {k: as64(v) for k, v in raw.items()},
        *map(as64, (v0, cm_t, drive, conductance, keep)),
        unfolds,
        xp=np,
    )
    _close(vs, expected)
    np.testing.assert_array_equal(vs[1, 0], vs[0, 0])  # keep = 0: unchanged, exactly
    _close(g_kernel, g_plain)
    assert float(jnp.max(jnp.abs(g_kernel[0]["w"] * (1 - mask)))) == 0.0  # no absent synapse


CASES = {
    # fully connected; affine maps; per-sequence irregular times with dt = 0; lengths
    "fully_connected": dict(
        cell=dict(units=5), apply=dict(lengths=[6, 4, 1]), zero_dt=True, sequences=True
    ),
    # NCP sparsity; linear input map, no output map; a mask whose first step is padding
    "ncp": dict(
        cell=dict(
            wiring=NCP(
                2,
                2,
                2,
                sensory_fanout=1,
                inter_fanout=2,
                recurrent_command_synapses=1,
                motor_fanin=1,
            ),
            input_mapping="linear",
            output_mapping="none",
            ode_unfolds=2,
        ),
        apply=dict(mask=[[0, 1, 1, 0, 1, 1], [1, 1, 1, 1, 1, 1], [1, 0, 0, 1, 0, 1]]),
        zero_dt=False,
        sequences=False,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_pallas_backend_equals_xla_in_values_and_gradients(case):
    spec = CASES[case]
    xla = LTCCell(input_size=3, **spec["cell"])
    kernel = LTCCell(input_size=3, backend="pallas", **spec["cell"])
    # both run the sequence at once; remat=True makes the XLA cell scan its steps (the oracle)
    assert kernel.sequence_kernel() is not None and xla.sequence_kernel() is not None
    params = xla.init(jax.random.key(0))
    k = jax.random.split(jax.random.key(1), 3)
    xs = jax.random.normal(k[0], (3, 6, 3))
    ts = jax.random.uniform(k[1], (3, 6), minval=0.1, maxval=3.0)
    if spec["zero_dt"]:
        ts = ts.at[0, 2].set(0.0)
    h0 = 0.3 * jax.random.normal(k[2], (3, xla.units))
    apply = {
        key: jnp.asarray(v, bool if key == "mask" else int) for key, v in spec["apply"].items()
    }

    def loss(cell, remat, params, xs, h0, ts):
        ys, h = cell.apply(
            params,
            xs,
            timespans=ts,
            initial_state=h0,
            return_sequences=spec["sequences"],
            remat=remat,
            **apply,
        )
        return jnp.sum(jnp.sin(3 * ys)) + jnp.sum(h**2), (ys, h)

    # gradients of parameters, inputs, initial state and elapsed times
    run = lambda c, remat=None: _jit(  # noqa: E731
        jax.value_and_grad(lambda *a: loss(c, remat, *a), argnums=(0, 1, 2, 3), has_aux=True)
    )(params, xs, h0, ts)
    (_, out_steps), g_steps = run(xla, True)  # per-step scan of LTCCell.step
    for cell in (kernel, xla):
        (_, out), g = run(cell)
        _close(out, out_steps)
        _close(g, g_steps)


def test_pallas_backend_with_mixed_memory_and_streaming_steps():
    # mixed memory: the LSTM runs between steps, so each step calls the kernel (T = 1)
    kw = dict(input_size=2, wiring=AutoNCP(6, 1), mixed_memory=True, ode_unfolds=2)
    xla, kernel = LTCCell(**kw), LTCCell(backend="pallas", **kw)
    assert kernel.sequence_kernel() is None and kernel.uses_kernel
    params = xla.init(jax.random.key(3))
    xs = jax.random.normal(jax.random.key(4), (2, 4, 2))
    ts = jnp.array([[0.5, 0.0, 2.0, 1.0], [1.0, 1.5, 0.2, 0.7]])
    lengths = jnp.array([4, 2])

    def loss(cell, params, xs):
        ys, (v, c) = cell.apply(params, xs, timespans=ts, lengths=lengths)
        return jnp.sum(ys**2) + jnp.sum(jnp.cos(v)) + jnp.sum(c), (ys, v, c)

    run = lambda c: _jit(  # noqa: E731
        jax.value_and_grad(lambda *a: loss(c, *a), argnums=(0, 1), has_aux=True)
    )(params, xs)
    (_, out_kernel), g_kernel = run(kernel)
    (_, out_xla), g_xla = run(xla)
    _close(out_kernel, out_xla)
    _close(g_kernel, g_xla)
    # one streaming step (control loops: step_batch) from the final state, values only
    state, x, dt = out_xla[1:], xs[:, 0], jnp.array([0.3, 0.0])
    step = lambda c: _jit(c.step_batch)(params, state, x, dt)  # noqa: E731
    _close(step(kernel), step(xla))


def _kernel_signature(n=6):
    s = lambda *shape: jax.ShapeDtypeStruct(shape, jnp.float32)  # noqa: E731
    syn = SynapseArrays(s(n, n), s(n, n), s(n, n), s(n, n), s(n), s(n))
    return syn, s(16, n), s(4, 16, n), s(4, 16, n), s(4, 16, n), s(4, 16)


@pytest.mark.parametrize(
    ("platform", "custom_call"),
    [("cuda", "__gpu$xla.gpu.triton"), ("tpu", "tpu_custom_call")],
)
def test_kernel_lowers_for_gpu_and_tpu_from_a_cpu_host(platform, custom_call):
    # platform=None (what LTCCell uses): Triton or Mosaic is chosen when lowering
    def loss(syn, v0, cm_t, drive, conductance, keep):
        vs = fused_sequence(syn, v0, cm_t, drive, conductance, keep, 6)
        return jnp.sum(vs**2)

    f = jax.grad(loss, argnums=(0, 1, 2, 3, 4))  # forward and backward kernels
    # The Triton custom call carries no serialisation-compatibility guarantee, so
    # jax.export refuses it unless that check is disabled (lowering itself works).
    checks = [jax.export.DisabledSafetyCheck.custom_call(custom_call)]
    exported = jax.export.export(jax.jit(f), platforms=[platform], disabled_checks=checks)(
        *_kernel_signature()
    )
    text = exported.mlir_module()
    assert text.count(f"stablehlo.custom_call @{custom_call}") == 2  # forward + backward
    assert exported.platforms == (platform,)


def test_backend_auto_is_xla_and_bad_backends_are_named(without_runtime_typechecks):
    for platform in ("cpu", "gpu", "cuda", "tpu"):
        assert resolve_backend("auto", platform) == "xla"
    assert resolve_backend("pallas", "cpu") == "pallas"
    cell = LTCCell(input_size=2, units=3)
    assert cell.backend == "auto" and not cell.uses_kernel
    assert cell.sequence_kernel() is not None  # the XLA sequence path
    with pytest.raises(ValueError, match="^backend: expected"):
        LTCCell(input_size=2, units=3, backend="cuda")
    with pytest.raises(ValueError, match="^backend: expected .*rk4|^backend: expected .*RK4"):
        LTCCell(input_size=2, units=3, backend="pallas", solver="rk4")
    with pytest.raises(ValueError, match="^platform: expected"):
        fused_sequence(*_kernel_signature_arrays(), 2, platform="cuda")


def _kernel_signature_arrays():
    return jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), _kernel_signature(2))
