"""Transforms: exact output sizes, CelebA crop geometry, seeded crops and flips."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inpaintkit.data.transforms import (
    BBoxCrop,
    CelebaCrop,
    CenterCrop,
    RandomCrop,
    RandomFlip,
    Resize,
    make_recipe,
    upscale_to,
)
from inpaintkit.errors import InpaintError


def _ramp(h: int, w: int) -> np.ndarray:
    """(h, w, 3) uint8 with a unique (row, col) code in each pixel (for locating crops)."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([y % 256, x % 256, (y * 7 + x * 3) % 256], axis=2).astype(np.uint8)


class TestCelebaCrop:
    def test_box_on_both_copies(self):
        assert CelebaCrop(64).box(218, 178) == (35.0, 55.0, 143.0, 163.0)
        assert CelebaCrop(64).box(109, 89) == (17.5, 27.5, 71.5, 81.5)

    def test_marker_pixels_land_on_the_corners(self):
        img = np.zeros((218, 178, 3), np.uint8)
        img[55, 35] = (255, 0, 0)  # first pixel inside the 108x108 crop
        img[162, 142] = (0, 255, 0)  # last pixel inside
        img[54, 34] = img[163, 143] = (0, 0, 255)  # just outside, diagonally
        out = CelebaCrop(108)(img)
        assert out.shape == (108, 108, 3)
        assert out[0, 0].tolist() == [255, 0, 0]
        assert out[107, 107].tolist() == [0, 255, 0]
        assert np.count_nonzero(out.any(axis=2)) == 2  # blue markers cut off

    def test_resized_output_covers_the_crop(self):
        img = np.zeros((218, 178, 3), np.uint8)
        img[55:163, 35:143] = 200
        out = CelebaCrop(64)(img)
        assert out.shape == (64, 64, 3)
        assert (out[2:-2, 2:-2] == 200).all()  # only the border rows feel the outside

    def test_half_resolution_copy_gives_the_same_crop(self):
        rng = np.random.default_rng(0)
        field = cv2.resize(rng.random((8, 8)).astype(np.float32), (178, 218), cv2.INTER_CUBIC)
        full = np.clip(np.stack([field, field[::-1], field[:, ::-1]], 2) * 200 + 20, 0, 255)
        full = full.astype(np.uint8)
        half = cv2.resize(full, (89, 109), interpolation=cv2.INTER_AREA)
        a = CelebaCrop(64)(full).astype(float)
        b = CelebaCrop(64)(half).astype(float)
        assert np.abs(a - b).mean() < 1.0  # a whole-pixel offset on the half copy gives > 3

    def test_wide_image_is_an_error(self):
        with pytest.raises(InpaintError, match="smaller than"):
            CelebaCrop(64)(np.zeros((50, 178, 3), np.uint8))


class TestCrops:
    def test_center_crop_is_the_exact_middle(self):
        img = _ramp(40, 30)
        out = CenterCrop(16)(img)
        np.testing.assert_array_equal(out, img[12:28, 7:23])

    def test_center_crop_too_small(self):
        with pytest.raises(InpaintError, match=r"image is 30x20, smaller than the 32x32"):
            CenterCrop(32)(np.zeros((20, 30, 3), np.uint8))

    def test_upscale_keeps_aspect(self):
        up = upscale_to(np.zeros((10, 20, 3), np.uint8), 16)
        assert up.shape == (16, 32, 3)
        out = CenterCrop(16, upscale=True)(np.full((10, 20, 3), 9, np.uint8))
        assert out.shape == (16, 16, 3) and (out == 9).all()

    def test_resize_and_bbox_sizes(self):
        img = _ramp(30, 50)
        assert Resize(24)(img).shape == (24, 24, 3)
        assert BBoxCrop(12)(img, bbox=(3.5, 2, 40, 29)).shape == (12, 12, 3)
        np.testing.assert_array_equal(BBoxCrop(10)(img, bbox=(5, 4, 15, 14)), img[4:14, 5:15])

    def test_bbox_is_clipped_and_empty_is_an_error(self):
        img = _ramp(20, 20)
        np.testing.assert_array_equal(BBoxCrop(10)(img, bbox=(-5, -5, 10, 10)), img[0:10, 0:10])
        with pytest.raises(InpaintError, match="empty"):
            BBoxCrop(8)(img, bbox=(30, 30, 40, 40))

    def test_random_crop_is_a_seeded_sub_window(self):
        img = _ramp(40, 60)
        offsets = set()
        for seed in range(20):
            a = RandomCrop(16)(img, np.random.default_rng(seed))
            b = RandomCrop(16)(img, np.random.default_rng(seed))
            np.testing.assert_array_equal(a, b)
            y, x = int(a[0, 0, 0]), int(a[0, 0, 1])  # the ramp encodes the offset
            np.testing.assert_array_equal(a, img[y : y + 16, x : x + 16])
            offsets.add((y, x))
        assert len(offsets) > 10

    def test_random_crop_too_small(self):
        with pytest.raises(InpaintError, match="random crop"):
            RandomCrop(64)(np.zeros((63, 100, 3), np.uint8), np.random.default_rng(0))


class TestFlip:
    def test_flip_is_exact_mirror_or_identity(self):
        img = _ramp(8, 8)
        np.testing.assert_array_equal(RandomFlip(1.0)(img, np.random.default_rng(0)), img[:, ::-1])
        np.testing.assert_array_equal(RandomFlip(0.0)(img, np.random.default_rng(0)), img)

    def test_flip_is_deterministic_per_seed_and_fair(self):
        img = _ramp(8, 8)
        flips = []
        for seed in range(200):
            a = RandomFlip()(img, np.random.default_rng(seed))
            b = RandomFlip()(img, np.random.default_rng(seed))
            np.testing.assert_array_equal(a, b)
            flips.append(not np.array_equal(a, img))
        assert 70 < sum(flips) < 130


class TestRecipes:
    @pytest.mark.parametrize(
        "name", ["celeba_crop", "random_crop", "center_crop", "resize", "bbox"]
    )
    def test_every_recipe_gives_the_size(self, name):
        recipe = make_recipe(name, size=32, flip=True)
        out = recipe(_ramp(218, 178), np.random.default_rng(1))
        assert out.shape == (32, 32, 3) and out.dtype == np.uint8
        assert recipe.is_random

    def test_deterministic_recipes_are_not_random(self):
        assert not make_recipe("center_crop", size=8).is_random
        assert make_recipe("random_crop", size=8).is_random

    def test_bad_names_and_sizes(self):
        with pytest.raises(InpaintError, match="unknown transform 'blur'"):
            make_recipe("blur", size=8)
        with pytest.raises(InpaintError, match="positive"):
            make_recipe("resize", size=0)


def test_short_side_resizes_before_the_random_crop() -> None:
    pixels = np.zeros((200, 400, 3), np.uint8)
    pixels[:, 200:] = 255  # right half white
    recipe = make_recipe("random_crop", size=32, short_side=40)
    prepared = recipe.prepare(pixels)
    assert prepared.shape == (40, 80, 3)  # aspect kept, short side 40
    assert prepared[:, :38].max() == 0 and prepared[:, 42:].min() == 255
    crop = recipe(pixels, np.random.default_rng(0))
    assert crop.shape == (32, 32, 3)
    with pytest.raises(InpaintError, match="short_side"):
        make_recipe("center_crop", size=32, short_side=40)
    with pytest.raises(InpaintError, match="short_side"):
        make_recipe("random_crop", size=32, short_side=16)
