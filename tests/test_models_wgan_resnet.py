"""Tests of the ResNet WGAN-GP (Gulrajani et al.) used by Vitoria et al. 2019."""

from __future__ import annotations

import pytest
import torch

from inpaintkit.errors import InpaintError
from inpaintkit.models.wgan_resnet import (
    Critic,
    Generator,
    WGANResNetConfig,
    build_wgan_resnet,
)


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("size, blocks, last", [(16, 2, 16), (32, 3, 32), (64, 4, 32)])
def test_shapes_and_range(size: int, blocks: int, last: int) -> None:
    torch.manual_seed(0)
    cfg = WGANResNetConfig(z_dim=8, image_size=size, dim=4)
    G, D = build_wgan_resnet(cfg)
    assert len(G.blocks) == blocks and len(D.blocks) == blocks
    x = G(torch.randn(3, 8))
    assert x.shape == (3, 3, size, size)
    assert x.abs().max() <= 1.0
    assert D(x).shape == (3,)
    # the critic ends at 4x4 with min(8, 2^blocks) * d channels; the generator starts at 8d
    assert D.blocks(D.in_conv(x)).shape == (3, last, 4, 4)
    assert G.fc.out_features == 32 * 4 * 4


def test_widths_follow_the_paper() -> None:
    cfg = WGANResNetConfig(z_dim=8, image_size=64, dim=2)
    G, D = Generator(cfg), Critic(cfg)
    assert [b.conv2.out_channels for b in G.blocks] == [16, 8, 4, 2]  # 8d, 4d, 2d, d
    assert [b.conv2.out_channels for b in D.blocks] == [4, 8, 16, 16]  # 2d, 4d, 8d, 8d
    assert all(isinstance(b.norm1, torch.nn.BatchNorm2d) for b in G.blocks)
    assert all(
        isinstance(b.norm1, torch.nn.GroupNorm) and b.norm1.num_groups == 1 for b in D.blocks
    )


def test_gradients_reach_every_parameter_and_no_nan() -> None:
    torch.manual_seed(0)
    G, D = build_wgan_resnet(WGANResNetConfig(z_dim=8, image_size=16, dim=4))
    out = D(G(torch.randn(4, 8)))
    assert torch.isfinite(out).all()
    out.sum().backward()
    for name, p in [*G.named_parameters(), *D.named_parameters()]:
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_parameter_count_of_the_paper_config() -> None:
    d, z = 64, 128
    cfg = WGANResNetConfig()
    assert (cfg.z_dim, cfg.image_size, cfg.dim) == (z, 64, d)

    def up(cin: int, cout: int) -> int:  # BN(cin), conv3 cin->cout, BN(cout), conv3, 1x1 shortcut
        return (
            2 * cin
            + (9 * cin * cout + cout)
            + 2 * cout
            + (9 * cout * cout + cout)
            + (cin * cout + cout)
        )

    def down(cin: int, cout: int) -> int:  # LN(cin), conv3 cin->cin, LN(cin), conv3 cin->cout, 1x1
        return (
            2 * cin
            + (9 * cin * cin + cin)
            + 2 * cin
            + (9 * cin * cout + cout)
            + (cin * cout + cout)
        )

    g = (z * 16 * 8 * d + 16 * 8 * d) + up(8 * d, 8 * d) + up(8 * d, 4 * d) + up(4 * d, 2 * d)
    g += up(2 * d, d) + 2 * d + (9 * d * 3 + 3)
    c = (9 * 3 * d + d) + down(d, 2 * d) + down(2 * d, 4 * d) + down(4 * d, 8 * d)
    c += down(8 * d, 8 * d) + (16 * 8 * d + 1)
    # The same numbers worked out on paper: linear 1,056,768; up-blocks 4,984,320 + 1,902,848 +
    # 476,288 + 119,360; output BN 128 + conv 1,731. Critic: input conv 1,792; down-blocks
    # 119,360 + 476,288 + 1,902,848 + 4,984,320; linear 8,193.
    assert (g, c) == (8_541_443, 7_492_801)
    G, D = build_wgan_resnet(cfg)
    print(f"wgan_resnet paper config: G {_count(G):,} parameters, critic {_count(D):,}")
    assert (_count(G), _count(D)) == (g, c)


def test_eval_mode_is_deterministic_and_per_sample() -> None:
    torch.manual_seed(0)
    G, D = build_wgan_resnet(WGANResNetConfig(z_dim=8, image_size=16, dim=4))
    G.eval()
    z = torch.randn(3, 8)
    both = G(z)
    assert torch.equal(G(z), both)
    assert torch.allclose(G(z[1:2]), both[1:2], atol=1e-6)  # no batch coupling in eval mode
    assert torch.allclose(D(both[1:2]), D(both)[1:2], atol=1e-6)  # layer norm is per sample


@pytest.mark.parametrize("bad", [{"image_size": 48}, {"image_size": 4}, {"dim": 0}, {"z_dim": 0}])
def test_bad_config(bad: dict) -> None:
    with pytest.raises(InpaintError):
        WGANResNetConfig(**bad)


def test_registered() -> None:
    from inpaintkit.registry import get_model

    assert get_model("wgan_resnet") is build_wgan_resnet
