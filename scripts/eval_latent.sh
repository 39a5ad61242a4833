#!/usr/bin/env bash
# The latent-search measurement of docs/latent_search.md: the latent-search methods beside the classical baselines at 64x64 on
# held-out images of each domain, with Yeh's four masks and Vitoria's three squares.
#   bash scripts/eval_latent.sh celeba [LIMIT]     (also: cars, housenumbers)
#   NEAREST_LIMIT=8192 bash scripts/eval_latent.sh housenumbers 64   (a smaller nearest library:
#   the synthetic set renders at ~80 items/s on 2 cores)
# Writes runs/eval-<domain>64/{summary.md,per_image.csv,grid_<mask>.png} (OUT: another folder).
# METHODS replaces the method list; YEH_MODEL / VITORIA_MODEL name another model (a domain or a
# .safetensors path), e.g. a run's export before it is bundled:
#   METHODS=vitoria2019 VITORIA_MODEL=runs/wgan-celeba64/export/wgan_resnet.safetensors \
#     OUT=runs/eval-celeba64-vitoria bash scripts/eval_latent.sh celeba 256
# MASKS replaces the mask list (e.g. MASKS=center). EXTRA adds eval arguments, e.g. EXTRA=--resume to extend a folder's run to more images
# (only the missing rows are computed): the 780-face table of docs/latent_search.md ran
#   OUT=runs/eval-celeba64 EXTRA=--resume METHODS=yeh2017,tv,lowrank,biharmonic,telea,ns,patchmatch,nearest \
#     bash scripts/eval_latent.sh celeba 780
# on an earlier 256-face folder (and METHODS=vitoria2019 on runs/eval-celeba64-vitoria).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${DIR:-${SHARED:-../shared/datasets}}  # the datasets folder (docs/data.md)
domain=$1
limit=${2:-256}
case $domain in
  celeba) data="celeba:$DIR/celeba/align_178x218/val"
          train="celeba:$DIR/celeba/align_178x218/train+celeba:$DIR/celeba/align_89x109/train" ;;
  cars) data="cars:runs/data/cars/val"; train="cars:runs/data/cars/train" ;;  # scripts/split_cars.py
  housenumbers) data="housenumbers:$DIR/dtd/train"; train="$data" ;;
  *) echo "unknown domain $domain (celeba, cars, housenumbers)"; exit 2 ;;
esac
methods=${METHODS:-yeh2017,vitoria2019,tv,lowrank,biharmonic,telea,ns,patchmatch,nearest}
opts=()  # --opt only for the methods that run (eval refuses options of absent methods)
[[ ,$methods, == *,yeh2017,* ]] && opts+=(--opt "yeh2017.model=${YEH_MODEL:-${domain}64}" --opt "yeh2017.preset=${PRESET:-fast}")
[[ ,$methods, == *,vitoria2019,* ]] && opts+=(--opt "vitoria2019.model=${VITORIA_MODEL:-${domain}64}" --opt "vitoria2019.preset=${PRESET:-fast}")
[[ ,$methods, == *,nearest,* ]] && opts+=(--opt "nearest.data=$train" ${NEAREST_LIMIT:+--opt "nearest.limit=$NEAREST_LIMIT"})
inpaintkit eval --data "$data" --split val --size 64 --limit "$limit" --seed 0 \
  --methods "$methods" --masks "${MASKS:-center,pattern,random80,half,three_squares}" "${opts[@]}" \
  --out "${OUT:-runs/eval-${domain}64}" ${EXTRA:-}
