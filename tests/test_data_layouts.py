"""Layout readers, each on a tiny fake copy of the real dataset's layout made in tmp_path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io
from PIL import Image

from inpaintkit.data.layouts import (
    detect_layout,
    read_cars,
    read_celeba,
    read_dtd,
    read_folder,
    read_paris,
    read_places365,
    split_folder,
)
from inpaintkit.data.sources import open_dataset
from inpaintkit.data.svhn import load_svhn
from inpaintkit.errors import InpaintError


def _img(path: Path, pixels: np.ndarray | None = None, *, size=(18, 22), value=128) -> Path:
    """Write an image; PNG content even under a .jpg name (PIL reads by content) so pixels stay
    exact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if pixels is None:
        pixels = np.full((size[1], size[0], 3), value, np.uint8)
    Image.fromarray(pixels).save(path, format="PNG")
    return path


def _names(listing) -> list[str]:
    return [f.name for f in listing.files]


# --- CelebA -------------------------------------------------------------------------------
@pytest.fixture
def celeba(tmp_path: Path) -> Path:
    codes = {1: 0, 2: 0, 3: 0, 4: 1, 5: 1, 6: 2, 7: 2, 8: 2, 9: 0}
    lines = [f"{i:06d}.jpg {c}" for i, c in codes.items()]
    (tmp_path / "list_eval_partition.txt").write_text("\n".join(lines) + "\n")
    for i in codes:
        if i != 9:  # a partial copy: 000009.jpg is listed but absent
            _img(tmp_path / "img_align_celeba" / f"{i:06d}.jpg", size=(89, 109), value=10 * i)
    return tmp_path


def test_celeba_official_splits(celeba: Path):
    assert _names(read_celeba(celeba, "train")) == ["000001.jpg", "000002.jpg", "000003.jpg"]
    assert _names(read_celeba(celeba, "val")) == ["000004.jpg", "000005.jpg"]
    assert _names(read_celeba(celeba, "test")) == ["000006.jpg", "000007.jpg", "000008.jpg"]
    assert read_celeba(celeba / "img_align_celeba", "val").files == read_celeba(celeba, "val").files
    assert detect_layout(celeba) == "celeba"


def test_celeba_dataset_crops_and_sizes(celeba: Path):
    ds = open_dataset(str(celeba), size=16, split="test")
    assert len(ds) == 3 and ds.recipe.name == "celeba_crop" and not ds.recipe.is_random
    assert ds[0].shape == (3, 16, 16)
    assert ds.pixels(2).tolist() == np.full((16, 16, 3), 80).tolist()  # 000008.jpg, value 80


def test_celeba_without_partition_uses_split_folders(tmp_path: Path):
    _img(tmp_path / "train" / "000001.jpg")
    _img(tmp_path / "val" / "162771.jpg")
    assert _names(read_celeba(tmp_path, "val")) == ["162771.jpg"]
    with pytest.raises(InpaintError, match="none for split 'test'"):
        read_celeba(tmp_path, "test")


# --- SVHN ---------------------------------------------------------------------------------
def test_svhn_mat_in_the_real_format(tmp_path: Path):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (32, 32, 3, 5), dtype=np.uint8)
    y = np.array([[1], [10], [3], [10], [9]], np.uint8)  # 10 means the digit 0
    scipy.io.savemat(tmp_path / "train_32x32.mat", {"X": X, "y": y})
    scipy.io.savemat(tmp_path / "test_32x32.mat", {"X": X[..., :2], "y": y[:2]})
    images, labels = load_svhn(tmp_path, "train")
    assert images.shape == (5, 32, 32, 3) and labels.tolist() == [1, 0, 3, 0, 9]
    np.testing.assert_array_equal(images[3], X[:, :, :, 3])
    assert len(load_svhn(tmp_path, "test")[0]) == 2
    assert detect_layout(tmp_path) == "svhn"
    ds = open_dataset(str(tmp_path), size=32)
    np.testing.assert_array_equal(ds.pixels(4), X[:, :, :, 4])  # resize 32 -> 32: exact, no flip
    assert open_dataset(f"svhn:{tmp_path}", size=64, split="val")[1].shape == (3, 64, 64)
    with pytest.raises(InpaintError, match=r"extra_32x32\.mat"):
        load_svhn(tmp_path, "extra")


