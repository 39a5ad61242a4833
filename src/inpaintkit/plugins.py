"""The built-in plug-ins: the modules whose decorators fill the registries.

:mod:`inpaintkit.registry` sits below everything it registers and never imports its plug-ins;
it runs the loaders given to :func:`~inpaintkit.registry.add_plugin_loader` on the first
lookup. The ``inpaintkit`` package installs the two loaders below when it is imported, so a
lookup anywhere finds every built-in method, model family and recipe. A third-party package
registers its own with ``add_plugin_loader``.
"""

from __future__ import annotations

from inpaintkit.registry import add_plugin_loader


def load_builtin() -> None:
    """Import the built-in model families and methods (their decorators register them)."""
    import inpaintkit.methods
    import inpaintkit.models  # noqa: F401


def load_builtin_recipes() -> None:
    """Import the built-in training recipes."""
    import inpaintkit.train.context_encoder
    import inpaintkit.train.dcgan
    import inpaintkit.train.deepfill
    import inpaintkit.train.latent_encoder
    import inpaintkit.train.song
    import inpaintkit.train.wgan  # noqa: F401


def install() -> None:
    """Give the registry the built-in loaders (idempotent)."""
    add_plugin_loader(load_builtin, "methods")
    add_plugin_loader(load_builtin_recipes, "recipes")
