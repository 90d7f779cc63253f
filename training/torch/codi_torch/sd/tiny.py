"""Tiny SD-config models with random weights, written in the real diffusers layout (for tests and CI).

SD 1.x and 2.x topology (4 levels: three cross-attention levels and a plain one, two resnets a level, the same
skips) at widths 8..32, so a full forward takes milliseconds. `prediction='epsilon'` gives an SD 1.x-like UNet
(attention_head_dim a single number, 1×1-conv projections); `'v_prediction'` an SD 2.x-like one (heads per level,
use_linear_projection), so both code paths are exercised. cross_attention_dim = 16 matches the engine's tiny
text encoder. The ONNX file is the plain UNet as `torch.onnx.export` writes it (inputs sample, timestep [B]
float32, encoder_hidden_states; output out_sample).

    python -m codi_torch.sd.tiny <folder> --format safetensors|onnx --prediction epsilon|v_prediction --seed N
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Dict, List, Literal, Optional

import torch

from .config import SchedulerConfig, UNetConfig
from .safetensors_io import write_safetensors
from .unet import SDUNet

Format = Literal['safetensors', 'onnx']
Prediction = Literal['epsilon', 'v_prediction']

TINY_CROSS_ATTENTION_DIM = 16
TINY_TEXT_LENGTH = 77
ONNX_OPSET = 17


def tiny_unet_config(prediction: Prediction = 'epsilon') -> UNetConfig:
    sd2 = prediction == 'v_prediction'
    return UNetConfig(
        in_channels=4,
        out_channels=4,
        down_block_types=('CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'),
        up_block_types=('UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'),
        block_out_channels=(8, 16, 32, 32),
        layers_per_block=2,
        norm_num_groups=4,
        norm_eps=1e-5,
        cross_attention_dim=TINY_CROSS_ATTENTION_DIM,
        heads=(1, 2, 4, 4) if sd2 else (2, 2, 2, 2),
        use_linear_projection=sd2,
        flip_sin_to_cos=True,
        freq_shift=0.0,
    )


def tiny_scheduler_config(prediction: Prediction = 'epsilon') -> SchedulerConfig:
    return SchedulerConfig(1000, 0.00085, 0.012, 'scaled_linear', prediction)


def tiny_unet(prediction: Prediction = 'epsilon', seed: int = 0) -> SDUNet:
    """A tiny SD UNet with PyTorch's default random init, and random norm affines too (1 ± 0.1, ±0.1), so a
    norm weight or bias loaded into the wrong place changes the output."""
    torch.manual_seed(seed)
    unet = SDUNet(tiny_unet_config(prediction))
    with torch.no_grad():
        for module in unet.modules():
            if isinstance(module, (torch.nn.GroupNorm, torch.nn.LayerNorm)):
                module.weight.copy_(1 + 0.1 * torch.randn_like(module.weight))
                module.bias.copy_(0.1 * torch.randn_like(module.bias))
    unet.eval()
    return unet


def export_unet_onnx(unet: SDUNet, path: Path, batch: int = 1, latent: int = 8, text: int = TINY_TEXT_LENGTH) -> None:
    """The plain UNet as ONNX: sample [B,4,h,w], timestep [B] float32, encoder_hidden_states [B,S,D] → out_sample.
    No constant folding, so every initialiser keeps its state_dict name (onnx_weights.py reads them back)."""
    cfg = unet.config
    inputs = (
        torch.zeros(batch, cfg.in_channels, latent, latent),
        torch.full((batch,), 500.0),
        torch.zeros(batch, text, cfg.cross_attention_dim),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        unet, inputs, str(path),
        input_names=['sample', 'timestep', 'encoder_hidden_states'],
        output_names=['out_sample'],
        dynamic_axes={'sample': {0: 'batch', 2: 'height', 3: 'width'}, 'timestep': {0: 'batch'},
                      'encoder_hidden_states': {0: 'batch', 1: 'sequence'}, 'out_sample': {0: 'batch', 2: 'height', 3: 'width'}},
        opset_version=ONNX_OPSET,
        do_constant_folding=False,
    )


def write_tiny_sd(folder: Path, fmt: Format, prediction: Prediction = 'epsilon', seed: int = 0) -> None:
    """unet/config.json + unet/diffusion_pytorch_model.safetensors (or unet/model.onnx) and
    scheduler/scheduler_config.json (SD's scaled_linear 0.00085..0.012, 1000 steps) under `folder`."""
    if fmt not in ('safetensors', 'onnx'):
        raise ValueError(f'unknown format {fmt!r}')
    unet = tiny_unet(prediction, seed)
    (folder / 'unet').mkdir(parents=True, exist_ok=True)
    (folder / 'scheduler').mkdir(parents=True, exist_ok=True)
    (folder / 'unet' / 'config.json').write_text(json.dumps(unet.config.to_diffusers(), indent=2) + '\n')
    (folder / 'scheduler' / 'scheduler_config.json').write_text(json.dumps(tiny_scheduler_config(prediction).to_diffusers(), indent=2) + '\n')
    if fmt == 'safetensors':
        write_safetensors(folder / 'unet' / 'diffusion_pytorch_model.safetensors', unet.state_dict(), {'format': 'pt'})
    else:
        export_unet_onnx(unet, folder / 'unet' / 'model.onnx')


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog='python -m codi_torch.sd.tiny', description='Write a tiny random SD-config diffusers folder.')
    parser.add_argument('folder', type=Path)
    parser.add_argument('--format', choices=['safetensors', 'onnx'], default='safetensors')
    parser.add_argument('--prediction', choices=['epsilon', 'v_prediction'], default='epsilon')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    fmt: Format = 'onnx' if args.format == 'onnx' else 'safetensors'
    prediction: Prediction = 'v_prediction' if args.prediction == 'v_prediction' else 'epsilon'
    write_tiny_sd(args.folder, fmt, prediction, args.seed)
    summary: Dict[str, object] = {'folder': str(args.folder), 'format': fmt, 'prediction': prediction, 'seed': args.seed}
    print(json.dumps(summary))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
