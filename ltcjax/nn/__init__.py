"""Thin framework adapters over the pure cells: :mod:`ltcjax.nn.nnx` (Flax NNX),
:mod:`ltcjax.nn.linen` (Flax Linen) and :mod:`ltcjax.nn.equinox` (Equinox).

Each offers the same three classes:

* ``Cell``: one step of any cell (for ``nnx.RNN`` / ``nn.RNN``, or your own loop or
  ``lax.scan`` with Equinox);
* ``Recurrent``: a whole sequence of any cell through :func:`ltcjax.unroll` (elapsed times,
  masks), and ``Recurrent.step(state, x, dt=1.0)`` for streaming, with one contract
  everywhere: ``x`` of shape ``(input_size,)`` or with leading batch axes, ``state`` with
  the same axes, ``dt`` a scalar or of the batch shape, checked
  (:func:`ltcjax.nn.shared.checked_step`);
* ``LTC``: a ``Recurrent`` subclass over an :class:`ltcjax.LTCCell`, with ncps's
  arguments (``LTC(input_size, units_or_wiring, ..., **cell_options)``).

They are imported lazily (only when you import that submodule), so that the core never
imports Flax or Equinox; :mod:`ltcjax.nn.shared` holds the framework-free step logic.
"""
