"""The CLI called in-process: run, methods, masks, bad input -> one line + exit 2."""

import numpy as np
import pytest
from PIL import Image

from inpaintkit.cli import main

CLASSICAL = ["telea", "ns", "biharmonic", "tv", "lowrank", "patchmatch", "nearest"]


@pytest.fixture
def files(tmp_path, smooth_image, square_hole):
    img = tmp_path / "img.png"
    Image.fromarray(smooth_image).save(img)
    mask = tmp_path / "img_mask.png"
    Image.fromarray((square_hole * 255).astype(np.uint8)).save(mask)
    return img, mask


def _one_line_error(capsys, code, expected):
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("inpaintkit: error:") and expected in err, err


def test_methods_lists_classical(capsys):
    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    for name in CLASSICAL:
        assert any(line.startswith(name + " ") for line in out.splitlines()), name


def test_run_file_bit_exact_and_compare(tmp_path, files, smooth_image, square_hole, capsys):
    img, mask = files
    out = tmp_path / "out" / "res.png"
    assert (
        main(["run", str(img), "--mask", str(mask), "-m", "ns", "-o", str(out), "--compare"]) == 0
    )
    res = np.asarray(Image.open(out))
    assert res.shape == smooth_image.shape
    assert np.array_equal(res[~square_hole], smooth_image[~square_hole])
    cmp = Image.open(tmp_path / "out" / "res_compare.png")
    assert cmp.size == (2 * 64 + 8, 48)
    # refuses to overwrite, then overwrites when asked
    _one_line_error(
        capsys, main(["run", str(img), "--mask", str(mask), "-o", str(out)]), "--overwrite"
    )
    assert main(["run", str(img), "--mask", str(mask), "-o", str(out), "--overwrite"]) == 0


def test_run_folder_with_mask_folder(tmp_path, smooth_image, square_hole):
    src, masks = tmp_path / "in", tmp_path / "masks"
    src.mkdir(), masks.mkdir()
    for i in range(3):
        Image.fromarray(np.roll(smooth_image, i, axis=1)).save(src / f"a{i}.jpg", quality=95)
        Image.fromarray((square_hole * 255).astype(np.uint8)).save(masks / f"a{i}_mask.png")
    assert main(["run", str(src), "--mask", str(masks), "-o", str(tmp_path / "out")]) == 0
    outs = sorted((tmp_path / "out").iterdir())
    assert [p.name for p in outs] == ["a0.jpg", "a1.jpg", "a2.jpg"]
    assert Image.open(outs[0]).format == "JPEG"


def test_run_generated_mask_kind(tmp_path, files):
    img, _ = files
    out = tmp_path / "gen.png"
    assert main(["run", str(img), "--mask-kind", "center", "-o", str(out)]) == 0
    assert out.exists()


def test_bad_inputs(tmp_path, files, capsys, smooth_image):
    img, mask = files
    txt = tmp_path / "notes.txt"
    txt.write_text("not an image")
    _one_line_error(capsys, main(["run", str(txt), "--mask", str(mask)]), "notes.txt")
    _one_line_error(
        capsys, main(["run", str(tmp_path / "missing.png"), "--mask", str(mask)]), "does not exist"
    )
    small = tmp_path / "small_mask.png"
    Image.fromarray(np.full((10, 10), 255, np.uint8)).save(small)
    _one_line_error(capsys, main(["run", str(img), "--mask", str(small)]), "--resize-mask")
    full = tmp_path / "full.png"
    Image.fromarray(np.full((48, 64), 255, np.uint8)).save(full)
    _one_line_error(capsys, main(["run", str(img), "--mask", str(full)]), "whole image")
    _one_line_error(
        capsys, main(["run", str(img), "--mask", str(mask), "-m", "nope"]), "unknown method"
    )
    _one_line_error(
        capsys, main(["run", str(img), "--mask", str(mask), "--opt", "x=1"]), "no option"
    )
    big = tmp_path / "big.png"
    Image.fromarray(np.zeros((4000, 3000, 3), np.uint8)).save(big)
    bigmask = np.zeros((4000, 3000), np.uint8)
    bigmask[:10, :10] = 255
    Image.fromarray(bigmask).save(tmp_path / "bigmask.png")
    # a 12 MP photo is no longer refused: biharmonic works on a window around the hole
    out = tmp_path / "big_out.png"
    code = main(["run", str(big), "--mask", str(tmp_path / "bigmask.png"), "-m", "biharmonic",
                 "-o", str(out)])  # fmt: skip
    assert code == 0 and "window(s) around the holes" in capsys.readouterr().err


