"""CfC: parity with ncps 1.0.1 through the converter, hand-computed steps, dropout, API."""

from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ltcjax import NCP, AutoNCP, FullyConnected
from ltcjax.convert import from_ncps_cfc
from ltcjax.models.cfc import CfCCell, lecun_tanh

DATA = np.load(Path(__file__).parent / "data" / "ncps_cfc_reference.npz")
CONFIGS = sorted({k.split("/")[0] for k in DATA.files})
WIRINGS = {
    "wired_ncp_default": lambda: NCP(5, 4, 2, 3, 3, 2, 3),
    "wired_autoncp_no_gate_mixed": lambda: AutoNCP(12, 3),
    "wired_autoncp_pure_proj": lambda: AutoNCP(10, 2),
    "wired_fc_pure": lambda: FullyConnected(6, 2),
}


def _config(name):
    sd = {
        k.split("/state_dict/")[1]: DATA[k]
        for k in DATA.files
        if k.startswith(f"{name}/state_dict/")
    }
    kwargs = json.loads(str(DATA[f"{name}/kwargs"]))
    return sd, kwargs


def test_reference_covers_all_modes_and_wirings():
    assert len(CONFIGS) == 10
    modes = {_config(n)[1].get("mode", "default") for n in CONFIGS}
    assert modes == {"default", "no_gate", "pure"}
    assert set(WIRINGS) <= set(CONFIGS)


@pytest.mark.parametrize("name", CONFIGS)
def test_matches_ncps_cfc(name):
    sd, kwargs = _config(name)
    wiring = WIRINGS[name]() if name in WIRINGS else None
    cell, params = from_ncps_cfc(
        sd,
        wiring=wiring,
        mode=kwargs.get("mode", "default"),
        backbone_activation=kwargs.get("activation", "lecun_tanh"),
        backbone_dropout=kwargs.get("backbone_dropout", 0.0),
    )
    assert cell.mixed_memory == kwargs.get("mixed_memory", False)
    assert cell.proj_size == kwargs.get("proj_size")
    xs, ts = DATA[f"{name}/inputs"], DATA[f"{name}/timespans"]
    ys, state = cell.apply(params, xs, timespans=ts)
    np.testing.assert_allclose(ys, DATA[f"{name}/outputs"], atol=1e-5, rtol=1e-5)
    if cell.mixed_memory:
        h, c = state
        np.testing.assert_allclose(c, DATA[f"{name}/final_memory"], atol=1e-5, rtol=1e-5)
    else:
        h = state
    np.testing.assert_allclose(h, DATA[f"{name}/final_state"], atol=1e-5, rtol=1e-5)
    # the whole batch at once, per-sequence timespans (what ncps 1.0.1 cannot do)
    last, _ = cell.apply(params, xs, timespans=ts, return_sequences=False)
    np.testing.assert_allclose(last, DATA[f"{name}/outputs"][:, -1], atol=1e-5, rtol=1e-5)


def _np_lin(d, z):
    return z @ np.asarray(d.kernel, np.float64) + np.asarray(d.bias, np.float64)


def _np_cfc_step(cell, p, h, x, t):
    """Independent numpy CfC step (unwired) in float64."""
    z = np.concatenate([x, h])
    for d in p.backbone:
        z = 1.7159 * np.tanh(0.666 * _np_lin(d, z))
    ff1 = _np_lin(p.ff1, z)
    if cell.mode == "pure":
        a, w = np.asarray(p.A, np.float64), np.asarray(p.w_tau, np.float64)
        return -a * np.exp(-t * (np.abs(w) + np.abs(ff1))) * ff1 + a
    ff1, ff2 = np.tanh(ff1), np.tanh(_np_lin(p.ff2, z))
    s = 1 / (1 + np.exp(-(_np_lin(p.time_a, z) * t + _np_lin(p.time_b, z))))
    return ff1 + s * ff2 if cell.mode == "no_gate" else ff1 * (1 - s) + s * ff2


