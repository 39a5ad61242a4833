"""Inpainting methods. Importing this package registers every built-in method."""

from inpaintkit.methods import classical, lowrank, nearest, tv  # noqa: F401