def test_empty_mask_copies_through(tmp_path, files, smooth_image, capsys):
    img, _ = files
    empty = tmp_path / "empty.png"
    Image.fromarray(np.zeros((48, 64), np.uint8)).save(empty)
    out = tmp_path / "same.png"
    assert main(["run", str(img), "--mask", str(empty), "-o", str(out)]) == 0
    assert "nothing to inpaint" in capsys.readouterr().err
    assert np.array_equal(np.asarray(Image.open(out)), smooth_image)


def test_masks_command(tmp_path, capsys):
    out = tmp_path / "m.png"
    assert main(["masks", "center", "--size", "64x32", "-o", str(out)]) == 0
    m = np.asarray(Image.open(out))
    assert m.shape == (32, 64) and (m > 127).sum() == 32 * 16
    assert "25.0% hole" in capsys.readouterr().out
    assert main(["masks", "--list"]) == 0
    assert "random80" in capsys.readouterr().out
    _one_line_error(capsys, main(["masks", "blob", "-o", str(out)]), "blob")
    _one_line_error(capsys, main(["masks", "center", "--size", "ax3", "-o", str(out)]), "640x480")


def test_help_has_examples(capsys):
    for cmd in (["--help"], ["run", "--help"], ["eval", "--help"], ["masks", "--help"]):
        with pytest.raises(SystemExit) as e:
            main(cmd)
        assert e.value.code == 0
        assert "examples:" in capsys.readouterr().out


def test_python_dash_m_runs_the_cli(tmp_path):
    # `python -m inpaintkit` (the offline GPU machine runs the CLI this way, without installing)
    import subprocess
    import sys

    out = tmp_path / "m.png"
    cmd = [sys.executable, "-m", "inpaintkit", "masks", "center", "--size", "32x32", "-o", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert np.asarray(Image.open(out)).shape[:2] == (32, 32)
    bad = subprocess.run(
        [*cmd[:4], "nosuchkind", "-o", str(out)], capture_output=True, text=True, timeout=120
    )
    assert bad.returncode == 2 and "nosuchkind" in bad.stderr


def test_folder_run_skips_an_image_without_a_mask(tmp_path, smooth_image, square_hole, capsys):
    """Issue 22 #13: one image without a mask is skipped and reported, like an unreadable one;
    the others are filled and the exit status says some failed (1), not a usage error (2)."""
    src, masks = tmp_path / "in", tmp_path / "masks"
    src.mkdir(), masks.mkdir()
    for name in ("a", "b", "c"):
        Image.fromarray(smooth_image).save(src / f"{name}.png")
    for name in ("a", "c"):
        Image.fromarray((square_hole * 255).astype(np.uint8)).save(masks / f"{name}_mask.png")
    (src / "d.png").write_bytes(b"not an image")
    Image.fromarray((square_hole * 255).astype(np.uint8)).save(masks / "d_mask.png")
    code = main(["run", str(src), "--mask", str(masks), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "c.png"]
    assert "skipped" in err and "no mask for b.png" in err and "d.png" in err
    assert "2 of 4 images failed" in err


def test_run_shows_progress_of_a_long_method(tmp_path, files, capsys):
    """Issue 22 #9: tv (and lowrank) show a progress bar on stderr in the CLI."""
    img, mask = files
    out = tmp_path / "tv.png"
    code = main(["run", str(img), "--mask", str(mask), "-m", "tv", "-o", str(out),
                 "--opt", "iterations=300", "--opt", "tol=0"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0 and "tv:" in err and "/300 [" in err, err


def test_run_shows_elapsed_time_for_a_method_without_steps(tmp_path, files, capsys, monkeypatch):
    """Issue 22 #9: a method that reports no steps still shows that the command works (on a
    terminal)."""
    import sys

    img, mask = files
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert (
        main(["run", str(img), "--mask", str(mask), "-m", "ns", "-o", str(tmp_path / "n.png")]) == 0
    )
    assert "ns on img.png: 00:00" in capsys.readouterr().err
