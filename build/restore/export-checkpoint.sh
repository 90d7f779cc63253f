#!/usr/bin/env bash
# Export one checkpoint of a running (or finished) restore training run as a pack, without touching
# the run: the checkpoint is copied into a scratch run folder and "resumed" to its own step, which
# only exports. Used for the val curve of the model card (build/restore/restore-val.ts on each).
#   bash build/restore/export-checkpoint.sh RUN_DIR STEP OUT_PACK NAME DATA RESIDUAL_SCALE [METHOD [EXTRA ARGS…]]
set -euo pipefail
run=$1 step=$2 out=$3 name=$4 data=$5 k=$6 method=${7:-pe-codi}
shift $(( $# < 7 ? $# : 7 ))
dir=$(printf 'step-%08d' "$step")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/checkpoints"
cp -r "$run/checkpoints/$dir" "$tmp/checkpoints/"
printf '{"step":%d,"dir":"checkpoints/%s"}\n' "$step" "$dir" > "$tmp/latest.json"
node bin/codi.mjs train --engine torch --threads 1 --task restore --method "$method" --backbone native-models/codi-backbone \
  --batch 16 --lr 2e-3 --warmup 20 --mu-lr-scale 40 --t-sampling per-sample --residual condition --crop 32 \
  --data "$data" --residual-scale "$k" --steps "$step" --resume --run-dir "$tmp" --out "$out" --name "$name" --checkpoint-every 500 "$@" >/dev/null
