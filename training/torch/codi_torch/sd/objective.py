"""The CoDi objective (docs/method.md §4.3) on an SD-class backbone's own discrete schedule.

The formulas are those of codi_torch/objectives.py (written for v-prediction models): an
ε-prediction backbone is presented to them as a v model through v = (ε̂ − σ_t z_t)/α_t, which
makes x̂ = α_t z_t − σ_t v = (z_t − σ_t ε̂)/α_t and ε̂ = α_t v + σ_t z_t exactly the ε-model's
conversions of §2 — so the loss, the one-step ODE and the boundary scalings are written once.

The schedule comes from the backbone's scheduler config (alphas_cumprod), not from the project's
own tables: a backbone is distilled on the schedule it was trained on. The boundary scalings
are those of §5 (σ_d = 0.5, timestep × 10; core/math/boundary.ts is their TypeScript twin).
"""
from __future__ import annotations

from typing import Callable, List, Literal, Sequence, Tuple

import torch

from ..objectives import CodiSettings, Denoiser, LossTerms, StepInputs, Tables, codi_loss, per_sample

Prediction = Literal["epsilon", "v_prediction"]
SIGMA_DATA = 0.5
TIMESTEP_SCALING = 10.0

RawModel = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""A backbone-class model bound to its text and condition: (z, t) -> its native prediction."""

PAPER_SETTINGS = CodiSettings(ode_model="adapted", ode_eps="true", consistency_space="eps", x_weight=1.0)


def boundary_scalings(T: int, sigma_data: float = SIGMA_DATA, timestep_scaling: float = TIMESTEP_SCALING) -> Tuple[torch.Tensor, torch.Tensor]:
    """c_skip(t) = σd²/((10t)² + σd²), c_out(t) = 10t/√((10t)² + σd²) for t = 0..T−1 (float64)."""
    st = torch.arange(T, dtype=torch.float64) * timestep_scaling
    d2 = sigma_data * sigma_data
    return d2 / (st * st + d2), st / torch.sqrt(st * st + d2)


def sd_tables(alphas_cumprod: torch.Tensor, sigma_data: float = SIGMA_DATA) -> Tables:
    """α_t = √ᾱ_t, σ_t = √(1 − ᾱ_t) and the boundary scalings, per integer timestep."""
    ac = alphas_cumprod.to(torch.float64)
    c_skip, c_out = boundary_scalings(int(ac.shape[0]), sigma_data)
    return Tables(alpha=torch.sqrt(ac), sigma=torch.sqrt(1 - ac), c_skip=c_skip, c_out=c_out)


def v_from_eps(tb: Tables, z: torch.Tensor, eps_hat: torch.Tensor, ts: Sequence[int]) -> torch.Tensor:
    """v = (ε̂ − σ_t z)/α_t: the v an ε-model's prediction stands for (α² + σ² = 1)."""
    return (eps_hat - z * per_sample(tb.sigma, ts, z)) / per_sample(tb.alpha, ts, z)


def as_v_model(tb: Tables, prediction: Prediction, model: RawModel) -> Denoiser:
    """The backbone-class model as the v-predicting Denoiser codi_torch/objectives.py expects."""
    if prediction == "v_prediction":
        return lambda z, t: model(z, t).float()
    if prediction != "epsilon":
        raise ValueError(f"unknown prediction type {prediction!r} (epsilon or v_prediction)")

    def v(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return v_from_eps(tb, z, model(z, t).float(), [int(x) for x in t.tolist()])

    return v


def shared_timesteps(generator: torch.Generator, batch: int, T: int = 1000, N: int = 50) -> Tuple[List[int], List[int]]:
    """One i ~ U{1..N−1} for the whole batch; t = i·k, s = (i − 1)·k with k = T/N (§4.3)."""
    if N < 2 or T % N != 0:
        raise ValueError(f"distillation N must be ≥ 2 and divide T (T={T}, N={N})")
    k = T // N
    i = int(torch.randint(1, N, (1,), generator=generator))
    return [i * k] * batch, [(i - 1) * k] * batch


def sd_codi_loss(tb: Tables, prediction: Prediction, online: RawModel, target: RawModel, x: torch.Tensor, eps: torch.Tensor,
                 ts: List[int], ss: List[int], settings: CodiSettings = PAPER_SETTINGS) -> LossTerms:
    """The CoDi loss of §4.3 for an ε- or v-prediction backbone (online: with gradients; target: the EMA branch)."""
    return codi_loss(tb, settings, as_v_model(tb, prediction, online), as_v_model(tb, prediction, target), None, StepInputs(x=x, eps=eps, ts=ts, ss=ss))
