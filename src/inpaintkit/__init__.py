"""inpaintkit: deep generative image inpainting, faithful to the papers, under one API.

>>> import numpy as np, inpaintkit
>>> img = np.full((16, 16, 3), 90, np.uint8); hole = np.zeros((16, 16), bool)
>>> hole[4:8, 4:8] = True
>>> int(inpaintkit.inpaint(img, hole, method="telea").pixels[5, 5, 0])
90
"""

from inpaintkit import plugins
from inpaintkit.api import Inpainted, inpaint, load_image
from inpaintkit.errors import ImageTooLargeError, InpaintError, InpaintWarning
from inpaintkit.registry import MethodResult, get_method, list_methods

plugins.install()  # the registry finds the built-in methods, models and recipes on first lookup

__version__ = "0.1.0"

__all__ = [
    "ImageTooLargeError",
    "InpaintError",
    "InpaintWarning",
    "Inpainted",
    "MethodResult",
    "__version__",
    "get_method",
    "inpaint",
    "list_methods",
    "load_image",
]
