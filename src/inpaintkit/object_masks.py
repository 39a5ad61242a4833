"""Object-shaped hole masks: what a person paints over a person, a sign or a car.

Boxes and brush strokes (the papers' training holes) are not the shape of an object
removal. These masks are silhouettes made of one to three smooth parts (a radial Fourier
outline each: a body, a head, a roof, a pole...) stacked vertically or side by side, then
grown by a painted margin, placed anywhere in the image (they may run off its edge, as a
person cut by the frame does). The hole's area is drawn log-uniformly between
``min_coverage`` and ``max_coverage`` (2 % to a third of the image by default), so small
objects are as common as large ones.

Example:
    >>> m = object_mask((64, 64), rng=np.random.default_rng(0))
    >>> m.shape, m.dtype, 0.01 < m.mean() < 0.4
    ((64, 64), dtype('bool'), True)
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from inpaintkit.errors import InpaintError

_CANVAS = 512  # the silhouette is drawn once at this scale, then scaled to its target area
_MAX_DRAWS = 50


def _outline(gen: np.random.Generator, cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
    """A closed smooth outline around (cx, cy): an ellipse with a few random harmonics."""
    t = np.linspace(0, 2 * math.pi, 96, endpoint=False)
    r = np.ones_like(t)
    for k in range(2, 6):
        r += gen.uniform(0, 0.25 / k) * np.cos(k * t + gen.uniform(0, 2 * math.pi))
    pts = np.stack([cx + rx * r * np.cos(t), cy + ry * r * np.sin(t)], axis=1)
    return np.round(pts).astype(np.int32)


def _silhouette(gen: np.random.Generator) -> np.ndarray:
    """(CANVAS, CANVAS) uint8 silhouette of 1-3 parts around the canvas centre, 255 = object."""
    canvas = np.zeros((_CANVAS, _CANVAS), np.uint8)
    parts = int(gen.integers(1, 4))
    vertical = gen.random() < 0.6  # people and signs stand; cars lie
    c = _CANVAS / 2
    sign = 1 if gen.random() < 0.5 else -1  # parts grow up or down (left or right)
    centre = prev_extent = 0.0
    for i in range(parts):
        big = 1.0 if i == 0 else gen.uniform(0.3, 0.8)  # the first part is the body
        rx = _CANVAS * 0.12 * big * gen.uniform(0.5, 1.5)
        ry = _CANVAS * 0.12 * big * gen.uniform(0.5, 1.5)
        if vertical:
            ry *= gen.uniform(1.0, 2.0)
        else:
            rx *= gen.uniform(1.0, 2.0)
        extent = ry if vertical else rx
        if i:  # overlap the previous part so the silhouette stays in one piece
            centre += sign * 0.7 * (prev_extent + extent)
        cx, cy = (c, c + centre) if vertical else (c + centre, c)
        cv2.fillPoly(canvas, [_outline(gen, cx, cy, rx, ry)], 255)
        prev_extent = extent
    return canvas


def object_mask(
    size: tuple[int, int],
    *,
    rng: np.random.Generator | None = None,
    min_coverage: float = 0.02,
    max_coverage: float = 0.33,
    margin: float = 0.02,
) -> np.ndarray:
    """An object-shaped hole whose area is log-uniform in ``[min_coverage, max_coverage]``.

    Args:
        size: ``(W, H)`` of the image.
        rng: the randomness (None = ``default_rng(0)``).
        min_coverage, max_coverage: the band of hole fractions, 0 < min <= max < 1.
        margin: the painted margin around the silhouette, as a fraction of the image's short
            side (a person's brush goes past the object's edge).

    Returns:
        ``(H, W)`` bool, True = hole, never empty.

    Raises:
        InpaintError: an image under 8x8 or options out of range.
    """
    w, h = int(size[0]), int(size[1])
    if w < 8 or h < 8:
        raise InpaintError(f"object masks need images of at least 8x8, got {w}x{h}")
    if not 0 < min_coverage <= max_coverage < 1 or not 0 <= margin < 0.5:
        raise InpaintError(
            "object masks need 0 < min_coverage <= max_coverage < 1 and 0 <= margin < 0.5"
        )
    gen = rng if rng is not None else np.random.default_rng(0)
    target = math.exp(gen.uniform(math.log(min_coverage), math.log(max_coverage)))
    mask = np.zeros((h, w), bool)
    for _ in range(_MAX_DRAWS):
        sil = _silhouette(gen)
        ys, xs = np.nonzero(sil)
        crop = sil[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        pad = margin * min(w, h)
        # scale so the silhouette covers ``target`` of the image (the margin adds a little)
        s = math.sqrt(target * w * h / float(np.count_nonzero(crop)))
        ow, oh = max(1, round(crop.shape[1] * s)), max(1, round(crop.shape[0] * s))
        if ow > 1.2 * w or oh > 1.2 * h:
            continue  # too elongated for this image at this area: draw another
        obj = cv2.resize(crop, (ow, oh), interpolation=cv2.INTER_LINEAR) >= 128
        if pad >= 1:
            k = 2 * round(pad) + 1
            disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
            obj = cv2.dilate(obj.astype(np.uint8), disk) > 0
        top = int(gen.integers(-oh // 4, max(h - 3 * oh // 4, -oh // 4 + 1)))
        left = int(gen.integers(-ow // 4, max(w - 3 * ow // 4, -ow // 4 + 1)))
        mask[:] = False
        y0, x0 = max(top, 0), max(left, 0)
        y1, x1 = min(top + obj.shape[0], h), min(left + obj.shape[1], w)
        mask[y0:y1, x0:x1] = obj[y0 - top : y1 - top, x0 - left : x1 - left]
        if mask.any():
            return mask
    mask[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4] = True  # unreachable in practice
    return mask