# --- Stanford Cars ------------------------------------------------------------------------
def _annos(path: Path, rows: list[tuple], with_class: bool = True) -> None:
    """A devkit annotations file: a 1xN struct array like the real cars_*_annos.mat."""
    fields = ["bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2", *(["class"] if with_class else [])]
    dtype = [(f, "O") for f in [*fields, "fname"]]
    rec = np.empty((1, len(rows)), dtype=dtype)
    for i, row in enumerate(rows):
        values = row if with_class else (*row[:4], row[5])
        for f, v in zip([*fields, "fname"], values, strict=True):
            rec[0, i][f] = np.array([[v]], np.uint16) if f != "fname" else np.array([v])
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(path, {"annotations": rec})


def test_cars_devkit_boxes(tmp_path: Path):
    pic = np.zeros((30, 40, 3), np.uint8)
    pic[3:19, 4:20] = 200  # the car: MATLAB box x 5..20, y 4..19 (1-based, inclusive)
    _img(tmp_path / "cars_train" / "00001.jpg", pic)
    _img(tmp_path / "cars_train" / "00002.jpg", size=(40, 30))
    _img(tmp_path / "cars_test" / "00001.jpg", size=(40, 30))
    rows = [(5, 4, 20, 19, 3, "00001.jpg"), (1, 1, 40, 30, 7, "00002.jpg")]
    _annos(tmp_path / "devkit" / "cars_train_annos.mat", rows)
    _annos(tmp_path / "devkit" / "cars_test_annos.mat", rows[:1], with_class=False)
    listing = read_cars(tmp_path, "train")
    assert _names(listing) == ["00001.jpg", "00002.jpg"]
    assert listing.bboxes == [(4.0, 3.0, 20.0, 19.0), (0.0, 0.0, 40.0, 30.0)]
    assert _names(read_cars(tmp_path, "test")) == ["00001.jpg"]
    assert detect_layout(tmp_path) == "cars"
    ds = open_dataset(str(tmp_path), size=16, split="val")  # val = official test split
    assert ds.recipe.name == "bbox"
    train = open_dataset(f"cars:{tmp_path}", size=16, split="train")
    assert (train.pixels(0) == 200).all()  # exactly the box, 16x16 -> 16x16 (flip or not)
    assert (train.pixels(1) == 128).all()


def test_cars_all_in_one_annotations(tmp_path: Path):
    dtype = [(f, "O") for f in ["relative_im_path", "bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2",
                                "class", "test"]]  # fmt: skip
    rec = np.empty((1, 2), dtype=dtype)
    for i, (name, test) in enumerate([("car_ims/000001.jpg", 0), ("car_ims/000002.jpg", 1)]):
        _img(tmp_path / name, size=(40, 30))
        rec[0, i]["relative_im_path"] = np.array([name])
        for f, v in zip(["bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2", "class", "test"],
                        [2, 3, 30, 20, 1, test], strict=True):  # fmt: skip
            rec[0, i][f] = np.array([[v]], np.uint8)
    scipy.io.savemat(tmp_path / "cars_annos.mat", {"annotations": rec})
    test = read_cars(tmp_path, "test")
    assert _names(test) == ["000002.jpg"] and test.bboxes == [(1.0, 2.0, 30.0, 20.0)]
    assert _names(read_cars(tmp_path, "train")) == ["000001.jpg"]


def test_cars_folder_without_devkit(tmp_path: Path):
    _img(tmp_path / "train" / "a.jpg", size=(40, 20))
    listing = read_cars(tmp_path, "train")
    assert _names(listing) == ["a.jpg"] and listing.bboxes is None


