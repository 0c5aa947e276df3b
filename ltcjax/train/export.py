"""Former home of the model export: the same module as :mod:`ltcjax.export`.

``from ltcjax.train.export import load_exported`` keeps working, but importing it runs
``ltcjax.train`` (Optax, Orbax); a deployment that must not load the training code imports
:mod:`ltcjax.export` instead, which needs only JAX and NumPy.

Example:
    >>> import ltcjax.export, ltcjax.train.export
    >>> ltcjax.train.export.load_exported is ltcjax.export.load_exported
    True
"""

from ltcjax.export import FORMAT_VERSION, ExportedModel, export_model, load_exported

__all__ = ["FORMAT_VERSION", "ExportedModel", "export_model", "load_exported"]
