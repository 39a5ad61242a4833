"""Datasets (image folders, the papers' standard layouts, synthetic house numbers), transforms and
picture grids. Items are (3, S, S) float32 images in [-1, 1]; see docs/data.md.
"""

from inpaintkit.data.base import SeededConcat, SeededDataset
from inpaintkit.data.folder import ImageFolder, list_images
from inpaintkit.data.grid import grid_pixels, save_grid, show_dataset
from inpaintkit.data.house_numbers import HouseNumbers, default_fonts, render_house_number
from inpaintkit.data.layouts import (
    Listing,
    detect_layout,
    read_cars,
    read_celeba,
    read_dtd,
    read_folder,
    read_paris,
    read_places365,
)
from inpaintkit.data.sources import AUTO_TRANSFORMS, SCHEMES, open_dataset
from inpaintkit.data.svhn import ArrayImages, load_svhn
from inpaintkit.data.transforms import (
    TRANSFORMS,
    BBoxCrop,
    CelebaCrop,
    CenterCrop,
    RandomCrop,
    RandomFlip,
    Recipe,
    Resize,
    make_recipe,
)
from inpaintkit.io import IMAGE_SUFFIXES

__all__ = [
    "AUTO_TRANSFORMS",
    "IMAGE_SUFFIXES",
    "SCHEMES",
    "TRANSFORMS",
    "ArrayImages",
    "BBoxCrop",
    "CelebaCrop",
    "CenterCrop",
    "HouseNumbers",
    "ImageFolder",
    "Listing",
    "RandomCrop",
    "RandomFlip",
    "Recipe",
    "Resize",
    "SeededConcat",
    "SeededDataset",
    "default_fonts",
    "detect_layout",
    "grid_pixels",
    "list_images",
    "load_svhn",
    "make_recipe",
    "open_dataset",
    "read_cars",
    "read_celeba",
    "read_dtd",
    "read_folder",
    "read_paris",
    "read_places365",
    "render_house_number",
    "save_grid",
    "show_dataset",
]
