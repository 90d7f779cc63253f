"""Small SD-config backbones and encoded data sets for the SD training tests (CPU, seconds).

The tiny model of codi_torch/sd/tiny.py has SD's four levels; tracing it for ONNX takes torch
1.13 ~20 s of CPU, so the training and export tests use the same block types at two levels
(one cross-attention level, one plain), which exports in ~1 s.

    python -m tests.sd_fixtures FOLDER [--prediction epsilon|v_prediction] [--task inpaint|restore|edit] [--seed N]
writes FOLDER/backbone (a diffusers folder with safetensors weights and stand-ins for the ONNX
pipeline parts the export copies) and FOLDER/data (an encoded data set for the task).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import List, Optional

import torch

from codi_torch.sd.config import UNetConfig
from codi_torch.sd.dataset import write_tiny_dataset
from codi_torch.sd.safetensors_io import write_safetensors
from codi_torch.sd.tiny import tiny_scheduler_config, tiny_unet_config
from codi_torch.sd.unet import SDUNet


def small_unet_config(prediction: str = "epsilon") -> UNetConfig:
    return dataclasses.replace(
        tiny_unet_config("v_prediction" if prediction == "v_prediction" else "epsilon"),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        block_out_channels=(8, 16), layers_per_block=1, heads=(2, 2),
    )


def write_small_sd(folder: Path, prediction: str = "epsilon", seed: int = 0, pipeline_parts: bool = True) -> None:
    torch.manual_seed(seed)
    unet = SDUNet(small_unet_config(prediction))
    (folder / "unet").mkdir(parents=True, exist_ok=True)
    (folder / "scheduler").mkdir(parents=True, exist_ok=True)
    (folder / "unet" / "config.json").write_text(json.dumps(unet.config.to_diffusers(), indent=2))
    sched = tiny_scheduler_config("v_prediction" if prediction == "v_prediction" else "epsilon")
    (folder / "scheduler" / "scheduler_config.json").write_text(json.dumps(sched.to_diffusers(), indent=2))
    write_safetensors(folder / "unet" / "diffusion_pytorch_model.safetensors", unet.state_dict(), {"format": "pt"})
    if pipeline_parts:
        for part in ("vae_encoder", "vae_decoder", "text_encoder"):
            (folder / part).mkdir(exist_ok=True)
            (folder / part / "model.onnx").write_bytes(f"stand-in for {part}".encode())
        (folder / "tokenizer").mkdir(exist_ok=True)
        (folder / "tokenizer" / "vocab.json").write_text("{}")
        (folder / "model_index.json").write_text(json.dumps({"_class_name": "OnnxStableDiffusionPipeline"}))


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.sd_fixtures")
    p.add_argument("folder", type=Path)
    p.add_argument("--prediction", choices=["epsilon", "v_prediction"], default="epsilon")
    p.add_argument("--task", choices=["inpaint", "restore", "edit"], default="inpaint")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    write_small_sd(a.folder / "backbone", a.prediction, a.seed)
    write_tiny_dataset(a.folder / "data", a.task, count=8, size=8, seed=a.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
