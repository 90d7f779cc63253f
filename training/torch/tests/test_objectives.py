"""The CoDi objective's forwards: the adapted ODE step reuses the online forward."""
from __future__ import annotations

from typing import List

import torch

from codi_torch.objectives import CodiSettings, StepInputs, Tables, codi_loss


def _tables(steps: int = 10) -> Tables:
    a = [1.0 - 0.09 * i for i in range(steps)]
    return Tables.from_lists(a, [(1 - x * x) ** 0.5 for x in a], [0.5] * steps, [0.5] * steps)


def test_adapted_ode_step_takes_no_extra_forward_and_keeps_the_loss() -> None:
    w = torch.tensor(0.7, requires_grad=True)
    calls: List[bool] = []

    def online(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        calls.append(torch.is_grad_enabled())
        return z * w + t.reshape(-1, 1, 1, 1) * 0.01

    def target(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return z * 0.5

    gen = torch.Generator().manual_seed(1)
    st = StepInputs(torch.randn(2, 3, 4, 4, generator=gen), torch.randn(2, 3, 4, 4, generator=gen), [5, 8], [3, 6])
    tb = _tables()
    terms = codi_loss(tb, CodiSettings("adapted", "true", "eps", 1.0), online, target, None, st)
    assert calls == [True]  # one online forward, with gradients; the ODE step reads it detached
    # the same loss as a separate no-grad ODE forward (the pretrained path) with the online model
    ref = codi_loss(tb, CodiSettings("pretrained", "true", "eps", 1.0), online, target, online, st)
    assert calls == [True, True, False]
    assert torch.equal(terms["total"], ref["total"])
    terms["total"].backward()  # type: ignore[no-untyped-call]
    assert w.grad is not None and torch.isfinite(w.grad)
