"""Training holes of the ``deepfill`` recipe: the paper's boxes, brush strokes, object shapes.

Each hole comes with the square its local critic looks at (the paper's local WGAN-GP critic
sees the 128x128 box of a 256 px image; for strokes and objects the square is centred on the
hole's bounding box and clamped to the image).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from inpaintkit.masks import box_mask, medium_mask, thick_mask, thin_mask
from inpaintkit.object_masks import object_mask


@dataclass
class TrainMasks:
    """A batch of training holes and the square each local critic looks at.

    Attributes:
        mask: (B, 1, S, S) float, 1 = hole.
        boxes: (B, 2) int top-left corners (y, x) of the local_size squares.
    """

    mask: torch.Tensor
    boxes: np.ndarray


def sample_masks(cfg: Any, n: int, generator: torch.Generator) -> TrainMasks:
    """``n`` training holes of ``cfg`` drawn from ``generator`` (reproducible per step).

    Boxes: :func:`inpaintkit.masks.box_mask` (half the side, shrunk by up to ``max_delta``);
    its local square is the box before shrinking (the shrink is symmetric, so it is the
    local_size square centred on the hole). Of the other holes, a fraction ``objects`` are
    object silhouettes (:func:`inpaintkit.object_masks.object_mask`), ``thin`` thin scratches,
    ``free_form`` medium or thick strokes (each draw made only when its fraction is above 0,
    so a config without them draws exactly the masks it always drew); their local square is
    centred on the hole's bounding box and clamped to the image.

    Args:
        cfg: ``image_size``, ``max_delta``, ``free_form`` and optionally ``objects``, ``thin``.
        n: holes to draw.
        generator: the step's torch generator (one integer is drawn from it).

    Returns:
        :class:`TrainMasks` on the generator's device.
    """
    S, L = cfg.image_size, cfg.image_size // 2
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator, device=generator.device))
    rng = np.random.default_rng(seed)
    masks, boxes = [], []
    objects, thin = float(getattr(cfg, "objects", 0.0)), float(getattr(cfg, "thin", 0.0))
    for _ in range(n):
        if objects > 0 and rng.random() < objects:
            m = object_mask((S, S), rng=rng)
        elif thin > 0 and rng.random() < thin:
            m = thin_mask((S, S), rng=rng)
        elif rng.random() < cfg.free_form:
            kind = medium_mask if rng.random() < 0.5 else thick_mask
            m = kind((S, S), rng=rng)
        else:
            m = box_mask((S, S), rng=rng, max_delta=cfg.max_delta)
        ys, xs = np.nonzero(m)
        cy, cx = (ys.min() + ys.max() + 1) // 2, (xs.min() + xs.max() + 1) // 2
        boxes.append((int(np.clip(cy - L // 2, 0, S - L)), int(np.clip(cx - L // 2, 0, S - L))))
        masks.append(m)
    mask = torch.from_numpy(np.stack(masks)[:, None].astype(np.float32))
    return TrainMasks(mask=mask.to(generator.device), boxes=np.asarray(boxes))


def crop_local(x: torch.Tensor, boxes: np.ndarray, size: int) -> torch.Tensor:
    """The ``size`` squares at ``boxes`` (B, 2) (y, x) of x (B, C, S, S) -> (B, C, size, size)."""
    return torch.stack([x[i, :, y : y + size, c : c + size] for i, (y, c) in enumerate(boxes)])
