"""The SD UNet: diffusers' key names and sizes, the μ mix of docs/method.md §3.1 reading (a), the mix points."""
from __future__ import annotations

import copy
from typing import Any, Dict, Iterator, List

import pytest
import torch
from torch import nn

from codi_torch.sd.config import UNetConfig
from codi_torch.sd.tiny import tiny_unet, tiny_unet_config
from codi_torch.sd.unet import SDUNet

from .sd_configs import SD15, SD21


@pytest.fixture
def no_init(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Full-size UNets without the seconds of random init (torch.empty does not touch the pages)."""
    monkeypatch.setattr(nn.Linear, 'reset_parameters', lambda self: None)
    monkeypatch.setattr(nn.Conv2d, 'reset_parameters', lambda self: None)
    yield


@pytest.mark.parametrize('config, params', [(SD15, 859_520_964), (SD21, 865_910_724)])
def test_full_size_configs_have_the_published_parameter_counts(no_init: None, config: Dict[str, Any], params: int) -> None:
    # The published sizes of the SD 1.5 and SD 2.1 UNets: every width and skip wired as diffusers does.
    unet = SDUNet(UNetConfig.from_diffusers(config))
    assert sum(p.numel() for p in unet.parameters()) == params
    assert len(unet.state_dict()) == 686


def test_state_dict_keys_are_diffusers_names() -> None:
    sd = tiny_unet('epsilon').state_dict()
    # Sizes scale with the tiny widths (8, 16, 32, 32) exactly as SD 1.5's (320, 640, 1280, 1280) do.
    expected_shapes = {
        'conv_in.weight': (8, 4, 3, 3),
        'time_embedding.linear_1.weight': (32, 8),
        'time_embedding.linear_2.bias': (32,),
        'down_blocks.0.resnets.0.norm1.weight': (8,),
        'down_blocks.0.resnets.0.time_emb_proj.weight': (8, 32),
        'down_blocks.0.attentions.0.norm.weight': (8,),
        'down_blocks.0.attentions.0.proj_in.weight': (8, 8, 1, 1),
        'down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight': (8, 8),
        'down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight': (8, 16),
        'down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_out.0.bias': (8,),
        'down_blocks.0.attentions.0.transformer_blocks.0.ff.net.0.proj.weight': (64, 8),
        'down_blocks.0.attentions.0.transformer_blocks.0.ff.net.2.weight': (8, 32),
        'down_blocks.0.attentions.0.transformer_blocks.0.norm3.bias': (8,),
        'down_blocks.0.downsamplers.0.conv.weight': (8, 8, 3, 3),
        'down_blocks.1.resnets.0.conv_shortcut.weight': (16, 8, 1, 1),
        'down_blocks.3.resnets.1.conv2.weight': (32, 32, 3, 3),
        'mid_block.resnets.1.conv1.weight': (32, 32, 3, 3),
        'mid_block.attentions.0.proj_out.weight': (32, 32, 1, 1),
        'up_blocks.0.resnets.0.conv1.weight': (32, 64, 3, 3),
        'up_blocks.0.resnets.2.conv1.weight': (32, 64, 3, 3),
        'up_blocks.0.upsamplers.0.conv.weight': (32, 32, 3, 3),
        'up_blocks.1.resnets.2.conv1.weight': (32, 48, 3, 3),
        'up_blocks.2.resnets.2.conv1.weight': (16, 24, 3, 3),
        'up_blocks.3.resnets.0.conv1.weight': (8, 24, 3, 3),
        'up_blocks.3.resnets.2.conv_shortcut.weight': (8, 16, 1, 1),
        'up_blocks.3.attentions.2.proj_out.bias': (8,),
        'conv_norm_out.weight': (8,),
        'conv_out.weight': (4, 8, 3, 3),
    }
    for key, shape in expected_shapes.items():
        assert tuple(sd[key].shape) == shape, key
    assert len(sd) == 686
    assert not any(k.startswith('down_blocks.3.attentions') or k.startswith('up_blocks.0.attentions') for k in sd)
    assert 'down_blocks.3.downsamplers.0.conv.weight' not in sd and 'up_blocks.3.upsamplers.0.conv.weight' not in sd
    assert not any('conv_shortcut' in k for k in sd if k.startswith('down_blocks.0') or k.startswith('mid_block'))
    # SD 2.x's use_linear_projection turns the projections into Linear weights.
    sd2 = tiny_unet('v_prediction').state_dict()
    assert tuple(sd2['down_blocks.0.attentions.0.proj_in.weight'].shape) == (8, 8)
    assert set(sd2) == set(sd)


def _inputs(seed: int = 1) -> List[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(2, 4, 16, 16, generator=g), torch.tensor([10.0, 731.0]), torch.randn(2, 7, 16, generator=g)]


@pytest.mark.parametrize('prediction', ['epsilon', 'v_prediction'])
def test_mu_zero_is_exactly_the_plain_unet_and_nonzero_mu_changes_it(prediction: Any) -> None:
    unet = tiny_unet(prediction)
    x, t, ehs = _inputs()
    with torch.no_grad():
        plain = unet(x, t, ehs)
        features = [100 * torch.randn(2, c, 16 // s, 16 // s) for c, s in zip(unet.mix_point_channels(), unet.mix_point_strides())]
        mu = torch.zeros(len(features))
        assert torch.equal(unet(x, t, ehs, mix=(features, mu)), plain)
        for i in (0, 5, len(features) - 1):  # first point, a mid-level one, the mid-block output
            mu_i = mu.clone()
            mu_i[i] = 0.1
            assert (unet(x, t, ehs, mix=(features, mu_i)) - plain).abs().max() > 1e-3, i


def test_mu_one_at_a_point_replaces_the_activation_for_next_layer_and_skip() -> None:
    unet = tiny_unet()
    x, t, ehs = _inputs()
    with torch.no_grad():
        plain_points = unet.encode(x, t, ehs)
        features = [torch.randn_like(p) for p in plain_points]
        mu = torch.zeros(len(features))
        mu[3] = 1.0  # the first downsampler's output
        mixed = unet.encode(x, t, ehs, mix=(features, mu))
    for i in range(3):
        assert torch.equal(mixed[i], plain_points[i])
    assert torch.equal(mixed[3], features[3])
    # Reading (a): the next layer saw the mixed value.
    assert not torch.allclose(mixed[4], plain_points[4])


def test_encode_decode_is_forward_and_points_have_the_declared_shapes() -> None:
    unet = tiny_unet()
    x, t, ehs = _inputs()
    with torch.no_grad():
        points = unet.encode(x, t, ehs)
        out = unet.decode(points, unet.time_embed(t), ehs)
        assert torch.equal(out, unet(x, t, ehs))
    assert out.shape == x.shape
    channels, strides = unet.mix_point_channels(), unet.mix_point_strides()
    assert len(points) == len(channels) == len(strides) == 13  # SD's 12 skips + the mid-block output
    for p, c, s in zip(points, channels, strides):
        assert tuple(p.shape) == (2, c, 16 // s, 16 // s)


def test_input_offset_is_added_after_conv_in() -> None:
    unet = tiny_unet()
    x, t, ehs = _inputs()
    offset = torch.randn(2, 8, 16, 16)
    with torch.no_grad():
        points = unet.encode(x, t, ehs, input_offset=offset)
        assert torch.allclose(points[0], unet.conv_in(x) + offset)


def test_odd_latent_sizes_follow_the_skips() -> None:
    unet = tiny_unet()
    with torch.no_grad():
        out = unet(torch.randn(1, 4, 13, 10), torch.tensor([3.0]), torch.randn(1, 5, 16))
    assert out.shape == (1, 4, 13, 10)


def test_gradient_checkpointing_gives_the_same_gradients() -> None:
    unet = tiny_unet()
    unet.train()
    # A frozen stem: the first checkpointed resnet then has no input that requires a gradient, and its own
    # parameters must still get theirs.
    for p in list(unet.conv_in.parameters()) + list(unet.time_embedding.parameters()):
        p.requires_grad_(False)
    x, t, ehs = _inputs()
    unet(x, t, ehs).square().mean().backward()
    plain = {n: p.grad.clone() for n, p in unet.named_parameters() if p.grad is not None}
    other = copy.deepcopy(unet)
    other.zero_grad()
    other.gradient_checkpointing = True
    other(x, t, ehs).square().mean().backward()
    assert 'down_blocks.0.resnets.0.conv1.weight' in plain
    for n, p in other.named_parameters():
        if not p.requires_grad:
            continue
        assert p.grad is not None, n
        assert torch.allclose(p.grad, plain[n], atol=1e-6), n


def test_tiny_config_round_trips_through_diffusers_json() -> None:
    for prediction in ('epsilon', 'v_prediction'):
        cfg = tiny_unet_config(prediction)  # type: ignore[arg-type]
        assert UNetConfig.from_diffusers(cfg.to_diffusers()) == cfg


def test_bf16_autocast_on_cpu_trains_close_to_fp32() -> None:
    unet = tiny_unet()
    unet.train()
    unet.gradient_checkpointing = True
    x, t, ehs = _inputs()
    with torch.no_grad():
        ref = unet(x, t, ehs)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = unet(x, t, ehs)
    out.float().square().mean().backward()
    assert out.dtype == torch.bfloat16
    assert (out.float() - ref).abs().max() < 0.05 * ref.abs().max()
    assert all(p.grad is not None and bool(torch.isfinite(p.grad).all()) for p in unet.parameters())
