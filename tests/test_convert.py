"""The ncps converter reproduces ncps 1.0.1 outputs (reference arrays committed in tests/data)."""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ltcjax import NCP, AutoNCP, FullyConnected, from_ncps_ltc

DATA = np.load(Path(__file__).parent / "data" / "ncps_ltc_reference.npz")
CONFIGS = sorted({k.split("/")[0] for k in DATA.files})
# The same wirings (same seeds) as tests/data/generate_ncps_ltc.py, built by ltcjax.
WIRINGS = {
    "fc8_implicit": FullyConnected(8),
    "fc8_clip": FullyConnected(8),
    "autoncp16_implicit": AutoNCP(16, 3),
    "ncp_mixed": NCP(5, 4, 2, 3, 3, 2, 3),
    "fc6_mixed_clip": FullyConnected(6, 2),
    "fc5_linear_maps": FullyConnected(5, 3),
}


def _state_dict(name):
    prefix = f"{name}/state_dict/"
    return {k[len(prefix) :]: DATA[k] for k in DATA.files if k.startswith(prefix)}


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("use_wiring", [False, True])
def test_converter_reproduces_ncps(name, use_wiring):
    implicit = bool(DATA[f"{name}/implicit"])
    cell, params = from_ncps_ltc(
        _state_dict(name),
        wiring=WIRINGS[name] if use_wiring else None,
        implicit_param_constraints=implicit,
    )
    ys, state = cell.apply(params, DATA[f"{name}/inputs"], timespans=DATA[f"{name}/timespans"])
    np.testing.assert_allclose(ys, DATA[f"{name}/outputs"], atol=1e-5)
    if cell.mixed_memory:
        np.testing.assert_allclose(state[0], DATA[f"{name}/final_state"], atol=1e-5)
        np.testing.assert_allclose(state[1], DATA[f"{name}/final_memory"], atol=1e-5)
    else:
        np.testing.assert_allclose(state, DATA[f"{name}/final_state"], atol=1e-5)


def test_reference_parameters_are_not_ncps_initial_values():
    """The fixture must exercise every parameter: untrained ncps weights (input_w = 1,
    input_b = 0, output_w = 1, output_b = 0, erev = adjacency) would hide a converter that
    dropped the maps or rebuilt erev from the wiring."""
    assert "fc5_linear_maps" in CONFIGS and len(CONFIGS) == len(WIRINGS)
    for name in CONFIGS:
        sd = _state_dict(name)
        for key in ("input_w", "output_w", "input_b", "output_b"):
            if f"rnn_cell.{key}" in sd:
                target = 1.0 if key.endswith("_w") else 0.0
                assert np.min(np.abs(sd[f"rnn_cell.{key}"] - target)) > 0.01, (name, key)
        for key, mask in (("erev", "sparsity_mask"), ("sensory_erev", "sensory_sparsity_mask")):
            on = sd[f"rnn_cell.{mask}"] != 0
            assert not np.any(np.isin(sd[f"rnn_cell.{key}"][on], (-1.0, 1.0))), (name, key)
        if bool(DATA[f"{name}/implicit"]):  # negative raw values exercise the softplus
            for key in ("w", "sensory_w", "cm", "gleak"):
                assert sd[f"rnn_cell.{key}"].min() < 0 < sd[f"rnn_cell.{key}"].max(), (name, key)


def test_reference_detects_a_converter_that_drops_a_parameter():
    """Resetting any one parameter to its ncps initial value (or skipping the softplus of
    negative raw values) moves the outputs far beyond the 1e-5 tolerance."""
    name = "fc8_implicit"
    cell, params = from_ncps_ltc(_state_dict(name), wiring=WIRINGS[name])
    run = jax.jit(
        lambda p: cell.apply(p, DATA[f"{name}/inputs"], timespans=DATA[f"{name}/timespans"])[0]
    )
    corruptions = {
        "input_w": params._replace(input_w=jnp.ones_like(params.input_w)),
        "input_b": params._replace(input_b=jnp.zeros_like(params.input_b)),
        "output_w": params._replace(output_w=jnp.ones_like(params.output_w)),
        "output_b": params._replace(output_b=jnp.zeros_like(params.output_b)),
        "erev": params._replace(erev=jnp.sign(params.erev)),
        "sensory_erev": params._replace(sensory_erev=jnp.sign(params.sensory_erev)),
        "cm": params._replace(cm=jnp.abs(params.cm)),
    }
    assert np.max(np.abs(run(params) - DATA[f"{name}/outputs"])) < 1e-5
    for what, corrupted in corruptions.items():
        assert np.max(np.abs(run(corrupted) - DATA[f"{name}/outputs"])) > 1e-2, what


def test_converter_rejects_mismatched_wiring():
    with pytest.raises(ValueError, match="wiring: expected an adjacency equal to the state dict"):
        from_ncps_ltc(_state_dict("autoncp16_implicit"), wiring=AutoNCP(16, 3, seed=1))


def test_converter_reports_missing_entries():
    sd = _state_dict("fc8_implicit")
    del sd["rnn_cell.erev"]
    with pytest.raises(
        ValueError,
        match=r"state_dict: expected an ncps LTC state dict \(missing LTC entries \['erev'\]\)",
    ):
        from_ncps_ltc(sd)
