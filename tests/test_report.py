"""`inpaintkit report`: docs tables, model-card metrics and figures from tiny evaluation folders."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inpaintkit import inpaint
from inpaintkit.cli import main
from inpaintkit.errors import InpaintError
from inpaintkit.eval import report_figures as rf
from inpaintkit.eval.engine import EvalConfig, evaluate
from inpaintkit.eval.report_tables import load_summaries


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two evaluations of the same 3 images (classical; a 'learned' label added later)."""
    root = tmp_path_factory.mktemp("report")
    data = root / "data"
    data.mkdir()
    y, x = np.mgrid[0:40, 0:40]
    for i in range(3):
        px = np.stack([3 * x + 20 * i, 4 * y, 100 + 0 * x], 2) % 256
        Image.fromarray(px.astype(np.uint8)).save(data / f"im{i}.png")
    base = {"data": str(data), "masks": ["center", "half"], "size": 24, "lpips": False}
    out = {"classical": root / "classical", "learned": root / "learned", "few": root / "few"}
    evaluate(EvalConfig(methods=["telea", "ns"], out=str(out["classical"]), **base))
    evaluate(EvalConfig(methods=["mine"], aliases={"mine": "biharmonic"},
                        out=str(out["learned"]), **base))  # fmt: skip
    evaluate(EvalConfig(methods=["ns"], limit=2, out=str(out["few"]), **base))
    return out


def _summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text())["summary"]


def test_table_prints_every_label_with_its_means_best_in_bold(folders, capsys) -> None:
    assert main(["report", "table", str(folders["classical"]), str(folders["learned"]),
                 "--margins"]) == 0  # fmt: skip
    text = capsys.readouterr().out
    s = _summary(folders["classical"])
    mine = _summary(folders["learned"])["center"]["mine"]
    block = text.split("mask `center` (")[1].split("### ")[0]
    rows = {line.split("|")[1].strip(): line for line in block.splitlines() if line[:2] == "| "}
    assert set(rows) == {"method", "telea", "ns", "mine"}
    assert f"{s['center']['telea']['psnr']:.2f}" in rows["telea"]
    assert f"{mine['ssim']:.3f}" in rows["mine"]
    best = max(("telea", "ns"), key=lambda m: s["center"][m]["psnr"])
    top = best if s["center"][best]["psnr"] > mine["psnr"] else "mine"
    assert f"**{s['center'][top]['psnr'] if top != 'mine' else mine['psnr']:.2f}**" in rows[top]
    margin = mine["psnr"] - s["center"][best]["psnr"]
    assert "- mine: " in block and f"psnr {margin:+.3f} vs {best}" in block
    assert "- telea" not in block  # classical labels get no margin line


def test_ranked_table_versus_rename_and_selection(folders, capsys) -> None:
    argv = ["report", "table", str(folders["classical"]), str(folders["learned"]),
            "--style", "ranked", "--masks", "half", "--methods", "ns,learned",
            "--rename", "mine=learned", "--versus", "learned,ns"]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    s = _summary(folders["classical"])["half"]["ns"]
    m = _summary(folders["learned"])["half"]["mine"]
    body = [line for line in text.splitlines() if line.startswith("| half |")]
    assert len(body) == 2  # the ranked table's first row and the versus row
    first = "learned" if m["psnr"] > s["psnr"] else "ns"
    assert f"| **{first}** |" in body[0]
    assert f"{m['psnr'] - s['psnr']:+.2f} dB" in body[1]
    assert "telea" not in text and "center" not in text


def test_folders_on_other_images_are_refused(folders) -> None:
    with pytest.raises(InpaintError, match="different numbers of images"):
        load_summaries([folders["learned"], folders["few"]])
    with pytest.raises(InpaintError, match=r"no summary\.json"):
        load_summaries([folders["learned"].parent])


