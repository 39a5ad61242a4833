"""Several distinct fills (``samples=K``): the selection rule, the methods, API, CLI, web job."""

from __future__ import annotations

import itertools
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from inpaintkit import weights
from inpaintkit.errors import InpaintError
from inpaintkit.methods.latent_loop import latent_search
from inpaintkit.methods.latent_samples import hole_distance, latent_search_samples, pick_distinct

S, Z = 16, 8


class LinearG(nn.Module):
    """A fixed linear map of z: different latents give different images."""

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.A = nn.Parameter(torch.randn(3 * S * S, Z, generator=g) * 0.3 / Z**0.5)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return (z @ self.A.T).view(-1, 3, S, S).clamp(-1, 1)


def _hole(b: int = 1) -> torch.Tensor:
    m = torch.zeros(b, 1, S, S)
    m[:, :, 4:12, 4:12] = 1
    return m


# ----- the rule ---------------------------------------------------------------------------------


def test_hole_distance_is_rms_in_the_hole_on_a_unit_scale() -> None:
    m = _hole()
    a = torch.zeros(1, 3, S, S)
    b = a.clone()
    b[:, :, 4:12, 4:12] = 0.5  # a quarter of the 0..1 range inside the hole
    b[:, :, 0, 0] = 1.0  # outside the hole: ignored
    assert torch.allclose(hole_distance(a, b, m), torch.tensor([0.25]))
    assert hole_distance(a, a, m).item() == 0


def test_pick_distinct_skips_near_copies_in_loss_order() -> None:
    m = _hole()
    levels = [0.0, 0.01, 0.5, 0.52, -0.6]  # fills 0/1 and 2/3 are near copies
    fills = torch.stack([torch.full((3, S, S), v) for v in levels])
    loss = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    taken, passed = pick_distinct(fills, loss, m, 3, 0.05)
    assert taken == [0, 2, 4] and passed == 3  # 1 and 3 skipped: within 0.05 of a taken fill
    # ask for more than there are distinct fills: the farthest of the rest fill up, and say so
    taken, passed = pick_distinct(fills, loss, m, 4, 0.05)
    assert taken[:3] == [0, 2, 4] and passed == 3 and len(set(taken)) == 4
    # loss order decides which of two near copies is kept
    taken, _ = pick_distinct(fills, torch.tensor([2.0, 1.0, 3.0, 4.0, 5.0]), m, 2, 0.05)
    assert taken == [1, 2]
    with pytest.raises(ValueError):
        pick_distinct(fills, loss, m, 6, 0.05)


def test_search_samples_are_distinct_and_the_first_is_the_plain_search() -> None:
    G = LinearG()
    y = torch.zeros(2, 3, S, S)
    m = _hole(2)
    kw = dict(z_dim=Z, iterations=5, restarts=6, lr=0.05, progress=False)
    found = latent_search_samples(
        G, None, y, m, samples=3, min_distance=0.02, generator=torch.Generator().manual_seed(1),
        blend=False, **kw,
    )  # fmt: skip
    assert found.images.shape == (2, 3, 3, S, S) and found.z.shape == (2, 3, Z)
    assert (found.distinct == 3).all()
    for b, (i, j) in itertools.product(range(2), itertools.combinations(range(3), 2)):
        d = hole_distance(found.fills[b, i : i + 1], found.fills[b, j : j + 1], m[b : b + 1])
        assert d.item() >= 0.02  # pairwise more than the threshold apart
    assert (found.loss[:, 0] <= found.loss[:, 1:].min(1).values).all()  # fill 1: lowest loss
    plain = latent_search(
        G, None, y, m, generator=torch.Generator().manual_seed(1), blend=False, **kw
    )
    assert torch.equal(plain.z, found.z[:, 0])
    assert torch.allclose(plain.images, found.images[:, 0], atol=1e-6)
    known = found.images * (1 - m[:, None])
    assert torch.equal(known, torch.zeros_like(known))  # y is 0 outside the hole


# ----- the registered methods with a tiny model file written here -------------------------------


