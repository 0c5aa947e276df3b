"""The forms of the synaptic sums the fused solver picks per platform and layer size, and
the chunked evaluation of many rows, each against the sigmoid sums in float64 NumPy and
autodiff of the plain sigmoid formula."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ltcjax.models import ltc


def _raw(rows: int, pre: int, post: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.01, 1.0, (pre, post))
    erev = rng.choice([-1.0, 1.0], (pre, post)) * rng.uniform(0.5, 1.5, (pre, post))
    sigma = rng.uniform(3.0, 8.0, (pre, post))
    mu = rng.uniform(0.3, 0.8, (pre, post))
    mask = (rng.uniform(size=(pre, post)) < 0.7).astype(np.float64)
    x = rng.normal(size=(rows, pre))
    return w, erev, sigma, mu, mask, x


def _numpy_sums(w, erev, sigma, mu, mask, x):
    act = w * mask / (1.0 + np.exp(-sigma * (x[:, :, None] - mu)))  # [rows, pre, post]
    return (act * erev).sum(1), act.sum(1)


FORMS = {
    "complex": ltc._currents_complex,
    "post_major": ltc._currents_post_major,
    "dot": ltc._currents_dot,
}


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("shape", [(5, 7, 3), (8, 64, 64), (1, 19, 19)])
def test_each_form_equals_the_sigmoid_sums(form, shape):
    w, erev, sigma, mu, mask, x = _raw(*shape)
    syn = ltc.prepare_synapses(*(jnp.asarray(a, jnp.float32) for a in (w, erev, sigma, mu)), mask)
    num, den = jax.jit(FORMS[form])(syn, jnp.asarray(x, jnp.float32))
    want_num, want_den = _numpy_sums(w, erev, sigma, mu, mask, x)
    scale = np.abs(w).sum(0).max()
    np.testing.assert_allclose(num, want_num, atol=2e-6 * scale)
    np.testing.assert_allclose(den, want_den, atol=2e-6 * scale)


@pytest.mark.parametrize(
    "form, backward", [("complex", "complex"), ("post_major", "complex"), ("dot", "dot")]
)
@pytest.mark.parametrize("shape", [(6, 5, 4), (4, 64, 64)])
def test_each_form_has_the_derivative_of_the_sigmoid_form(x64, form, backward, shape):
    """Forward form and backward form (complex sums on CPU, contractions elsewhere) forced
    on any platform."""
    w, erev, sigma, mu, mask, x = _raw(*shape, seed=1)
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(2, shape[0], shape[2]))

    def plain(w, erev, sigma, mu, x):
        act = w * mask * jax.nn.sigmoid(sigma * (x[:, :, None] - mu))
        return jnp.sum(a * (act * erev).sum(1) + b * act.sum(1))

    def ours(w, erev, sigma, mu, x):
        num, den = ltc.fast_synaptic_currents(ltc.prepare_synapses(w, erev, sigma, mu, mask), x)
        return jnp.sum(a * num + b * den)

    with pytest.MonkeyPatch.context() as patch:  # these forms on any platform
        patch.setattr(ltc, "cpu_form", lambda rows, units: FORMS[form])
        patch.setattr(
            ltc,
            "_per_platform",
            lambda on_cpu, elsewhere, *args: (on_cpu if backward == "complex" else elsewhere)(
                *args
            ),
        )
        args = tuple(jnp.asarray(v) for v in (w, erev, sigma, mu, x))
        got = jax.grad(ours, argnums=range(5))(*args)
    want = jax.grad(plain, argnums=range(5))(w, erev, sigma, mu, x)
    for g, r in zip(got, want, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-12)


def test_many_rows_run_in_chunks_with_the_same_values_and_gradients(x64, monkeypatch):
    """37 rows of 6 x 5 synapses in chunks of at most 8 rows (the last one padded) give the
    sums and gradients of a single evaluation."""
    w, erev, sigma, mu, mask, x = _raw(37, 6, 5, seed=3)
    x = x.reshape(37, 6)
    g = np.random.default_rng(4).normal(size=(2, 37, 5))

    def loss(w, erev, sigma, mu, x):
        num, den = ltc.fast_synaptic_currents(ltc.prepare_synapses(w, erev, sigma, mu, mask), x)
        return jnp.sum(g[0] * num + g[1] * den), (num, den)

    run = jax.jit(jax.value_and_grad(loss, argnums=range(5), has_aux=True))
    (_, whole), g_whole = run(w, erev, sigma, mu, x)
    monkeypatch.setattr(ltc, "CHUNK_ELEMENTS", 8 * 6 * 5)
    assert ltc._row_chunks(37, ltc.prepare_synapses(w, erev, sigma, mu, mask)) == (5, 8)
    (_, chunked), g_chunked = jax.jit(jax.value_and_grad(loss, argnums=range(5), has_aux=True))(
        w, erev, sigma, mu, x
    )
    want = _numpy_sums(w, erev, sigma, mu, mask, x)
    for got in (whole, chunked):
        np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
    for a, b in zip(g_whole, g_chunked, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_the_cpu_form_depends_on_the_layer_size():
    """On CPU (float32) the form follows ``cpu_form``; the complex one shows in the compiled
    computation."""
    assert ltc.cpu_form(ltc.COMPLEX_MIN_ROWS, ltc.COMPLEX_MIN_UNITS) is ltc._currents_complex
    assert ltc.cpu_form(16, 32) is ltc._currents_post_major
    assert ltc.cpu_form(1, 64) is ltc._currents_dot
    if jax.default_backend() != "cpu":
        pytest.skip("the complex form is the CPU's")

    def compiled(rows, units):
        w, erev, sigma, mu, mask, x = _raw(rows, units, units)
        syn = ltc.prepare_synapses(
            *(jnp.asarray(a, jnp.float32) for a in (w, erev, sigma, mu)), mask
        )
        return jax.jit(ltc.synaptic_currents).lower(syn, jnp.asarray(x, jnp.float32)).as_text()

    assert "complex<f32>" in compiled(ltc.COMPLEX_MIN_ROWS, ltc.COMPLEX_MIN_UNITS)
    assert "complex<f32>" not in compiled(ltc.COMPLEX_MIN_ROWS, ltc.COMPLEX_MIN_UNITS - 1)
    assert "complex<f32>" not in compiled(1, ltc.COMPLEX_MIN_UNITS)
