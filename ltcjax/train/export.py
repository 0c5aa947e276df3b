"""Former home of the model export: the same module as :mod:`ltcjax.export`.

``from ltcjax.train.export import load_exported`` keeps working and stays light: the
package ``ltcjax.train`` imports its training modules lazily, so this loads only JAX and
NumPy (no Optax, Orbax or Flax).

Example:
    >>> import ltcjax.export, ltcjax.train.export
    >>> ltcjax.train.export.load_exported is ltcjax.export.load_exported
    True
"""

from ltcjax.export import FORMAT_VERSION, ExportedModel, export_model, load_exported

__all__ = ["FORMAT_VERSION", "ExportedModel", "export_model", "load_exported"]