# --- Places365 ----------------------------------------------------------------------------
def test_places365_lists_and_easy_format(tmp_path: Path):
    root = tmp_path / "official"
    for name in ["a/airfield/00000001.jpg", "a/airfield/00000002.jpg", "b/bakery/00000001.jpg"]:
        _img(root / "data_256" / name)
    _img(root / "data_256" / "b" / "bakery" / "unlisted.jpg")
    (root / "places365_train_standard.txt").write_text(
        "/a/airfield/00000001.jpg 0\n/b/bakery/00000001.jpg 5\n"
    )
    _img(root / "val_256" / "Places365_val_00000001.jpg")
    (root / "places365_val.txt").write_text("Places365_val_00000001.jpg 165\n")
    train = read_places365(root, "train")
    assert [f.relative_to(root / "data_256").as_posix() for f in train.files] == [
        "a/airfield/00000001.jpg",
        "b/bakery/00000001.jpg",
    ]
    assert _names(read_places365(root, "val")) == ["Places365_val_00000001.jpg"]
    assert detect_layout(root) == "places365"

    easy = tmp_path / "easy"
    _img(easy / "places365_standard" / "train" / "airfield" / "1.jpg")
    _img(easy / "places365_standard" / "val" / "airfield" / "2.jpg")
    assert _names(read_places365(easy, "val")) == ["2.jpg"]
    assert detect_layout(easy) == "places365"


# --- DTD ----------------------------------------------------------------------------------
def test_dtd_official_fold(tmp_path: Path):
    root = tmp_path / "dtd"
    for cls in ["banded", "dotted"]:
        for i in (1, 2, 3):
            _img(root / "images" / cls / f"{cls}_{i:04d}.jpg")
    labels = root / "labels"
    labels.mkdir()
    (labels / "train1.txt").write_text("banded/banded_0001.jpg\ndotted/dotted_0001.jpg\n")
    (labels / "val1.txt").write_text("banded/banded_0002.jpg\n")
    (labels / "test1.txt").write_text("dotted/dotted_0003.jpg\n")
    (labels / "train2.txt").write_text("banded/banded_0003.jpg\n")
    assert _names(read_dtd(root, "train")) == ["banded_0001.jpg", "dotted_0001.jpg"]
    assert _names(read_dtd(tmp_path, "test")) == ["dotted_0003.jpg"]  # parent of dtd/ works
    assert _names(read_dtd(root, "train", fold=2)) == ["banded_0003.jpg"]
    assert detect_layout(tmp_path) == detect_layout(root) == "dtd"
    with pytest.raises(InpaintError, match="folds are 1 to 10"):
        read_dtd(root, "train", fold=11)


# --- Paris StreetView ---------------------------------------------------------------------
def test_paris_folders(tmp_path: Path):
    _img(tmp_path / "paris_train_original" / "48.842_2.343_90_-004.JPG")
    _img(tmp_path / "paris_eval_gt" / "001_im.png")
    assert _names(read_paris(tmp_path, "train")) == ["48.842_2.343_90_-004.JPG"]
    assert _names(read_paris(tmp_path, "test")) == ["001_im.png"]
    assert detect_layout(tmp_path) == "paris"
    ds = open_dataset(f"paris:{tmp_path}", size=16, split="val")
    assert ds.recipe.name == "center_crop"


# --- generic folders ----------------------------------------------------------------------
def test_folder_is_recursive_sorted_and_skips_non_images(tmp_path: Path):
    _img(tmp_path / "b" / "2.png")
    _img(tmp_path / "a.webp")
    _img(tmp_path / ".hidden" / "x.png")
    (tmp_path / "notes.txt").write_text("not an image")
    files = read_folder(tmp_path).files
    assert [f.relative_to(tmp_path).as_posix() for f in files] == ["a.webp", "b/2.png"]
    assert detect_layout(tmp_path) == "folder"


def test_split_folder_rules(tmp_path: Path):
    _img(tmp_path / "train" / "1.png")
    _img(tmp_path / "validation" / "2.png")
    assert split_folder(tmp_path, "val") == tmp_path / "validation"
    with pytest.raises(InpaintError, match="unknown split 'dev'"):
        split_folder(tmp_path, "dev")
