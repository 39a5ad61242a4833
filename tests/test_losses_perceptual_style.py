"""Perceptual/style losses, hinge and feature-matching losses, the SN-PatchGAN critic, EMA."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from inpaintkit.losses.adversarial import feature_matching_loss, hinge_d_loss, hinge_g_loss
from inpaintkit.losses.perceptual import (
    gram_matrix,
    perceptual_distance,
    perceptual_style_loss,
    style_distance,
)
from inpaintkit.models.sn_patchgan import SNPatchGANCritic
from inpaintkit.train.ema import ema_copy, ema_decay_at, ema_update, unwrap


class _Identity(nn.Module):
    """A 'VGG' whose one feature layer is the image itself (exact values by hand)."""

    def forward(self, x: torch.Tensor, *, layers: tuple[str, ...]) -> dict[str, torch.Tensor]:
        return {name: x for name in layers}


def test_gram_matrix_by_hand() -> None:
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).view(1, 2, 1, 2)  # C=2, H=1, W=2
    expected = torch.tensor([[1 + 4, 3 + 8], [3 + 8, 9 + 16]]) / 4.0
    assert torch.allclose(gram_matrix(f)[0], expected)
    with pytest.raises(ValueError):
        gram_matrix(torch.zeros(2, 3))


def test_distances_are_zero_for_equal_features_and_exact_otherwise() -> None:
    a = {"relu1_2": torch.zeros(1, 2, 2, 2)}
    b = {"relu1_2": torch.ones(1, 2, 2, 2)}
    assert float(perceptual_distance(a, a)) == 0 and float(style_distance(b, b)) == 0
    assert float(perceptual_distance(a, b)) == pytest.approx(1.0)
    assert float(style_distance(a, b)) == pytest.approx(0.5)  # gram of ones: H W / (C H W) = 1/C
    with pytest.raises(ValueError):
        perceptual_distance({}, {})


def test_losses_see_the_output_and_the_composite() -> None:
    target = torch.zeros(1, 3, 4, 4)
    output = torch.ones(1, 3, 4, 4)
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., :2, :] = 1  # half the image is hole
    output.requires_grad_(True)
    perc, style = perceptual_style_loss(
        _Identity(), output, target, mask, layers=("x",), style_weight=1.0
    )
    # output vs target: |1 - 0| everywhere = 1; composite: ones in the hole only = 0.5
    assert float(perc.detach()) == pytest.approx(1.5)
    assert float(style.detach()) > 0
    perc.backward()
    assert output.grad is not None and output.grad.abs().sum() > 0
    zero_p, zero_s = perceptual_style_loss(
        _Identity(), output, target, mask, layers=("x",), perceptual_weight=0.0
    )
    assert float(zero_p) == 0 and float(zero_s) == 0  # both weights 0: nothing computed


def test_hinge_and_feature_matching_by_hand() -> None:
    real = torch.tensor([2.0, 0.5])
    fake = torch.tensor([-2.0, 0.0])
    assert float(hinge_d_loss(real, fake)) == pytest.approx((0 + 0.5) / 2 + (0 + 1) / 2)
    assert float(hinge_g_loss(fake)) == pytest.approx(1.0)
    f = [torch.ones(1, 2, 2, 2), torch.zeros(1, 1, 1, 1)]
    r = [torch.zeros(1, 2, 2, 2), torch.zeros(1, 1, 1, 1)]
    assert float(feature_matching_loss(f, r)) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        feature_matching_loss(f, r[:1])


def test_sn_patchgan_shapes_gradients_and_lipschitz_bound() -> None:
    torch.manual_seed(0)
    D = SNPatchGANCritic(cnum=4, layers=4)
    x, m = torch.randn(2, 3, 32, 32), torch.zeros(2, 1, 32, 32)
    feats = D(x, m)
    assert [tuple(f.shape) for f in feats] == [
        (2, 4, 16, 16), (2, 8, 8, 8), (2, 16, 4, 4), (2, 16, 2, 2),
    ]  # fmt: skip
    feats[-1].mean().backward()
    assert all(p.grad is not None for p in D.parameters() if p.requires_grad)
    D.eval()
    for conv in D.convs:  # spectral norm: each weight's largest singular value is ~1
        w = conv.weight.detach().flatten(1)
        assert torch.linalg.matrix_norm(w, ord=2) <= 1.05
    with pytest.raises(ValueError):
        D(x, torch.zeros(2, 1, 16, 16))


def test_ema_update_and_warm_up() -> None:
    net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    avg = ema_copy(net)
    assert all(not p.requires_grad for p in avg.parameters()) and not avg.training
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
        net[1].running_mean.fill_(3.0)
    before = [p.clone() for p in avg.parameters()]
    ema_update(avg, net, decay=0.75)
    for a, b, p in zip(avg.parameters(), before, net.parameters(), strict=True):
        assert torch.allclose(a, 0.75 * b + 0.25 * p)
    assert torch.equal(avg[1].running_mean, torch.full((2,), 3.0))  # buffers copied
    assert ema_decay_at(0, 0.999) == pytest.approx(0.1) and ema_decay_at(10**6, 0.999) == 0.999
    with pytest.raises(ValueError):
        ema_decay_at(0, 1.0)
    wrapped = nn.Module()
    wrapped.module = net  # a DDP-like wrapper
    assert unwrap(wrapped) is net


def test_without_a_mask_only_the_whole_output_is_compared() -> None:
    target = torch.zeros(1, 3, 4, 4)
    output = torch.full((1, 3, 4, 4), 0.5)
    perc, style = perceptual_style_loss(
        _Identity(), output, target, None, layers=("x",), style_weight=1.0
    )
    assert float(perc) == pytest.approx(0.5)  # |0.5 - 0| once: no composite term
    assert float(style) == pytest.approx(0.25 / 3)  # gram of 0.5s: 0.25 H W / (C H W), C = 3
