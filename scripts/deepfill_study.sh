#!/usr/bin/env bash
# The controlled recipe study of docs/training.md ("Quality per CPU-hour"): every variant
# continues the bundled deepfill natural128 generator (fresh critics) on the same data, seed,
# masks and CPU budget, changing one thing at a time, and exports a snapshot after every
# stage of STAGE_CPU CPU-minutes (one thread per job, two jobs side by side):
#   bash scripts/deepfill_study.sh train [VARIANT ...]   # default: every variant
#   bash scripts/deepfill_study.sh eval                  # score every snapshot (validation)
# SHARED (../shared) holds the datasets; PHOTOS (runs/data/photos, scripts/fetch_photos.py)
# the photo tiles; OUT (runs/study) the runs; STAGES (2) x STAGE_CPU (3) the budget; LIMIT
# (100) validation images (ImageNet val, 256 px centre crops: no run trains on them); SIZE (128)
# the training crop (256 continues INIT at the paper's size: e.g. INIT=.../deepfill_natural256).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${SHARED:-../shared}"; PHOTOS="${PHOTOS:-runs/data/photos}"; OUT="${OUT:-runs/study}"
STAGES="${STAGES:-2}"; STAGE_CPU="${STAGE_CPU:-3}"; LIMIT="${LIMIT:-100}"; SIZE="${SIZE:-128}"
INIT="${INIT:-src/inpaintkit/weights/deepfill_natural128.safetensors}"
DATA="$SHARED/datasets/imagenet/train+dtd:$SHARED/datasets/dtd/train+$PHOTOS/train"
# every variant: the new training holes (objects + thin + strokes + boxes), 1 critic step
COMMON=(--set "recipe.image_size=$SIZE" --set recipe.critic_steps=1 --set recipe.free_form=0.5
        --set recipe.objects=0.4 --set recipe.thin=0.15 --set "recipe.init_from=$INIT")
declare -A V=(
  [base]=""
  [ema]="recipe.ema_decay=0.999"
  [perc]="recipe.perceptual_weight=0.1"
  [style]="recipe.perceptual_weight=0.1 recipe.style_weight=20"
  [snpatch]="recipe.critic=sn-patchgan recipe.adv_weight=0.01"
  [snpatch_fm]="recipe.critic=sn-patchgan recipe.adv_weight=0.01 recipe.fm_weight=10"
  [critic5]="recipe.critic_steps=5"
  [efficient]="recipe.preset=efficient"
  [perc3]="recipe.preset=efficient recipe.perceptual_weight=0.3 recipe.style_weight=300"
)
ORDER=(base ema perc style snpatch snpatch_fm critic5 efficient perc3)

train_one() {
  local name=$1 sets=() s
  for s in ${V[$name]}; do sets+=(--set "$s"); done
  for stage in $(seq 1 "$STAGES"); do
    [ -f "$OUT/$name/export_$stage/deepfill.safetensors" ] && continue
    local resume=(); [ -d "$OUT/$name/checkpoints" ] && resume=(--resume)
    OMP_NUM_THREADS=1 inpaintkit train deepfill --data "$DATA" --data-opt "short_side=$((SIZE * 9 / 8))" --cache \
      --out "$OUT/$name" "${resume[@]}" --steps 1000000 --batch-size 8 --precision bf16 \
      --channels-last --workers 0 --ckpt-every 100000 --keep-last 1 --sample-every 0 \
      --max-cpu-minutes "$STAGE_CPU" --no-progress "${COMMON[@]}" "${sets[@]}" \
      > "$OUT/$name.stage$stage.log" 2>&1
    cp -r "$OUT/$name/export" "$OUT/$name/export_$stage"
  done
}

case "${1:-train}" in
  train)
    shift || true; names=("$@"); [ ${#names[@]} -eq 0 ] && names=("${ORDER[@]}")
    mkdir -p "$OUT"
    for ((i = 0; i < ${#names[@]}; i += 2)); do  # two single-threaded jobs side by side
      train_one "${names[i]}" & [ -n "${names[i+1]:-}" ] && train_one "${names[i+1]}"; wait
    done ;;
  eval)
    methods=(deepfill); opts=(--opt "deepfill.model=$INIT")
    for name in "${ORDER[@]}"; do
      for stage in $(seq 1 "$STAGES"); do
        f="$OUT/$name/export_$stage/deepfill.safetensors"; [ -f "$f" ] || continue
        methods+=("${name}_$stage=deepfill"); opts+=(--opt "${name}_$stage.model=$f")
      done
    done
    m=$(IFS=,; echo "${methods[*]}")
    inpaintkit eval --data "$SHARED/datasets/imagenet/val" --methods "$m,telea,ns,patchmatch" \
      --masks "${MASKS:-center,objects}" --size 256 --limit "$LIMIT" --seed 0 "${opts[@]}" \
      --out "$OUT/eval" ${RESUME:+--resume} ;;
  *) echo "usage: $0 train [VARIANT ...] | eval" >&2; exit 2 ;;
esac
