"""Throughput of a PE-CoDi training step on an SD-class UNet with random weights.

    python -m codi_torch.sd.bench --unet-config unet/config.json [--latent 64] [--text 77] [--batch 8]
        [--steps 10] [--precision bf16] [--grad-checkpointing] [--device cuda] [--peak-tflops X]

Prints one JSON object: samples/s, seconds per step, the model FLOPs of a step per sample and the
fraction of the device's peak they reach. FLOPs are counted, not measured: forward hooks add up
2·MACs of every convolution, linear layer and attention product of one forward of the backbone
and of the branch, and a step is taken as 3 backbone + 4 branch forwards (online forward, its
backward — input gradients only through the frozen backbone, input and weight gradients through
the branch — and the EMA target's forward), plus one more of each with gradient checkpointing.
Norms, activations and the optimiser are left out, so the fraction slightly flatters nothing.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

import torch
from torch import nn

from .adapter import CoDiAdapter
from .config import SchedulerConfig, UNetConfig
from .dataset import EncodedDataset, write_tiny_dataset
from .loader import Backbone
from .train import Distributed, RunConfig, SDTrainer
from .unet import Attention, SDUNet

# dense bf16 tensor-core peaks (TFLOP/s) from the vendors' data sheets, by device-name fragment
BF16_PEAK_TFLOPS = {"H200": 989.0, "H100 SXM": 989.0, "H100 80GB HBM3": 989.0, "H100 PCIe": 756.0, "H100 NVL": 835.0, "A100": 312.0}


def forward_flops(module: nn.Module, run: Callable[[], Any]) -> float:
    """2·MACs of convolutions, linear layers and attention products during `run()`."""
    total = [0.0]
    hooks: List[Any] = []

    def conv(m: nn.Module, _inp: Any, out: torch.Tensor) -> None:
        assert isinstance(m, nn.Conv2d)
        k = m.kernel_size[0] * m.kernel_size[1] * (m.in_channels // m.groups)
        total[0] += 2.0 * out.numel() * k

    def linear(m: nn.Module, _inp: Any, out: torch.Tensor) -> None:
        assert isinstance(m, nn.Linear)
        total[0] += 2.0 * out.numel() * m.in_features

    def attention(m: nn.Module, inp: Sequence[Any], _out: Any) -> None:
        assert isinstance(m, Attention)
        x = inp[0]
        ctx = inp[1] if len(inp) > 1 and inp[1] is not None else x
        inner = m.to_q.out_features
        total[0] += 2 * 2.0 * x.shape[0] * x.shape[1] * ctx.shape[1] * inner  # QKᵀ and AV

    for sub in module.modules():
        if isinstance(sub, nn.Conv2d):
            hooks.append(sub.register_forward_hook(conv))
        elif isinstance(sub, nn.Linear):
            hooks.append(sub.register_forward_hook(linear))
        elif isinstance(sub, Attention):
            hooks.append(sub.register_forward_hook(attention))
    try:
        with torch.no_grad():
            run()
    finally:
        for h in hooks:
            h.remove()
    return total[0]


def peak_tflops(device: torch.device, override: Optional[float]) -> Optional[float]:
    if override is not None:
        return override
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    for fragment, peak in BF16_PEAK_TFLOPS.items():
        if fragment in name:
            return peak
    return None


def counted_flops(unet: SDUNet, latent: int, text: int, condition_channels: int, device: torch.device) -> tuple[float, float]:
    """Forward FLOPs of the backbone and of a branch on it, one sample."""
    cfg = unet.config
    g = torch.Generator().manual_seed(0)
    z = torch.randn(1, cfg.in_channels, latent, latent, generator=g).to(device)
    t = torch.full((1,), 500.0, device=device)
    ehs = torch.randn(1, text, cfg.cross_attention_dim, generator=g).to(device)
    cond = torch.randn(1, condition_channels, latent, latent, generator=g).to(device)
    branch = CoDiAdapter(unet, condition_channels)
    return forward_flops(unet, lambda: unet(z, t, ehs)), forward_flops(branch, lambda: branch(z, t, ehs, cond))


def bench(config: UNetConfig, latent: int, text: int, batch: int, steps: int, precision: str, grad_checkpointing: bool, device: torch.device,
          peak: Optional[float], warmup: int = 2, task: str = "inpaint") -> Dict[str, Any]:
    torch.manual_seed(0)
    unet = SDUNet(config).to(device)
    scheduler = SchedulerConfig(1000, 0.00085, 0.012, "scaled_linear", "epsilon")
    backbone = Backbone(unet=unet, unet_config=config, scheduler=scheduler, source="safetensors", weights_path=Path("random"))
    f_unet, f_branch = counted_flops(unet, latent, text, 5 if task == "inpaint" else 4, device)
    per_sample = (3 + (1 if grad_checkpointing else 0)) * f_unet + (4 + (1 if grad_checkpointing else 0)) * f_branch
    with tempfile.TemporaryDirectory() as tmp:
        write_tiny_dataset(Path(tmp), task, count=batch, size=latent, text_len=text, text_dim=config.cross_attention_dim)
        cfg = RunConfig(backbone="random", data=tmp, task=task, batch=batch, lr=1e-5, precision=precision, grad_checkpointing=grad_checkpointing)
        trainer = SDTrainer(cfg, backbone, EncodedDataset(Path(tmp)), device, Distributed())

        def sync() -> None:
            if device.type == "cuda":
                torch.cuda.synchronize(device)

        for _ in range(warmup):
            trainer.train_step()
        sync()
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        t0 = time.perf_counter()
        for _ in range(steps):
            trainer.train_step()
        sync()
        seconds = (time.perf_counter() - t0) / steps
    sps = batch / seconds
    achieved = per_sample * sps / 1e12
    out: Dict[str, Any] = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch": torch.__version__, "precision": precision, "gradCheckpointing": grad_checkpointing,
        "latent": latent, "text": text, "batch": batch, "steps": steps,
        "backboneParams": sum(p.numel() for p in unet.parameters()),
        "trainableParams": sum(p.numel() for p in trainer.adapter.parameters()),
        "forwardGflopsBackbone": f_unet / 1e9, "forwardGflopsBranch": f_branch / 1e9,
        "stepGflopsPerSample": per_sample / 1e9,
        "secondsPerStep": seconds, "samplesPerSec": sps, "achievedTflops": achieved,
    }
    if device.type == "cuda":
        out["peakMemoryGiB"] = torch.cuda.max_memory_allocated(device) / 2 ** 30
    if peak is not None:
        out["peakTflops"] = peak
        out["fractionOfPeak"] = achieved / peak
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m codi_torch.sd.bench", description="PE-CoDi step throughput on a random SD-class UNet")
    p.add_argument("--unet-config", required=True, type=Path, help="a diffusers unet/config.json")
    p.add_argument("--latent", type=int, default=64)
    p.add_argument("--text", type=int, default=77)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--precision", choices=["fp32", "bf16"], default="bf16")
    p.add_argument("--grad-checkpointing", action="store_true")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--peak-tflops", type=float, default=None, help="the device's dense peak for --precision (default: known GPUs' bf16 peak)")
    a = p.parse_args(argv)
    config = UNetConfig.from_diffusers(json.loads(a.unet_config.read_text()), str(a.unet_config))
    device = torch.device(a.device)
    result = bench(config, a.latent, a.text, a.batch, a.steps, a.precision, a.grad_checkpointing, device, peak_tflops(device, a.peak_tflops))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
