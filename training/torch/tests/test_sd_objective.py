"""The CoDi objective on an SD backbone's schedule, for ε- and v-prediction."""
from __future__ import annotations

import torch

from codi_torch.objectives import x_from_v, eps_from_v
from codi_torch.sd.config import SchedulerConfig
from codi_torch.sd.objective import as_v_model, boundary_scalings, sd_codi_loss, sd_tables, shared_timesteps


def _tables() -> torch.Tensor:
    return SchedulerConfig(1000, 0.00085, 0.012, "scaled_linear", "epsilon").alphas_cumprod()


def test_schedule_and_boundary_tables_match_the_method() -> None:
    tb = sd_tables(_tables())
    # docs/method.md §2 reference values
    for t, a, s in [(0, 0.99957, 0.02915), (200, 0.86815, 0.49629), (980, 0.07644, 0.99707)]:
        assert abs(float(tb.alpha[t]) - a) < 1e-5 and abs(float(tb.sigma[t]) - s) < 1e-5
    c_skip, c_out = boundary_scalings(1000)
    assert float(c_skip[0]) == 1.0 and float(c_out[0]) == 0.0
    assert abs(float(c_skip[1]) - 2.49e-3) < 1e-5


def test_an_eps_model_is_seen_through_its_own_conversions() -> None:
    tb = sd_tables(_tables())
    g = torch.Generator().manual_seed(0)
    z = torch.randn(3, 4, 4, 4, generator=g)
    eps_hat = torch.randn(3, 4, 4, 4, generator=g)
    ts = [980, 460, 20]
    v = as_v_model(tb, "epsilon", lambda _z, _t: eps_hat)(z, torch.tensor(ts, dtype=torch.float32))
    a = tb.alpha[ts].float().reshape(-1, 1, 1, 1)
    s = tb.sigma[ts].float().reshape(-1, 1, 1, 1)
    torch.testing.assert_close(x_from_v(tb, z, v, ts), (z - s * eps_hat) / a, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(eps_from_v(tb, z, v, ts), eps_hat, atol=1e-5, rtol=1e-5)
    same = as_v_model(tb, "v_prediction", lambda _z, _t: eps_hat)(z, torch.tensor(ts, dtype=torch.float32))
    assert torch.equal(same, eps_hat)


def test_timesteps_are_shared_on_the_grid() -> None:
    g = torch.Generator().manual_seed(5)
    seen = set()
    for _ in range(200):
        ts, ss = shared_timesteps(g, 4)
        assert len(set(ts)) == 1 and ss == [t - 20 for t in ts]
        seen.add(ts[0])
    assert min(seen) == 20 and max(seen) == 980 and all(t % 20 == 0 for t in seen)


def test_a_model_that_predicts_the_data_exactly_pays_only_consistency() -> None:
    # an ε-model that returns the true ε gives x̂ = x, so the ground-truth term vanishes
    tb = sd_tables(_tables())
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 4, 4, 4, generator=g)
    eps = torch.randn(2, 4, 4, 4, generator=g)
    ts, ss = [500, 500], [480, 480]
    terms = sd_codi_loss(tb, "epsilon", lambda z, t: eps, lambda z, t: eps, x, eps, ts, ss)
    assert float(terms["dx"]) < 1e-8
    wrong = sd_codi_loss(tb, "epsilon", lambda z, t: torch.zeros_like(z), lambda z, t: eps, x, eps, ts, ss)
    assert float(wrong["dx"]) > 0.1
