"""AdamW (decoupled decay, clipping, NaN guard) and the EMA against hand computations."""
from __future__ import annotations

import math

import pytest
import torch

from codi_torch.optim import AdamW, AdamWConfig, clip_scale_for, update_ema


def test_first_step_matches_the_formula() -> None:
    p = torch.tensor([1.0, -2.0])
    opt = AdamW({"p": p}, AdamWConfig(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01, clip_norm=None), {})
    g = torch.tensor([0.5, -0.25])
    report = opt.apply({"p": g}, 0.1)
    assert report["applied"] == 1.0
    assert report["gradNorm"] == pytest.approx(math.sqrt(0.25 + 0.0625))
    # step 1: m̂ = g, v̂ = g², update = g/(|g| + eps) ≈ sign(g)
    want = [1.0 * (1 - 0.1 * 0.01) - 0.1, -2.0 * (1 - 0.1 * 0.01) + 0.1]
    assert p.tolist() == pytest.approx(want, abs=1e-6)


def test_clipping_and_lr_scale() -> None:
    assert clip_scale_for(4.0, 1.0) == 0.25
    assert clip_scale_for(0.5, 1.0) == 1.0
    assert clip_scale_for(9.0, None) == 1.0
    a = torch.zeros(1)
    b = torch.zeros(1)
    opt = AdamW({"a": a, "b": b}, AdamWConfig(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, clip_norm=1.0), {"b": 10.0})
    opt.apply({"a": torch.ones(1), "b": torch.ones(1)}, 0.01)
    assert float(b) == pytest.approx(10 * float(a))


def test_non_finite_gradient_changes_nothing() -> None:
    p = torch.ones(3)
    opt = AdamW({"p": p}, AdamWConfig(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01, clip_norm=1.0), {})
    report = opt.apply({"p": torch.tensor([1.0, float("nan"), 0.0])}, 0.1)
    assert report["applied"] == 0.0
    assert opt.step == 0
    assert p.tolist() == [1.0, 1.0, 1.0]
    assert opt.m["p"].abs().sum() == 0


def test_flat_buffer_update_equals_the_per_tensor_update() -> None:
    """Contiguous weights take the flat-buffer path; a transposed (non-contiguous) copy takes the multi-tensor one."""
    gen = torch.Generator().manual_seed(3)
    shapes = {"w": (4, 3), "b": (3,), "s": (3, 4)}
    init = {n: torch.randn(*s, generator=gen) for n, s in shapes.items()}
    cfg = AdamWConfig(lr=0.05, beta1=0.9, beta2=0.99, eps=1e-8, weight_decay=0.1, clip_norm=0.5)
    flat_params = {n: v.clone() for n, v in init.items()}
    loose_params = {n: v.t().contiguous().t() if v.dim() == 2 else v.clone() for n, v in init.items()}
    assert not loose_params["w"].is_contiguous()
    flat = AdamW(flat_params, cfg, {"s": 3.0})
    loose = AdamW(loose_params, cfg, {"s": 3.0})
    assert flat.flat is not None and loose.flat is None
    for step in range(4):
        grads = {n: torch.randn(*s, generator=gen) for n, s in shapes.items()}
        flat.apply(grads, 0.05 / (step + 1))
        loose.apply(grads, 0.05 / (step + 1))
    for n in shapes:
        assert torch.equal(flat_params[n], loose_params[n]), n
        assert torch.equal(flat.m[n], loose.m[n]) and torch.equal(flat.v[n], loose.v[n]), n
    # resuming copies saved moments into the flat buffers
    again = AdamW({n: v.clone() for n, v in init.items()}, cfg, {})
    again.load_moments(flat.m, flat.v)
    assert again.flat is not None and all(torch.equal(again.m[n], flat.m[n]) for n in shapes)


def test_missing_gradient_is_an_error() -> None:
    opt = AdamW({"p": torch.ones(1)}, AdamWConfig(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, clip_norm=None), {})
    with pytest.raises(ValueError, match="no gradient"):
        opt.apply({}, 0.1)


def test_ema() -> None:
    e = {"w": torch.tensor([0.0, 10.0])}
    update_ema(e, {"w": torch.tensor([1.0, 0.0])}, 0.75)
    assert e["w"].tolist() == [0.25, 7.5]
    with pytest.raises(ValueError):
        update_ema(e, {"w": torch.zeros(2)}, 1.5)
