#!/usr/bin/env bash
# Issue 4's measurement: the latent-search methods beside the classical baselines at 64x64 on
# held-out images of each domain, with Yeh's four masks and Vitoria's three squares.
#   bash scripts/eval_latent.sh celeba [LIMIT]     (also: cars, housenumbers)
#   NEAREST_LIMIT=8192 bash scripts/eval_latent.sh housenumbers 64   (a smaller nearest library:
#   the synthetic set renders at ~80 items/s on 2 cores)
# Writes runs/eval-<domain>64/{summary.md,per_image.csv,grid_<mask>.png}.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared/datasets}
domain=$1
limit=${2:-256}
case $domain in
  celeba) data="celeba:$SHARED/celeba/align_178x218/val"
          train="celeba:$SHARED/celeba/align_178x218/train+celeba:$SHARED/celeba/align_89x109/train" ;;
  cars) data="cars:runs/data/cars/val"; train="cars:runs/data/cars/train" ;;  # scripts/split_cars.py
  housenumbers) data="housenumbers:$SHARED/dtd/train"; train="$data" ;;
  *) echo "unknown domain $domain (celeba, cars, housenumbers)"; exit 2 ;;
esac
methods=${METHODS:-yeh2017,vitoria2019,tv,lowrank,biharmonic,telea,ns,patchmatch,nearest}
inpaintkit eval --data "$data" --split val --size 64 --limit "$limit" --seed 0 \
  --methods "$methods" --masks center,pattern,random80,half,three_squares \
  --opt yeh2017.model="${domain}64" --opt yeh2017.preset="${PRESET:-fast}" \
  $( [[ $methods == *vitoria2019* ]] && echo "--opt vitoria2019.model=${domain}64 --opt vitoria2019.preset=${PRESET:-fast}" ) \
  --opt nearest.data="$train" ${NEAREST_LIMIT:+--opt nearest.limit=$NEAREST_LIMIT} --out "runs/eval-${domain}64"