def test_card_gets_the_labels_means_and_keeps_its_other_keys(folders, tmp_path, capsys) -> None:
    card = tmp_path / "card.json"
    card.write_text(json.dumps({"model": "x", "metrics": {"old/center": {"psnr": 1.0}}}))
    argv = ["report", "card", str(folders["learned"]), "--card", str(card), "--label", "mine",
            "--prefix", "tiny", "--eval-command", "inpaintkit eval ..."]  # fmt: skip
    assert main(argv) == 0
    got = json.loads(card.read_text())
    m = _summary(folders["learned"])
    assert got["model"] == "x" and got["metrics"]["old/center"] == {"psnr": 1.0}
    assert got["metrics"]["eval"] == "inpaintkit eval ..."
    for mask in ("center", "half"):
        assert got["metrics"][f"tiny/{mask}"]["psnr"] == round(m[mask]["mine"]["psnr"], 4)
        assert got["metrics"][f"tiny/{mask}"]["n"] == 3
    assert main([*argv, "--replace"]) == 0
    assert "old/center" not in json.loads(card.read_text())["metrics"]
    assert main([*argv[:-2], "--label", "nobody"]) == 2
    assert "no folder measured 'nobody'" in capsys.readouterr().err


def test_cards_table_lists_every_bundled_models_means(capsys) -> None:
    from inpaintkit.eval.report_tables import bundled_cards

    cards = bundled_cards()
    assert "deepfill_natural128" in cards
    assert main(["report", "cards", "--prefix", "deepfill_"]) == 0
    text = capsys.readouterr().out
    centre = cards["deepfill_natural128"]["metrics"]["imagenet/center"]
    assert f"| `deepfill_natural128` | imagenet/center | 50 | {centre['psnr']:.2f} |" in text
    assert "yeh2017" not in text
    assert cards["deepfill_natural128"]["metrics"]["eval"] in text


def test_splice_puts_the_later_methods_columns_into_the_grid(folders, tmp_path) -> None:
    base = folders["classical"] / "grid_center.png"
    extra = folders["learned"] / "grid_center.png"
    out = tmp_path / "spliced.png"
    assert main(["report", "splice", str(base), str(extra), "--after", "2", "-o", str(out)]) == 0
    a, b, c = (np.asarray(Image.open(p).convert("RGB")) for p in (base, extra, out))
    step = 120 + rf.GRID_PAD  # 24 px images drawn in 120 px cells (x5, GRID_CELL 128)
    assert c.shape == (a.shape[0], a.shape[1] + step, 3)  # one method column more
    assert np.array_equal(c[:, : 3 * step], a[:, : 3 * step])  # input, telea, ns
    assert np.array_equal(c[:, 3 * step : 4 * step], b[:, step : 2 * step])  # mine
    assert np.array_equal(c[:, 4 * step :], a[:, 3 * step :])  # ground truth
    with pytest.raises(InpaintError, match="not made of 100 px cells"):
        rf.splice_grids(base, extra, out, cell=100)


def test_grid_keeps_the_named_columns_in_order(folders, tmp_path) -> None:
    out = tmp_path / "cut.png"
    argv = ["report", "grid", str(folders["classical"]), "--mask", "half",
            "--columns", "ground truth,ns", "--rows", "2", "-o", str(out)]  # fmt: skip
    assert main(argv) == 0
    a = np.asarray(Image.open(folders["classical"] / "grid_half.png").convert("RGB"))
    c = np.asarray(Image.open(out).convert("RGB"))
    step = 120 + rf.GRID_PAD  # columns: input | telea | ns | ground truth
    height = 18 + rf.GRID_PAD + 2 * step
    assert c.shape == (height, 2 * step + rf.GRID_PAD, 3)
    assert np.array_equal(c[:, :step], a[:height, 3 * step : 4 * step])
    assert np.array_equal(c[:, step : 2 * step], a[:height, 2 * step : 3 * step])
    with pytest.raises(InpaintError, match="no column 'mine'"):
        rf.select_grid(folders["classical"], "half", ["mine"], out)


def test_attention_figure_rows(tmp_path) -> None:
    out = rf.attention_figure(tmp_path / "att.png", size=64, cases=[("astronaut", "box", 3)])
    pic = np.asarray(Image.open(out))
    assert pic.shape == (64, 5 * 64, 3)  # input | deepfill | attention | telea | original
    original = rf._sample("astronaut", 64)
    assert np.array_equal(pic[:, 256:], original)
    from inpaintkit.masks import make_mask

    hole = make_mask("box", (64, 64), seed=3)
    assert (pic[:, :64][hole] == 255).all()  # the input shows the hole white
    assert np.array_equal(pic[:, 64:128][~hole], original[~hole])  # known pixels kept


