#!/usr/bin/env bash
# The Song et al. evaluation of docs/song.md: centre crops of ImageNet val, seed 0.
#   bash scripts/eval_song.sh 256   # 256x256, centre 128x128 hole: song2018 single- and
#                                   # multi-scale, context_encoder (telea, ns, biharmonic,
#                                   # patchmatch and deepfill come from eval_deepfill.sh's runs,
#                                   # the same images and hole)
#   bash scripts/eval_song.sh 512   # 512x512, centre 224x224 hole (the paper's Table 1):
#                                   # song2018 multi- and single-scale, deepfill, context_encoder,
#                                   # patchmatch, telea, ns
# LIMIT (default 50) images; DIR (default ../shared/datasets) is the
# datasets folder; SONG and CE_MODEL
# name the models (installed domains or .safetensors paths). Tables: `inpaintkit report table runs/eval_song_<size> ...` (docs/song.md).
set -euo pipefail
cd "$(dirname "$0")/.."
size="${1:-256}"
LIMIT="${LIMIT:-50}"
DIR="${DIR:-${SHARED:-../shared}/datasets}"  # the datasets folder (docs/data.md)
opts=(--opt "context_encoder.model=${CE_MODEL:-natural128_center}")
case "$size" in
  256)
    methods="song2018,song128=song2018,context_encoder"
    opts+=(--opt "song2018.scales=128,256" --opt "song128.scales=128")
    opts+=(--opt "song2018.model=${SONG:-natural128}" --opt "song128.model=${SONG:-natural128}")
    hole=() ;;
  512)
    methods="song2018,song128=song2018,deepfill,context_encoder,patchmatch,telea,ns"
    opts+=(--opt "song2018.scales=128,256,512" --opt "song128.scales=128")
    opts+=(--opt "song2018.model=${SONG:-natural128}" --opt "song128.model=${SONG:-natural128}")
    hole=(--mask-opt center.box=224,224) ;;
  *) echo "usage: $0 256|512" >&2; exit 2 ;;
esac
inpaintkit eval --data "$DIR/imagenet/val" --methods "$methods" --masks center \
  "${hole[@]}" --size "$size" --limit "$LIMIT" --seed 0 "${opts[@]}" \
  --out "runs/eval_song_${size}"
