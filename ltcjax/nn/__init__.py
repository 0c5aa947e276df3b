"""Thin framework adapters over the pure cells: :mod:`ltcjax.nn.nnx` (Flax NNX),
:mod:`ltcjax.nn.linen` (Flax Linen) and :mod:`ltcjax.nn.equinox` (Equinox).

Each offers ``Cell`` (one step: for ``nnx.RNN`` / ``nn.RNN``, or for your own loop or
``lax.scan`` with Equinox), ``Recurrent`` (a whole sequence through :func:`ltcjax.unroll`,
with elapsed times and masks) and ``LTC`` (``Recurrent`` over an :class:`ltcjax.LTCCell`,
with ncps-like arguments). They are imported lazily so that the core never imports Flax or
Equinox.
"""