def test_methods_figure_one_titled_column_per_method(tmp_path) -> None:
    px = rf._sample("coffee", 48)
    hole = np.zeros((48, 48), bool)
    hole[10:30, 12:28] = True
    Image.fromarray(px).save(tmp_path / "photo.png")
    Image.fromarray((hole * 255).astype(np.uint8)).save(tmp_path / "mask.png")
    out = tmp_path / "methods.png"
    argv = ["report", "figure", "methods", "--image", str(tmp_path / "photo.png"),
            "--mask", str(tmp_path / "mask.png"), "--methods", "telea,ns",
            "--crop", "8,4,32,32", "-o", str(out)]  # fmt: skip
    assert main(argv) == 0
    pic = np.asarray(Image.open(out).convert("RGB"))
    assert pic.shape[1] == 3 * (32 + rf.GRID_PAD) + rf.GRID_PAD, pic.shape  # input | telea | ns
    tile = pic[18 + rf.GRID_PAD : 18 + rf.GRID_PAD + 32, rf.GRID_PAD : rf.GRID_PAD + 32]
    assert np.array_equal(tile, np.where(hole[..., None], 255, px)[4:36, 8:40])
    assert main([*argv[:-4], "--crop", "1,2", "-o", str(out)]) == 2


def test_song_figures(tmp_path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(2):
        Image.fromarray(np.roll(rf._sample("coffee", 160), 9 * i, 1)).save(photos / f"{i}.png")
    out = rf.song_stages_figure(photos, tmp_path / "stages.png", indices=(1,), size=128,
                                box=48, scales=(64, 128), cell=32)  # fmt: skip
    # input | G1 | stage 64 | stage 128 | multi-scale | default | patchmatch | original
    assert np.asarray(Image.open(out)).shape == (32, 8 * 32, 3)
    Image.fromarray(rf._sample("rocket", 48)).save(tmp_path / "style.png")
    out = rf.song_style_figure([tmp_path / "style.png"], tmp_path / "style_out.png", size=32)
    assert np.asarray(Image.open(out)).shape == (32, 3 * 32, 3)
    with pytest.raises(InpaintError, match="needs 5"):
        rf.song_stages_figure(photos, tmp_path / "x.png", indices=(4,))


def test_report_cli_errors(tmp_path, capsys) -> None:
    assert main(["report", "table", str(tmp_path)]) == 2
    assert "no summary.json" in capsys.readouterr().err
    assert main(["report", "figure", "song-stages", "-o", str(tmp_path / "x.jpg")]) == 2
    assert re.search("needs --data", capsys.readouterr().err)


def test_removals_figure_rows_of_photos_with_labelled_methods(tmp_path) -> None:
    wide, tall = rf._sample("coffee", 48), rf._sample("coffee", 64)[:, 16:48]  # 48x48, 64x32
    Image.fromarray(wide).save(tmp_path / "a.png")
    Image.fromarray(np.ascontiguousarray(tall)).save(tmp_path / "b.png")
    for name, shape in (("a", (48, 48)), ("b", (64, 32))):
        hole = np.zeros(shape, np.uint8)
        hole[10:20, 8:20] = 255
        Image.fromarray(hole).save(tmp_path / f"{name}_m.png")
    out = tmp_path / "removals.png"
    argv = ["report", "figure", "removals", "--image", str(tmp_path / "a.png"),
            "--mask", str(tmp_path / "a_m.png"), "--image", str(tmp_path / "b.png"),
            "--mask", str(tmp_path / "b_m.png"), "--methods", "telea,fast=ns",
            "--opt", "fast.radius=3", "--height", "48", "-o", str(out)]  # fmt: skip
    assert main(argv) == 0
    pic = np.asarray(Image.open(out).convert("RGB"))
    # two rows of 48 px cells under a 16 px title strip; row 1 is 3 cells of 48 px wide
    assert pic.shape == (16 + 2 * (48 + 4) + 4, 3 * (48 + 4) + 4, 3), pic.shape
    telea = inpaint(tmp_path / "a.png", tmp_path / "a_m.png", "telea").pixels
    assert np.array_equal(pic[16 : 16 + 48, 56 : 56 + 48], telea)  # same size: not resampled
    assert main([*argv[:9], "-o", str(out)]) == 2  # an --image without its --mask
