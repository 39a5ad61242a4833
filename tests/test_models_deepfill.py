"""DeepFill v1 networks (models/deepfill.py): parameter counts by hand, shapes, clipping,
composition, gradients, baseline ablation, critics, registry, bad input."""

from __future__ import annotations

import pytest
import torch

from inpaintkit.errors import InpaintError
from inpaintkit.models.deepfill import (
    DeepFillConfig,
    DeepFillGenerator,
    GlobalCritic,
    LocalCritic,
    build_deepfill,
)
from inpaintkit.registry import get_model

pytestmark = pytest.mark.usefixtures("one_thread")


def _count(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def _conv(cin: int, cout: int, k: int = 3) -> int:
    return cin * cout * k * k + cout


def _inputs(B: int, H: int, W: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(B, 3, H, W, generator=g) * 2 - 1
    mask = torch.zeros(B, 1, H, W)
    mask[0, :, H // 4 : H // 2, W // 4 : 3 * W // 4] = 1
    mask[-1, :, H // 2 :, : W // 2] = 1
    return x, mask


def test_parameter_count_of_the_default_generator() -> None:
    # c = 32, by hand (3x3 unless said, weights + biases):
    # coarse: 5x5 5->32 = 4,032; 32->64 = 18,496; 64->64 = 36,928; 64->128 = 73,856;
    #   eight 128->128 (2 plain, 4 dilated, 2 plain) = 8 x 147,584 = 1,180,672;
    #   up 128->64 = 73,792; 64->64 = 36,928; up 64->32 = 18,464; 32->16 = 4,624; 16->3 = 435
    #   -> 1,448,227
    # conv branch: 4,032 + 32->32 9,248 + 18,496 + 36,928 + 73,856 + 5 x 147,584 = 880,480
    # attention branch: 4,032 + 9,248 + 18,496 + 64->128 73,856 + 4 x 147,584 = 695,968
    # merge: 256->128 295,040 + 147,584 + 73,792 + 36,928 + 18,464 + 4,624 + 435 = 576,867
    # total 1,448,227 + 880,480 + 695,968 + 576,867 = 3,601,542 (the paper rounds to "2.9M";
    # the layers of METHODS.md give 3.6M, see the report)
    G = DeepFillGenerator(DeepFillConfig())
    coarse = _conv(5, 32, 5) + _conv(32, 64) + _conv(64, 64) + _conv(64, 128) + 8 * _conv(128, 128)
    coarse += _conv(128, 64) + _conv(64, 64) + _conv(64, 32) + _conv(32, 16) + _conv(16, 3)
    assert coarse == 1_448_227
    print(f"DeepFill v1 generator (cnum=32): {_count(G):,} parameters")
    assert _count(G.coarse) == 1_448_227
    assert _count(G.refine.conv_branch) == 880_480
    assert _count(G.refine.attention_in) + _count(G.refine.attention_out) == 695_968
    assert _count(G.refine.decoder) + _count(G.refine.to_image) == 576_867
    assert _count(G) == 3_601_542


def test_baseline_without_attention_is_smaller() -> None:
    G = DeepFillGenerator(DeepFillConfig(attention=False))
    # no attention branch (-695,968) and the merge conv reads 4c = 128 channels, not 256
    # (-147,456): 3,601,542 - 695,968 - 147,456 = 2,758,118
    assert _count(G) == 2_758_118
    assert not hasattr(G.refine, "attention_in") and G.refine.attention is None


def test_critic_widths_and_parameter_counts() -> None:
    L, Gc = LocalCritic(), GlobalCritic()
    convs = [m for m in L.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [m.out_channels for m in convs] == [64, 128, 256, 512]
    assert all(m.kernel_size == (5, 5) and m.stride == (2, 2) for m in convs)
    assert [m.out_channels for m in Gc.modules() if isinstance(m, torch.nn.Conv2d)] == [
        64,
        128,
        256,
        256,
    ]
    convs_l = _conv(3, 64, 5) + _conv(64, 128, 5) + _conv(128, 256, 5)  # 1,029,248
    assert _count(L) == convs_l + _conv(256, 512, 5) + 512 * 8 * 8 + 1 == 4_339_329
    assert _count(Gc) == convs_l + _conv(256, 256, 5) + 256 * 16 * 16 + 1 == 2_733_441
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in L.modules())


@pytest.mark.parametrize(("H", "W"), [(256, 256), (40, 56)])
def test_shapes_and_clip_range(H: int, W: int) -> None:
    torch.manual_seed(0)
    G = DeepFillGenerator(DeepFillConfig(cnum=4))
    x, mask = _inputs(2, H, W)
    with torch.no_grad():
        coarse, fine, offsets = G(x, mask)
    assert coarse.shape == fine.shape == (2, 3, H, W)
    assert offsets.shape == (2, 2, H // 8, W // 8) and offsets.dtype == torch.int64
    for out in (coarse, fine):
        assert torch.isfinite(out).all() and out.min() >= -1 and out.max() <= 1


def test_outputs_are_clipped_not_squashed() -> None:
    torch.manual_seed(0)
    G = DeepFillGenerator(DeepFillConfig(cnum=4, attention=False))
    with torch.no_grad():
        G.coarse.to_image.bias.fill_(5.0)  # pushes every output far above 1
        G.refine.to_image.bias.fill_(-5.0)
        coarse, fine, offsets = G(*_inputs(1, 32, 32))
    assert torch.equal(coarse, torch.ones_like(coarse)) and offsets is None
    assert torch.equal(fine, -torch.ones_like(fine))


def test_hole_content_is_ignored_and_fine_net_sees_the_composite() -> None:
    torch.manual_seed(0)
    G = DeepFillGenerator(DeepFillConfig(cnum=4))
    x, mask = _inputs(2, 32, 48)
    noisy = x + 5 * mask * torch.randn(x.shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        a, b = G(x, mask), G(noisy, mask)
        torch.testing.assert_close(a.fine, b.fine)  # the hole is zeroed inside
        want = G.refine(a.coarse * mask + x * (1 - mask), mask)[0]
    torch.testing.assert_close(a.fine, want)


def test_masks_are_per_sample() -> None:
    torch.manual_seed(0)
    G = DeepFillGenerator(DeepFillConfig(cnum=4))
    x, mask = _inputs(2, 32, 32)
    with torch.no_grad():
        both = G(x, mask)
        for n in range(2):
            alone = G(x[n : n + 1], mask[n : n + 1])
            torch.testing.assert_close(both.fine[n : n + 1], alone.fine, rtol=1e-4, atol=1e-5)
            assert torch.equal(both.offsets[n : n + 1], alone.offsets)


def test_gradients_reach_every_parameter() -> None:
    torch.manual_seed(0)
    G, L, Gc = build_deepfill(DeepFillConfig(cnum=4, critic_cnum=4, local_size=16, global_size=32))
    x, mask = _inputs(2, 32, 32)
    coarse, fine, _ = G(x, mask)
    loss = (coarse - x).abs().mean() + (fine - x).abs().mean()
    loss = loss + Gc(fine).mean() + L(fine[..., 8:24, 8:24]).mean()
    loss.backward()
    for name, p in [*G.named_parameters(), *L.named_parameters(), *Gc.named_parameters()]:
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_critic_output_shapes() -> None:
    torch.manual_seed(0)
    L = LocalCritic(cnum=4, input_size=32)
    Gc = GlobalCritic(cnum=4, input_size=64)
    assert L(torch.zeros(3, 3, 32, 32)).shape == (3,)
    assert Gc(torch.zeros(3, 3, 64, 64)).shape == (3,)
    assert L.head.in_features == 32 * 2 * 2 and Gc.head.in_features == 16 * 4 * 4
    with pytest.raises(ValueError, match="LocalCritic needs"):
        L(torch.zeros(1, 3, 64, 64))


def test_registry_builds_generator_and_critics() -> None:
    G, L, Gc = get_model("deepfill")(DeepFillConfig(cnum=4, critic_cnum=4))
    assert isinstance(G, DeepFillGenerator)
    assert isinstance(L, LocalCritic) and L.input_size == 128
    assert isinstance(Gc, GlobalCritic) and Gc.input_size == 256


def test_reflect_padding_option() -> None:
    torch.manual_seed(0)
    G = DeepFillGenerator(DeepFillConfig(cnum=4, padding_mode="reflect"))
    convs = [m for m in G.modules() if isinstance(m, torch.nn.Conv2d)]
    assert {m.padding_mode for m in convs} == {"reflect"}
    with torch.no_grad():
        out = G(*_inputs(1, 72, 72))
    assert out.fine.shape == (1, 3, 72, 72)


def test_config_to_dict_round_trips() -> None:
    cfg = DeepFillConfig(cnum=8, attention=False)
    assert DeepFillConfig(**cfg.to_dict()) == cfg


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"cnum": 3}, "cnum must be even"),
        ({"padding_mode": "circular"}, "padding_mode"),
        ({"local_size": 100}, "multiple of 16"),
    ],
)
def test_bad_config_raises(kw: dict, match: str) -> None:
    with pytest.raises(InpaintError, match=match):
        DeepFillConfig(**kw)


def test_bad_inputs_raise() -> None:
    G = DeepFillGenerator(DeepFillConfig(cnum=4))
    x, mask = _inputs(1, 32, 32)
    with pytest.raises(ValueError, match="multiples of 8"):
        G(x[..., :30, :], mask[..., :30, :])
    with pytest.raises(ValueError, match="mask must be"):
        G(x, mask[..., :16, :])
    with pytest.raises(ValueError, match="images"):
        G(x[:, :2], mask)
