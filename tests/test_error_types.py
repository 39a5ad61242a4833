"""InpaintError for what a user can cause, ValueError/TypeError for programming errors.

The layers (nn/, losses/, models/) check their inputs with ValueError/TypeError; a method checks
the options a user gives it and raises InpaintError (one line on the CLI, exit status 2) before
a bad value reaches a layer.
"""

from __future__ import annotations

import pytest
import torch

from inpaintkit.errors import InpaintError
from inpaintkit.losses.latent import importance_weights
from inpaintkit.methods.checks import check_patch
from inpaintkit.nn.patch_swap import patch_swap
from inpaintkit.registry import get_method
from inpaintkit.weights import bundled_dir


def _inputs(side: int) -> tuple[torch.Tensor, torch.Tensor]:
    mask = torch.zeros(1, 1, side, side)
    mask[..., side // 4 : side // 2, side // 4 : side // 2] = 1
    return torch.zeros(1, 3, side, side), mask


def test_layers_raise_value_errors() -> None:
    with pytest.raises(ValueError, match="window"):
        importance_weights(torch.zeros(1, 1, 5, 5), window=4)
    with pytest.raises(ValueError, match="odd"):
        patch_swap(torch.zeros(1, 4, 8, 8), torch.ones(1, 1, 8, 8), patch=2)
    assert not issubclass(InpaintError, ValueError)  # a user error never looks like a bug


@pytest.mark.parametrize(
    ("opts", "match"),
    [({"window": 4}, "window"), ({"padding": "reflect"}, "padding"),
     ({"context_norm": "l3"}, "context_norm")],
)  # fmt: skip
def test_latent_search_options_are_user_errors(opts: dict, match: str) -> None:
    image, mask = _inputs(64)
    model = str(bundled_dir() / "yeh2017_celeba64.safetensors")
    with pytest.raises(InpaintError, match=match):
        get_method("yeh2017").fn(image, mask, model=model, iterations=1, progress=False, **opts)


def test_song_patch_options_are_user_errors() -> None:
    image, mask = _inputs(64)
    model = str(bundled_dir() / "song2018_natural128.safetensors")
    for opts in ({"patch": 2}, {"stride": 0}, {"patch": 41}):
        with pytest.raises(InpaintError, match="patch"):
            get_method("song2018").fn(image, mask, model=model, **opts)
    with pytest.raises(InpaintError, match="larger than"):
        check_patch("stylize", 5, 1, side=4)
