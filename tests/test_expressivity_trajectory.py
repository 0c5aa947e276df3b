"""Trajectory length: arc length of closed-form curves, PCA against numpy, batching, jit."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ltcjax.expressivity import arc_length, pca, trajectory_length


def _circle(radius: float, n: int, k: int = 2, rng=None, offset=None) -> np.ndarray:
    """A closed circle of radius r with n points (n - 1 chords), embedded in k dims."""
    t = np.linspace(0.0, 2 * np.pi, n)
    plane = np.stack([radius * np.cos(t), radius * np.sin(t)], axis=-1)
    if k == 2 and rng is None:
        return plane
    rng = rng or np.random.default_rng(0)
    basis, _ = np.linalg.qr(rng.normal(size=(k, 2)))  # orthonormal 2-frame in R^k
    out = plane @ basis.T
    return out + (0.0 if offset is None else offset)


@pytest.mark.parametrize("radius", [0.5, 1.0, 3.0])
def test_circle_arc_length_is_two_pi_r(radius):
    n = 2001
    got = float(arc_length(jnp.asarray(_circle(radius, n))))
    # Exact length of the inscribed regular polygon with n - 1 sides.
    polygon = (n - 1) * 2 * radius * math.sin(math.pi / (n - 1))
    assert got == pytest.approx(polygon, rel=1e-5)
    # And within the discretisation error of the true circumference 2 pi r.
    err_bound = 2 * math.pi * radius * math.pi**2 / (6 * (n - 1) ** 2)
    assert abs(got - 2 * math.pi * radius) <= err_bound * 1.01 + 1e-5 * radius


def test_arc_length_of_polyline_matches_manual_sum():
    rng = np.random.default_rng(1)
    pts = rng.normal(size=(17, 5))
    expected = sum(np.linalg.norm(pts[i + 1] - pts[i]) for i in range(16))
    assert float(arc_length(jnp.asarray(pts))) == pytest.approx(expected, rel=1e-5)


def test_arc_length_gradient_is_finite_at_repeated_points():
    pts = jnp.array([[0.0, 0.0], [0.0, 0.0], [3.0, 4.0]])
    g = jax.grad(lambda x: arc_length(x))(pts)
    assert bool(jnp.all(jnp.isfinite(g)))
    assert float(arc_length(pts)) == pytest.approx(5.0)


_jit_length = jax.jit(trajectory_length)


@settings(max_examples=12, deadline=None)
@given(
    radius=st.floats(0.1, 10.0),
    k=st.sampled_from([2, 5, 12]),
    seed=st.integers(0, 2**16),
    shift=st.floats(-5.0, 5.0),
)
def test_pca_recovers_length_of_planar_curve_embedded_in_k_dims(radius, k, seed, shift):
    rng = np.random.default_rng(seed)
    n = 400
    curve = _circle(radius, n, k, rng, offset=shift * rng.normal(size=k))
    planar = float(arc_length(jnp.asarray(_circle(radius, n))))
    res = _jit_length(jnp.asarray(curve, jnp.float32))  # compiled once per k
    assert float(res.pca_length) == pytest.approx(planar, rel=1e-3)
    assert float(res.full_length) == pytest.approx(planar, rel=1e-3)
    # A planar curve: the first two components explain all the variance.
    assert float(jnp.sum(res.explained_variance_ratio)) == pytest.approx(1.0, abs=1e-4)


def test_pca_projection_drops_the_third_dimension():
    # A helix: x, y a circle of radius 2 and z a slow ramp of small extent; PCA keeps x, y.
    t = np.linspace(0, 2 * np.pi, 3001)
    helix = np.stack([2 * np.cos(t), 2 * np.sin(t), 0.05 * t], axis=-1)
    res = trajectory_length(jnp.asarray(helix))
    full = math.sqrt(4 + 0.05**2) * 2 * math.pi  # closed-form helix length
    assert float(res.full_length) == pytest.approx(full, rel=1e-4)
    assert float(res.pca_length) == pytest.approx(4 * math.pi, rel=2e-3)
    assert float(res.pca_length) <= float(res.full_length)


def test_pca_matches_numpy_eigendecomposition():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 6)) @ rng.normal(size=(6, 6))
    res = pca(jnp.asarray(x), n_components=3)
    cov = np.cov(x, rowvar=False)
    evals, evecs = np.linalg.eigh(cov)
    evals, evecs = evals[::-1], evecs[:, ::-1]
    np.testing.assert_allclose(res.explained_variance, evals[:3], rtol=1e-4)
    np.testing.assert_allclose(res.explained_variance_ratio, evals[:3] / evals.sum(), rtol=1e-4)
    # Components agree up to sign.
    for i in range(3):
        assert abs(float(jnp.dot(res.components[i], evecs[:, i]))) == pytest.approx(1.0, abs=1e-4)
    np.testing.assert_allclose(res.mean, x.mean(0), rtol=1e-5, atol=1e-5)


def test_batched_and_jitted_agree_with_single():
    rng = np.random.default_rng(4)
    x = jnp.asarray(rng.normal(size=(2, 3, 25, 7)), jnp.float32)
    res = jax.jit(trajectory_length)(x)
    assert res.pca_length.shape == (2, 3)
    assert res.explained_variance_ratio.shape == (2, 3, 2)
    assert res.projection.shape == (2, 3, 25, 2)
    single = trajectory_length(x[1, 2])
    np.testing.assert_allclose(res.pca_length[1, 2], single.pca_length, rtol=1e-5)
    np.testing.assert_allclose(res.full_length[1, 2], single.full_length, rtol=1e-5)
    v = jax.vmap(trajectory_length)(x[0])
    np.testing.assert_allclose(v.pca_length, res.pca_length[0], rtol=1e-5)


def test_constant_trajectory_has_zero_length_and_no_nan():
    res = trajectory_length(jnp.ones((10, 4)))
    assert float(res.pca_length) == 0.0
    assert float(res.full_length) == 0.0
    assert bool(jnp.all(jnp.isfinite(res.explained_variance_ratio)))


@pytest.mark.usefixtures("without_runtime_typechecks")
def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="latents"):
        trajectory_length(jnp.ones(5))
    with pytest.raises(ValueError, match="latents"):
        trajectory_length(jnp.ones((1, 3)))
    with pytest.raises(ValueError, match="n_components"):
        trajectory_length(jnp.ones((5, 2)), n_components=3)
    with pytest.raises(ValueError, match="curve"):
        arc_length(jnp.ones(3))
