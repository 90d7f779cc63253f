"""AdamW with decoupled decay and global-norm clipping, and the EMA: ports of
training/optim/adamw.ts (AdamW.apply, clipScaleFor) and training/optim/ema.ts (updateEma).
Master weights, moments and the EMA stay fp32 whatever the compute precision.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional

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
    """Ports globalNorm: the L2 norm over every gradient (one host read)."""
    gs = [g.float() for g in grads.values()]
    if not gs:
        return 0.0
    norms = torch.stack(torch._foreach_norm(gs))
    return float(torch.sqrt(torch.sum(norms * norms)))


class AdamW:
    def __init__(self, params: Dict[str, torch.Tensor], config: AdamWConfig, lr_scale: Mapping[str, float]) -> None:
        self.params = params
        self.config = config
        self.lr_scale = dict(lr_scale)
        self.names = list(params)
        self.sizes = [p.numel() for p in params.values()]
        # On CPU torch 1.13's _foreach ops loop over the tensors one kernel at a time, so the update
        # of a 137-tensor net cost ~20 ms a step. Contiguous parameters are therefore re-seated as
        # views of one flat buffer (and the moments likewise), making the update a dozen kernels on
        # one tensor; the arithmetic per element is unchanged. Channels-last (CUDA) weights keep
        # their own storage and the multi-tensor path.
        self.flat: Optional[torch.Tensor] = None
        if params and all(p.is_contiguous() for p in params.values()):
            with torch.no_grad():
                self.flat = torch.cat([p.detach().reshape(-1) for p in params.values()])
            for p, view in zip(params.values(), self.views(self.flat)):
                p.data = view
            self._flat_m = torch.zeros_like(self.flat)
            self._flat_v = torch.zeros_like(self.flat)
            self._scratch = [torch.empty_like(self.flat) for _ in range(3)]
            self.m = dict(zip(self.names, self.views(self._flat_m)))
            self.v = dict(zip(self.names, self.views(self._flat_v)))
        else:
            self.m = {k: torch.zeros_like(p) for k, p in params.items()}
            self.v = {k: torch.zeros_like(p) for k, p in params.items()}
        self.step = 0

    def views(self, flat: torch.Tensor) -> List[torch.Tensor]:
        """Per-parameter views of a buffer laid out as `flat`."""
        return [part.view_as(p) for part, p in zip(torch.split(flat, self.sizes), self.params.values())]

    def load_moments(self, m: Mapping[str, torch.Tensor], v: Mapping[str, torch.Tensor]) -> None:
        """Resume: copy saved moments in (into the flat buffers' views where there are some)."""
        with torch.no_grad():
            for n in self.names:
                if self.flat is not None:
                    self.m[n].copy_(m[n])
                    self.v[n].copy_(v[n])
                else:
                    self.m[n] = m[n].clone()
                    self.v[n] = v[n].clone()

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
        plrs = [lr * self.lr_scale.get(n, 1.0) for n in self.names]
        if self.flat is not None:
            self._apply_flat(grads, clip, bc1, bc2, plrs)
            return {"gradNorm": norm, "clipScale": clip, "applied": 1.0}
        names = self.names
        # Multi-tensor (_foreach) ops: the same elementwise arithmetic as AdamW.apply, in a few
        # kernel launches instead of a dozen per parameter (the step's overhead on a small net).
        with torch.no_grad():
            ps = [self.params[n] for n in names]
            gs = [grads[n] for n in names]
            if clip != 1:
                gs = list(torch._foreach_mul(gs, clip))
            ms = list(torch._foreach_mul([self.m[n] for n in names], c.beta1))
            torch._foreach_add_(ms, torch._foreach_mul(gs, 1 - c.beta1))
            vs = list(torch._foreach_mul([self.v[n] for n in names], c.beta2))
            torch._foreach_add_(vs, torch._foreach_mul(torch._foreach_mul(gs, gs), 1 - c.beta2))
            for n, m, v in zip(names, ms, vs):
                self.m[n] = m
                self.v[n] = v
            denom = torch._foreach_sqrt(torch._foreach_div(vs, bc2))
            torch._foreach_add_(denom, c.eps)
            update = torch._foreach_div(torch._foreach_div(ms, bc1), denom)
            if c.weight_decay != 0:
                torch._foreach_mul_(ps, [1 - plr * c.weight_decay for plr in plrs])
            torch._foreach_sub_(ps, torch._foreach_mul(update, plrs))
        return {"gradNorm": norm, "clipScale": clip, "applied": 1.0}

    def _apply_flat(self, grads: Mapping[str, torch.Tensor], clip: float, bc1: float, bc2: float, plrs: List[float]) -> None:
        """The update above on the flat buffers (same operations, same order, per element)."""
        assert self.flat is not None
        c = self.config
        with torch.no_grad():
            # in place, into buffers kept between steps: a fresh 4-byte-per-weight temporary per
            # operation costs more in page faults than the arithmetic
            g = torch.cat([grads[n].reshape(-1) for n in self.names], out=self._scratch[0])
            tmp = self._scratch[1]
            update = self._scratch[2]
            if clip != 1:
                g.mul_(clip)
            m = self._flat_m.mul_(c.beta1)
            m.add_(torch.mul(g, 1 - c.beta1, out=tmp))
            v = self._flat_v.mul_(c.beta2)
            v.add_(torch.mul(g, g, out=tmp).mul_(1 - c.beta2))
            denom = torch.div(v, bc2, out=tmp).sqrt_().add_(c.eps)
            torch.div(m, bc1, out=update).div_(denom)
            if all(plr == plrs[0] for plr in plrs):
                if c.weight_decay != 0:
                    self.flat.mul_(1 - plrs[0] * c.weight_decay)
                self.flat.sub_(update.mul_(plrs[0]))
            else:
                # per-parameter rates as float32 per element, as each scalar is rounded per tensor above
                sizes = torch.tensor(self.sizes)
                if c.weight_decay != 0:
                    self.flat.mul_(torch.repeat_interleave(torch.tensor([1 - plr * c.weight_decay for plr in plrs], dtype=self.flat.dtype), sizes))
                self.flat.sub_(update.mul_(torch.repeat_interleave(torch.tensor(plrs, dtype=self.flat.dtype), sizes)))


def update_ema(ema: Dict[str, torch.Tensor], params: Mapping[str, torch.Tensor], decay: float) -> None:
    """Ports updateEma: ema <- decay * ema + (1 - decay) * p."""
    if not (0 <= decay <= 1):
        raise ValueError(f"EMA decay must lie in [0, 1], got {decay}")
    names = list(ema)
    with torch.no_grad():
        es = [ema[n] for n in names]
        torch._foreach_mul_(es, decay)
        torch._foreach_add_(es, torch._foreach_mul([params[n] for n in names], 1 - decay))