@pytest.mark.parametrize("mode", ["default", "no_gate", "pure"])
@pytest.mark.parametrize("layers", [0, 2])
def test_step_matches_numpy(mode, layers):
    cell = CfCCell(input_size=3, units=4, mode=mode, backbone_units=5, backbone_layers=layers)
    params = cell.init(jax.random.key(3))
    rng = np.random.default_rng(0)
    h, x = rng.normal(size=4), rng.normal(size=3)
    _, y = cell.step(params, jnp.asarray(h, jnp.float32), jnp.asarray(x, jnp.float32), 0.7)
    expected = _np_cfc_step(cell, params.layers[0], h, x, 0.7)
    np.testing.assert_allclose(y, expected, atol=2e-6)


def test_wired_layers_are_masked_and_chained():
    wiring = NCP(3, 2, 1, 2, 2, 1, 2)
    cell = CfCCell(input_size=2, wiring=wiring)
    assert cell.layer_sizes == (3, 2, 1) and cell.output_size == 1
    params = cell.init(jax.random.key(0))
    x, h = jnp.array([0.3, -1.0]), jnp.linspace(-1, 1, 6)
    state, y = cell.step(params, h, x, 0.4)
    # manual: layer by layer, unmasked cell with the masked kernels
    inputs, outs, start = np.asarray(x), [], 0
    built = wiring.build(2)
    for i, size in enumerate(cell.layer_sizes):
        p = params.layers[i]
        neurons = built.get_neurons_of_layer(i)
        if i == 0:
            block = np.abs(built.sensory_adjacency_matrix[:, neurons])
        else:
            prev = built.get_neurons_of_layer(i - 1)
            block = np.abs(built.adjacency_matrix[np.ix_(prev, neurons)])
        mask = np.concatenate([block, np.ones((size, size))])
        p = p._replace(
            ff1=p.ff1._replace(kernel=p.ff1.kernel * mask),
            ff2=p.ff2._replace(kernel=p.ff2.kernel * mask),
        )
        sub = CfCCell(input_size=len(inputs), units=size, backbone_layers=0)
        inputs = _np_cfc_step(sub, p, np.asarray(h[start : start + size]), inputs, 0.4)
        outs.append(inputs)
        start += size
    np.testing.assert_allclose(state, np.concatenate(outs), atol=2e-6)
    np.testing.assert_allclose(y, outs[-1], atol=2e-6)
    # masked synapses do not matter: perturbing them changes nothing
    mask0 = cell.layer_masks()[0]
    assert (mask0 == 0).any()
    p0 = params.layers[0]
    noisy = p0._replace(ff1=p0.ff1._replace(kernel=p0.ff1.kernel + 5.0 * (1 - mask0)))
    state2, _ = cell.step(params._replace(layers=(noisy, *params.layers[1:])), h, x, 0.4)
    np.testing.assert_allclose(state2, state, atol=1e-7)


def test_lecun_tanh():
    np.testing.assert_allclose(lecun_tanh(0.5), 1.7159 * np.tanh(0.333), rtol=1e-6)


def test_gradient_matches_finite_differences(x64):
    cell = CfCCell(input_size=2, units=3, backbone_units=4, mixed_memory=True)
    params = cell.init(jax.random.key(1), dtype=jnp.float64)
    xs = jax.random.normal(jax.random.key(2), (2, 4, 2), jnp.float64)
    ts = jnp.array([[0.1, 0.5, 1.0, 2.0], [1.0, 0.0, 0.3, 0.2]])

    def loss(p):
        return jnp.sum(cell.apply(p, xs, timespans=ts)[0] ** 2)

    grads = jax.grad(loss)(params)
    loss = jax.jit(loss)
    leaf = params.layers[0].time_a.kernel
    direction = jax.random.normal(jax.random.key(5), leaf.shape, jnp.float64)

    def along(eps):
        la = params.layers[0]
        layer = la._replace(time_a=la.time_a._replace(kernel=leaf + eps * direction))
        return loss(params._replace(layers=(layer,)))

    eps = 1e-6
    fd = (along(eps) - along(-eps)) / (2 * eps)
    np.testing.assert_allclose(jnp.sum(grads.layers[0].time_a.kernel * direction), fd, rtol=1e-6)


