"""Fixtures for the torch ↔ ONNX Runtime parity test of the SD UNet (tests/diffusers/sd-unet-parity.test.ts).

For each tiny config (SD 1.x-like ε, SD 2.x-like v) it writes `<out>/<prediction>/` — a tiny diffusers folder with
unet/model.onnx (tiny.py's export) — and `<out>/<prediction>/parity/`: fixed inputs and the torch UNet's output as
raw little-endian float32 (sample.f32 [2,4,16,16], timestep.f32 [2], encoder_hidden_states.f32 [2,77,16],
out_sample.f32) with parity.json giving the shapes. The inputs differ in batch and latent size from the traced
ones, so the export's dynamic axes are exercised too. It also loads the ONNX folder back with load_backbone and
fails unless that UNet reproduces the generated one bit for bit (the initialisers map back to every key).

    python -m codi_torch.sd.parity <out> [--seed N] [--prediction epsilon|v_prediction ...]
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Dict, List, Optional

import torch

from .loader import load_backbone
from .tiny import TINY_TEXT_LENGTH, Prediction, tiny_unet, write_tiny_sd

PREDICTIONS: List[Prediction] = ['epsilon', 'v_prediction']
TIMESTEPS = [37.0, 901.0]


def _write_f32(path: Path, t: torch.Tensor) -> None:
    path.write_bytes(t.detach().to(torch.float32).contiguous().numpy().astype('<f4').tobytes())


def write_parity_case(folder: Path, prediction: Prediction, seed: int) -> Dict[str, object]:
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # the tracer's notes on Python-side shape checks
        write_tiny_sd(folder, 'onnx', prediction, seed)
    unet = tiny_unet(prediction, seed)
    g = torch.Generator().manual_seed(seed + 100)
    cfg = unet.config
    inputs = {
        'sample': torch.randn(2, cfg.in_channels, 16, 16, generator=g),
        'timestep': torch.tensor(TIMESTEPS),
        'encoder_hidden_states': torch.randn(2, TINY_TEXT_LENGTH, cfg.cross_attention_dim, generator=g),
    }
    with torch.no_grad():
        out = unet(inputs['sample'], inputs['timestep'], inputs['encoder_hidden_states'])
        reloaded = load_backbone(folder).unet(inputs['sample'], inputs['timestep'], inputs['encoder_hidden_states'])
    if not torch.equal(reloaded, out):
        raise SystemExit(f'{folder}: the UNet loaded back from unet/model.onnx differs from the exported one '
                         f'(max |Δ| {float((reloaded - out).abs().max()):.3g})')
    parity = folder / 'parity'
    parity.mkdir(exist_ok=True)
    shapes: Dict[str, List[int]] = {}
    for name, t in {**inputs, 'out_sample': out}.items():
        _write_f32(parity / f'{name}.f32', t)
        shapes[name] = list(t.shape)
    (parity / 'parity.json').write_text(json.dumps({'prediction': prediction, 'shapes': shapes}, indent=2) + '\n')
    return {'prediction': prediction, 'folder': str(folder), 'outAbsMax': float(out.abs().max())}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog='python -m codi_torch.sd.parity', description=__doc__.split('\n\n')[0] if __doc__ else None)
    parser.add_argument('out', type=Path)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--prediction', choices=PREDICTIONS, action='append',
                        help='only this config (repeatable; default: both). One process per config lets the exports run in parallel.')
    args = parser.parse_args(argv)
    chosen: List[Prediction] = args.prediction or PREDICTIONS
    cases = [write_parity_case(args.out / p, p, args.seed) for p in chosen]
    sys.stdout.write(json.dumps({'cases': cases}) + '\n')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
