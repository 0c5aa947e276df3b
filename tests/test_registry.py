"""The model registry: every model by name, one interface, switchable in a training step."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ltcjax import RK4, AutoNCP, RecurrentCell
from ltcjax.models.cfc import CfCCell
from ltcjax.models.ctgru import CTGRUCell
from ltcjax.models.ctrnn import CTRNNCell
from ltcjax.models.lstm import LSTMCell
from ltcjax.models.ltc import LTCCell
from ltcjax.models.node import ODERNNCell
from ltcjax.registry import available_models, make_cell, register

EXPECTED = {
    "cfc": CfCCell,
    "ctgru": CTGRUCell,
    "ctrnn": CTRNNCell,
    "lstm": LSTMCell,
    "ltc": LTCCell,
    "node": ODERNNCell,
}
SMALL = {"cfc": dict(backbone_units=8), "ctgru": dict(num_scales=3)}


def test_all_models_registered():
    assert set(EXPECTED) <= set(available_models())
    for name, cls in EXPECTED.items():
        cell = make_cell(name, input_size=3, units=5, **SMALL.get(name, {}))
        assert type(cell) is cls and isinstance(cell, RecurrentCell)
        assert cell.output_size == 5 and cell.input_size == 3


@pytest.mark.usefixtures("without_runtime_typechecks")
def test_kwargs_are_forwarded():
    assert make_cell("ctrnn", input_size=2, units=3, solver="rk4").solver == RK4()
    assert make_cell("cfc", input_size=2, units=3, mode="pure").mode == "pure"
    with pytest.raises(ValueError, match="^mode:"):
        make_cell("cfc", input_size=2, units=3, mode="nope")


def test_unknown_model_names_the_argument():
    with pytest.raises(ValueError, match="^model:.*'gru'"):
        make_cell("gru", input_size=2, units=3)


@pytest.mark.parametrize("name", ["ctrnn", "node", "ctgru", "lstm"])
def test_wirings_only_for_ltc_and_cfc(name):
    with pytest.raises(ValueError, match="^units:"):
        make_cell(name, input_size=2, units=AutoNCP(6, 2))


@pytest.mark.parametrize("name", ["ltc", "cfc"])
def test_wired_models(name):
    cell = make_cell(name, input_size=2, units=AutoNCP(6, 2))
    assert cell.state_size == 6 and cell.output_size == 2


def test_register_a_custom_model(monkeypatch):
    import ltcjax.registry

    monkeypatch.setattr(ltcjax.registry, "_REGISTRY", dict(ltcjax.registry._REGISTRY))
    register("test_tiny_ctrnn", lambda **kw: CTRNNCell(ode_unfolds=1, **kw))
    assert make_cell("test_tiny_ctrnn", input_size=1, units=2).ode_unfolds == 1


def test_one_training_step_for_every_model_by_name():
    """The same code trains any model: switch by name, mask by lengths, irregular times."""
    xs = jax.random.normal(jax.random.key(0), (3, 6, 2))
    ts = jax.random.uniform(jax.random.key(1), (3, 6), minval=0.1, maxval=1.0)
    lengths = jnp.array([6, 4, 1])
    for name in sorted(EXPECTED):
        cell = make_cell(name, input_size=2, units=4, **SMALL.get(name, {}))
        params = cell.init(jax.random.key(2))

        def loss(p, cell=cell):
            y, _ = cell.apply(p, xs, timespans=ts, lengths=lengths, return_sequences=False)
            return jnp.mean((y - 0.5) ** 2), y

        (value, y), grads = jax.value_and_grad(loss, has_aux=True)(params)
        assert np.isfinite(value), name
        assert all(np.all(np.isfinite(g)) for g in jax.tree.leaves(grads)), name
        assert any(np.any(g != 0) for g in jax.tree.leaves(grads)), name
        # the last valid output of the length-1 sequence equals running it alone
        alone, _ = cell.apply(params, xs[2, :1], timespans=ts[2, :1])
        np.testing.assert_allclose(y[2], alone[-1], atol=1e-5, err_msg=name)
