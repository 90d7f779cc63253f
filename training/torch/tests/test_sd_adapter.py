"""The PE-CoDi adapter on a tiny SD-config UNet: μ = 0 is exactly the backbone, and only the branch trains."""
from __future__ import annotations

import pytest
import torch

from codi_torch.sd.adapter import AdaptedSD, CoDiAdapter
from codi_torch.sd.tiny import tiny_unet


def _inputs(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    # 16×16 latents: the deepest level is 2×2. (At 1×1 a mixed activation's strides differ from the
    # plain one's and CPU convolutions then round differently, ~1e-7: not an SD-sized case.)
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(2, 4, 16, 16, generator=g), torch.tensor([980.0, 20.0]), torch.randn(2, 5, 16, generator=g),
            torch.randn(2, 5, 16, 16, generator=g))


@pytest.mark.parametrize("prediction", ["epsilon", "v_prediction"])
def test_step_zero_is_exactly_the_backbone(prediction: str) -> None:
    unet = tiny_unet(prediction, seed=3)  # type: ignore[arg-type]
    z, t, text, cond = _inputs()
    with torch.no_grad():
        plain = unet(z, t, text)
        model = AdaptedSD(unet, CoDiAdapter(unet, 5))
        adapted = model(z, t, text, cond)
    assert torch.equal(adapted, plain)
    # the branch's features are not trivially equal to the backbone's (so the test above can fail)
    with torch.no_grad():
        model.adapter.mu.fill_(0.5)
        assert not torch.allclose(model(z, t, text, cond), plain, atol=1e-4)


def test_branch_copies_the_encoder_and_trains_alone() -> None:
    unet = tiny_unet("epsilon", seed=1)
    adapter = CoDiAdapter(unet, 5)
    names = [n for n, _ in adapter.named_parameters()]
    assert not any(n.startswith(("encoder.up_blocks", "encoder.conv_out", "encoder.conv_norm_out")) for n in names)
    assert torch.equal(adapter.encoder.conv_in.weight, unet.conv_in.weight)
    assert torch.equal(adapter.mu, torch.zeros(len(unet.mix_point_channels())))
    assert adapter.cond_embed.weight.abs().sum() > 0  # not zero-initialised (see adapter.py)
    model = AdaptedSD(unet, adapter)
    z, t, text, cond = _inputs(1)
    model(z, t, text, cond).square().mean().backward()
    assert all(p.grad is None for p in unet.parameters())
    assert adapter.mu.grad is not None and adapter.mu.grad.abs().sum() > 0
    # with μ = 0 the branch's weights get no gradient yet: μ opens the path first
    assert adapter.cond_embed.weight.grad is not None and float(adapter.cond_embed.weight.grad.abs().sum()) == 0.0


def test_gradient_checkpointing_gives_the_same_gradients() -> None:
    grads = []
    for on in (False, True):
        unet = tiny_unet("epsilon", seed=2)
        adapter = CoDiAdapter(unet, 5)
        with torch.no_grad():
            adapter.mu.fill_(0.3)
        model = AdaptedSD(unet, adapter, grad_checkpointing=on).train()
        z, t, text, cond = _inputs(2)
        model(z, t, text, cond).square().mean().backward()
        grads.append(torch.cat([p.grad.reshape(-1) for p in adapter.parameters() if p.grad is not None]))
    torch.testing.assert_close(grads[0], grads[1])
