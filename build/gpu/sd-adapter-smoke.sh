#!/usr/bin/env bash
# GPU smoke test of the SD PE-CoDi trainer (issue 22), for a lent CUDA machine; ~5 minutes on one H100.
#   1. a tiny SD-config backbone (4 levels, random weights) trained 20 steps on CUDA in bf16 with gradient
#      checkpointing, checkpointed, resumed and exported (proves the GPU path end to end);
#      10 steps + resume 10 is compared with 20 straight steps (exact on CPU; on CUDA it reports the difference);
#   2. the throughput of a PE-CoDi step on an SD-1.5-sized UNet (860 M parameters, random weights) with its
#      adapter, at 512 px (64×64 latents, 77 text tokens), bf16: samples/s and the fraction of the GPU's bf16 peak
#      (model FLOPs counted by codi_torch/sd/bench.py), without and with gradient checkpointing.
# Run from the repository root:  bash build/gpu/sd-adapter-smoke.sh [OUT_DIR]   (results in OUT_DIR, default $OUT or ./sd-smoke)
set -uo pipefail
cd "$(dirname "$0")/../.."
out="${1:-${OUT:-sd-smoke}}"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PYTHONPATH="$PWD/training/torch"

py=""
for cand in ${CODI_PYTHON:-} python3 /usr/bin/python3; do
  if "$cand" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; then py="$cand"; break; fi
done
if [ -z "$py" ]; then echo "no Python with CUDA torch found (set CODI_PYTHON)"; exit 1; fi
"$py" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0))' | tee "$out/device.txt"
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,power.limit --format=csv >> "$out/device.txt" 2>&1 || true
"$py" -c 'import onnx' 2>/dev/null || echo "note: no onnx module; the export step needs it (pip install onnx)" | tee -a "$out/device.txt"

echo "== 1. tiny backbone, CUDA bf16, 20 steps"
"$py" -m codi_torch.sd.tiny "$work/bb" --format safetensors --prediction epsilon --seed 0 > /dev/null
"$py" -c "from pathlib import Path; from codi_torch.sd.dataset import write_tiny_dataset; write_tiny_dataset(Path('$work/data'), 'inpaint', count=16, size=16, text_len=77, text_dim=16)"
common=(--backbone "$work/bb" --data "$work/data" --task inpaint --batch 4 --lr 1e-3 --mu-lr-scale 10 --seed 1 --device cuda --precision bf16 --grad-checkpointing --log-every 5)
timeout 240 "$py" -m codi_torch.sd.train "${common[@]}" --out "$work/straight" --steps 20 --pack "$work/bb" | tee "$out/tiny-train.jsonl"
timeout 120 "$py" -m codi_torch.sd.train "${common[@]}" --out "$work/split" --steps 10 --checkpoint-every 10 --no-export > "$out/tiny-split.jsonl"
timeout 120 "$py" -m codi_torch.sd.train "${common[@]}" --out "$work/split" --steps 20 --resume --no-export >> "$out/tiny-split.jsonl"
"$py" - "$work" <<'PY' | tee "$out/tiny-resume.json"
import json, sys
from pathlib import Path
from codi_torch.sd.train import latest_checkpoint, read_checkpoint
w = Path(sys.argv[1])
a, b = (read_checkpoint(latest_checkpoint(w / f"{n}.run")) for n in ("straight", "split"))
diff = max(float((a["adapter"][k] - b["adapter"][k]).abs().max()) for k in a["adapter"])
print(json.dumps({"steps": [a["state"]["step"], b["state"]["step"]], "maxAbsDiffAdapter": diff, "exact": diff == 0.0,
                  "exported": (w / "straight" / "codi_adapter" / "codi_adapter.json").is_file(),
                  "muMaxAbs": float(a["adapter"]["mu"].abs().max())}))
PY

echo "== 2. SD-1.5-sized UNet + adapter, 512 px, bf16"
"$py" -c "import json; from tests.sd_configs import SD15; json.dump(SD15, open('$work/sd15.json', 'w'))"
timeout 200 "$py" -m codi_torch.sd.bench --unet-config "$work/sd15.json" --latent 64 --text 77 --batch 8 --steps 8 --precision bf16 | tee "$out/sd15-bf16-b8.json"
timeout 200 "$py" -m codi_torch.sd.bench --unet-config "$work/sd15.json" --latent 64 --text 77 --batch 16 --steps 6 --precision bf16 --grad-checkpointing | tee "$out/sd15-bf16-b16-ckpt.json"
echo "done: results in $out"
