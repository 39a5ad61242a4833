"""The model-file format's owner (weights/): install, bundle, verify, sha256, the CLI."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from inpaintkit import weights
from inpaintkit.cli import main
from inpaintkit.errors import InpaintError
from inpaintkit.models.dcgan import DCGANConfig, build_dcgan
from inpaintkit.registry import get_family, list_families
from inpaintkit.weights.write import (
    bundle_model,
    export_model,
    family_of_file,
    file_sha256,
    install_model,
    model_card,
    verify_model,
)

CFG = DCGANConfig(z_dim=8, image_size=32, ngf=4, ndf=4)


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """A tiny DCGAN export as the dcgan recipe writes it."""
    G, D = build_dcgan(CFG)
    card = model_card(
        model="dcgan", architecture=dataclasses.asdict(CFG), data="none (test)", steps=1,
        images_seen=1, command="test", precision="fp32",
    )  # fmt: skip
    path, _ = export_model(tmp_path / "run" / "export", "dcgan", {"G": G, "D": D}, card=card)
    return path


@pytest.fixture
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "user"
    monkeypatch.setenv("INPAINTKIT_WEIGHTS", str(d))
    return d


def test_every_bundled_card_records_the_sha256_of_its_file() -> None:
    for path in sorted(weights.bundled_dir().glob("*.safetensors")):
        card = json.loads(path.with_suffix(".json").read_text())
        assert card["sha256"] == file_sha256(path), path.name


def test_install_copies_bytes_adds_sha256_and_is_found(export: Path, user_dir: Path) -> None:
    dst = install_model(export, "yeh2017_tiny32")
    assert dst == user_dir / "yeh2017_tiny32.safetensors"
    assert dst.read_bytes() == export.read_bytes()
    card = json.loads(dst.with_suffix(".json").read_text())
    assert card["sha256"] == file_sha256(export) and card["model"] == "dcgan"
    assert "tiny32" in weights.list_installed("yeh2017")
    assert weights.resolve_model("dcgan", "tiny32") == dst  # an old name finds the same file
    with pytest.raises(InpaintError, match="already exists"):
        install_model(export, "yeh2017_tiny32")
    with pytest.raises(InpaintError, match="not <family>_<domain>"):
        install_model(export, "gan_tiny32")


def test_verify_finds_a_changed_file(export: Path, user_dir: Path) -> None:
    dst = install_model(export, "yeh2017_tiny32")
    assert verify_model(dst) == []
    data = bytearray(dst.read_bytes())
    data[-1] ^= 1  # one bit of a weight
    dst.write_bytes(bytes(data))
    assert any("sha256" in p for p in verify_model(dst))


def test_bundle_writes_the_card_fields(export: Path, tmp_path: Path) -> None:
    dst = bundle_model(
        export.parents[1], "yeh2017_tiny32", dest_dir=tmp_path / "pkg",
        full_size_command="inpaintkit train dcgan --data X", notes=["a note"],
    )  # fmt: skip
    card = json.loads(dst.with_suffix(".json").read_text())
    assert card["full_size_command"].startswith("inpaintkit train dcgan")
    assert card["notes"] == ["a note"] and card["sha256"] == file_sha256(dst)
    assert card["file_mib"] == pytest.approx(dst.stat().st_size / 2**20, abs=0.01)


def test_families_and_their_old_names() -> None:
    names = {f.name for f in list_families()}
    assert names == {
        "yeh2017", "vitoria2019", "deepfill", "context_encoder", "song2018", "latent_encoder"
    }  # fmt: skip
    for old, new in [("dcgan", "yeh2017"), ("wgan_resnet", "vitoria2019"), ("song", "song2018"),
                     ("song-i2f", "song2018"), ("song_f2i", "song2018")]:  # fmt: skip
        assert get_family(old).name == new
    assert family_of_file("song2018_natural128").name == "song2018"
    with pytest.raises(InpaintError, match="known"):
        get_family("nope")


def test_cli_weights_list_info_install_verify(
    export: Path, user_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["weights", "install", str(export), "--name", "yeh2017_tiny32"]) == 0
    assert "installed" in capsys.readouterr().out
    assert main(["weights", "list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["yeh2017_tiny32"]["where"] == "user"
    assert rows["deepfill_natural256"]["default"] is True
    assert main(["weights", "info", "yeh2017_tiny32"]) == 0
    assert "sha256: " in capsys.readouterr().out
    assert main(["weights", "verify", "yeh2017_tiny32"]) == 0
    shutil.copyfile(export, user_dir / "yeh2017_tiny32.safetensors")  # same bytes: still ok
    assert main(["weights", "verify", "yeh2017_tiny32"]) == 0
    (user_dir / "yeh2017_tiny32.safetensors").write_bytes(b"broken")
    capsys.readouterr()
    assert main(["weights", "verify", "yeh2017_tiny32"]) == 1
    assert "sha256 differs" in capsys.readouterr().out
    assert main(["weights", "info", "yeh2017_nope"]) == 2


def test_a_family_name_finds_its_one_recipe() -> None:
    from inpaintkit.train.recipes import get_recipe

    assert get_recipe("yeh2017").name == "dcgan"
    assert get_recipe("vitoria2019").name == "wgan_resnet"
    assert get_recipe("song-i2f").name == "song-i2f"
    with pytest.raises(InpaintError, match="no training recipe 'song2018'"):
        get_recipe("song2018")  # two recipes: name one


def test_old_names_load_the_bundled_files() -> None:
    bundled = weights.bundled_dir()
    for old, new in [("dcgan", "yeh2017"), ("wgan_resnet", "vitoria2019"), ("song", "song2018"),
                     ("song-i2f", "song2018"), ("context_encoder", "context_encoder")]:  # fmt: skip
        assert weights.list_installed(old) == weights.list_installed(new)
        path = weights.resolve_model(old, None)  # the family's default domain
        assert path.parent == bundled and path.name.startswith(f"{new}_")
        loaded = weights.load_model(old, path)
        assert loaded.family.name == new and loaded.nets
    G, D, cfg = weights.load_gan("dcgan", bundled / "yeh2017_celeba64.safetensors")
    assert cfg.image_size == 64 and not G.training and not D.training
