#!/usr/bin/env bash
# The DeepFill evaluation of docs/deepfill.md: 256x256 centre crops of ImageNet val and
# DTD val, masks center (a 128 box), medium and thick free-form strokes, seed 0.
#   bash scripts/eval_deepfill.sh classical   # telea, ns, biharmonic, patchmatch
#   bash scripts/eval_deepfill.sh learned     # deepfill and its no-attention baseline
#   bash scripts/eval_deepfill.sh ce          # context_encoder (its model knows one mask kind:
#                                             # CE_MASKS, default center)
#   bash scripts/eval_deepfill.sh faces       # CelebA val at 128x128 (DCGAN's 108 px crop):
#                                             # deepfill (FACES, default celeba128), the natural
#                                             # model on faces (NATURAL, default natural128) and
#                                             # the classical methods; LIMIT_FACES (300) faces
# LIMIT (default 50) images per dataset; DIR (default ../shared/datasets) is the
# datasets folder; METHODS
# replaces the learned list; BASELINE is the baseline's model (a domain or a .safetensors path);
# EXTRA_OPTS adds --opt arguments (space-separated LABEL.NAME=VALUE); SUFFIX is appended to
# the output folder's mode (runs/eval_deepfill_<mode><SUFFIX>_<dataset>).
# The attention-ablation tables (docs/results/deepfill.md) ran:
#   LIMIT=50 bash scripts/eval_deepfill.sh classical
#   LIMIT=50 METHODS=deepfill,baseline=deepfill,attention1500=deepfill \
#     BASELINE=runs/deepfill-cpu128-baseline/export/deepfill.safetensors \
#     EXTRA_OPTS="attention1500.model=runs/deepfill-cpu128-s1500/export/deepfill.safetensors" \
#     bash scripts/eval_deepfill.sh learned
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-classical}"
LIMIT="${LIMIT:-50}"
DIR="${DIR:-${SHARED:-../shared}/datasets}"  # the datasets folder (docs/data.md)
case "$which" in
  classical) methods="telea,ns,biharmonic,patchmatch"; opts=() ;;
  learned)
    methods="${METHODS:-deepfill,baseline=deepfill}"
    opts=(--opt "baseline.model=${BASELINE:-natural128-baseline}")
    for o in ${EXTRA_OPTS:-}; do opts+=(--opt "$o"); done ;;
  ce) methods="context_encoder"; opts=(--opt "context_encoder.model=${CE_MODEL:-natural128_center}") ;;
  faces)
    exec inpaintkit eval --data "celeba:$DIR/celeba/align_178x218/val" --split val \
      --size 128 --limit "${LIMIT_FACES:-300}" --seed 0 --masks center,medium,thick \
      --methods deepfill,natural=deepfill,telea,ns,biharmonic,patchmatch \
      --opt "deepfill.model=${FACES:-celeba128}" --opt "natural.model=${NATURAL:-natural128}" \
      --out "runs/eval_deepfill_faces_celeba" ;;
  *) echo "usage: $0 classical|learned|ce|faces" >&2; exit 2 ;;
esac
masks="center,medium,thick"
[ "$which" = ce ] && masks="${CE_MASKS:-center}"
for ds in imagenet dtd; do
  inpaintkit eval --data "$DIR/$ds/val" --methods "$methods" \
    --masks "$masks" --size 256 --limit "$LIMIT" --seed 0 "${opts[@]}" \
    --out "runs/eval_deepfill_${which}${SUFFIX:-}_${ds}"
done
