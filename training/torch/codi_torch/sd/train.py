"""PE-CoDi training of an adapter on a frozen SD-class backbone (docs/method.md §3.1, §4.3, §6).

    python -m codi_torch.sd.train --backbone DIFFUSERS_DIR --data ENCODED_DIR --task inpaint|restore|edit
        --out DIR [--method pe-codi] [--steps N] [--batch B] [--lr X] [--mu-lr-scale S] [--ema G]
        [--x-weight W] [--seed N] [--checkpoint-every K] [--run-dir DIR] [--resume]
        [--precision fp32|bf16] [--grad-checkpointing] [--device auto|cpu|cuda] [--pack ONNX_DIR] [--no-export]

Several GPUs: start it under torchrun (or any launcher that sets RANK, WORLD_SIZE, MASTER_ADDR,
MASTER_PORT and LOCAL_RANK); each rank takes its slice of the global batch and the gradients are
averaged, so the run follows the one-process run at the same global batch.

Progress: one JSON object per stdout line ({"event": "start" | "step" | "checkpoint" | "done" |
"stopped" | "exported" | "error", ...}), from rank 0 only. Every random draw of a step (batch,
timesteps, noise) is a function of (seed, step), so `--resume` continues exactly where the
checkpoint stopped: 10 steps + resume 10 equals 20 steps bit for bit.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import inspect
import json
import math
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import torch
import torch.distributed as dist

from ..objectives import CodiSettings
from ..optim import update_ema
from .adapter import AdaptedSD, CoDiAdapter
from .dataset import CONDITION_CHANNELS, DatasetError, EncodedDataset, batch_indices
from .errors import WeightsError
from .loader import Backbone, load_backbone
from .objective import Prediction, sd_codi_loss, sd_tables, shared_timesteps

RUN_FORMAT = "codi-sd-run/1"


@dataclass
class RunConfig:
    backbone: str
    data: str
    task: str
    steps: int = 1000
    batch: int = 8
    lr: float = 1e-5
    mu_lr_scale: float = 1.0
    ema: float = 0.999
    x_weight: float = 1.0
    seed: int = 0
    distill_steps: int = 50
    weight_decay: float = 1e-2
    clip_norm: float = 1.0
    precision: str = "fp32"
    grad_checkpointing: bool = False
    checkpoint_every: int = 500
    keep_checkpoints: int = 2
    log_every: int = 10


@dataclass
class Distributed:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


@dataclass
class TrainState:
    step: int = 0
    seconds: float = 0.0
    history: List[List[float]] = field(default_factory=list)


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def step_generator(seed: int, step: int) -> torch.Generator:
    """The generator of step `step`'s timesteps and noise (no state carried between steps)."""
    return torch.Generator().manual_seed((seed * 2_654_435_761 + step * 40_503 + 1) % (2 ** 63))


def ema_decay_at(decay: float, updates: int) -> float:
    """The EMA warm-up of training/trainer/trainer.ts (emaDecayAt): min(γ, (1 + n)/(10 + n))."""
    return min(decay, (1 + updates) / (10 + updates))


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def make_optimizer(adapter: CoDiAdapter, cfg: RunConfig, device: torch.device) -> torch.optim.Optimizer:
    """AdamW (β 0.9/0.999, ε 1e-8, decoupled decay) with μ in its own group at lr × mu_lr_scale.
    The fused CUDA kernel when this torch has one (one launch for the whole trainable set)."""
    body = [p for n, p in adapter.named_parameters() if n != "mu"]
    groups = [{"params": body, "lr": cfg.lr}, {"params": [adapter.mu], "lr": cfg.lr * cfg.mu_lr_scale}]
    extra: Dict[str, Any] = {}
    if device.type == "cuda" and "fused" in inspect.signature(torch.optim.AdamW).parameters:
        extra["fused"] = True
    return torch.optim.AdamW(groups, betas=(0.9, 0.999), eps=1e-8, weight_decay=cfg.weight_decay, **extra)


