"""DCGAN (models/dcgan.py): shapes, ranges, gradients, parameter count, registry, bad config."""

from __future__ import annotations

import pytest
import torch

from inpaintkit.errors import InpaintError
from inpaintkit.models.dcgan import (
    DCGANConfig,
    Discriminator,
    Generator,
    build_dcgan,
    sample_z,
)
from inpaintkit.registry import get_model

TINY = {"z_dim": 16, "ngf": 8, "ndf": 8}


@pytest.mark.parametrize("size", [32, 64])
def test_shapes_and_range(size: int) -> None:
    torch.manual_seed(0)
    G, D = build_dcgan(DCGANConfig(image_size=size, **TINY))
    z = sample_z(3, 16, generator=torch.Generator().manual_seed(1))
    x = G(z)
    assert x.shape == (3, 3, size, size)
    assert x.min() >= -1 and x.max() <= 1
    logits = D(x)
    assert logits.shape == (3,)
    assert torch.isfinite(x).all() and torch.isfinite(logits).all()


def test_layer_widths_follow_methods_md() -> None:
    cfg = DCGANConfig()  # 4x4x512 -> 8x8x512 -> 16x16x256 -> 32x32x128 -> 64x64x3
    assert cfg.g_channels == [512, 512, 256, 128]
    assert cfg.d_channels == [64, 128, 256, 512]
    assert DCGANConfig(image_size=32).g_channels == [512, 256, 128]
    assert DCGANConfig(image_size=32).d_channels == [64, 128, 256]
    G = Generator(cfg)
    convs = [m for m in G.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [m.kernel_size for m in convs] == [(5, 5)] * 4
    assert [m.stride for m in convs] == [(2, 2)] * 4
    D = Discriminator(cfg)
    bns = [m for m in D.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert [m.num_features for m in bns] == [128, 256, 512]  # none on the first conv


def test_gradients_reach_every_parameter() -> None:
    torch.manual_seed(0)
    G, D = build_dcgan(DCGANConfig(image_size=32, **TINY))
    z = sample_z(4, 16, generator=torch.Generator().manual_seed(0))
    w = torch.randn(4, generator=torch.Generator().manual_seed(2))
    loss = (D(G(z)) * w).sum()
    loss.backward()
    for name, p in [*G.named_parameters(), *D.named_parameters()]:
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_paper_size_parameter_count() -> None:
    G, D = build_dcgan(DCGANConfig())
    k = 5 * 5
    g_by_hand = (
        100 * 4 * 4 * 512  # linear, no bias (BN follows)
        + 2 * 512  # BN after the linear
        + 512 * 512 * k
        + 2 * 512  # 4 -> 8
        + 512 * 256 * k
        + 2 * 256  # 8 -> 16
        + 256 * 128 * k
        + 2 * 128  # 16 -> 32
        + 128 * 3 * k
        + 3  # 32 -> 64, with bias
    )
    d_by_hand = (
        3 * 64 * k
        + 64  # first conv, bias, no BN
        + 64 * 128 * k
        + 2 * 128
        + 128 * 256 * k
        + 2 * 256
        + 256 * 512 * k
        + 2 * 512
        + 4 * 4 * 512
        + 1  # linear head
    )
    n_g = sum(p.numel() for p in G.parameters())
    n_d = sum(p.numel() for p in D.parameters())
    print(f"DCGAN 64x64 parameters: G {n_g:,}  D {n_d:,}")
    assert n_g == g_by_hand == 11_481_219
    assert n_d == d_by_hand == 4_315_649


def test_init_is_seeded_and_follows_radford() -> None:
    cfg = DCGANConfig(image_size=32, **TINY)
    torch.manual_seed(3)
    a = Generator(cfg)
    torch.manual_seed(3)
    b = Generator(cfg)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    big = Generator(DCGANConfig())
    w = big.main[0].weight
    assert abs(w.mean().item()) < 1e-3 and abs(w.std().item() - 0.02) < 1e-3
    assert abs(big.bn0.weight.mean().item() - 1.0) < 0.01


def test_sample_z_uniform_and_seeded() -> None:
    z1 = sample_z(500, 100, generator=torch.Generator().manual_seed(0))
    z2 = sample_z(500, 100, generator=torch.Generator().manual_seed(0))
    assert torch.equal(z1, z2)
    assert z1.min() >= -1 and z1.max() <= 1
    assert abs(z1.mean().item()) < 0.01 and abs(z1.var().item() - 1 / 3) < 0.01


def test_golden_output_slice() -> None:
    torch.manual_seed(0)
    G, D = build_dcgan(DCGANConfig(image_size=32, **TINY))
    z = sample_z(2, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():  # train mode: batch-norm uses the batch statistics
        x = G(z)
        logits = D(x)
    expected_pixel = torch.tensor([0.078574, -0.307208, 0.060051])
    torch.testing.assert_close(x[0, :, 16, 16], expected_pixel, atol=2e-5, rtol=0)
    torch.testing.assert_close(logits, torch.tensor([0.035959, -0.357894]), atol=2e-5, rtol=0)


def test_registered_builder() -> None:
    assert get_model("dcgan") is build_dcgan


@pytest.mark.parametrize(
    "bad", [{"image_size": 48}, {"image_size": 128}, {"kernel": 4}, {"z_dim": 0}]
)
def test_bad_config_raises(bad: dict) -> None:
    with pytest.raises(InpaintError, match="dcgan"):
        Generator(DCGANConfig(**bad))
