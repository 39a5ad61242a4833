"""open_dataset (spec parsing, auto transforms, bad input), seeding, workers, grids."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from inpaintkit.data.grid import grid_pixels, save_grid, show_dataset
from inpaintkit.data.sources import open_dataset, parse_part, split_spec
from inpaintkit.errors import InpaintError


def _photos(root: Path, n: int = 4, size=(40, 30)) -> Path:
    """n PNG photos with distinct random content under root."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / f"{i:03d}.png")
    return root


class TestSpecs:
    def test_split_and_parse(self, tmp_path: Path):
        assert split_spec("celeba:/a + dtd:/b,housenumbers") == [
            "celeba:/a",
            "dtd:/b",
            "housenumbers",
        ]
        assert parse_part("housenumbers") == ("housenumbers", None)
        assert parse_part("housenumbers:/photos") == ("housenumbers", "/photos")
        assert parse_part("svhn:/data/svhn") == ("svhn", "/data/svhn")
        assert parse_part("/data/x") == ("auto", "/data/x")
        odd = tmp_path / "a+b"
        odd.mkdir()
        assert split_spec(str(odd)) == [str(odd)]  # an existing path is never split

    def test_unknown_scheme_and_missing_path(self):
        with pytest.raises(InpaintError, match=r"unknown data source 'mnist'.*celeba"):
            open_dataset("mnist:/x", size=8)
        with pytest.raises(InpaintError, match="needs a path"):
            open_dataset("celeba:", size=8)
        with pytest.raises(InpaintError, match="empty part"):
            open_dataset("housenumbers+", size=8)

    def test_unknown_option_split_size(self, tmp_path: Path):
        _photos(tmp_path)
        with pytest.raises(InpaintError, match="unknown data option"):
            open_dataset(str(tmp_path), size=8, colour=True)
        with pytest.raises(InpaintError, match="unknown split"):
            open_dataset(str(tmp_path), size=8, split="dev")
        with pytest.raises(InpaintError, match="--size"):
            open_dataset(str(tmp_path), size=0)
        with pytest.raises(InpaintError, match="unknown transform 'zoom'"):
            open_dataset(str(tmp_path), size=8, transform="zoom")


class TestBadData:
    def test_missing_and_empty_folders(self, tmp_path: Path):
        with pytest.raises(InpaintError, match="does not exist"):
            open_dataset(str(tmp_path / "nope"), size=8)
        (tmp_path / "empty").mkdir()
        with pytest.raises(InpaintError, match="no image files"):
            open_dataset(str(tmp_path / "empty"), size=8)
        (tmp_path / "text").mkdir()
        (tmp_path / "text" / "a.txt").write_text("hello")
        with pytest.raises(InpaintError, match="no image files"):
            open_dataset(str(tmp_path / "text"), size=8)

    def test_unreadable_image(self, tmp_path: Path):
        (tmp_path / "broken.jpg").write_bytes(b"not a jpeg at all")
        with pytest.raises(InpaintError, match=r"cannot read .*broken\.jpg"):
            open_dataset(str(tmp_path), size=8)

    def test_images_smaller_than_the_crop(self, tmp_path: Path):
        _photos(tmp_path, size=(40, 30))
        with pytest.raises(InpaintError, match=r"000.png: image is 40x30, smaller than the 32x32"):
            open_dataset(str(tmp_path), size=32, transform="random_crop")
        with pytest.raises(InpaintError, match="smaller than"):
            open_dataset(str(tmp_path), size=32, transform="center_crop", split="val")
        ds = open_dataset(str(tmp_path), size=32)  # auto: small photos are enlarged
        assert ds[0].shape == (3, 32, 32)
        assert open_dataset(str(tmp_path), size=32, transform="resize")[1].shape == (3, 32, 32)