class SDTrainer:
    """One rank of a PE-CoDi run: the frozen backbone, the branch, its EMA and the optimiser."""

    def __init__(self, cfg: RunConfig, backbone: Backbone, data: EncodedDataset, device: torch.device, dist_info: Distributed) -> None:
        self.cfg = cfg
        self.data = data
        self.device = device
        self.dist = dist_info
        self.backbone = backbone
        self.prediction: Prediction = "v_prediction" if backbone.scheduler.prediction_type == "v_prediction" else "epsilon"
        self.tables = sd_tables(backbone.scheduler.alphas_cumprod())
        unet = backbone.unet
        check_compatible(unet.config.in_channels, unet.config.cross_attention_dim, data, cfg.task)
        if cfg.precision == "bf16" and device.type != "cuda":
            # CPU autocast (torch 1.13) leaves GroupNorm's weights fp32 against bf16 activations and fails
            raise ValueError("--precision bf16 is for CUDA devices; train in fp32 on the CPU")
        if cfg.batch % dist_info.world != 0:
            raise ValueError(f"--batch {cfg.batch} must be a multiple of the {dist_info.world} processes")
        torch.manual_seed(cfg.seed)
        adapter = CoDiAdapter(unet, CONDITION_CHANNELS[cfg.task])
        self.ema = copy.deepcopy(adapter).requires_grad_(False)
        self.model = AdaptedSD(unet, adapter, cfg.grad_checkpointing).to(device)
        self.ema.to(device)
        self.model.train()
        self.adapter = adapter
        self.optimizer = make_optimizer(adapter, cfg, device)
        self.state = TrainState()
        self.settings = CodiSettings(ode_model="adapted", ode_eps="true", consistency_space="eps", x_weight=cfg.x_weight)

    # -- one step -------------------------------------------------------------------------------

    def step_inputs(self, step: int) -> Dict[str, Any]:
        """This rank's slice of the global batch of `step`, with its timesteps and noise."""
        cfg = self.cfg
        idx = batch_indices(self.data.count, cfg.batch, step, cfg.seed)
        g = step_generator(cfg.seed, step)
        ts, ss = shared_timesteps(g, cfg.batch, int(self.tables.alpha.shape[0]), cfg.distill_steps)
        eps = torch.randn((cfg.batch, *self.data.latent_shape), generator=g)
        per = cfg.batch // self.dist.world
        lo, hi = self.dist.rank * per, (self.dist.rank + 1) * per
        b = self.data.batch(idx[lo:hi])
        dev = self.device
        return {"x": b.target.to(dev), "cond": b.condition.to(dev), "text": b.text.to(dev), "eps": eps[lo:hi].to(dev), "ts": ts[lo:hi], "ss": ss[lo:hi]}

    def loss(self, inp: Dict[str, Any]) -> Dict[str, torch.Tensor]:
        text, cond = inp["text"], inp["cond"]

        def online(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.model(z, t, text, cond)
            return out

        def target(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.model(z, t, text, cond, adapter=self.ema)
            return out

        # bf16 autocast: matmuls and convolutions in bf16, the objective's arithmetic in fp32
        # (objectives.py casts every model output with .float()); weights, moments, EMA stay fp32
        with torch.autocast(device_type=self.device.type, dtype=torch.bfloat16, enabled=self.cfg.precision == "bf16"):
            return sd_codi_loss(self.tables, self.prediction, online, target, inp["x"], inp["eps"], inp["ts"], inp["ss"], self.settings)

    def train_step(self, stop_requested: bool = False) -> Dict[str, float]:
        """One optimiser step. values["stop"] is 1 when any rank was asked to stop (Ctrl-C), so
        all ranks stop after the same step and none is left waiting in a collective."""
        step = self.state.step
        terms = self.loss(self.step_inputs(step))
        self.optimizer.zero_grad(set_to_none=False)
        terms["total"].backward()  # type: ignore[no-untyped-call]
        params = [p for p in self.adapter.parameters()]
        stats = torch.stack([t.detach().float() for t in terms.values()] + [torch.tensor(float(stop_requested), device=self.device)])
        if self.dist.world > 1:
            # one all-reduce for the loss terms and every gradient (each rank's slice is equal,
            # so the mean of the ranks' means is the global batch's mean)
            flat = torch.cat([stats] + [p.grad.reshape(-1) for p in params if p.grad is not None])
            dist.all_reduce(flat)  # type: ignore[no-untyped-call]
            flat /= self.dist.world
            stats = flat[: stats.numel()].clone()
            stats[-1] = (stats[-1] > 0).float()
            offset = stats.numel()
            for p in params:
                if p.grad is not None:
                    n = p.grad.numel()
                    p.grad.copy_(flat[offset:offset + n].view_as(p.grad))
                    offset += n
        *losses, stop = [float(v) for v in stats.tolist()]
        values = dict(zip(terms.keys(), losses))
        if not all(math.isfinite(v) for v in values.values()):
            raise FloatingPointError(f"loss is not finite at step {step + 1}: {values}")
        grad_norm = float(torch.nn.utils.clip_grad_norm_(params, self.cfg.clip_norm))
        self.optimizer.step()
        self.state.step += 1
        update_ema(dict(self.ema.named_parameters()), dict(self.adapter.named_parameters()), ema_decay_at(self.cfg.ema, self.state.step - 1))
        values["gradNorm"] = grad_norm
        values["stop"] = stop
        return values

    # -- checkpoints ----------------------------------------------------------------------------

    def checkpoint_payload(self) -> Dict[str, Any]:
        return {
            "format": RUN_FORMAT,
            "config": asdict(self.cfg),
            "backboneWeightsSha256": self.backbone_sha(),
            "state": asdict(self.state),
            "adapter": {k: v.detach().cpu() for k, v in self.adapter.state_dict().items()},
            "ema": {k: v.detach().cpu() for k, v in self.ema.state_dict().items()},
            "optimizer": self.optimizer.state_dict(),
        }

    def backbone_sha(self) -> str:
        if not hasattr(self, "_backbone_sha"):
            self._backbone_sha = file_sha256(Path(self.backbone.weights_path))
        return self._backbone_sha

    def save_checkpoint(self, run_dir: Path) -> Path:
        run_dir.mkdir(parents=True, exist_ok=True)
        path = run_dir / f"checkpoint-{self.state.step:08d}.pt"
        tmp = path.with_suffix(".pt.tmp")
        torch.save(self.checkpoint_payload(), tmp)
        os.replace(tmp, path)
        for old in sorted(run_dir.glob("checkpoint-*.pt"))[: -self.cfg.keep_checkpoints]:
            old.unlink()
        return path

    def load_checkpoint(self, payload: Dict[str, Any]) -> None:
        if payload.get("backboneWeightsSha256") != self.backbone_sha():
            raise ValueError("--resume: the checkpoint was trained on a different backbone (its weights' sha256 differs)")
        self.adapter.load_state_dict(payload["adapter"])
        self.ema.load_state_dict(payload["ema"])
        self.optimizer.load_state_dict(payload["optimizer"])
        self.state = TrainState(**payload["state"])


def check_compatible(in_channels: int, text_dim: int, data: EncodedDataset, task: str) -> None:
    """The data set must fit the backbone (latent channels, text width) and the task asked for."""
    if data.task != task:
        raise DatasetError(f"--task {task} but {data.folder} is a {data.task} data set")
    if data.latent_shape[0] != in_channels:
        raise DatasetError(f"{data.folder}: latents have {data.latent_shape[0]} channels, the backbone's UNet takes {in_channels}")
    if data.text_shape[1] != text_dim:
        raise DatasetError(f"{data.folder}: text embeddings are {data.text_shape[1]} wide, the backbone's cross-attention takes {text_dim} "
                           "(encode the data set with this backbone's own text encoder)")


def latest_checkpoint(run_dir: Path) -> Optional[Path]:
    found = sorted(run_dir.glob("checkpoint-*.pt"))
    return found[-1] if found else None


def read_checkpoint(path: Path) -> Dict[str, Any]:
    payload: Dict[str, Any] = torch.load(path, map_location="cpu")
    if not isinstance(payload, dict) or payload.get("format") != RUN_FORMAT:
        raise ValueError(f"{path}: not a {RUN_FORMAT} checkpoint")
    return payload


def setup_distributed(device_arg: str) -> tuple[Distributed, torch.device]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    info = Distributed(rank=int(os.environ.get("RANK", "0")), world=world, local_rank=int(os.environ.get("LOCAL_RANK", "0")))
    use_cuda = device_arg == "cuda" or (device_arg == "auto" and torch.cuda.is_available())
    if device_arg == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: this torch sees no CUDA device")
    device = torch.device("cuda", info.local_rank) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    if world > 1:
        dist.init_process_group(backend="nccl" if use_cuda else "gloo", init_method="env://")
    return info, device


def summarise(history: Sequence[Sequence[float]]) -> Dict[str, Any]:
    """First/last window means of the loss curve (the export's training record)."""
    losses = [h[1] for h in history]
    w = max(1, min(50, len(losses) // 4))
    return {
        "points": len(losses),
        "firstMean": sum(losses[:w]) / w if losses else None,
        "lastMean": sum(losses[-w:]) / w if losses else None,
        "curve": [[int(h[0]), round(h[1], 6)] for h in history[:: max(1, len(history) // 200)]],
    }


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m codi_torch.sd.train", description="PE-CoDi adapter training on a frozen SD-class backbone")
    p.add_argument("--backbone", required=True, help="diffusers folder (unet/, scheduler/)")
    p.add_argument("--data", required=True, help="encoded data set folder (sd-dataset.json)")
    p.add_argument("--task", required=True, choices=["inpaint", "restore", "edit"])
    p.add_argument("--method", default="pe-codi", choices=["pe-codi"])
    p.add_argument("--out", required=True, help="export folder")
    p.add_argument("--run-dir", default=None, help="checkpoints (default OUT.run)")
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--mu-lr-scale", type=float, default=None)
    p.add_argument("--ema", type=float, default=None)
    p.add_argument("--x-weight", type=float, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--checkpoint-every", type=int, default=None)
    p.add_argument("--log-every", type=int, default=None)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--precision", choices=["fp32", "bf16"], default=None)
    p.add_argument("--grad-checkpointing", action="store_true")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--pack", default=None, help="diffusers ONNX folder whose vae/text encoder/tokenizer/scheduler the export copies (default: --backbone)")
    p.add_argument("--no-export", action="store_true")
    return p.parse_args(list(argv))


def config_from_args(a: argparse.Namespace) -> RunConfig:
    cfg = RunConfig(backbone=a.backbone, data=a.data, task=a.task)
    for key in ("steps", "batch", "lr", "mu_lr_scale", "ema", "x_weight", "seed", "checkpoint_every", "log_every", "precision"):
        v = getattr(a, key)
        if v is not None:
            setattr(cfg, key, v)
    cfg.grad_checkpointing = bool(a.grad_checkpointing)
    if cfg.steps < 1 or cfg.batch < 1 or cfg.checkpoint_every < 0 or cfg.log_every < 1:
        raise ValueError("--steps, --batch and --log-every must be ≥ 1, --checkpoint-every ≥ 0")
    if not (cfg.lr > 0 and cfg.mu_lr_scale > 0 and 0 <= cfg.ema <= 1 and cfg.x_weight >= 0):
        raise ValueError("--lr and --mu-lr-scale must be > 0, --ema in [0, 1], --x-weight ≥ 0")
    return cfg


def run(argv: Sequence[str]) -> int:
    a = parse_args(argv)
    stop = {"requested": False}

    def on_signal(signum: int, _frame: Any) -> None:
        stop["requested"] = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    info, device = setup_distributed(a.device)
    try:
        cfg = config_from_args(a)
        run_dir = Path(a.run_dir) if a.run_dir else Path(str(Path(a.out)) + ".run")
        payload: Optional[Dict[str, Any]] = None
        if a.resume:
            ck = latest_checkpoint(run_dir)
            if ck is None:
                raise ValueError(f"--resume: no checkpoint in {run_dir}")
            payload = read_checkpoint(ck)
            # the run's own settings; only the step target may change on resume
            saved = RunConfig(**payload["config"])
            saved.steps = cfg.steps if a.steps is not None else saved.steps
            saved.backbone, saved.data = cfg.backbone, cfg.data
            cfg = saved
        backbone = load_backbone(Path(cfg.backbone))
        data = EncodedDataset(Path(cfg.data))
        trainer = SDTrainer(cfg, backbone, data, device, info)
        if payload is not None:
            trainer.load_checkpoint(payload)
        if info.main:
            n_train = sum(p.numel() for p in trainer.adapter.parameters())
            n_frozen = sum(p.numel() for p in backbone.unet.parameters())
            emit("start", step=trainer.state.step, steps=cfg.steps, batch=cfg.batch, processes=info.world, device=str(device),
                 precision=cfg.precision, prediction=trainer.prediction, trainable=n_train, frozen=n_frozen,
                 mixPoints=int(trainer.adapter.mu.numel()), items=data.count, resumed=payload is not None)
        window_start, window_steps = time.perf_counter(), 0
        while trainer.state.step < cfg.steps:
            t0 = time.perf_counter()
            values = trainer.train_step(stop["requested"])
            trainer.state.seconds += time.perf_counter() - t0
            trainer.state.history.append([float(trainer.state.step), values["total"]])
            window_steps += 1
            s = trainer.state.step
            if info.main and (s % cfg.log_every == 0 or s == 1 or s == cfg.steps):
                elapsed = time.perf_counter() - window_start
                mu = trainer.adapter.mu.detach()
                emit("step", step=s, steps=cfg.steps, loss=values["total"], consistency=values["consistency"], dx=values["dx"],
                     gradNorm=values["gradNorm"], muMean=float(mu.mean()), muMax=float(mu.abs().max()),
                     samplesPerSec=window_steps * cfg.batch / elapsed if elapsed > 0 else None)
                window_start, window_steps = time.perf_counter(), 0
            due = cfg.checkpoint_every > 0 and s % cfg.checkpoint_every == 0
            stopping = values["stop"] > 0
            if info.main and (due or stopping or s == cfg.steps):
                emit("checkpoint", step=s, path=str(trainer.save_checkpoint(run_dir)))
            if stopping:
                if info.main:
                    emit("stopped", step=s, runDir=str(run_dir))
                return 130
        if info.main:
            emit("done", step=trainer.state.step, seconds=trainer.state.seconds, loss=summarise(trainer.state.history))
        if info.main and not a.no_export:
            from .export import export_folder
            out = export_folder(
                Path(a.out), backbone, trainer.ema, cfg.task, Path(a.pack) if a.pack else Path(cfg.backbone),
                training={"steps": trainer.state.step, "batch": cfg.batch, "lr": cfg.lr, "muLrScale": cfg.mu_lr_scale,
                          "seconds": round(trainer.state.seconds, 3), "loss": summarise(trainer.state.history)},
                example_latent=data.latent_shape, example_text=data.text_shape,
            )
            emit("exported", out=str(out))
        return 0
    except (WeightsError, DatasetError, ValueError, FloatingPointError, FileNotFoundError) as e:
        if info.main:
            emit("error", message=str(e))
        return 2 if isinstance(e, FloatingPointError) else 1
    finally:
        if info.world > 1 and dist.is_initialized():
            dist.destroy_process_group()


def main() -> None:
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
