"""The ncps converter reproduces ncps 1.0.1 outputs (reference arrays committed in tests/data)."""

from __future__ import annotations

from pathlib import Path

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


def test_converter_rejects_mismatched_wiring():
    with pytest.raises(ValueError, match="wiring: its adjacency does not match"):
        from_ncps_ltc(_state_dict("autoncp16_implicit"), wiring=AutoNCP(16, 3, seed=1))


def test_converter_reports_missing_entries():
    sd = _state_dict("fc8_implicit")
    del sd["rnn_cell.erev"]
    with pytest.raises(ValueError, match=r"state_dict: missing LTC entries \['erev'\]"):
        from_ncps_ltc(sd)
