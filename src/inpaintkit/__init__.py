"""inpaintkit: deep generative image inpainting, faithful to the papers, under one API.

>>> import numpy as np, inpaintkit
>>> img = np.full((16, 16, 3), 90, np.uint8); hole = np.zeros((16, 16), bool)
>>> hole[4:8, 4:8] = True
>>> int(inpaintkit.inpaint(img, hole, method="telea").pixels[5, 5, 0])
90

The public names are imported on first use (PEP 562), so ``import inpaintkit`` (and the CLI's
``--help``) does not pay for torch until something needs it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from inpaintkit import plugins
from inpaintkit.errors import ImageTooLargeError, InpaintError, InpaintWarning

if TYPE_CHECKING:  # pragma: no cover
    from inpaintkit.api import Inpainted, inpaint, load_image
    from inpaintkit.registry import MethodResult, get_method, list_methods

plugins.install()  # the registry finds the built-in methods, models and recipes on first lookup

__version__ = "0.1.0"

#: public name -> the module that defines it (imported lazily).
_LAZY = {
    "Inpainted": "inpaintkit.api",
    "inpaint": "inpaintkit.api",
    "load_image": "inpaintkit.api",
    "MethodResult": "inpaintkit.registry",
    "get_method": "inpaintkit.registry",
    "list_methods": "inpaintkit.registry",
}

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


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'inpaintkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
