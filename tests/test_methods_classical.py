"""Classical baselines: telea, ns, biharmonic, patchmatch, tv, lowrank, nearest."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from inpaintkit.convert import from_tensor, to_tensor
from inpaintkit.errors import InpaintError
from inpaintkit.methods import lowrank as lowrank_mod
from inpaintkit.methods import nearest as nearest_mod
from inpaintkit.methods import tv as tv_mod
from inpaintkit.registry import MethodResult, get_method

H, W = 32, 40
PER_IMAGE = ["telea", "ns", "biharmonic", "patchmatch"]
ALL = [*PER_IMAGE, "tv", "lowrank", "nearest"]
COLOUR = (200, 30, 90)


def smooth_image(seed: int, h: int = H, w: int = W) -> torch.Tensor:
    """(1, 3, h, w) in [-0.8, 0.8]: bilinear upsampling of a 4x5 random grid."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, 4, 5, generator=g) * 1.6 - 0.8
    return F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=True)


def gentle_image(h: int = H, w: int = W) -> torch.Tensor:
    """(1, 3, h, w) smooth and monotone along x (no extremum for a vertical strip to cut)."""
    y, x = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    channels = [0.7 * x + 0.2 * y - 0.45, 0.5 * torch.sin(math.pi * y), 0.6 * x * x - 0.3 + 0.1 * y]
    return torch.stack(channels)[None]


def box_mask(top: int, bottom: int, left: int, right: int) -> torch.Tensor:
    m = torch.zeros(1, 1, H, W)
    m[..., top:bottom, left:right] = 1.0
    return m


def quantised(image: torch.Tensor) -> torch.Tensor:
    """Round to the 8-bit grid so that files written for `nearest` hold the same values."""
    return to_tensor(from_tensor(image))


