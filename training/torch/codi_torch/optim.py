"""AdamW with decoupled decay and global-norm clipping, and the EMA: ports of
training/optim/adamw.ts (AdamW.apply, clipScaleFor) and training/optim/ema.ts (updateEma).
Master weights, moments and the EMA stay fp32 whatever the compute precision.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, Mapping, Optional

import torch


@dataclass
class AdamWConfig:
    lr: float
    beta1: float
    beta2: float
    eps: float
    weight_decay: float
    clip_norm: Optional[float]


def clip_scale_for(norm: float, max_norm: Optional[float]) -> float:
    """Ports clipScaleFor: 1 when the norm is within max_norm, else max_norm / norm."""
    if max_norm is None or not (norm > max_norm):
        return 1.0
    return max_norm / norm


def global_norm(grads: Mapping[str, torch.Tensor]) -> float:
    """Ports globalNorm: sqrt of the sum of squares of every gradient, accumulated in name order."""
    acc = torch.zeros((), dtype=torch.float32)
    for g in grads.values():
        acc = acc + torch.sum(g.float() ** 2).cpu()
    return float(torch.sqrt(acc))


class AdamW:
    def __init__(self, params: Dict[str, torch.Tensor], config: AdamWConfig, lr_scale: Mapping[str, float]) -> None:
        self.params = params
        self.config = config
        self.lr_scale = dict(lr_scale)
        self.m = {k: torch.zeros_like(p) for k, p in params.items()}
        self.v = {k: torch.zeros_like(p) for k, p in params.items()}
        self.step = 0

    def apply(self, grads: Mapping[str, torch.Tensor], lr: float) -> Dict[str, float]:
        """Clip and update in place; a non-finite norm changes nothing (the NaN guard's hook)."""
        for name in self.params:
            if name not in grads:
                raise ValueError(f'AdamW: no gradient for parameter "{name}"')
        norm = global_norm({k: grads[k] for k in self.params})
        if not math.isfinite(norm):
            return {"gradNorm": norm, "clipScale": float("nan"), "applied": 0.0}
        clip = clip_scale_for(norm, self.config.clip_norm)
        self.step += 1
        c = self.config
        bc1 = 1 - math.pow(c.beta1, self.step)
        bc2 = 1 - math.pow(c.beta2, self.step)
        with torch.no_grad():
            for name, p in self.params.items():
                g = grads[name] if clip == 1 else grads[name] * clip
                m = self.m[name].mul(c.beta1).add(g * (1 - c.beta1))
                v = self.v[name].mul(c.beta2).add(g.square() * (1 - c.beta2))
                self.m[name] = m
                self.v[name] = v
                plr = lr * self.lr_scale.get(name, 1.0)
                update = m.div(bc1).div(v.div(bc2).sqrt().add(c.eps))
                decayed = p if c.weight_decay == 0 else p.mul(1 - plr * c.weight_decay)
                p.copy_(decayed.sub(update.mul(plr)))
        return {"gradNorm": norm, "clipScale": clip, "applied": 1.0}


def update_ema(ema: Dict[str, torch.Tensor], params: Mapping[str, torch.Tensor], decay: float) -> None:
    """Ports updateEma: ema <- decay * ema + (1 - decay) * p."""
    if not (0 <= decay <= 1):
        raise ValueError(f"EMA decay must lie in [0, 1], got {decay}")
    with torch.no_grad():
        for name, e in ema.items():
            e.copy_(e.mul(decay).add(params[name].mul(1 - decay)))
