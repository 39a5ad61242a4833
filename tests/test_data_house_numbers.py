"""Synthetic house numbers: determinism, value range, labels, photo walls, fonts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from inpaintkit.data.house_numbers import HouseNumbers, dejavu_fonts, render_house_number
from inpaintkit.data.sources import open_dataset
from inpaintkit.errors import InpaintError

FONTS = dejavu_fonts()  # the tests use DejaVu only (Pillow's own font if it is missing)


def test_item_is_a_pure_function_of_seed_and_index():
    a = HouseNumbers(size=32, length=10, seed=4, fonts=FONTS)
    b = HouseNumbers(size=32, length=10, seed=4, fonts=FONTS)
    later = b.pixels(7)  # asked for first on b, after others on a
    for i in range(7):
        a.pixels(i)
    np.testing.assert_array_equal(a.pixels(7), later)
    assert not np.array_equal(a.pixels(7), a.pixels(8))
    c = HouseNumbers(size=32, length=10, seed=5, fonts=FONTS)
    assert not np.array_equal(a.pixels(7), c.pixels(7))
    a.set_epoch(3)  # a fixed data set: epochs do not change it
    np.testing.assert_array_equal(a.pixels(7), later)


def test_splits_are_different_streams():
    train = HouseNumbers(size=32, length=3, fonts=FONTS)
    test = HouseNumbers(size=32, length=3, split="test", fonts=FONTS)
    assert not np.array_equal(train.pixels(0), test.pixels(0))
    assert len(HouseNumbers(size=32, split="test", fonts=FONTS)) == 26032


@pytest.mark.parametrize("size", [32, 64])
def test_shape_and_value_range(size: int):
    ds = HouseNumbers(size=size, length=6, seed=1, fonts=FONTS)
    x = torch.stack([ds[i] for i in range(6)])
    assert x.shape == (6, 3, size, size) and x.dtype == torch.float32
    assert x.min() >= -1 and x.max() <= 1
    assert x.flatten(1).std(dim=1).min() > 0.02  # never a blank image


def test_labels_and_numbers():
    ds = HouseNumbers(size=32, length=40, seed=2, fonts=FONTS)
    lengths = set()
    for i in range(40):
        pixels, digit, number = ds.sample(i)
        assert pixels.shape == (32, 32, 3) and pixels.dtype == np.uint8
        assert 1 <= len(number) <= 5 and number[0] != "0" and number.isdigit()
        assert str(digit) in number
        lengths.add(len(number))
    assert len(lengths) >= 3


def test_centre_digit_stands_out_from_the_wall():
    """The centred digit makes the middle of the crop busier than its top and bottom rows."""
    ds = HouseNumbers(size=32, length=24, seed=3, fonts=FONTS)
    middle, edges = [], []
    for i in range(24):
        grey = ds.pixels(i).astype(float).mean(axis=2)
        middle.append(grey[8:24, 10:22].std())
        edges.append(np.concatenate([grey[:3, 10:22], grey[-3:, 10:22]]).std())
    assert np.median(middle) > 2 * np.median(edges)


def test_photo_walls_and_no_fonts(tmp_path: Path):
    rng = np.random.default_rng(0)
    for i in range(3):
        pic = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
        Image.fromarray(pic).save(tmp_path / f"{i}.png")
    ds = open_dataset(f"housenumbers:{tmp_path}", size=32, length=4, seed=1, fonts=[])
    plain = open_dataset("housenumbers", size=32, length=4, seed=1, fonts=[])
    assert ds[0].shape == (3, 32, 32)
    assert not torch.equal(ds[0], plain[0])
    pixels, _, _ = render_house_number(np.random.default_rng(0), size=16, fonts=[])
    assert pixels.shape == (16, 16, 3)


def test_bad_arguments(tmp_path: Path):
    with pytest.raises(InpaintError, match="at least 8"):
        HouseNumbers(size=4)
    with pytest.raises(InpaintError, match="unknown split"):
        HouseNumbers(split="extra")
    with pytest.raises(InpaintError, match="transform 'auto'"):
        open_dataset("housenumbers", size=32, transform="random_crop")
    with pytest.raises(InpaintError, match="no image files"):
        HouseNumbers(photos=tmp_path)
