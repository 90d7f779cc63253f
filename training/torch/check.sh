#!/usr/bin/env bash
# `npm run test:py`: flake8, mypy and pytest of the PyTorch engine (training/torch), with the
# Python the engine itself would use: CODI_PYTHON, else python3, else /usr/bin/python3 — the
# first that imports torch. No such Python: say so and skip (npm test stays green without one).
set -uo pipefail
cd "$(dirname "$0")"
pick=""
if [ -n "${CODI_PYTHON:-}" ]; then
  candidates=("$CODI_PYTHON")
else
  candidates=(python3 /usr/bin/python3)
fi
for py in "${candidates[@]}"; do
  if "$py" -c 'import torch' >/dev/null 2>&1; then pick="$py"; break; fi
done
if [ -z "$pick" ]; then
  echo "test:py skipped: no Python with torch (tried ${candidates[*]}); on Debian: apt-get install python3-torch python3-pytest mypy flake8"
  exit 0
fi
echo "test:py with $pick ($("$pick" -c 'import torch; print("torch", torch.__version__)'))"
status=0
for tool in flake8 mypy pytest; do
  if ! "$pick" -c "import $tool" >/dev/null 2>&1; then
    echo "test:py: $pick lacks $tool (apt-get install python3-pytest mypy flake8)"
    status=1
    continue
  fi
done
[ "$status" -eq 0 ] || exit 1
# build/quantize holds the int8 graph rewrites (onnx only), linted and typed with the engine
"$pick" -m flake8 codi_torch tests ../../build/quantize && "$pick" -m mypy codi_torch tests ../../build/quantize && "$pick" -m pytest -q -p no:cacheprovider
