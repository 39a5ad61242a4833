"""Readers of the standard on-disk layouts of the papers' datasets.

Each reader turns a folder and a split (``train``, ``val`` or ``test``) into a :class:`Listing`
(image files, plus bounding boxes for Stanford Cars). Layouts read (``root`` is what users pass):

- CelebA: ``root/img_align_celeba/*.jpg`` (also ``Img/img_align_celeba``, Kaggle's doubly nested
  copy) with ``list_eval_partition.txt`` (``000001.jpg 0``; 0 train, 1 val, 2 test; also
  ``Eval/`` or Kaggle's ``.csv``). Listed files missing from a partial copy are skipped.
- Stanford Cars: ``root/cars_train/``, ``root/cars_test/`` and ``root/devkit/cars_train_annos.mat``
  / ``cars_test_annos[_withlabels].mat`` (fields bbox_x1, bbox_y1, bbox_x2, bbox_y2, [class],
  fname; 1-based inclusive boxes), or ``root/car_ims/`` with ``root/cars_annos.mat``
  (relative_im_path, test flag). ``val`` means the official test split.
- Places365: ``root/data_256/`` (or ``data_large``) with ``places365_train_standard.txt``
  (``/a/airfield/00000001.jpg 0``), ``root/val_256/`` with ``places365_val.txt``,
  ``root/test_256/``; or the "easy format" ``places365_standard/{train,val}/<class>/``.
- DTD: ``root/images/<class>/*.jpg`` with ``root/labels/{train,val,test}<fold>.txt``
  (``banded/banded_0002.jpg``); ``root`` may also be the folder that holds ``dtd/``.
- Paris StreetView: ``root/paris_train_original/`` (train) and ``root/paris_eval_gt/`` (val/test).

When the official list files are absent, every reader falls back to :func:`split_folder`: if
``root/<split>/`` exists it is used, else all images under ``root`` (error if ``root`` has other
split folders but not this one). SVHN's ``.mat`` files are read by ``svhn.py``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.io

from inpaintkit.data.folder import check_folder, list_images
from inpaintkit.data.transforms import BBox
from inpaintkit.errors import InpaintError

SPLITS: tuple[str, ...] = ("train", "val", "test")
_SPLIT_DIRS = {"train": ("train",), "val": ("val", "valid", "validation"), "test": ("test",)}


@dataclass(frozen=True)
class Listing:
    """What a layout reader found.

    Attributes:
        layout: ``folder``, ``celeba``, ``cars``, ``places365``, ``dtd`` or ``paris``.
        files: image files in item order.
        bboxes: per-file (left, top, right, bottom) boxes, or None.
    """

    layout: str
    files: list[Path]
    bboxes: list[BBox | None] | None = None


def check_split(split: str) -> str:
    """``split`` if it is one of :data:`SPLITS`, else InpaintError."""
    if split not in SPLITS:
        raise InpaintError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    return split


def split_folder(root: str | Path, split: str) -> Path:
    """``root/<split>`` when it exists (``val`` also as ``valid``/``validation``), else ``root``.

    Raises:
        InpaintError: ``root`` is missing, or has split folders but none for ``split``.
    """
    root = check_folder(root)
    check_split(split)
    for name in _SPLIT_DIRS[split]:
        if (root / name).is_dir():
            return root / name
    others = [n for s in SPLITS for n in _SPLIT_DIRS[s] if (root / n).is_dir()]
    if others:
        raise InpaintError(
            f"{str(root)!r} has split folders {', '.join(others)} but none for split {split!r}"
        )
    return root


def _first_dir(*candidates: Path) -> Path | None:
    return next((c for c in candidates if c.is_dir()), None)


def _first_file(*candidates: Path) -> Path | None:
    return next((c for c in candidates if c.is_file()), None)


def _listed(folder: Path, names: list[str], what: str) -> list[Path]:
    """``folder/name`` for listed names present in ``folder`` (one directory scan per subdir)."""
    present: dict[Path, set[str]] = {}
    out = []
    for name in names:
        path = folder / name.lstrip("/")
        if path.parent not in present:
            try:
                present[path.parent] = set(os.listdir(path.parent))
            except OSError:
                present[path.parent] = set()
        if path.name in present[path.parent]:
            out.append(path)
    if not out:
        raise InpaintError(f"none of the {len(names)} images {what} lists is in {str(folder)!r}")
    return out


def read_folder(root: str | Path, split: str = "train") -> Listing:
    """Every image under :func:`split_folder` (``root``), recursively."""
    return Listing("folder", list_images(split_folder(root, split)))


# --- CelebA -------------------------------------------------------------------------------
_CELEBA_CODES = {"train": "0", "val": "1", "test": "2"}


def _celeba_images(root: Path) -> Path | None:
    found = _first_dir(root / "img_align_celeba", root / "Img" / "img_align_celeba")
    if found is not None and (found / "img_align_celeba").is_dir():  # Kaggle's nested copy
        found = found / "img_align_celeba"
    if found is None and root.name == "img_align_celeba":
        found = root
    return found


def read_celeba(root: str | Path, split: str = "train") -> Listing:
    """CelebA aligned images of the official ``split`` (see the module docstring)."""
    root, split = check_folder(root), check_split(split)
    images = _celeba_images(root)
    top = images.parent if images is not None and images == root else root
    partition = _first_file(
        *(
            d / name
            for d in (top, top / "Eval", root)
            for name in ("list_eval_partition.txt", "list_eval_partition.csv")
        )
    )
    if partition is None or images is None:
        return Listing("celeba", list_images(split_folder(images or root, split)))
    names = []
    for line in partition.read_text().splitlines():
        fields = line.replace(",", " ").split()
        if len(fields) == 2 and fields[1] == _CELEBA_CODES[split]:
            names.append(fields[0])
    if not names:
        raise InpaintError(f"{str(partition)!r} lists no images of split {split!r}")
    return Listing("celeba", _listed(images, names, partition.name))


# --- Stanford Cars ------------------------------------------------------------------------
def _mat_records(path: Path) -> np.ndarray:
    try:
        annos = scipy.io.loadmat(path, squeeze_me=True)["annotations"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InpaintError(f"cannot read annotations {str(path)!r}: {err}") from None
    return np.atleast_1d(annos)


def _matlab_box(rec: np.void) -> BBox:
    """MATLAB's 1-based inclusive (x1, y1, x2, y2) -> 0-based half-open box."""
    x1, y1 = float(rec["bbox_x1"]), float(rec["bbox_y1"])
    return (x1 - 1, y1 - 1, float(rec["bbox_x2"]), float(rec["bbox_y2"]))


