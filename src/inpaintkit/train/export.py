"""Inference weights at the end of training: the model-file writer lives in
:mod:`inpaintkit.weights.write` (and the reader in :mod:`inpaintkit.weights.read`); these are its
names as the training loop and older code import them."""

from inpaintkit.weights.read import load_export
from inpaintkit.weights.write import data_terms, export_model, model_card

__all__ = ["data_terms", "export_model", "load_export", "model_card"]