@pytest.fixture
def tiny_yeh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from inpaintkit.models.dcgan import DCGANConfig, build_dcgan
    from inpaintkit.train.export import export_model

    user = tmp_path / "user"
    user.mkdir()
    monkeypatch.setenv("INPAINTKIT_WEIGHTS", str(user))
    monkeypatch.setattr(weights, "bundled_dir", lambda: tmp_path / "bundled")  # nothing bundled
    torch.manual_seed(0)
    cfg = DCGANConfig(z_dim=Z, image_size=32, ngf=4, ndf=4)
    G, D = build_dcgan(cfg)
    for (
        mod
    ) in G.modules():  # a fresh G makes ~constant images; these vary with z like a trained one
        if isinstance(mod, nn.Conv2d | nn.ConvTranspose2d):
            nn.init.normal_(mod.weight, 0.0, 0.3)
    export_model(user, "yeh2017_tiny32", {"G": G, "D": D}, card={"model": "dcgan",
                 "architecture": asdict(cfg)})  # fmt: skip
    return user


def _picture() -> tuple[np.ndarray, np.ndarray]:
    pixels = np.random.default_rng(0).integers(0, 256, (40, 36, 3), dtype=np.uint8)
    hole = np.zeros((40, 36), bool)
    hole[12:26, 10:24] = True
    return pixels, hole


FAST = {"iterations": 3, "progress": False}


def test_method_returns_k_distinct_blended_fills(tiny_yeh: Path) -> None:
    from inpaintkit.convert import mask_to_tensor, to_tensor
    from inpaintkit.methods.latent_search import yeh2017

    pixels, hole = _picture()
    x, m = to_tensor(pixels), mask_to_tensor(hole)
    x = x * (1 - m)
    res = yeh2017(x, m, samples=3, sample_distance=0.01, **FAST)
    every = res.extras["samples"]
    assert every.shape == (1, 3, 3, 40, 36) and res.extras["sample_losses"].shape == (1, 3)
    assert torch.equal(res.image, every[:, 0])
    for k in range(3):
        assert torch.equal(every[:, k] * (1 - m), x)  # known pixels untouched in each fill
    for i, j in itertools.combinations(range(3), 2):
        assert hole_distance(every[:, i], every[:, j], m).item() >= 0.01
    assert "3 fills from 6 searches" in res.notes[-1]
    one = yeh2017(x, m, **FAST)
    assert torch.equal(yeh2017(x, m, samples=1, **FAST).image, one.image)  # K=1: unchanged
    assert "samples" not in one.extras
    with pytest.raises(InpaintError, match="samples must be 1 to 16"):
        yeh2017(x, m, samples=0, **FAST)


def test_api_returns_the_fills_and_saves_them(tiny_yeh: Path, tmp_path: Path) -> None:
    from inpaintkit.api import inpaint, inpaint_batch

    pixels, hole = _picture()
    res = inpaint(pixels, hole, "yeh2017", samples=3, sample_distance=0.01, **FAST)
    assert len(res.samples) == 3 and res.samples[0] is res.pixels
    assert "samples" not in res.extras  # the tensor became res.samples
    for fill in res.samples:
        assert fill.dtype == np.uint8 and np.array_equal(fill[~hole], pixels[~hole])
    assert not np.array_equal(res.samples[1][hole], res.samples[2][hole])
    second = res.sample(1)
    assert second.pixels is res.samples[1] and second.samples == [second.pixels]
    assert second.extras["loss"].item() == res.extras["sample_losses"].reshape(-1)[1].item()
    paths = res.save_samples(tmp_path / "out.png")
    assert [p.name for p in paths] == ["out_1.png", "out_2.png", "out_3.png"]
    assert np.array_equal(np.asarray(Image.open(paths[2])), res.samples[2])
    single = inpaint(pixels, hole, "yeh2017", **FAST)
    assert len(single.samples) == 1 and single.samples[0] is single.pixels
    batch = inpaint_batch([pixels, pixels], [hole, hole], "yeh2017", samples=2, **FAST)
    assert [len(b.samples) for b in batch] == [2, 2]