def read_cars(root: str | Path, split: str = "train") -> Listing:
    """Stanford Cars images of ``split`` with their devkit boxes (see the module docstring)."""
    root, split = check_folder(root), check_split(split)
    part = "train" if split == "train" else "test"
    annos_all = _first_file(root / "cars_annos.mat")
    if annos_all is not None and (root / "car_ims").is_dir():
        recs = [r for r in _mat_records(annos_all) if int(r["test"]) == (part == "test")]
        names = [str(r["relative_im_path"]) for r in recs]
        return _cars_listing(root, names, [_matlab_box(r) for r in recs], annos_all)
    devkits = [root / "devkit", root / "car_devkit" / "devkit", root]
    annos = _first_file(
        *(d / f"cars_{part}_annos_withlabels.mat" for d in devkits),
        *(d / f"cars_{part}_annos.mat" for d in devkits),
    )
    images = _first_dir(root / f"cars_{part}" / f"cars_{part}", root / f"cars_{part}")
    if annos is None or images is None:
        return Listing("cars", list_images(split_folder(root, split)))
    recs = list(_mat_records(annos))
    names = [str(r["fname"]) for r in recs]
    return _cars_listing(images, names, [_matlab_box(r) for r in recs], annos)


def _cars_listing(folder: Path, names: list[str], boxes: list[BBox], annos: Path) -> Listing:
    files = _listed(folder, names, annos.name)
    by_path = {folder / n.lstrip("/"): b for n, b in zip(names, boxes, strict=True)}
    return Listing("cars", files, [by_path[f] for f in files])


