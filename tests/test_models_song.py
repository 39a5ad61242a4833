"""Song et al. networks (models/song.py): parameter counts by hand, shapes at 256 and small
sizes, resize-convolution, skips, PatchGAN output and receptive field, gradients, bad input."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from inpaintkit.errors import InpaintError
from inpaintkit.models.song import (
    FeatureToImage,
    ImageToFeature,
    PatchDiscriminator,
    SongConfig,
    build_d1,
    build_d2,
    build_song_f2i,
    build_song_i2f,
    g1_input,
)
from inpaintkit.registry import get_model

pytestmark = pytest.mark.usefixtures("one_thread")


def _count(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def _meta(cls, cfg: SongConfig) -> nn.Module:
    """Build on the meta device: parameter shapes without memory or init time."""
    with torch.device("meta"):
        return cls(cfg)


TINY = SongConfig(ngf=4, ndf=4, image_size=32, feature_channels=8)


def _batch(B: int, S: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(B, 3, S, S, generator=g) * 2 - 1
    mask = torch.zeros(B, 1, S, S)
    mask[..., S // 4 : 3 * S // 4, S // 4 : 3 * S // 4] = 1
    return x, mask


class TestParameterCounts:
    def test_g1_by_hand(self) -> None:
        # 4x4 kernels (16 taps); BN adds 2 per channel and replaces the bias
        enc = [
            4 * 64 * 16 + 64,  # d1 4 -> 64, bias, no BN: 4,160
            64 * 128 * 16 + 2 * 128,  # d2: 131,328
            128 * 256 * 16 + 2 * 256,  # d3: 524,800
            256 * 512 * 16 + 2 * 512,  # d4: 2,098,176
            *[512 * 512 * 16 + 2 * 512] * 3,  # d5 .. d7: 4,195,328 each
            512 * 512 * 16 + 512,  # d8, bias, no BN: 4,194,816
        ]
        dec = [
            512 * 512 * 16 + 2 * 512,  # u1: 4,195,328
            *[1024 * 512 * 16 + 2 * 512] * 3,  # u2 .. u4: 8,389,632 each
            1024 * 256 * 16 + 2 * 256,  # u5: 4,194,816
            512 * 128 * 16 + 2 * 128,  # u6: 1,048,832
            256 * 64 * 16 + 2 * 64,  # u7: 262,272
            128 * 3 * 16 + 3,  # out, bias: 6,147
        ]
        assert sum(enc) == 19_539_264 and sum(dec) == 34_876_291
        G = _meta(ImageToFeature, SongConfig())
        print(f"Song G1 (ngf=64, 256 px): {_count(G):,} parameters")
        assert [_count(b) for b in G.net.downs] == enc
        assert [_count(b) for b in G.net.ups] + [_count(G.net.out)] == dec
        assert _count(G) == 54_415_555  # pix2pix unet_256 + the mask channel and two biases

    def test_g2_by_hand(self) -> None:
        enc = [
            256 * 256 * 9 + 256,  # e1 3x3 stride 1, bias, no BN: 590,080
            256 * 512 * 16 + 2 * 512,  # e2: 2,098,176
            *[512 * 512 * 16 + 2 * 512] * 4,  # e3 .. e6: 4,195,328 each
            512 * 512 * 16 + 512,  # e7, bias, no BN: 4,194,816
        ]
        dec = [  # resize-convs: 3x3 (9 taps)
            512 * 512 * 9 + 2 * 512,  # u1: 2,360,320
            *[1024 * 512 * 9 + 2 * 512] * 4,  # u2 .. u5: 4,719,616 each
            1024 * 256 * 9 + 2 * 256,  # u6: 2,359,808
            512 * 128 * 9 + 2 * 128,  # u7: 590,080
            128 * 64 * 9 + 2 * 64,  # u8: 73,856
            64 * 3 * 9 + 3,  # out: 1,731
        ]
        assert sum(enc) == 23_664_384 and sum(dec) == 24_264_259
        G = _meta(FeatureToImage, SongConfig())
        print(f"Song G2 (ngf=64, 256 px): {_count(G):,} parameters")
        assert [_count(b) for b in G.net.downs] == enc
        assert [_count(b) for b in G.net.ups] + [_count(G.net.out)] == dec
        assert _count(G) == 47_928_643

    def test_discriminators_by_hand(self) -> None:
        cfg = SongConfig()
        with torch.device("meta"):
            D1, D2 = build_d1(cfg), build_d2(cfg)
        d1 = [7 * 64 * 16 + 64, 64 * 128 * 16 + 256, 128 * 256 * 16 + 512]
        d1 += [256 * 512 * 16 + 1024, 512 * 16 + 1]
        d2 = [(256 + 48) * 64 * 16 + 64, 64 * 128 * 16 + 256, 128 * 16 + 1]
        print(f"Song D1: {_count(D1):,}, D2: {_count(D2):,} parameters")
        assert _count(D1) == sum(d1) == 2_769_729  # pix2pix's D with one more input channel
        assert _count(D2) == sum(d2) == 444_737

    def test_widths_scale_with_ngf_and_ndf(self) -> None:
        cfg = SongConfig(ngf=8, ndf=2)
        G1, G2 = _meta(ImageToFeature, cfg), _meta(FeatureToImage, cfg)
        with torch.device("meta"):
            D1 = build_d1(cfg)
        assert [b[0].out_channels for b in G1.net.downs] == [8, 16, 32, 64, 64, 64, 64, 64]
        assert [b[0].out_channels for b in G2.net.downs] == [32, 64, 64, 64, 64, 64, 64]
        assert [m.out_channels for m in D1.modules() if isinstance(m, nn.Conv2d)] == [
            2,
            4,
            8,
            16,
            1,
        ]


class TestShapes:
    def test_g1_at_256_with_tiny_widths(self) -> None:
        G = ImageToFeature(SongConfig(ngf=2))
        x, mask = _batch(2, 256)
        y = G(x, mask)
        assert y.shape == (2, 3, 256, 256) and y.abs().max() <= 1
        convs = [m for m in G.modules() if isinstance(m, nn.Conv2d)]
        deconvs = [m for m in G.modules() if isinstance(m, nn.ConvTranspose2d)]
        assert len(convs) == 8 and len(deconvs) == 8  # 7 deconv blocks + the output layer
        assert convs[0].in_channels == 4  # image with the hole zeroed + mask

    @pytest.mark.parametrize(("size", "depth"), [(128, 7), (32, 5), (16, 4)])
    def test_g1_at_small_sizes(self, size: int, depth: int) -> None:
        G = ImageToFeature(SongConfig(ngf=2, image_size=size))
        x, mask = _batch(2, size)
        assert G(x, mask).shape == (2, 3, size, size)
        assert len(G.net.downs) == depth and len(G.net.ups) == depth - 1
        x2, mask2 = _batch(2, 2 * size)  # multiples of image_size work too (fully conv)
        assert G(x2[..., :size], mask2[..., :size]).shape == (2, 3, 2 * size, size)

    def test_g2_at_256_resolution_table(self) -> None:
        G = FeatureToImage(SongConfig(ngf=2, feature_channels=8))
        f = torch.rand(2, 8, 64, 64)
        sizes: list[tuple[int, ...]] = []

        def record(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
            sizes.append(tuple(output.shape[1:]))

        hooks = [b.register_forward_hook(record) for b in [*G.net.downs, *G.net.ups]]
        y = G(f)
        for h in hooks:
            h.remove()
        assert y.shape == (2, 3, 256, 256) and y.abs().max() <= 1
        # e1 keeps 64 (stride 1), e2 .. e7 halve to 1x1; u1 .. u8 double back to 256
        assert [s[1] for s in sizes] == [64, 32, 16, 8, 4, 2, 1, 2, 4, 8, 16, 32, 64, 128, 256]
        assert [s[0] for s in sizes] == [8, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 8, 4, 2]

    def test_g2_skips_on_the_first_six_up_blocks(self) -> None:
        G = _meta(FeatureToImage, SongConfig())
        ins = [b[1].in_channels for b in G.net.ups]  # the 3x3 conv after the upsample
        outs = [b[1].out_channels for b in G.net.ups]
        assert ins == [512, 1024, 1024, 1024, 1024, 1024, 512, 128]
        # u(j+1) reads u(j)'s output doubled by a skip for j = 1 .. 6, plain for u8
        assert [i // o for i, o in zip(ins[1:], outs[:-1], strict=True)] == [2] * 6 + [1]
        assert G.net.out[0].in_channels == 64  # u8's output, no skip

    def test_g2_uses_resize_convolution(self) -> None:
        G = _meta(FeatureToImage, SongConfig())
        assert not any(isinstance(m, nn.ConvTranspose2d) for m in G.modules())
        ups = [m for m in G.modules() if isinstance(m, nn.Upsample)]
        assert len(ups) == 8 and all(u.mode == "nearest" and u.scale_factor == 2 for u in ups)

    @pytest.mark.parametrize(("size", "halvings"), [(32, 3), (128, 5)])
    def test_g2_at_small_sizes(self, size: int, halvings: int) -> None:
        G = FeatureToImage(SongConfig(ngf=2, image_size=size, feature_channels=4))
        assert G(torch.rand(2, 4, size // 4, size // 4)).shape == (2, 3, size, size)
        # map size // 4 = 2^halvings: one stride-1 block + halvings stride-2 blocks; up blocks:
        # halvings (with skips) + 2 (to 4x the map's size)
        assert len(G.net.downs) == halvings + 1 and len(G.net.ups) == halvings + 2

    def test_patchgan_gives_30x30_at_256(self) -> None:
        cfg = SongConfig(ndf=2, feature_channels=8)
        D1, D2 = build_d1(cfg), build_d2(cfg)
        x, mask = _batch(2, 256)
        assert D1(g1_input(x, mask), x).shape == (2, 1, 30, 30)
        assert D2(torch.rand(2, 8, 64, 64), x).shape == (2, 1, 30, 30)
        assert len([m for m in D1.modules() if isinstance(m, nn.Conv2d)]) == 5

    @pytest.mark.parametrize(("n_layers", "field"), [(3, 70), (1, 16)])
    def test_patchgan_receptive_field(self, n_layers: int, field: int) -> None:
        D = PatchDiscriminator(1, 1, ndf=2, n_layers=n_layers).eval()  # eval: BN per sample
        cond = torch.zeros(1, 1, 96, 96, requires_grad=True)
        logits = D(cond, torch.zeros(1, 1, 96, 96))
        i = logits.shape[-1] // 2
        (g,) = torch.autograd.grad(logits[0, 0, i, i], cond)
        rows = g[0, 0].abs().sum(1).nonzero()
        cols = g[0, 0].abs().sum(0).nonzero()
        assert int(rows[-1] - rows[0]) + 1 == field and int(cols[-1] - cols[0]) + 1 == field

    def test_d2_sees_every_pixel_of_its_64px_patch(self) -> None:
        D2 = build_d2(SongConfig(ndf=2, feature_channels=4)).eval()
        image = torch.zeros(1, 3, 128, 128, requires_grad=True)
        logits = D2(torch.zeros(1, 4, 32, 32), image)  # (1, 1, 14, 14)
        (g,) = torch.autograd.grad(logits[0, 0, 7, 7], image)
        support = g[0].abs().sum(0) > 0
        rows, cols = support.any(1).nonzero(), support.any(0).nonzero()
        assert int(rows[-1] - rows[0]) + 1 == 64 and int(cols[-1] - cols[0]) + 1 == 64
        assert support[int(rows[0]) : int(rows[-1]) + 1, int(cols[0]) : int(cols[-1]) + 1].all()

    def test_d2_scales_its_condition_and_d1_does_not(self) -> None:
        cfg = SongConfig(ndf=2, feature_channels=4, d2_cond_scale=0.25)
        D2 = build_d2(cfg).eval()
        plain = PatchDiscriminator(4, 3, ndf=2, n_layers=1, unshuffle=4).eval()
        plain.load_state_dict(D2.state_dict())
        f, image = 10 * torch.rand(2, 4, 16, 16), torch.rand(2, 3, 64, 64) * 2 - 1
        assert D2.cond_scale == 0.25 and build_d1(cfg).cond_scale == 1.0
        torch.testing.assert_close(D2(f, image), plain(f / 4, image))
        assert not torch.allclose(D2(f, image), plain(f, image))
        assert SongConfig().d2_cond_scale == 0.05


class TestBehaviour:
    def test_g1_ignores_the_hole_content(self) -> None:
        G = ImageToFeature(TINY).eval()
        x, mask = _batch(2, 32)
        other = torch.where(mask.bool(), torch.rand_like(x), x)
        assert torch.equal(G(x, mask), G(other, mask))
        assert not torch.equal(G(x, mask), G(x, torch.zeros_like(mask)))

    def test_g1_input_is_zeroed_image_and_mask(self) -> None:
        x, mask = _batch(1, 16)
        inp = g1_input(x, mask)
        assert torch.equal(inp[:, 3:], mask)
        assert torch.equal(inp[:, :3], torch.where(mask.bool(), torch.zeros_like(x), x))
        assert g1_input(x, mask, mask_channel=False).shape == (1, 3, 16, 16)
        cfg = SongConfig(ngf=4, ndf=4, image_size=32, mask_channel=False)
        G, D = build_song_i2f(cfg)
        assert G.net.downs[0][0].in_channels == 3 and D.net[0].in_channels == 6

    def test_gradients_reach_every_parameter(self) -> None:
        (G1, D1), (G2, D2) = build_song_i2f(TINY), build_song_f2i(TINY)
        x, mask = _batch(2, 32)
        y = G1(x, mask)
        (y.square().mean() + D1(g1_input(x, mask), y).mean()).backward()
        f = torch.rand(2, 8, 8, 8)
        z = G2(f)
        (z.square().mean() + D2(f, z).mean()).backward()
        for net in (G1, D1, G2, D2):
            for name, p in net.named_parameters():
                assert p.grad is not None and p.grad.abs().sum() > 0, name
                assert torch.isfinite(p.grad).all(), name

    def test_dropout_only_in_training_and_on_three_blocks(self) -> None:
        G = ImageToFeature(TINY)
        drops = [any(isinstance(m, nn.Dropout) for m in b) for b in G.net.ups]
        assert drops == [True, True, True, False]
        x, mask = _batch(2, 32)
        G.eval()
        assert torch.equal(G(x, mask), G(x, mask))
        G.train()
        torch.manual_seed(1)
        a = G(x, mask)
        torch.manual_seed(2)
        assert not torch.equal(a, G(x, mask))
        plain = ImageToFeature(SongConfig(ngf=2, image_size=32, dropout=0.0))
        assert not any(isinstance(m, nn.Dropout) for m in plain.modules())

    def test_registered(self) -> None:
        assert get_model("song_i2f") is build_song_i2f
        assert get_model("song_f2i") is build_song_f2i
        G, D = get_model("song_f2i")(TINY)
        assert isinstance(G, FeatureToImage) and isinstance(D, PatchDiscriminator)


class TestBadInput:
    @pytest.mark.parametrize(
        "kw",
        [
            {"image_size": 100},
            {"image_size": 8},
            {"ngf": 0},
            {"dropout": 1.0},
            {"d2_layers": 0},
            {"d2_cond_scale": 0.0},
        ],
    )
    def test_bad_config(self, kw: dict) -> None:
        with pytest.raises(InpaintError, match="song"):
            SongConfig(**kw)

    def test_bad_shapes(self) -> None:
        (G1, D1), (G2, D2) = build_song_i2f(TINY), build_song_f2i(TINY)
        x, mask = _batch(1, 32)
        with pytest.raises(ValueError, match="multiples of 32"):
            G1(x[..., :24], mask[..., :24])
        with pytest.raises(ValueError, match="mask must be"):
            G1(x, mask[..., :16])
        with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
            G1(x[:, :2], mask)
        with pytest.raises(ValueError, match=r"\(B, 8, H, W\)"):
            G2(torch.zeros(1, 4, 8, 8))
        with pytest.raises(ValueError, match="multiples of 8"):
            G2(torch.zeros(1, 8, 12, 8))
        with pytest.raises(ValueError, match="target must be"):
            D2(torch.zeros(1, 8, 8, 8), x[..., :16, :16])
        with pytest.raises(ValueError, match="condition must be"):
            D1(x, x)
        with pytest.raises(ValueError, match="at least 24"):
            D1(g1_input(x[..., :16, :16], mask[..., :16, :16]), x[..., :16, :16])
