"""Copy a training run's exported model into the package as a bundled model, with its card.

    python scripts/bundle_model.py runs/dcgan-celeba64 yeh2017_celeba64 \
        --gpu-command "inpaintkit train dcgan --data ... --steps 50000" \
        --note "trained on the CPU at ngf=32: ..."

The run's ``export/<model>.safetensors`` and ``.json`` become
``src/inpaintkit/weights/<name>.safetensors`` / ``.json``; the card gains ``full_size_command``
(how to train the paper-size model on a GPU), ``notes`` and the file size, and is checked to load.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("run", type=Path, help="training run folder (with export/)")
    p.add_argument("name", help="<method>_<domain>, e.g. yeh2017_celeba64")
    p.add_argument("--gpu-command", default="", help="the full-size training command")
    p.add_argument("--note", action="append", default=[], help="a remark for the card")
    args = p.parse_args()
    exported = sorted((args.run / "export").glob("*.safetensors"))
    if len(exported) != 1:
        raise SystemExit(f"expected one .safetensors in {args.run / 'export'}, got {exported}")
    src = exported[0]
    dst = ROOT / "src" / "inpaintkit" / "weights" / f"{args.name}.safetensors"
    shutil.copyfile(src, dst)
    card = json.loads(src.with_suffix(".json").read_text())
    card["full_size_command"] = args.gpu_command
    card["notes"] = args.note
    card["file_mib"] = round(dst.stat().st_size / 2**20, 2)
    dst.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    from inpaintkit.weights import METHOD_ARCH, load_gan, load_network

    method = max((m for m in METHOD_ARCH if args.name.startswith(f"{m}_")), key=len)
    if method == "song2018":  # G1 + G2 in one file: count them both
        from inpaintkit.weights.song import load_song_model

        net = load_song_model(dst)
        nets = [net.g1, *net.g2.values()]
        n = sum(t.numel() for g in nets if g is not None for t in g.parameters())
        print(f"{dst} ({card['file_mib']} MiB): G1 + G2 {n / 1e6:.2f}M params, G2 {list(net.g2)}")
        return
    if method in ("yeh2017", "vitoria2019"):
        G, D, cfg = load_gan(method, dst, "cpu")
        n_d = sum(t.numel() for t in D.parameters())
    else:
        (G, cfg), n_d = load_network(method, dst, "cpu"), 0
    n_g = sum(t.numel() for t in G.parameters())
    print(f"{dst} ({card['file_mib']} MiB): G {n_g / 1e6:.2f}M, D {n_d / 1e6:.2f}M params, {cfg}")


if __name__ == "__main__":
    main()