class TestDatasets:
    def test_items_are_float_in_range_and_match_pixels(self, tmp_path: Path):
        ds = open_dataset(str(_photos(tmp_path)), size=16, seed=3)
        x = ds[1]
        assert x.dtype == torch.float32 and x.shape == (3, 16, 16)
        assert x.min() >= -1 and x.max() <= 1
        expected = torch.from_numpy(ds.pixels(1).astype(np.float32) / 127.5 - 1).permute(2, 0, 1)
        torch.testing.assert_close(x, expected, atol=1e-6, rtol=0)

    def test_16_bit_images_are_rounded_to_8_bits(self, tmp_path: Path):
        grey = np.full((20, 20), 257 * 100 + 128, np.uint16)  # 100.498 in 8 bits
        grey[:, 10:] = 65535
        Image.fromarray(grey).save(tmp_path / "deep.png")
        ds = open_dataset(str(tmp_path), size=20, split="val")
        px = ds.pixels(0)
        assert (px[:, :10] == 100).all() and (px[:, 10:] == 255).all()

    def test_same_seed_same_items_epochs_differ(self, tmp_path: Path):
        root = _photos(tmp_path)
        a = open_dataset(str(root), size=16, seed=7)
        b = open_dataset(str(root), size=16, seed=7)
        c = open_dataset(str(root), size=16, seed=8)
        assert all(torch.equal(a[i], b[i]) for i in range(4))
        assert not all(torch.equal(a[i], c[i]) for i in range(4))
        first = [a[i] for i in range(4)]
        a.set_epoch(1)
        assert not all(torch.equal(x, a[i]) for i, x in enumerate(first))
        a.set_epoch(0)
        assert all(torch.equal(x, a[i]) for i, x in enumerate(first))

    def test_eval_split_is_deterministic(self, tmp_path: Path):
        ds = open_dataset(str(_photos(tmp_path)), size=16, split="val")
        first = ds.pixels(0)
        ds.set_epoch(5)
        np.testing.assert_array_equal(ds.pixels(0), first)
        assert ds.recipe.name == "center_crop"

    def test_cache_gives_the_same_items(self, tmp_path: Path):
        root = _photos(tmp_path)
        plain = open_dataset(str(root), size=16, seed=1)
        cached = open_dataset(str(root), size=16, seed=1, cache=True)
        cached.warm_cache()
        assert len(cached._cache) == 4
        assert all(torch.equal(plain[i], cached[i]) for i in range(4))

    def test_concatenation(self, tmp_path: Path):
        a, b = _photos(tmp_path / "a", 3), _photos(tmp_path / "b", 2)
        ds = open_dataset(f"{a}+{b},housenumbers", size=16, length=5)
        assert len(ds) == 3 + 2 + 5
        ds.set_epoch(4)
        assert all(p.epoch == 4 for p in ds.parts)
        assert ds[9].shape == (3, 16, 16)
        with pytest.raises(IndexError):
            ds.pixels(10)

    def test_workers_give_the_same_batches(self, tmp_path: Path):
        ds = open_dataset(str(_photos(tmp_path, 8)), size=16, seed=2)
        ds.set_epoch(3)
        one = next(iter(DataLoader(ds, batch_size=8, num_workers=0)))
        two = next(iter(DataLoader(ds, batch_size=8, num_workers=2)))
        assert torch.equal(one, two)


class TestGrid:
    def test_grid_layout_exact(self):
        imgs = torch.stack([torch.full((3, 2, 2), v) for v in (1.0, -1.0, 0.0)])
        g = grid_pixels(imgs, nrow=2, padding=1, pad_value=-1)
        assert g.shape == (7, 7, 3)
        assert (g[1:3, 1:3] == 255).all() and (g[1:3, 4:6] == 0).all()
        assert (g[4:6, 1:3] == 128).all()  # 0.0 -> 127.5 -> round half to even -> 128
        assert (g[4:6, 4:6] == 0).all() and (g[0] == 0).all()  # unused cell and padding

    def test_save_and_show(self, tmp_path: Path):
        out = save_grid(torch.zeros(5, 3, 4, 4), tmp_path / "sub" / "g.png", nrow=4)
        assert Image.open(out).size == (4 * 6 + 2, 2 * 6 + 2)
        with pytest.raises(InpaintError, match=r"\.png"):
            save_grid(torch.zeros(1, 3, 4, 4), tmp_path / "g.gif")
        root = _photos(tmp_path / "photos", 6)
        shown = show_dataset(str(root), size=8, n=4, out=tmp_path / "show.png")
        assert Image.open(shown).size == (2 * 10 + 2, 2 * 10 + 2)  # 4 of 6 items, 2 per row


def test_data_show_cli(tmp_path, capsys):
    from PIL import Image

    from inpaintkit.cli import main

    out = tmp_path / "grid.png"
    assert (
        main(["data", "show", "--data", "housenumbers", "--size", "32", "-n", "4", "-o", str(out)])
        == 0
    )
    assert Image.open(out).size[0] >= 2 * 32
    assert main(["data", "show", "--data", str(tmp_path / "nope"), "-o", str(out)]) == 2
    assert "error" in capsys.readouterr().err
