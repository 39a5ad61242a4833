"""Inpainting methods. Importing this package registers every built-in method."""

from inpaintkit.methods import (  # noqa: F401
    classical,
    context_encoder,
    deepfill,
    latent_search,
    lowrank,
    nearest,
    song,
    tv,
)
