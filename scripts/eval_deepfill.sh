#!/usr/bin/env bash
# The DeepFill evaluation of docs/deepfill.md (issue 5): 256x256 centre crops of ImageNet val and
# DTD val, masks center (a 128 box), medium and thick free-form strokes, seed 0.
#   bash scripts/eval_deepfill.sh classical   # telea, ns, biharmonic, patchmatch
#   bash scripts/eval_deepfill.sh learned     # deepfill, its no-attention baseline, context_encoder
# LIMIT (default 100) images per dataset; SHARED (default ../shared) holds the datasets.
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-classical}"
LIMIT="${LIMIT:-100}"
SHARED="${SHARED:-../shared}"
case "$which" in
  classical) methods="telea,ns,biharmonic,patchmatch"; opts=() ;;
  learned)
    methods="${METHODS:-deepfill,baseline=deepfill,context_encoder}"
    opts=(--opt "baseline.model=${BASELINE:-natural128-baseline}") ;;
  *) echo "usage: $0 classical|learned" >&2; exit 2 ;;
esac
for ds in imagenet dtd; do
  inpaintkit eval --data "$SHARED/datasets/$ds/val" --methods "$methods" \
    --masks center,medium,thick --size 256 --limit "$LIMIT" --seed 0 "${opts[@]}" \
    --out "runs/eval_deepfill_${which}_${ds}"
done
