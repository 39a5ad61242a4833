"""Copy a training run's exported model into the package as a bundled model, with its card.

    python scripts/bundle_model.py runs/dcgan-celeba64 yeh2017_celeba64 \
        --gpu-command "inpaintkit train dcgan --data ... --steps 50000" \
        --note "trained on the CPU at ngf=32: ..."

The run's ``export/<model>.safetensors`` is copied byte for byte to
``src/inpaintkit/weights/<name>.safetensors``; its card gains ``full_size_command`` (how to
train the paper-size model on a GPU), ``notes``, the file size and its sha256, and the copy is
checked to load (:func:`inpaintkit.weights.write.bundle_model`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from inpaintkit.weights import bundled_dir, load_model
from inpaintkit.weights.encoders import is_encoder_file
from inpaintkit.weights.write import bundle_model, family_of_file


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("run", type=Path, help="training run folder (with export/)")
    p.add_argument("name", help="<family>_<domain>, e.g. yeh2017_celeba64 (.encoder: its encoder)")
    p.add_argument("--gpu-command", default="", help="the full-size training command")
    p.add_argument("--note", action="append", default=[], help="a remark for the card")
    args = p.parse_args()
    dst = bundle_model(
        args.run, args.name, dest_dir=bundled_dir(), full_size_command=args.gpu_command,
        notes=args.note,
    )  # fmt: skip
    family = "latent_encoder" if is_encoder_file(args.name) else family_of_file(args.name).name
    model = load_model(family, dst)
    sizes = {k: sum(t.numel() for t in net.parameters()) for k, net in model.nets.items()}
    shown = ", ".join(f"{k} {n / 1e6:.2f}M" for k, n in sizes.items())
    print(f"{dst} ({model.card['file_mib']} MiB): {shown} params; {model.config}")


if __name__ == "__main__":
    main()