def save_png(image: torch.Tensor, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(from_tensor(image)).save(path)


def run(name: str, image: torch.Tensor, mask: torch.Tensor, **options) -> torch.Tensor:
    out = get_method(name).fn(image, mask, **options)
    return out.image if isinstance(out, MethodResult) else out


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """A folder with the exact test image (in a subfolder, as JPEG-free PNG) and distractors."""
    save_png(quantised(smooth_image(0)), tmp_path / "sub" / "truth.png")
    for i in range(3):
        save_png(quantised(smooth_image(10 + i, 2 * H, 2 * W)), tmp_path / f"a{i}.png")
    for rgb in ((0, 0, 0), COLOUR):
        flat = np.broadcast_to(np.array(rgb, np.uint8), (H, W, 3))
        Image.fromarray(np.ascontiguousarray(flat)).save(tmp_path / f"flat{rgb[0]}.png")
    (tmp_path / "notes.txt").write_text("not an image")
    return tmp_path


def method_options(name: str, library: Path) -> dict:
    return {"data": str(library)} if name == "nearest" else {}


@pytest.mark.parametrize("name", ALL)
def test_registered_with_summary(name: str) -> None:
    info = get_method(name)
    assert info.name == name
    assert info.kind == ("retrieval" if name == "nearest" else "classical")
    assert len(info.summary) > 20 and "\n" not in info.summary
    assert info.paper
    nullable = ("data", "limit", "callback")
    assert all(o.default is not None or o.name in nullable for o in info.options)


def test_no_classical_method_refuses_a_big_photo() -> None:
    """Issue 22 #9: the slow solvers work on windows around the holes (tests/test_big_images)."""
    for name in ("biharmonic", "lowrank", "tv", "telea"):
        assert get_method(name).max_pixels is None, name


@pytest.mark.parametrize("name", ALL)
def test_shape_range_and_known_pixels(name: str, library: Path) -> None:
    image = quantised(smooth_image(0))
    mask = box_mask(10, 22, 12, 28)
    out = run(name, image, mask, **method_options(name, library))
    assert out.shape == image.shape and out.dtype == torch.float32
    assert torch.isfinite(out).all()
    assert out.min() >= -1.0 and out.max() <= 1.0
    known = (mask < 0.5).expand_as(image)
    assert torch.equal(out[known], image[known])
    assert not torch.equal(out, torch.zeros_like(out))


@pytest.mark.parametrize("name", ALL)
def test_batch_is_filled_per_sample(name: str, library: Path) -> None:
    image = torch.cat([quantised(smooth_image(0)), quantised(smooth_image(1))])
    mask = torch.cat([box_mask(4, 12, 6, 18), box_mask(18, 28, 20, 36)])
    opts = method_options(name, library)
    out = run(name, image, mask, **opts)
    # tv and lowrank share their stopping test across the batch (and tv its crop): near-equal
    atol = 0.02 if name in ("tv", "lowrank") else 0.0
    for b in range(2):
        alone = run(name, image[b : b + 1], mask[b : b + 1], **opts)
        torch.testing.assert_close(out[b : b + 1], alone, atol=atol, rtol=0)
    # the hole of one sample is a known region of the other: left untouched there
    assert torch.equal(out[0, :, 18:28, 20:36], image[0, :, 18:28, 20:36])
    assert torch.equal(out[1, :, 4:12, 6:18], image[1, :, 4:12, 6:18])


@pytest.mark.parametrize("name", ALL)
def test_constant_colour_is_filled_with_that_colour(name: str, library: Path) -> None:
    image = to_tensor(np.broadcast_to(np.array(COLOUR, np.uint8), (H, W, 3)).copy())
    mask = box_mask(8, 24, 10, 30)
    out = run(name, image, mask, **method_options(name, library))
    err = (out - image).abs()[(mask > 0.5).expand_as(image)] * 127.5  # in 8-bit levels
    if name == "telea":
        # OpenCV's Telea normalises a near-zero gradient, turning float rounding into a few
        # levels of noise on colours that are not powers of two (see classical.py).
        assert err.max() <= 8.0 and err.mean() <= 2.5
    else:
        assert err.max() <= 1.0 + 1e-4


@pytest.mark.parametrize("name", ALL)
def test_a_fully_masked_image_raises(name: str, library: Path) -> None:
    image = torch.cat([smooth_image(0), smooth_image(1)])
    mask = torch.cat([box_mask(8, 12, 8, 12), torch.ones(1, 1, H, W)])
    with pytest.raises(InpaintError, match="image 1 covers the whole image"):
        run(name, image, mask, **method_options(name, library))


def test_cv2_methods_reject_bad_radius() -> None:
    image, mask = smooth_image(0), box_mask(8, 12, 8, 12)
    for name in ("telea", "ns"):
        with pytest.raises(InpaintError, match="radius"):
            run(name, image, mask, radius=0)


def test_telea_and_ns_fill_a_thin_scratch_closely() -> None:
    image = quantised(gentle_image())
    mask = box_mask(4, 28, 19, 21)  # a 2-pixel vertical scratch
    for name in ("telea", "ns"):
        err = (run(name, image, mask) - image).abs().max().item()
        assert err < 0.04, name  # 5 levels of 8 bits


def test_biharmonic_reproduces_a_linear_ramp() -> None:
    ramp = torch.linspace(-0.8, 0.8, W).expand(1, 3, H, W).clone()
    out = run("biharmonic", ramp, box_mask(10, 22, 12, 28))
    assert (out - ramp).abs().max() < 1e-6


def test_patchmatch_same_seed_same_fill_and_bad_patch_size() -> None:
    image, mask = quantised(smooth_image(4)), box_mask(10, 22, 12, 28)
    a = run("patchmatch", image, mask, seed=7)
    b = run("patchmatch", image, mask, seed=7)
    assert torch.equal(a, b)
    with pytest.raises(InpaintError, match="patch_size"):
        run("patchmatch", image, mask, patch_size=0)


def test_patchmatch_missing_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "patchmatch", None)  # makes the import fail
    with pytest.raises(InpaintError, match="pip install pypatchmatch"):
        run("patchmatch", smooth_image(0), box_mask(8, 12, 8, 12))


