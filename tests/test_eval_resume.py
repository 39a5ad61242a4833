"""`inpaintkit eval --resume`: a killed or extended evaluation computes only the missing rows."""

import csv
import json

import numpy as np
import pytest
from PIL import Image

from inpaintkit.cli import main
from inpaintkit.errors import InpaintError
from inpaintkit.eval.harness import EvalConfig, evaluate
from inpaintkit.registry import register_method

CALLS: list[int] = []  # hole pixel count of every call of the counting method
FAIL = {"on": False}


def _counting(image, mask, *, fill: float = 0.5):
    """A classical-kind test method: fills with a constant and records each call."""
    if FAIL["on"]:
        raise RuntimeError("killed")
    CALLS.append(int(mask.sum()))
    return image * (1 - mask) + fill * mask


register_method("_resume_count", kind="classical", summary="test")(_counting)


@pytest.fixture
def folder(tmp_path, smooth_image):
    d = tmp_path / "data"
    d.mkdir()
    for i in range(5):
        Image.fromarray(np.roll(smooth_image, 7 * i, axis=0)).save(d / f"im{i}.png")
    return d


def _cfg(folder, out, **kw) -> EvalConfig:
    base = {
        "data": str(folder),
        "methods": ["telea", "_resume_count"],
        "masks": ["center", "random80"],
        "size": 32,
        "limit": 2,
        "out": str(out),
        "lpips": False,
    }
    return EvalConfig(**(base | kw))


def _key(r: dict) -> tuple:
    return (r["method"], r["mask"], r["index"])


def test_resume_with_more_images_and_methods_equals_one_full_run(tmp_path, folder):
    out = tmp_path / "ev"
    evaluate(_cfg(folder, out))
    assert (out / "outputs" / "center" / "telea_0000.png").exists()
    CALLS.clear()
    more = _cfg(folder, out, limit=4, methods=["telea", "_resume_count", "ns"], resume=True)
    res = evaluate(more)
    assert res["reused"] == 2 * 2 * 2  # 2 methods x 2 masks x 2 images
    assert len(CALLS) == 2 * 2  # images 2 and 3 only, for both masks; the grid came from PNGs
    full = evaluate(_cfg(folder, tmp_path / "full", limit=4, methods=more.methods))
    assert len(res["rows"]) == len(full["rows"]) == 3 * 2 * 4
    got = {_key(r): r for r in res["rows"]}
    for r in full["rows"]:
        g = got[_key(r)]
        assert g["image"] == r["image"]
        for col in ("psnr", "ssim", "l1_hole", "hole_fraction"):  # the CSV keeps 6 digits
            assert g[col] == pytest.approx(r[col], rel=1e-5), (col, _key(r))
    assert res["summary"]["center"]["telea"]["n"][0] == 4
    with (out / "per_image.csv").open(newline="") as f:
        assert len(list(csv.DictReader(f))) == 3 * 2 * 4
    a = np.asarray(Image.open(out / "grid_center.png"))
    b = np.asarray(Image.open(tmp_path / "full" / "grid_center.png"))
    assert np.array_equal(a, b)  # the grid drawn from kept outputs is the full run's


def test_a_killed_run_keeps_its_finished_pairs(tmp_path, folder):
    out = tmp_path / "ev"
    FAIL["on"] = True
    try:
        with pytest.raises(RuntimeError, match="killed"):
            evaluate(_cfg(folder, out))
    finally:
        FAIL["on"] = False
    with (out / "per_image.csv").open(newline="") as f:
        kept = list(csv.DictReader(f))
    assert {(r["method"], r["mask"]) for r in kept} == {("telea", "center")}  # the pair before
    CALLS.clear()
    res = evaluate(_cfg(folder, out, resume=True))
    assert res["reused"] == 2
    assert len(CALLS) == 2 * 2  # the counting method on both masks; telea/center not again
    assert len(res["rows"]) == 2 * 2 * 2


def test_resume_without_an_earlier_run_computes_everything(tmp_path, folder):
    CALLS.clear()
    res = evaluate(_cfg(folder, tmp_path / "new", resume=True))
    assert res["reused"] == 0 and len(CALLS) == 2 * 2


def test_folders_without_kept_outputs_recompute_only_the_grid(tmp_path, folder):
    import shutil

    out = tmp_path / "ev"
    evaluate(_cfg(folder, out))
    shutil.rmtree(out / "outputs")  # as in folders written before outputs were kept
    CALLS.clear()
    res = evaluate(_cfg(folder, out, resume=True))
    assert res["reused"] == 8
    assert len(CALLS) == 2 * 2  # the counting method's 2 grid images on both masks, no rows
    assert (out / "outputs" / "random80" / "_resume_count_0001.png").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"seed": 3}, r"another setting \(seed\)"),
        ({"size": 24}, r"another setting \(size\)"),
        ({"options": {"telea": {"radius": 9}}}, "options of telea"),
        ({"mask_options": {"center": {"fraction": 0.5}}}, "options of mask center"),
        ({"methods": ["telea"]}, "also has methods _resume_count"),
        ({"masks": ["center"]}, "also has masks random80"),
        ({"limit": 1}, "also has images 1 and later"),
    ],
)
def test_resume_refuses_another_setting_or_dropping_rows(tmp_path, folder, change, message):
    out = tmp_path / "ev"
    evaluate(_cfg(folder, out))
    before = (out / "per_image.csv").read_text()
    with pytest.raises(InpaintError, match=message):
        evaluate(_cfg(folder, out, resume=True, **change))
    assert (out / "per_image.csv").read_text() == before  # nothing lost


def test_resume_notices_changed_data_and_fid(tmp_path, folder, smooth_image):
    out = tmp_path / "ev"
    evaluate(_cfg(folder, out))
    with pytest.raises(InpaintError, match="--fid"):
        evaluate(_cfg(folder, out, resume=True, fid=True))
    (folder / "im0.png").rename(folder / "zz.png")  # image 0 is now another file
    with pytest.raises(InpaintError, match="data changed"):
        evaluate(_cfg(folder, out, resume=True))


def test_cli_resume_flag(tmp_path, folder, capsys):
    out = tmp_path / "cli"
    argv = ["eval", "--data", str(folder), "--methods", "telea", "--masks", "center"]
    argv += ["--size", "32", "--no-lpips", "--out", str(out)]
    assert main([*argv, "--limit", "2"]) == 0
    assert main([*argv, "--limit", "3", "--resume"]) == 0
    captured = capsys.readouterr()
    assert "reusing 2 rows" in captured.err
    assert "(3 images," in captured.out and "resumed: 2 of the 3 rows" in captured.out
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["limit"] == 3 and cfg["resume"] is True
    assert main([*argv, "--limit", "3", "--seed", "1", "--resume"]) == 2  # a clear error
    assert "another setting (seed)" in capsys.readouterr().err
