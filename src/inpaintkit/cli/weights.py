"""``inpaintkit weights``: list, inspect, install, verify and combine model files.

    inpaintkit weights list                      # every installed model, by family
    inpaintkit weights info deepfill_natural128  # its card: data, command, scores, sha256
    inpaintkit weights install runs/dcgan-faces/export/dcgan.safetensors --name yeh2017_faces64
    inpaintkit weights install runs/enc/export/latent_encoder.safetensors  # beside its model
    inpaintkit weights verify                    # sha256 and size against the cards; they load
    inpaintkit weights combine-song I2F.safetensors F2I.safetensors --out song2018_x.safetensors
    inpaintkit weights split-song song2018_natural128 --out runs/song_parts   # the inverse

A model is ``<family>_<domain>.safetensors`` + ``.json`` (a latent-search model's encoder:
``<family>_<domain>.encoder.safetensors`` + ``.json``, see docs/latent_search.md); the user
directory (``$INPAINTKIT_WEIGHTS`` or ``~/.local/share/inpaintkit/weights``) shadows the
bundled models.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from inpaintkit.errors import InpaintError


def add_weights_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``inpaintkit weights`` and its subcommands."""
    p = sub.add_parser(
        "weights",
        help="list, inspect, install and verify trained model files",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(func=lambda args: p.print_help() or 0)
    ws = p.add_subparsers(dest="weights_command", metavar="ACTION")
    q = ws.add_parser("list", help="installed models by family (user directory first)")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.set_defaults(func=list_command)
    q = ws.add_parser("info", help="one model's card")
    q.add_argument("name", help="<family>_<domain>, or a .safetensors path")
    q.add_argument("--json", action="store_true", help="the whole card as JSON")
    q.set_defaults(func=info_command)
    q = ws.add_parser("install", help="copy a model (+ card) into the user directory")
    q.add_argument("file", type=Path, help="the .safetensors file (its .json beside it)")
    q.add_argument("--name", help="<family>_<domain> (default: the file's stem)")
    q.add_argument("--force", action="store_true", help="replace an installed model")
    q.set_defaults(func=install_command)
    q = ws.add_parser("verify", help="check files against their cards (sha256, size, loading)")
    q.add_argument("names", nargs="*", help="models to check (default: every installed one)")
    q.set_defaults(func=verify_command)
    q = ws.add_parser("combine-song", help="join song-i2f and song-f2i exports into one file")
    q.add_argument("i2f", type=Path, help="the song-i2f export (.safetensors)")
    q.add_argument("f2i", type=Path, nargs="+", help="song-f2i exports (one per size)")
    q.add_argument("--out", type=Path, required=True, help="the combined .safetensors")
    q.add_argument("--force", action="store_true", help="replace --out")
    q.set_defaults(func=combine_song_command)
    q = ws.add_parser("split-song", help="write each part of a song2018 file as an export")
    q.add_argument("file", help="the combined model (a .safetensors path or <family>_<domain>)")
    q.add_argument("--out", type=Path, required=True, help="folder for G1.safetensors, G2...")
    q.add_argument("--force", action="store_true", help="replace existing exports")
    q.set_defaults(func=split_song_command)


def installed() -> list[dict[str, Any]]:
    """Every installed model file: name, family, domain, path, where (user/bundled), default."""
    from inpaintkit.registry import list_families
    from inpaintkit.weights import bundled_dir, find_model, list_installed

    rows = []
    for fam in list_families():
        for domain in list_installed(fam.name):
            path = find_model(fam.name, domain)
            assert path is not None
            rows.append(
                {
                    "name": f"{fam.name}_{domain}",
                    "family": fam.name,
                    "domain": domain,
                    "default": domain == fam.default_domain,
                    "where": "bundled" if path.parent == bundled_dir() else "user",
                    "path": str(path),
                }
            )
    return rows + _encoders()


def _encoders() -> list[dict[str, Any]]:
    """The latent encoders (``<model>.encoder.safetensors``) of the search folders, user first."""
    from inpaintkit.weights import bundled_dir, search_dirs
    from inpaintkit.weights.encoders import ENCODER_SUFFIX

    rows: dict[str, dict[str, Any]] = {}
    for d in search_dirs():
        for path in sorted(d.glob(f"*{ENCODER_SUFFIX}.safetensors")) if d.is_dir() else []:
            model = path.stem.removesuffix(ENCODER_SUFFIX)
            rows.setdefault(
                path.stem,
                {
                    "name": path.stem,
                    "family": "latent_encoder",
                    "domain": model,
                    "default": False,
                    "where": "bundled" if path.parent == bundled_dir() else "user",
                    "path": str(path),
                },
            )
    return list(rows.values())


def _path(name: str) -> Path:
    """The file of ``<family>_<domain>`` (user directory first), or ``name`` as a path."""
    from inpaintkit.weights import find_model
    from inpaintkit.weights.write import family_of_file

    if name.endswith(".safetensors"):
        path = Path(name).expanduser()
        if not path.is_file():
            raise InpaintError(f"model file {path} does not exist")
        return path
    encoder = next((r for r in _encoders() if r["name"] == name), None)
    if encoder is not None:
        return Path(encoder["path"])
    fam = family_of_file(name)
    path = find_model(fam.name, name)
    if path is None:
        raise InpaintError(f"no model {name!r} is installed; see `inpaintkit weights list`")
    return path


def list_command(args: argparse.Namespace) -> int:
    """Print the installed models."""
    rows = installed()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        mark = " (default)" if r["default"] else ""
        print(f"{r['name']:<36} {r['where']:<8} {r['path']}{mark}")
    return 0


def info_command(args: argparse.Namespace) -> int:
    """Print one model's card (a summary, or all of it with --json)."""
    path = _path(args.name)
    card = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    if args.json:
        print(json.dumps(card, indent=2))
        return 0
    print(f"{path.stem}: {path}")
    for key in ("model", "data", "steps", "command", "full_size_command", "file_mib", "sha256"):
        if card.get(key) not in (None, ""):
            print(f"  {key}: {card[key]}")
    for setting, values in card.get("metrics", {}).items():
        if isinstance(values, dict):
            shown = ", ".join(f"{k} {v}" for k, v in values.items() if not isinstance(v, dict))
            print(f"  metrics {setting}: {shown}")
    return 0


def install_command(args: argparse.Namespace) -> int:
    """Copy a model into the user directory."""
    from inpaintkit.weights.write import install_model

    print(f"installed {install_model(args.file, args.name, overwrite=args.force)}")
    return 0


def verify_command(args: argparse.Namespace) -> int:
    """Check models against their cards; exit status 1 when any is wrong."""
    from inpaintkit.weights.write import verify_model

    paths = [_path(n) for n in args.names] or [Path(r["path"]) for r in installed()]
    bad = 0
    for path in paths:
        problems = verify_model(path)
        bad += bool(problems)
        print(f"{path.stem}: {'ok' if not problems else '; '.join(problems)}")
    return 1 if bad else 0


def combine_song_command(args: argparse.Namespace) -> int:
    """Join Song exports into one model file."""
    from inpaintkit.weights.write import combine_song_models

    print(f"wrote {combine_song_models(args.i2f, args.f2i, args.out, overwrite=args.force)}")
    return 0


def split_song_command(args: argparse.Namespace) -> int:
    """Write each part of a combined Song model as its own export."""
    from inpaintkit.weights.write import split_song_model

    for part, path in split_song_model(_path(args.file), args.out, overwrite=args.force).items():
        print(f"{part}: {path}")
    return 0