# --- tv -----------------------------------------------------------------------------------


def test_gradient_and_divergence_are_negative_adjoints() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 5, 7, generator=g, dtype=torch.float64)
    p = torch.randn(2, 3, 2, 5, 7, generator=g, dtype=torch.float64)
    lhs = (tv_mod.image_gradient(x) * p).sum()
    rhs = -(x * tv_mod.divergence(p)).sum()
    assert math.isclose(lhs.item(), rhs.item(), rel_tol=1e-12)


def test_tv_energy_golden_values() -> None:
    step = torch.tensor([[0.0, 1.0], [0.0, 1.0]]).expand(1, 2, 2, 2)  # two equal channels
    assert tv_mod.tv_energy(step).item() == pytest.approx(2.0 * math.sqrt(2.0))
    assert tv_mod.tv_energy(step, vectorial=False).item() == pytest.approx(4.0)
    diag = torch.tensor([[[[0.0, 3.0], [4.0, 0.0]]]])  # pixel (0,0): gradient (3, 4)
    assert tv_mod.tv_energy(diag).item() == pytest.approx(5.0 + 3.0 + 4.0)


def test_tv_fills_a_thin_hole_in_a_smooth_image_closely() -> None:
    image = gentle_image()
    mask = box_mask(0, H, 19, 21)
    err = (run("tv", image, mask) - image).abs()
    # TV does not prefer a ramp to any other monotone fill: the error of a w-wide strip is at
    # most (w + 1) times the largest step between neighbours; on average it is far smaller.
    step = (image[..., 1:] - image[..., :-1]).abs().max()
    assert err.max() <= 3 * step
    assert err.sum() / (3 * mask.sum()) < 0.005


def test_tv_reproduces_a_sharp_step_across_the_hole() -> None:
    image = torch.full((1, 3, H, W), -0.6)
    image[..., 20:] = 0.8
    out = run("tv", image, box_mask(8, 24, 12, 28))
    assert (out - image).abs().max() < 0.03
    # no blur: every hole pixel sits at one of the two levels
    hole = out[..., 8:24, 12:28]
    assert torch.minimum((hole + 0.6).abs(), (hole - 0.8).abs()).max() < 0.03


def test_tv_energy_decreases_towards_the_minimum() -> None:
    image = torch.full((1, 3, H, W), -0.6)
    image[..., 20:] = 0.8
    known = box_mask(8, 24, 12, 28) < 0.5
    start = tv_mod.tv_energy(tv_mod.push_pull_fill(image, known)).item()
    energies = [
        tv_mod.tv_energy(tv_mod.tv_solve(image, known, iterations=n, tol=0.0)).item()
        for n in (20, 200, 2000)
    ]
    minimum = tv_mod.tv_energy(image).item()  # the straight step is the minimiser
    assert start > energies[0] > energies[1] > energies[2] >= minimum - 1e-3
    assert energies[2] - minimum < 0.01 * (start - minimum)


def test_push_pull_fill_keeps_known_and_fills_constant() -> None:
    x = torch.full((1, 3, 9, 11), 0.25)
    known = torch.ones(1, 1, 9, 11, dtype=torch.bool)
    known[..., 2:8, 1:10] = False
    filled = tv_mod.push_pull_fill(torch.where(known, x, torch.zeros_like(x)), known)
    torch.testing.assert_close(filled, x)


def test_tv_rejects_bad_options() -> None:
    with pytest.raises(InpaintError, match="iterations"):
        run("tv", smooth_image(0), box_mask(8, 12, 8, 12), iterations=-1)


# --- lowrank ------------------------------------------------------------------------------


