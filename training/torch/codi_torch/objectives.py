"""The training objectives of training/objectives/*.ts on PyTorch tensors (NCHW).

The randomness (timesteps, noise) is drawn by the Node driver with the project RNG and
handed in, so both engines see the same t and eps. The schedule and boundary tables come
from core/math (alpha, sigma, c_skip, c_out per integer timestep), not from a Python copy.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence

import torch

Denoiser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""A model bound to its weights and condition: (z, t) -> v."""


@dataclass
class Tables:
    """Per-timestep coefficients from core/math (schedule alpha/sigma, boundary c_skip/c_out)."""

    alpha: torch.Tensor
    sigma: torch.Tensor
    c_skip: torch.Tensor
    c_out: torch.Tensor

    @staticmethod
    def from_lists(alpha: Sequence[float], sigma: Sequence[float], c_skip: Sequence[float], c_out: Sequence[float]) -> "Tables":
        def t(v: Sequence[float]) -> torch.Tensor:
            return torch.tensor(list(v), dtype=torch.float64)

        return Tables(t(alpha), t(sigma), t(c_skip), t(c_out))


def per_sample(table: torch.Tensor, ts: Sequence[int], like: torch.Tensor) -> torch.Tensor:
    """Table values at each sample's timestep as [B, 1, 1, 1], rounded to float32 as TF.js rounds a scalar."""
    return table[list(ts)].to(torch.float32).reshape(-1, 1, 1, 1).to(like.device)


def axpby(a: torch.Tensor, x: torch.Tensor, b: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Ports tfOps.axpby (training/tf/tensor-ops-tf.ts): a*x + b*y."""
    return x * a + y * b


def diffuse(tb: Tables, x: torch.Tensor, eps: torch.Tensor, ts: Sequence[int]) -> torch.Tensor:
    """Ports diffuse (core/math/parameterization.ts): z_t = alpha x + sigma eps."""
    return axpby(per_sample(tb.alpha, ts, x), x, per_sample(tb.sigma, ts, x), eps)


def x_from_v(tb: Tables, z: torch.Tensor, v: torch.Tensor, ts: Sequence[int]) -> torch.Tensor:
    """Ports xFromV (core/math/parameterization.ts): x = alpha z - sigma v."""
    return axpby(per_sample(tb.alpha, ts, z), z, -per_sample(tb.sigma, ts, z), v)


def eps_from_v(tb: Tables, z: torch.Tensor, v: torch.Tensor, ts: Sequence[int]) -> torch.Tensor:
    """Ports epsFromV (core/math/parameterization.ts): eps = alpha v + sigma z."""
    return axpby(per_sample(tb.alpha, ts, z), v, per_sample(tb.sigma, ts, z), z)


def scaled_prediction(tb: Tables, space: str, z: torch.Tensor, v: torch.Tensor, ts: Sequence[int]) -> torch.Tensor:
    """Ports scaledPrediction (training/objectives/codi.ts): c_skip(t) z + c_out(t) pred."""
    pred = x_from_v(tb, z, v, ts) if space == "x" else eps_from_v(tb, z, v, ts)
    return axpby(per_sample(tb.c_skip, ts, z), z, per_sample(tb.c_out, ts, z), pred)


def ddim_z_s(tb: Tables, z: torch.Tensor, v: torch.Tensor, ts: Sequence[int], ss: Sequence[int], true_eps: Optional[torch.Tensor]) -> torch.Tensor:
    """Ports ddimUpdate's z_s (core/math/parameterization.ts) for a v model: alpha_s x + sigma_s (eps or eps_hat)."""
    x_hat = x_from_v(tb, z, v, ts)
    eps = true_eps if true_eps is not None else eps_from_v(tb, z, v, ts)
    return axpby(per_sample(tb.alpha, ss, z), x_hat, per_sample(tb.sigma, ss, z), eps)


@dataclass
class StepInputs:
    x: torch.Tensor
    eps: torch.Tensor
    ts: List[int]
    ss: List[int]


@dataclass
class CodiSettings:
    ode_model: str
    ode_eps: str
    consistency_space: str
    x_weight: float


LossTerms = Dict[str, torch.Tensor]


def v_loss(tb: Tables, model: Denoiser, st: StepInputs) -> LossTerms:
    """Ports vLossObjective (training/objectives/v-loss.ts)."""
    z = diffuse(tb, st.x, st.eps, st.ts)
    target = axpby(per_sample(tb.alpha, st.ts, st.x), st.eps, -per_sample(tb.sigma, st.ts, st.x), st.x)
    t = torch.tensor(st.ts, dtype=torch.float32, device=st.x.device)
    mse = torch.mean((model(z, t).float() - target) ** 2)
    return {"total": mse, "v": mse}


def codi_loss(tb: Tables, sw: CodiSettings, online: Denoiser, target: Denoiser, pretrained: Optional[Denoiser], st: StepInputs) -> LossTerms:
    """Ports codiObjective (training/objectives/codi.ts): consistency + x_weight * d_x."""
    dev = st.x.device
    t = torch.tensor(st.ts, dtype=torch.float32, device=dev)
    s = torch.tensor(st.ss, dtype=torch.float32, device=dev)
    with torch.no_grad():
        z_t = diffuse(tb, st.x, st.eps, st.ts)
    if sw.ode_model == "pretrained" and pretrained is None:
        raise ValueError("CoDi odeModel 'pretrained' needs a pretrained model")
    v = online(z_t, t).float()
    with torch.no_grad():
        if sw.ode_model == "none":
            # the "without PF-ODE distillation" ablation: the forward process at s, same ε
            z_s = diffuse(tb, st.x, st.eps, st.ss)
        else:
            # The adapted ODE step is the online model at (z_t, t), the very forward the loss takes
            # with gradients: its values, detached, save one of the step's three forwards.
            v_ode = v.detach() if pretrained is None or sw.ode_model == "adapted" else pretrained(z_t, t).float()
            z_s = ddim_z_s(tb, z_t, v_ode, st.ts, st.ss, st.eps if sw.ode_eps == "true" else None)
        target_pred = scaled_prediction(tb, sw.consistency_space, z_s, target(z_s, s).float(), st.ss)
    x_pred = scaled_prediction(tb, "x", z_t, v, st.ts)
    pred = x_pred if sw.consistency_space == "x" else scaled_prediction(tb, "eps", z_t, v, st.ts)
    consistency = torch.mean((pred - target_pred) ** 2)
    dx = torch.mean((x_pred - st.x) ** 2)
    return {"total": consistency + dx * sw.x_weight, "consistency": consistency, "dx": dx}


def cm_loss(tb: Tables, online: Denoiser, target: Denoiser, teacher: Denoiser, st: StepInputs) -> LossTerms:
    """Ports cmObjective (training/objectives/cm.ts): x-space consistency after the teacher's DDIM step."""
    dev = st.x.device
    t = torch.tensor(st.ts, dtype=torch.float32, device=dev)
    s = torch.tensor(st.ss, dtype=torch.float32, device=dev)
    with torch.no_grad():
        z_t = diffuse(tb, st.x, st.eps, st.ts)
        z_s = ddim_z_s(tb, z_t, teacher(z_t, t).float(), st.ts, st.ss, None)
        target_x = scaled_prediction(tb, "x", z_s, target(z_s, s).float(), st.ss)
    x_pred = scaled_prediction(tb, "x", z_t, online(z_t, t).float(), st.ts)
    consistency = torch.mean((x_pred - target_x) ** 2)
    return {"total": consistency, "consistency": consistency}