def test_dropout_only_with_a_key():
    cell = CfCCell(input_size=2, units=3, backbone_units=8, backbone_layers=2, backbone_dropout=0.5)
    params = cell.init(jax.random.key(0))
    xs = jax.random.normal(jax.random.key(1), (2, 5, 2))
    a, _ = cell.apply(params, xs)
    run = jax.jit(lambda k: cell.apply(params, xs, key=k))
    c, hc = run(jax.random.key(7))
    d, _ = run(jax.random.key(7))
    e, _ = run(jax.random.key(8))
    np.testing.assert_array_equal(c, d)
    assert not np.allclose(c, a) and not np.allclose(c, e)
    assert hc.shape == (2, 3)
    # one backbone layer: ncps applies no dropout, so a key changes nothing
    one = CfCCell(input_size=2, units=3, backbone_units=8, backbone_dropout=0.5)
    p1 = one.init(jax.random.key(0))
    np.testing.assert_array_equal(one.apply(p1, xs)[0], one.apply(p1, xs, key=jax.random.key(1))[0])
    # unbatched inputs and an explicit initial state with a key
    ys, h = cell.apply(params, xs[0], initial_state=jnp.ones(3), key=jax.random.key(2))
    assert ys.shape == (5, 3) and h.shape == (3,)


def test_mask_and_defaults():
    cell = CfCCell(input_size=2, units=3, backbone_units=4)
    params = cell.init(jax.random.key(0))
    xs = jax.random.normal(jax.random.key(1), (2, 6, 2))
    ys, _ = cell.apply(params, xs)  # default timespans are 1.0, as in ncps
    ys1, _ = cell.apply(params, xs, timespans=1.0)
    np.testing.assert_array_equal(ys, ys1)
    _, h_len = cell.apply(params, xs, lengths=jnp.array([6, 3]))
    _, h_short = cell.apply(params, xs[1:, :3])
    np.testing.assert_allclose(h_len[1], h_short[0], atol=1e-6)


@pytest.mark.usefixtures("without_runtime_typechecks")
@pytest.mark.parametrize(
    ("kwargs", "arg"),
    [
        (dict(units=3, mode="fast"), "mode"),
        (dict(units=3, backbone_activation="swish"), "backbone_activation"),
        (dict(units=3, backbone_layers=-1), "backbone_layers"),
        (dict(units=3, backbone_dropout=1.0), "backbone_dropout"),
        (dict(units=0), "units"),
        (dict(), "units, wiring"),
        (dict(units=3, proj_size=0), "proj_size"),
        (dict(units=5, wiring=AutoNCP(6, 2)), "units"),
        (dict(wiring=AutoNCP(6, 2), backbone_units=16), "backbone_units"),
        (dict(wiring=AutoNCP(6, 2), backbone_layers=2), "backbone_layers"),
        (dict(wiring=AutoNCP(6, 2), backbone_dropout=0.1), "backbone_dropout"),
    ],
)
def test_validation_names_the_argument(kwargs, arg):
    with pytest.raises(ValueError, match=f"^{arg}:"):
        CfCCell(input_size=2, **kwargs)


def test_backbone_defaults_are_ncps_unwired_and_absent_when_wired():
    plain = CfCCell(input_size=2, units=3)
    assert (plain.backbone_units, plain.backbone_layers, plain.backbone_dropout) == (128, 1, 0.0)
    assert plain == CfCCell(input_size=2, units=3, backbone_units=128, backbone_layers=1)
    wired = CfCCell(input_size=2, wiring=AutoNCP(6, 2))
    assert wired.backbone_layers == 0 and wired.backbone_dropout == 0.0
    assert all(layer.backbone == () for layer in wired.init(jax.random.key(0)).layers)