def rank3_matrices(seed: int) -> torch.Tensor:
    """(3, H, W) matrices of rank 3 with values in [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    u, v = torch.rand(3, H, 3, generator=g), torch.rand(3, 3, W, generator=g)
    return u @ v / 3.0


def test_singular_value_threshold_golden() -> None:
    z = torch.diag(torch.tensor([3.0, 1.0]))[None]
    out = lowrank_mod.singular_value_threshold(z, 0.5)
    torch.testing.assert_close(out, torch.diag(torch.tensor([2.5, 0.5]))[None])
    out = lowrank_mod.singular_value_threshold(z, 2.0)
    torch.testing.assert_close(out, torch.diag(torch.tensor([1.0, 0.0]))[None])


def test_tnnr_recovers_a_rank3_matrix_from_half_its_entries() -> None:
    m = rank3_matrices(0)
    known = (torch.rand(1, H, W, generator=torch.Generator().manual_seed(1)) < 0.5).expand(3, H, W)
    x = lowrank_mod.tnnr_complete(m, known, rank=3)
    assert ((x - m).norm() / m.norm()).item() < 1e-3
    assert torch.equal(x[known], m[known])
    mean_fill = torch.where(known, m, m[known].mean())
    assert ((mean_fill - m).norm() / m.norm()).item() > 0.1  # the task is not trivial


def test_lowrank_method_recovers_a_rank3_image() -> None:
    image = (rank3_matrices(2) * 2.0 - 1.0)[None]  # (1, 3, H, W), rank 3 in [0, 1] units
    mask = (torch.rand(1, 1, H, W, generator=torch.Generator().manual_seed(3)) < 0.5).float()
    out = run("lowrank", image, mask, rank=3)
    assert (out - image).abs().max() < 0.01


def test_lowrank_default_rank_fills_one_pixel_of_a_low_rank_image() -> None:
    # rank 10 exceeds this image's rank (4): guarded by the convex first step and by never
    # rewarding noise directions, the fill stays right (it used to drift by 0.9)
    image = quantised(smooth_image(1))
    mask = box_mask(0, 1, 0, 1)
    out = run("lowrank", image, mask)
    assert (out - image).abs().max() < 0.02


def test_lowrank_rejects_bad_options() -> None:
    with pytest.raises(InpaintError, match="rank"):
        run("lowrank", smooth_image(0), box_mask(8, 12, 8, 12), rank=-1)


# --- nearest ------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_nearest_fill_is_exact_with_the_truth_in_the_library(library: Path, metric: str) -> None:
    truth = quantised(smooth_image(0))
    corrupted = truth.clone()
    mask = box_mask(10, 22, 12, 28)
    corrupted[(mask > 0.5).expand_as(truth)] = 1.0  # white hole
    out = get_method("nearest").fn(corrupted, mask, data=str(library), metric=metric)
    assert isinstance(out, MethodResult)
    assert torch.equal(out.image, truth)
    assert out.extras["match"][0].endswith("truth.png")
    assert out.extras["distance"][0].item() < 1e-6


def test_nearest_limit_uses_the_first_files_only(library: Path) -> None:
    truth = quantised(smooth_image(0))
    out = get_method("nearest").fn(truth, box_mask(10, 22, 12, 28), data=str(library), limit=2)
    assert Path(out.extras["match"][0]).name in ("a0.png", "a1.png")  # sorted: a0, a1, ...


def test_nearest_reads_the_folder_once(library: Path) -> None:
    nearest_mod._load_library.cache_clear()
    image, mask = quantised(smooth_image(0)), box_mask(10, 22, 12, 28)
    for _ in range(3):
        run("nearest", image, mask, data=str(library))
    info = nearest_mod._load_library.cache_info()
    assert (info.misses, info.hits) == (1, 2)
    save_png(image, library / "new.png")  # a changed folder is read again
    run("nearest", image, mask, data=str(library))
    assert nearest_mod._load_library.cache_info().misses == 2


def test_nearest_needs_data_and_images(tmp_path: Path) -> None:
    image, mask = smooth_image(0), box_mask(8, 12, 8, 12)
    with pytest.raises(InpaintError, match="set its option data") as err:
        run("nearest", image, mask)
    assert "--" not in str(err.value)  # no CLI words: the HTTP API shows it too
    with pytest.raises(InpaintError, match="no image files"):
        run("nearest", image, mask, data=str(tmp_path))
    with pytest.raises(InpaintError, match="does not exist"):
        run("nearest", image, mask, data=str(tmp_path / "missing"))
    with pytest.raises(InpaintError, match="metric"):
        run("nearest", image, mask, data=str(tmp_path), metric="cosine")


def test_fit_to_size_centre_crops_then_resizes() -> None:
    wide = np.zeros((10, 40, 3), np.uint8)
    wide[:, 15:25] = 255  # the centre 10x10 square is white
    assert (nearest_mod.fit_to_size(wide, 4, 4) == 255).all()
    tall = np.zeros((40, 10, 3), np.uint8)
    tall[:20] = 100  # top half 100, bottom half 0: a 10x10 centre crop straddles both
    out = nearest_mod.fit_to_size(tall, 2, 2)
    assert out[0].tolist() == [[100] * 3] * 2 and out[1].tolist() == [[0] * 3] * 2


def test_read_rgb_applies_exif_orientation(tmp_path: Path) -> None:
    pixels = np.zeros((2, 4, 3), np.uint8)
    pixels[0, 0] = 255
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    Image.fromarray(pixels).save(tmp_path / "o.png", exif=exif)
    out = nearest_mod.read_rgb(tmp_path / "o.png")
    assert out.shape == (4, 2, 3)
    assert out[0, 1].tolist() == [255, 255, 255]


def test_nearest_reads_a_dataset_spec_with_its_own_crop() -> None:
    # A house-number training item, with a hole, must retrieve itself from the spec's library.
    from inpaintkit.data.sources import open_dataset

    item = open_dataset("housenumbers", size=32, split="train", seed=0)[3]  # (3, 32, 32)
    truth = quantised(item[None])
    mask = torch.zeros(1, 1, 32, 32)
    mask[..., 8:20, 10:24] = 1
    out = get_method("nearest").fn(truth * (1 - mask), mask, data="housenumbers", limit=20)
    assert out.extras["match"][0] == "housenumbers#3"
    assert torch.equal(out.image, truth)
    with pytest.raises(InpaintError, match="square"):
        get_method("nearest").fn(
            torch.zeros(1, 3, 32, 30), torch.ones(1, 1, 32, 30) * 0, data="housenumbers"
        )


@pytest.mark.parametrize("method", ["telea", "ns"])
def test_telea_ns_fill_16bit_images_in_16_bits(method: str) -> None:
    """Issue 22 #8: a 16-bit image's fill is not quantised to 8 bits (multiples of 257)."""
    import inpaintkit

    y, x = np.mgrid[0:40, 0:48]
    ramp = (x * 1000 + y * 37 + 3).astype(np.uint16)  # fine 16-bit steps
    pixels = np.stack([ramp, ramp // 2 + 5, 60000 - ramp], axis=2).astype(np.uint16)
    hole = np.zeros((40, 48), bool)
    hole[15:25, 18:30] = True
    out = inpaintkit.inpaint(pixels, hole, method).pixels
    assert out.dtype == np.uint16
    assert np.array_equal(out[~hole], pixels[~hole])
    assert (out[hole] % 257 != 0).mean() > 0.9, "the fill keeps 16-bit precision"
    # and the fill is a sensible one: close to the ramp it continues
    err = np.abs(out[hole].astype(float) - pixels[hole].astype(float)).mean()
    assert err < 0.05 * 65535
    # an 8-bit image still takes the 8-bit path, unchanged
    p8 = (pixels // 257).astype(np.uint8)
    r8 = inpaintkit.inpaint(p8, hole, method).pixels
    import cv2

    flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
    want = cv2.inpaint(p8, hole.astype(np.uint8) * 255, 3.0, flag)
    assert np.array_equal(r8, want)
