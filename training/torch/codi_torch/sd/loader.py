"""Load an SD-class backbone (UNet + noise schedule) from a user's diffusers folder.

    folder/unet/config.json
    folder/unet/diffusion_pytorch_model.safetensors        (or .fp16.safetensors, or a sharded .safetensors.index.json)
    folder/unet/model.onnx (+ external data)               (an Optimum / diffusers ONNX export, when there are no safetensors)
    folder/scheduler/scheduler_config.json

Loading is all or nothing: the weights are checked against the network the config describes (every key present,
none left over, every shape right) before any is copied in, and any fault raises WeightsError naming the file.
Weights are converted to float32; autocast handles reduced precision during training.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Literal, Mapping, Sequence

import torch

from .config import SchedulerConfig, UNetConfig
from .errors import WeightsError
from .onnx_weights import read_onnx_initialisers_with_unmapped
from .safetensors_io import read_safetensors
from .unet import SDUNet

Source = Literal['safetensors', 'onnx']

SAFETENSORS_NAMES = ('diffusion_pytorch_model.safetensors', 'diffusion_pytorch_model.fp16.safetensors')
SHARD_INDEX = 'diffusion_pytorch_model.safetensors.index.json'
ONNX_NAME = 'model.onnx'


@dataclass
class Backbone:
    unet: SDUNet
    unet_config: UNetConfig
    scheduler: SchedulerConfig
    source: Source
    weights_path: Path


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding='utf-8'))
    except FileNotFoundError:
        raise WeightsError(f'{path}: not found (is this a diffusers model folder?)') from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise WeightsError(f'{path}: not readable JSON ({err})') from None


def _few(names: Sequence[str], n: int = 5) -> str:
    shown = ', '.join(names[:n])
    return f'{shown} (and {len(names) - n} more)' if len(names) > n else shown


def _read_sharded(index_path: Path) -> Dict[str, torch.Tensor]:
    index = _read_json(index_path)
    weight_map = index.get('weight_map') if isinstance(index, dict) else None
    if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
        raise WeightsError(f'{index_path}: has no "weight_map" of tensor names to shard files')
    tensors: Dict[str, torch.Tensor] = {}
    for shard in sorted(set(weight_map.values())):
        if Path(shard).name != shard:
            raise WeightsError(f'{index_path}: shard {shard!r} is not a file name in the same folder')
        tensors.update(read_safetensors(index_path.parent / shard))
    return tensors


def check_state_dict(unet: SDUNet, tensors: Mapping[str, torch.Tensor], path: Path, ignore_unexpected_non_params: bool = False,
                     note: str = '') -> Dict[str, torch.Tensor]:
    """The float32 state_dict for `unet`, or WeightsError listing missing/unexpected keys and wrong shapes."""
    expected = unet.state_dict()
    missing = [k for k in expected if k not in tensors]
    unexpected = [k for k in tensors if k not in expected
                  and not (ignore_unexpected_non_params and not k.endswith(('.weight', '.bias')))]
    wrong = [f'{k} is {list(tensors[k].shape)}, the config needs {list(v.shape)}'
             for k, v in expected.items() if k in tensors and tensors[k].shape != v.shape]
    problems: List[str] = []
    if missing:
        problems.append(f'{len(missing)} UNet weights missing: {_few(missing)}')
    if unexpected:
        problems.append(f'{len(unexpected)} unexpected weights: {_few(unexpected)}')
    if wrong:
        problems.append(f'{len(wrong)} weights of the wrong shape: {_few(wrong, 3)}')
    if problems:
        raise WeightsError(f'{path}: does not match unet/config.json: ' + '; '.join(problems) + note)
    out: Dict[str, torch.Tensor] = {}
    for k in expected:
        t = tensors[k]
        if not t.is_floating_point():
            raise WeightsError(f'{path}: weight {k} has dtype {t.dtype}, not a floating-point type')
        out[k] = t.to(torch.float32)
    return out


def load_backbone(folder: Path) -> Backbone:
    """The UNet (float32, eval mode) and noise schedule of a diffusers folder; WeightsError for anything it cannot load."""
    if not folder.is_dir():
        raise WeightsError(f'{folder}: not a folder')
    unet_dir = folder / 'unet'
    config_path = unet_dir / 'config.json'
    unet_config = UNetConfig.from_diffusers(_read_json(config_path), source=str(config_path))
    scheduler_path = folder / 'scheduler' / 'scheduler_config.json'
    scheduler = SchedulerConfig.from_diffusers(_read_json(scheduler_path), source=str(scheduler_path))

    source: Source
    note = ''
    safetensors = [unet_dir / n for n in SAFETENSORS_NAMES if (unet_dir / n).is_file()]
    if safetensors:
        weights_path, source = safetensors[0], 'safetensors'
        tensors = read_safetensors(weights_path)
    elif (unet_dir / SHARD_INDEX).is_file():
        weights_path, source = unet_dir / SHARD_INDEX, 'safetensors'
        tensors = _read_sharded(weights_path)
    elif (unet_dir / ONNX_NAME).is_file():
        weights_path, source = unet_dir / ONNX_NAME, 'onnx'
        tensors, unmapped = read_onnx_initialisers_with_unmapped(weights_path)
        if unmapped:
            note = (f' ({len(unmapped)} folded initialisers could not be traced to a module, e.g. {_few(unmapped, 3)}: '
                    'an onnxruntime-optimised graph (fused attention) cannot be read back; use the unoptimised export '
                    'or the PyTorch safetensors weights)')
    else:
        others = sorted(p.name for p in unet_dir.iterdir()) if unet_dir.is_dir() else []
        pickled = [n for n in others if n.endswith(('.bin', '.ckpt', '.pt'))]
        hint = (f'; {", ".join(pickled)} are pickled PyTorch weights, which are not loaded (they can run code): '
                'convert them to safetensors') if pickled else ''
        raise WeightsError(f'{unet_dir}: no UNet weights found (looked for {", ".join(SAFETENSORS_NAMES)}, {SHARD_INDEX}, '
                           f'{ONNX_NAME}){hint}')

    unet = SDUNet(unet_config)
    state = check_state_dict(unet, tensors, weights_path, ignore_unexpected_non_params=source == 'onnx', note=note)
    unet.load_state_dict(state, strict=True)
    unet.eval()
    return Backbone(unet=unet, unet_config=unet_config, scheduler=scheduler, source=source, weights_path=weights_path)