# --- Places365 ----------------------------------------------------------------------------
def read_places365(root: str | Path, split: str = "train") -> Listing:
    """Places365 images of ``split`` (see the module docstring)."""
    root, split = check_folder(root), check_split(split)
    if (root / "places365_standard").is_dir():
        root = root / "places365_standard"
    lists = (root, root / "filelist_places365-standard", root / "filelist")
    if split == "train":
        listing = _first_file(*(d / "places365_train_standard.txt" for d in lists))
        images = _first_dir(root / "data_256", root / "data_large", root / "train_256")
    elif split == "val":
        listing = _first_file(*(d / "places365_val.txt" for d in lists))
        images = _first_dir(root / "val_256", root / "val_large")
    else:
        listing = None
        images = _first_dir(root / "test_256", root / "test_large")
    if images is None:
        return Listing("places365", list_images(split_folder(root, split)))
    if listing is None:
        return Listing("places365", list_images(images))
    names = [line.split()[0] for line in listing.read_text().splitlines() if line.strip()]
    return Listing("places365", _listed(images, names, listing.name))


# --- DTD ----------------------------------------------------------------------------------
def read_dtd(root: str | Path, split: str = "train", *, fold: int = 1) -> Listing:
    """DTD images of ``split`` in the official ``fold`` (1-10; see the module docstring)."""
    root, split = check_folder(root), check_split(split)
    if not 1 <= fold <= 10:
        raise InpaintError(f"DTD folds are 1 to 10, got {fold}")
    if (root / "dtd" / "images").is_dir():
        root = root / "dtd"
    labels = root / "labels" / f"{split}{fold}.txt"
    if (root / "images").is_dir() and labels.is_file():
        names = [line.strip() for line in labels.read_text().splitlines() if line.strip()]
        return Listing("dtd", _listed(root / "images", names, labels.name))
    if (root / "images").is_dir():
        return Listing("dtd", list_images(root / "images"))
    return Listing("dtd", list_images(split_folder(root, split)))


# --- Paris StreetView ---------------------------------------------------------------------
def read_paris(root: str | Path, split: str = "train") -> Listing:
    """Paris StreetView: ``paris_train_original`` for train, ``paris_eval_gt`` otherwise."""
    root, split = check_folder(root), check_split(split)
    if split == "train":
        folder = _first_dir(root / "paris_train_original", root / "paris_train")
    else:
        folder = _first_dir(root / "paris_eval_gt", root / "paris_eval")
    return Listing("paris", list_images(folder or split_folder(root, split)))


READERS = {
    "folder": read_folder,
    "celeba": read_celeba,
    "cars": read_cars,
    "places365": read_places365,
    "dtd": read_dtd,
    "paris": read_paris,
}


def detect_layout(root: str | Path) -> str:
    """Name the layout of folder ``root`` from its marker files (``folder`` when none match).

    Returns one of ``celeba``, ``svhn``, ``cars``, ``places365``, ``dtd``, ``paris``, ``folder``.
    """
    root = check_folder(root)

    def has(*names: str) -> bool:
        return any((root / n).exists() for n in names)

    if root.name == "img_align_celeba" or has(
        "list_eval_partition.txt", "list_eval_partition.csv", "img_align_celeba", "Eval"
    ):
        return "celeba"
    if any(p.name.endswith("_32x32.mat") for p in root.glob("*.mat")):
        return "svhn"
    if has("devkit", "car_devkit", "cars_annos.mat", "cars_train_annos.mat"):
        return "cars"
    if has("places365_train_standard.txt", "places365_val.txt", "data_256", "val_256") or has(
        "places365_standard", "categories_places365.txt", "filelist_places365-standard"
    ):
        return "places365"
    if has("dtd/images") or ((root / "images").is_dir() and (root / "labels").is_dir()):
        return "dtd"
    if has("paris_train_original", "paris_eval_gt"):
        return "paris"
    return "folder"
