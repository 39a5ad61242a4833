"""inpaint(): validation, bit-exact known pixels, one error type."""

import re

import numpy as np
import pytest

import inpaintkit
from inpaintkit.errors import InpaintError
from inpaintkit.registry import register_method


@register_method("_const_fill", kind="classical", summary="fills holes with 0.3 (test)")
def _const_fill(image, mask, *, value: float = 0.3):
    return image * (1 - mask) + value * mask


def test_known_pixels_bit_exact_uint8(smooth_image, square_hole):
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, smooth_image.shape, dtype=np.uint8)
    out = inpaintkit.inpaint(img, square_hole, "_const_fill")
    assert out.pixels.dtype == np.uint8
    assert np.array_equal(out.pixels[~square_hole], img[~square_hole])
    # 0.3 in [-1, 1] is round((0.3 + 1) * 127.5) = 166 in uint8
    assert (out.pixels[square_hole] == 166).all()


def test_known_pixels_bit_exact_uint16(square_hole):
    rng = np.random.default_rng(2)
    img = rng.integers(0, 65536, (48, 64, 3), dtype=np.uint16)
    out = inpaintkit.inpaint(img, square_hole, "_const_fill", value=-1.0)
    assert out.pixels.dtype == np.uint16
    assert np.array_equal(out.pixels[~square_hole], img[~square_hole])
    assert (out.pixels[square_hole] == 0).all()


def test_method_never_sees_hole_content(smooth_image, square_hole):
    seen = {}

    @register_method("_spy", kind="classical", summary="records its input (test)")
    def _spy(image, mask):
        seen["hole"] = image[mask.expand_as(image) > 0].abs().max().item()
        return image

    inpaintkit.inpaint(smooth_image, square_hole, "_spy")
    assert seen["hole"] == 0.0


def test_grey_and_rgba_arrays(square_hole):
    grey = np.full((48, 64), 77, np.uint8)
    out = inpaintkit.inpaint(grey, square_hole, "telea")
    assert out.source.grey and np.array_equal(
        out.pixels[~square_hole], grey[~square_hole, None].repeat(3, 1)
    )
    assert np.abs(out.pixels.astype(int) - 77).max() <= 2  # OpenCV's Telea is off by 1-2 on flats
    rgba = np.zeros((48, 64, 4), np.uint8)
    rgba[..., :3] = 10
    rgba[..., 3] = np.arange(64, dtype=np.uint8)[None, :]
    out = inpaintkit.inpaint(rgba, square_hole, "telea")
    assert np.array_equal(out.source.alpha, rgba[..., 3])


def test_empty_mask_copies_through(smooth_image):
    out = inpaintkit.inpaint(smooth_image, np.zeros((48, 64), bool), "telea")
    assert np.array_equal(out.pixels, smooth_image)
    assert "empty" in out.notes[0]


def test_errors_are_inpaint_errors(smooth_image, square_hole):
    with pytest.raises(InpaintError, match="whole image"):
        inpaintkit.inpaint(smooth_image, np.ones((48, 64), bool), "telea")
    with pytest.raises(InpaintError, match=r"unknown method 'nope'.*telea"):
        inpaintkit.inpaint(smooth_image, square_hole, "nope")
    with pytest.raises(InpaintError, match="no option 'radus'"):
        inpaintkit.inpaint(smooth_image, square_hole, "telea", radus=3)
    with pytest.raises(InpaintError, match="resize-mask"):
        inpaintkit.inpaint(smooth_image, np.ones((10, 10), bool), "telea")
    with pytest.raises(InpaintError, match="uint8 or uint16"):
        inpaintkit.inpaint(smooth_image.astype(np.float32), square_hole, "telea")


def test_resize_mask_and_dilate(smooth_image):
    small = np.zeros((24, 32), bool)
    small[10, 16] = True
    out = inpaintkit.inpaint(smooth_image, small, "telea", resize_mask=True)
    assert out.mask.shape == (48, 64) and out.mask.sum() == 4
    one = np.zeros((48, 64), bool)
    one[20, 30] = True
    out = inpaintkit.inpaint(smooth_image, one, "telea", dilate=2)
    assert out.mask.sum() > 9 and out.mask[20, 30]


def test_too_large_for_method(square_hole):
    @register_method("_tiny_only", kind="classical", summary="test", max_pixels=100)
    def _tiny_only(image, mask):
        return image

    with pytest.raises(InpaintError, match=r"at most 0\.00 MP"):
        inpaintkit.inpaint(np.zeros((48, 64, 3), np.uint8), square_hole, "_tiny_only")