@pytest.mark.parametrize("name", ["no_gate_silu_2layers", "wired_ncp_default"])
def test_converter_takes_a_bare_cell_state_dict(name):
    sd, kwargs = _config(name)
    bare = {k[len("rnn_cell.") :]: v for k, v in sd.items() if k.startswith("rnn_cell.")}
    wiring = WIRINGS[name]() if name in WIRINGS else None
    opts = dict(mode=kwargs["mode"], backbone_activation=kwargs.get("activation", "lecun_tanh"))
    cell, params = from_ncps_cfc(bare, wiring=wiring, **opts)
    ref_cell, ref_params = from_ncps_cfc(sd, wiring=wiring, **opts)
    assert cell == ref_cell
    xs = DATA[f"{name}/inputs"][:1, :3]
    np.testing.assert_array_equal(cell.apply(params, xs)[0], ref_cell.apply(ref_params, xs)[0])


def test_converter_rejects_mismatches():
    sd, _ = _config("pure")
    with pytest.raises(ValueError, match="^mode:"):
        from_ncps_cfc(sd, mode="default")
    sd, _ = _config("wired_ncp_default")
    with pytest.raises(ValueError, match="^wiring:"):
        from_ncps_cfc(sd)
    with pytest.raises(ValueError, match="^wiring:"):
        from_ncps_cfc(sd, wiring=NCP(5, 4, 2, 3, 3, 2, 3, seed=1))
    with pytest.raises(ValueError, match="^state_dict:"):
        from_ncps_cfc({"foo": np.zeros(2)})


def test_runs_through_nnx_wrapper():
    from flax import nnx

    from ltcjax.nn import nnx as ltc_nnx

    cell = CfCCell(input_size=2, wiring=AutoNCP(8, 2), mode="no_gate")
    model = ltc_nnx.Recurrent(cell, rngs=nnx.Rngs(0))
    xs = jnp.ones((3, 4, 2))
    ys, _ = model(xs, timespans=jnp.full((3, 4), 0.5))
    ref, _ = cell.apply(ltc_nnx.pure_params(model), xs, timespans=jnp.full((3, 4), 0.5))
    np.testing.assert_allclose(ys, ref, atol=1e-6)
    assert ys.shape == (3, 4, 2)


def test_dropout_keys_travel_through_unroll():
    cell = CfCCell(input_size=2, units=3, backbone_units=8, backbone_layers=2, backbone_dropout=0.5)
    params = cell.init(jax.random.key(0))
    x = jax.random.normal(jax.random.key(1), (1, 6, 2))
    twins = jnp.concatenate([x, x])  # two identical sequences get their own dropout masks
    ys, _ = cell.apply(params, twins, key=jax.random.key(3))
    assert not np.allclose(ys[0], ys[1])
    # padding consumes no randomness: a padded tail leaves the valid steps as they were
    padded = jnp.concatenate([twins, jnp.zeros((2, 3, 2))], axis=1)
    yp, hp = cell.apply(params, padded, key=jax.random.key(3), lengths=jnp.array([6, 6]))
    np.testing.assert_allclose(yp[:, :6], ys, atol=1e-6)
    np.testing.assert_allclose(hp, cell.apply(params, twins, key=jax.random.key(3))[1], atol=1e-6)
    # the streaming step takes the key too
    state, y = cell.step_batch(
        params, cell.initial_state((2,)), twins[:, 0], 1.0, key=jax.random.key(4)
    )
    assert not np.allclose(y[0], y[1])
    # the older name still works for one release, with a warning, and means the same
    with pytest.warns(DeprecationWarning, match="dropout_key"):
        old, _ = cell.apply(params, twins, dropout_key=jax.random.key(3))
    np.testing.assert_array_equal(old, ys)
