#!/usr/bin/env bash
# Continue the bundled song2018 natural128 G2 (Feature2Image) with a recipe, in stages of CPU
# minutes, and score every stage at the paper's Table 1 setting (docs/efficient_training.md):
#   bash scripts/song_f2i_study.sh train efficient   # preset=efficient (EMA, perceptual, style)
#   bash scripts/song_f2i_study.sh train paper       # the paper's recipe, the same budget
#   bash scripts/song_f2i_study.sh train-g1 efficient  # G1 (Image2Feature) instead, joined with
#                                                    # the bundled G2
#   bash scripts/song_f2i_study.sh eval              # every stage + G1 vs the classical methods
# SHARED (../shared) holds the datasets; PHOTOS (runs/data/photos, scripts/fetch_photos.py)
# the photo tiles; OUT (runs/song_f2i_eff) the runs; STAGES (3) x STAGE_CPU (12) the budget;
# LIMIT (50) ImageNet val images at 512 px with the centre 224 hole. One thread per job.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${SHARED:-../shared}"; PHOTOS="${PHOTOS:-runs/data/photos}"; OUT="${OUT:-runs/song_f2i_eff}"
STAGES="${STAGES:-3}"; STAGE_CPU="${STAGE_CPU:-12}"; LIMIT="${LIMIT:-50}"
DATA="$SHARED/datasets/imagenet/train+dtd:$SHARED/datasets/dtd/train+$PHOTOS/train"
export OMP_NUM_THREADS=1
parts() {  # the bundled model's G1 and G2 as exports (G2 is where training starts)
  [ -f "$OUT/parts/G2.safetensors" ] || inpaintkit weights split-song song2018_natural128 --out "$OUT/parts"
}

train_one() {
  local name=$1 stage resume
  parts
  for stage in $(seq 1 "$STAGES"); do
    [ -f "$OUT/$name/export_$stage/song-f2i.safetensors" ] && continue
    resume=(); [ -d "$OUT/$name/checkpoints" ] && resume=(--resume)
    inpaintkit train song-f2i --data "$DATA" --data-opt short_side=144 --cache \
      --out "$OUT/$name" "${resume[@]}" --steps 1000000 --batch-size 8 --precision bf16 \
      --channels-last --workers 0 --ckpt-every 100000 --keep-last 1 --sample-every 0 \
      --max-cpu-minutes "$STAGE_CPU" --no-progress --set recipe.model.image_size=128 \
      --set recipe.model.ngf=16 --set recipe.model.ndf=32 --set "recipe.preset=$name" \
      --set "recipe.init_from=$OUT/parts/G2.safetensors" > "$OUT/$name.stage$stage.log" 2>&1
    cp -r "$OUT/$name/export" "$OUT/$name/export_$stage"
    inpaintkit weights combine-song "$OUT/parts/G1.safetensors" \
      "$OUT/$name/export_$stage/song-f2i.safetensors" --out "$OUT/combined/${name}_$stage.safetensors" --force
  done
}

train_g1() {  # the same for G1 (song-i2f) from the bundled G1, joined with the bundled G2
  local name=$1 stage resume
  parts
  for stage in $(seq 1 "$STAGES"); do
    [ -f "$OUT/g1_$name/export_$stage/song-i2f.safetensors" ] && continue
    resume=(); [ -d "$OUT/g1_$name/checkpoints" ] && resume=(--resume)
    inpaintkit train song-i2f --data "$DATA" --data-opt short_side=144 --cache \
      --out "$OUT/g1_$name" "${resume[@]}" --steps 1000000 --batch-size 8 --precision bf16 \
      --channels-last --workers 0 --ckpt-every 100000 --keep-last 1 --sample-every 0 \
      --max-cpu-minutes "$STAGE_CPU" --no-progress --set recipe.model.image_size=128 \
      --set recipe.model.ngf=16 --set recipe.model.ndf=32 --set "recipe.preset=$name" \
      --set "recipe.init_from=$OUT/parts/G1.safetensors" > "$OUT/g1_$name.stage$stage.log" 2>&1
    cp -r "$OUT/g1_$name/export" "$OUT/g1_$name/export_$stage"
    inpaintkit weights combine-song "$OUT/g1_$name/export_$stage/song-i2f.safetensors" \
      "$OUT/parts/G2.safetensors" --out "$OUT/combined/g1_${name}_$stage.safetensors" --force
  done
}

case "${1:-train}" in
  train) shift || true; mkdir -p "$OUT"; for name in "${@:-efficient}"; do train_one "$name"; done ;;
  train-g1) shift || true; mkdir -p "$OUT"; for name in "${@:-efficient}"; do train_g1 "$name"; done ;;
  eval)
    methods=(song2018); opts=(--opt song2018.model=natural128 --opt song2018.scales=128)
    for f in "$OUT"/combined/*.safetensors; do
      [ -f "$f" ] || continue; n=$(basename "$f" .safetensors)
      methods+=("$n=song2018"); opts+=(--opt "$n.model=$f" --opt "$n.scales=128")
    done
    m=$(IFS=,; echo "${methods[*]}")
    inpaintkit eval --data "$SHARED/datasets/imagenet/val" --methods "$m,patchmatch,telea,ns" \
      --masks center --mask-opt center.box=224,224 --size 512 --limit "$LIMIT" --seed 0 \
      "${opts[@]}" --out "$OUT/eval" ${RESUME:+--resume} ;;
  *) echo "usage: $0 train|train-g1 [efficient|paper ...] | eval" >&2; exit 2 ;;
esac