@register_method("_mean_fill", kind="feed-forward", summary="hole = mean of known (test)")
def _mean_fill(image, mask, *, shift: float = 0.0):
    import torch

    known = 1 - mask
    mean = (image * known).sum((2, 3), keepdim=True) / known.sum((2, 3), keepdim=True)
    per_image = torch.arange(image.shape[0], dtype=image.dtype)  # (B,) an extra per image
    out = image * known + (mean + shift) * mask
    return inpaintkit.MethodResult(image=out, extras={"index": per_image, "kind": "mean"})


def test_inpaint_batch_equals_one_by_one():
    from inpaintkit.api import inpaint_batch

    rng = np.random.default_rng(3)
    imgs = [rng.integers(0, 256, (20, 24, 3), dtype=np.uint8) for _ in range(3)]
    holes = [np.zeros((20, 24), bool) for _ in range(3)]
    for k, h in enumerate(holes):
        h[2 + k : 9 + k, 3 : 10 + 2 * k] = True
    batch = inpaint_batch(imgs, holes, "_mean_fill", shift=0.1)
    for k, res in enumerate(batch):
        one = inpaintkit.inpaint(imgs[k], holes[k], "_mean_fill", shift=0.1)
        assert np.array_equal(res.pixels, one.pixels)
        assert np.array_equal(res.pixels[~holes[k]], imgs[k][~holes[k]])
        assert res.extras["index"].item() == k and res.extras["kind"] == "mean"
        assert np.array_equal(res.mask, holes[k])
    assert len({r.seconds for r in batch}) == 1


def test_inpaint_batch_rejects_mixed_sizes_and_empty_masks():
    from inpaintkit.api import inpaint_batch

    a, b = np.zeros((8, 8, 3), np.uint8), np.zeros((8, 9, 3), np.uint8)
    hole = np.zeros((8, 8), bool)
    hole[2:4, 2:4] = True
    with pytest.raises(InpaintError, match="one size"):
        inpaint_batch([a, b], [hole, np.pad(hole, ((0, 0), (0, 1)))], "_mean_fill")
    with pytest.raises(InpaintError, match="mask 1 is empty"):
        inpaint_batch([a, a], [hole, np.zeros_like(hole)], "_mean_fill")
    with pytest.raises(InpaintError, match="as many masks"):
        inpaint_batch([a, a], [hole], "_mean_fill")
    with pytest.raises(InpaintError, match="no option"):
        inpaint_batch([a], [hole], "_mean_fill", radius=3)


@register_method("_typed_opts", kind="classical", summary="records its typed options (test)")
def _typed_opts(
    image, mask, *, value: float = 0.3, sizes: tuple[int, ...] = (), name: str | None = None
):
    _typed_opts.seen = {"value": value, "sizes": sizes, "name": name}
    return image * (1 - mask) + value * mask


def test_option_values_are_typed_like_the_command_line(smooth_image, square_hole, tmp_path):
    inpaintkit.inpaint(
        smooth_image, square_hole, "_typed_opts", value=np.int64(0), sizes=np.array([4, 8]),
        name=tmp_path,
    )  # fmt: skip
    assert _typed_opts.seen == {"value": 0.0, "sizes": (4, 8), "name": str(tmp_path)}
    assert type(_typed_opts.seen["value"]) is float
    inpaintkit.inpaint(smooth_image, square_hole, "_typed_opts", sizes="16,32", value="0.5")
    assert _typed_opts.seen["sizes"] == (16, 32) and _typed_opts.seen["value"] == 0.5


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"sizes": 128}, "option 'sizes': expects tuple[int, ...], a list like [1, 2] or 1,2"),
        ({"sizes": [1, "x"]}, "option 'sizes': expects int, got 'x'"),
        ({"value": "much"}, "option 'value': expects float, got 'much'"),
        ({"name": 3}, "option 'name': expects str, got 3"),
    ],
)
def test_option_of_the_wrong_type_is_an_inpaint_error(smooth_image, square_hole, options, message):
    with pytest.raises(InpaintError, match=re.escape(f"bad value for _typed_opts {message}")):
        inpaintkit.inpaint(smooth_image, square_hole, "_typed_opts", **options)
    with pytest.raises(InpaintError, match="bad value for telea option 'radius': expects int"):
        inpaintkit.inpaint(smooth_image, square_hole, "telea", radius=2.5)