def test_one_fill_methods_refuse_several_in_one_line() -> None:
    from inpaintkit.api import inpaint

    pixels, hole = _picture()
    plain = inpaint(pixels, hole, "telea")
    assert np.array_equal(inpaint(pixels, hole, "telea", samples=1).pixels, plain.pixels)
    for method in ("telea", "patchmatch"):
        with pytest.raises(InpaintError) as e:
            inpaint(pixels, hole, method, samples=3)
        assert "\n" not in str(e.value) and "vitoria2019, yeh2017" in str(e.value)
        assert str(e.value).startswith(f"{method} gives one fill")


def test_cli_writes_numbered_files_and_says_so(tiny_yeh: Path, tmp_path: Path, capsys) -> None:
    from inpaintkit.cli import main

    pixels, hole = _picture()
    img, mask = tmp_path / "face.png", tmp_path / "hole.png"
    Image.fromarray(pixels).save(img)
    Image.fromarray((hole * 255).astype(np.uint8)).save(mask)
    out = tmp_path / "out.png"
    opts = ["--opt", "iterations=3", "--opt", "sample_distance=0.01"]
    args = ["run", str(img), "--mask", str(mask), "-m", "yeh2017", "-o", str(out), *opts]
    assert main([*args, "--samples", "3"]) == 0
    said = capsys.readouterr().out
    names = ["out_1.png", "out_2.png", "out_3.png"]
    assert all((tmp_path / n).is_file() for n in names) and not out.exists()
    assert "3 fills, best first" in said and "out_1.png" in said and "out_3.png" in said
    assert main([*args, "--samples", "3"]) == 2  # never overwritten without --overwrite
    assert "out_1.png' exists" in capsys.readouterr().err
    assert main([*args, "--samples", "1"]) == 0 and out.is_file()  # K=1: <output> as before
    capsys.readouterr()
    code = main(["run", str(img), "--mask", str(mask), "-m", "telea", "--samples", "2"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "telea gives one fill" in err


def test_web_job_serves_each_fill(tiny_yeh: Path) -> None:
    pytest.importorskip("httpx")
    import io as _io
    import json
    import time
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette may warn about httpx vs httpx2
        from fastapi.testclient import TestClient

    from inpaintkit.web import create_app

    pixels, hole = _picture()

    def png(a: np.ndarray) -> bytes:
        buf = _io.BytesIO()
        Image.fromarray(a).save(buf, "PNG")
        return buf.getvalue()

    files = {"image": ("face.png", png(pixels)), "mask": ("m.png", png(hole * np.uint8(255)))}
    opts = json.dumps({"samples": 3, "iterations": 3, "sample_distance": 0.01})
    with TestClient(create_app(), base_url="http://127.0.0.1:8000") as c:
        r = c.post("/api/jobs", files=files, data={"method": "yeh2017", "options": opts})
        assert r.status_code == 202, r.text
        url = r.json()["urls"]["self"]
        deadline = time.monotonic() + 60
        while (job := c.get(url).json())["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert job["status"] == "done", job
        assert job["samples"] == 3 and len(job["urls"]["samples"]) == 3
        got = [
            np.asarray(Image.open(_io.BytesIO(c.get(u).content))) for u in job["urls"]["samples"]
        ]
        assert np.array_equal(
            got[0], np.asarray(Image.open(_io.BytesIO(c.get(job["urls"]["result"]).content)))
        )
        assert not np.array_equal(got[1][hole], got[2][hole])
        for g in got:
            assert np.array_equal(g[~hole], pixels[~hole])
        r = c.get(job["urls"]["samples"][1] + "&download=1")
        assert 'filename="face_yeh2017_2.png"' in r.headers["content-disposition"]
        assert c.get(job["urls"]["result"] + "?sample=4").status_code == 404
        one = c.post("/api/jobs", files=files, data={"method": "telea"}).json()
        assert one["urls"].get("samples") is None
