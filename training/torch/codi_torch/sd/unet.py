"""An SD 1.x / 2.x UNet (diffusers' UNet2DConditionModel) in plain PyTorch, split at the CoDi mix points.

The module tree mirrors diffusers' so `state_dict()` has exactly its keys and a diffusers checkpoint loads with
`load_state_dict(strict=True)`. The forward pass is split in two: `encode` runs conv_in, the down blocks and the
mid block and returns the "mix points" (every activation the decoder consumes: the skips, then the mid-block
output); `decode` runs the up blocks on them. Between the two the CoDi adapter's features are mixed in with μ
(docs/method.md §3.1, reading (a)): the mixed value feeds both the next encoder layer and the decoder skip.
"""
from __future__ import annotations

import math
from typing import Callable, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from .config import UNetConfig

# (features [L], μ [L]): what the CoDi adapter hands the backbone.
Mix = Tuple[Sequence[Tensor], Tensor]

# Runs one resnet or transformer (SDUNet._run: plain, or gradient-checkpointed).
Runner = Callable[..., Tensor]

# Diffusers' Transformer2DModel normalises with a fixed eps, whatever the UNet's norm_eps.
TRANSFORMER_GROUP_NORM_EPS = 1e-6


class GroupNorm32(nn.GroupNorm):
    """GroupNorm computed in float32 whatever the input dtype: what CUDA autocast does and SD's original code does;
    CPU autocast in torch 1.13 would otherwise hand bf16 activations to the fp32 affine and fail. A no-op in fp32."""

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.float()).to(x.dtype)


class LayerNorm32(nn.LayerNorm):
    """LayerNorm computed in float32 whatever the input dtype (see GroupNorm32)."""

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.float()).to(x.dtype)


def timestep_embedding(timesteps: Tensor, dim: int, flip_sin_to_cos: bool, freq_shift: float) -> Tensor:
    """Diffusers' get_timestep_embedding: frequencies exp(−ln(10⁴)·i/(half − shift)), [sin, cos] (or flipped)."""
    half = dim // 2
    exponent = -math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=timesteps.device) / (half - freq_shift)
    args = timesteps.to(torch.float32)[:, None] * torch.exp(exponent)[None, :]
    emb = torch.cat([torch.sin(args), torch.cos(args)], dim=-1)
    if flip_sin_to_cos:
        emb = torch.cat([emb[:, half:], emb[:, :half]], dim=-1)
    if dim % 2:
        emb = F.pad(emb, (0, 1))
    return emb


class TimestepEmbedding(nn.Module):
    def __init__(self, in_dim: int, dim: int) -> None:
        super().__init__()
        self.linear_1 = nn.Linear(in_dim, dim)
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear_2(F.silu(self.linear_1(x)))  # type: ignore[no-any-return]


class ResnetBlock2D(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, temb_ch: int, groups: int, eps: float) -> None:
        super().__init__()
        self.norm1 = GroupNorm32(groups, in_ch, eps=eps)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb_ch, out_ch)
        self.norm2 = GroupNorm32(groups, out_ch, eps=eps)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.conv_shortcut: Optional[nn.Conv2d] = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else None

    def forward(self, x: Tensor, temb: Tensor) -> Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        skip = self.conv_shortcut(x) if self.conv_shortcut is not None else x
        return skip + h  # type: ignore[no-any-return]


class Attention(nn.Module):
    """Multi-head attention with diffusers' key names (to_q, to_k, to_v without bias; to_out.0 with bias)."""

    def __init__(self, query_dim: int, context_dim: int, heads: int, head_dim: int) -> None:
        super().__init__()
        inner = heads * head_dim
        self.heads = heads
        self.scale = head_dim ** -0.5
        self.to_q = nn.Linear(query_dim, inner, bias=False)
        self.to_k = nn.Linear(context_dim, inner, bias=False)
        self.to_v = nn.Linear(context_dim, inner, bias=False)
        # diffusers keeps [Linear, Dropout] in a ModuleList; dropout is 0 for SD, so only the Linear is kept,
        # at index 0 so the key stays `to_out.0.weight`.
        self.to_out = nn.ModuleList([nn.Linear(inner, query_dim)])

    def forward(self, x: Tensor, context: Optional[Tensor] = None) -> Tensor:
        ctx = x if context is None else context
        b, n, _ = x.shape
        q = self.to_q(x).reshape(b, n, self.heads, -1).transpose(1, 2)
        k = self.to_k(ctx).reshape(b, ctx.shape[1], self.heads, -1).transpose(1, 2)
        v = self.to_v(ctx).reshape(b, ctx.shape[1], self.heads, -1).transpose(1, 2)
        # fp32 softmax whatever the autocast dtype: what diffusers' upcast_attention does for SD 2.x.
        weights = torch.softmax((q @ k.transpose(-1, -2)).float() * self.scale, dim=-1).to(v.dtype)
        out = (weights @ v).transpose(1, 2).reshape(b, n, -1)
        return self.to_out[0](out)  # type: ignore[no-any-return]


class GEGLU(nn.Module):
    def __init__(self, dim: int, inner: int) -> None:
        super().__init__()
        self.proj = nn.Linear(dim, inner * 2)

    def forward(self, x: Tensor) -> Tensor:
        hidden, gate = self.proj(x).chunk(2, dim=-1)
        return hidden * F.gelu(gate)  # type: ignore[no-any-return]


class FeedForward(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        # diffusers: net = [GEGLU, Dropout, Linear]; the Dropout (index 1) has no parameters.
        self.net = nn.ModuleList([GEGLU(dim, dim * 4), nn.Identity(), nn.Linear(dim * 4, dim)])

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.net:
            x = layer(x)
        return x


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim: int, context_dim: int, heads: int) -> None:
        super().__init__()
        self.norm1 = LayerNorm32(dim)
        self.attn1 = Attention(dim, dim, heads, dim // heads)
        self.norm2 = LayerNorm32(dim)
        self.attn2 = Attention(dim, context_dim, heads, dim // heads)
        self.norm3 = LayerNorm32(dim)
        self.ff = FeedForward(dim)

    def forward(self, x: Tensor, context: Tensor) -> Tensor:
        x = self.attn1(self.norm1(x)) + x
        x = self.attn2(self.norm2(x), context) + x
        return self.ff(self.norm3(x)) + x  # type: ignore[no-any-return]


class Transformer2DModel(nn.Module):
    """GroupNorm, proj_in (1×1 conv for SD 1.x, Linear for SD 2.x's use_linear_projection), one transformer
    block, proj_out, residual."""

    def __init__(self, channels: int, context_dim: int, heads: int, groups: int, linear: bool) -> None:
        super().__init__()
        self.linear = linear
        self.norm = GroupNorm32(groups, channels, eps=TRANSFORMER_GROUP_NORM_EPS)
        self.proj_in: nn.Module = nn.Linear(channels, channels) if linear else nn.Conv2d(channels, channels, 1)
        self.transformer_blocks = nn.ModuleList([BasicTransformerBlock(channels, context_dim, heads)])
        self.proj_out: nn.Module = nn.Linear(channels, channels) if linear else nn.Conv2d(channels, channels, 1)

    def forward(self, x: Tensor, context: Tensor) -> Tensor:
        b, c, h, w = x.shape
        y: Tensor = self.norm(x)
        if not self.linear:
            y = self.proj_in(y)
        y = y.permute(0, 2, 3, 1).reshape(b, h * w, c)
        if self.linear:
            y = self.proj_in(y)
        for block in self.transformer_blocks:
            y = block(y, context)
        if self.linear:
            y = self.proj_out(y)
        y = y.reshape(b, h, w, c).permute(0, 3, 1, 2)
        if not self.linear:
            y = self.proj_out(y)
        return y + x


class Downsample2D(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x)  # type: ignore[no-any-return]


class Upsample2D(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: Tensor, size: Tuple[int, int]) -> Tensor:
        # Exact doubling is the common case and exports as a plain Resize; odd skips (diffusers' forward_upsample_size)
        # take the skip's size. A traced ONNX export keeps the branch it was traced with: exported at latent sizes
        # divisible by 2^(levels-1) (as SD's always are) it doubles, and needs such sizes at run time too.
        if (x.shape[-2] * 2, x.shape[-1] * 2) == tuple(size):
            x = F.interpolate(x, scale_factor=2.0, mode='nearest')
        else:
            x = F.interpolate(x, size=size, mode='nearest')
        return self.conv(x)  # type: ignore[no-any-return]


class DownBlock(nn.Module):
    """CrossAttnDownBlock2D (with attentions) or DownBlock2D."""

    def __init__(self, cfg: UNetConfig, level: int, in_ch: int) -> None:
        super().__init__()
        out_ch = cfg.block_out_channels[level]
        self.resnets = nn.ModuleList([
            ResnetBlock2D(in_ch if i == 0 else out_ch, out_ch, cfg.time_embed_dim, cfg.norm_num_groups, cfg.norm_eps)
            for i in range(cfg.layers_per_block)
        ])
        self.attentions: Optional[nn.ModuleList] = None
        if cfg.down_block_types[level] == 'CrossAttnDownBlock2D':
            self.attentions = nn.ModuleList([
                Transformer2DModel(out_ch, cfg.cross_attention_dim, cfg.heads[level], cfg.norm_num_groups, cfg.use_linear_projection)
                for _ in range(cfg.layers_per_block)
            ])
        self.downsamplers: Optional[nn.ModuleList] = nn.ModuleList([Downsample2D(out_ch)]) if level < cfg.levels - 1 else None

    def forward(self, h: Tensor, temb: Tensor, context: Tensor, point: Callable[[Tensor], Tensor], run: Runner) -> Tensor:
        """`point` records (and mixes) each skip the decoder will read; what it returns feeds the next layer."""
        for i, resnet in enumerate(self.resnets):
            h = run(resnet, h, temb)
            if self.attentions is not None:
                h = run(self.attentions[i], h, context)
            h = point(h)
        if self.downsamplers is not None:
            h = point(self.downsamplers[0](h))
        return h


class UpBlock(nn.Module):
    """CrossAttnUpBlock2D (with attentions) or UpBlock2D; `index` counts up blocks from the bottom (0 = deepest)."""

    def __init__(self, cfg: UNetConfig, index: int) -> None:
        super().__init__()
        rev = list(reversed(cfg.block_out_channels))
        out_ch = rev[index]
        prev_out = rev[max(index - 1, 0)]
        in_ch = rev[min(index + 1, cfg.levels - 1)]
        layers = cfg.layers_per_block + 1
        self.resnets = nn.ModuleList()
        for i in range(layers):
            skip_ch = in_ch if i == layers - 1 else out_ch
            res_in = prev_out if i == 0 else out_ch
            self.resnets.append(ResnetBlock2D(res_in + skip_ch, out_ch, cfg.time_embed_dim, cfg.norm_num_groups, cfg.norm_eps))
        self.attentions: Optional[nn.ModuleList] = None
        if cfg.up_block_types[index] == 'CrossAttnUpBlock2D':
            heads = list(reversed(cfg.heads))[index]
            self.attentions = nn.ModuleList([
                Transformer2DModel(out_ch, cfg.cross_attention_dim, heads, cfg.norm_num_groups, cfg.use_linear_projection)
                for _ in range(layers)
            ])
        self.upsamplers: Optional[nn.ModuleList] = nn.ModuleList([Upsample2D(out_ch)]) if index < cfg.levels - 1 else None

    def forward(self, h: Tensor, skips: List[Tensor], temb: Tensor, context: Tensor, run: Runner) -> Tensor:
        """Consumes this block's skips from the end of `skips`."""
        for i, resnet in enumerate(self.resnets):
            h = run(resnet, torch.cat([h, skips.pop()], dim=1), temb)
            if self.attentions is not None:
                h = run(self.attentions[i], h, context)
        if self.upsamplers is not None:
            target = skips[-1].shape[-2:]
            h = self.upsamplers[0](h, (int(target[0]), int(target[1])))
        return h


class MidBlock(nn.Module):
    """UNetMidBlock2DCrossAttn: resnet, attention, resnet."""

    def __init__(self, cfg: UNetConfig) -> None:
        super().__init__()
        ch = cfg.block_out_channels[-1]
        self.attentions = nn.ModuleList([Transformer2DModel(ch, cfg.cross_attention_dim, cfg.heads[-1], cfg.norm_num_groups, cfg.use_linear_projection)])
        self.resnets = nn.ModuleList([
            ResnetBlock2D(ch, ch, cfg.time_embed_dim, cfg.norm_num_groups, cfg.norm_eps) for _ in range(2)
        ])

    def forward(self, h: Tensor, temb: Tensor, context: Tensor, run: Runner) -> Tensor:
        h = run(self.resnets[0], h, temb)
        h = run(self.attentions[0], h, context)
        return run(self.resnets[1], h, temb)


class SDUNet(nn.Module):
    """diffusers' UNet2DConditionModel for SD 1.x / 2.x configs, split at the CoDi mix points."""

    def __init__(self, config: UNetConfig) -> None:
        super().__init__()
        self.config = config
        c0 = config.block_out_channels[0]
        self.gradient_checkpointing = False
        self.conv_in = nn.Conv2d(config.in_channels, c0, 3, padding=1)
        self.time_embedding = TimestepEmbedding(c0, config.time_embed_dim)
        self.down_blocks = nn.ModuleList()
        ch = c0
        for level in range(config.levels):
            self.down_blocks.append(DownBlock(config, level, ch))
            ch = config.block_out_channels[level]
        self.mid_block = MidBlock(config)
        self.up_blocks = nn.ModuleList([UpBlock(config, i) for i in range(config.levels)])
        self.conv_norm_out = GroupNorm32(config.norm_num_groups, c0, eps=config.norm_eps)
        self.conv_out = nn.Conv2d(c0, config.out_channels, 3, padding=1)

    # -- pieces -------------------------------------------------------------------------------------------

    def time_embed(self, timestep: Tensor) -> Tensor:
        """temb for a timestep per sample ([B], float or integer; a scalar applies to every sample)."""
        cfg = self.config
        if timestep.dim() == 0:  # one timestep for the whole batch, as diffusers accepts
            timestep = timestep[None]
        emb = timestep_embedding(timestep, cfg.block_out_channels[0], cfg.flip_sin_to_cos, cfg.freq_shift)
        return self.time_embedding(emb.to(self.conv_in.weight.dtype))  # type: ignore[no-any-return]

    def _run(self, fn: Callable[..., Tensor], *args: Tensor) -> Tensor:
        """One resnet or transformer, recomputed in the backward pass when gradient checkpointing is on."""
        if self.gradient_checkpointing and self.training and torch.is_grad_enabled():
            # Non-reentrant: parameters get gradients even where no input requires one (a frozen stretch of the backbone).
            return checkpoint(fn, *args, use_reentrant=False)  # type: ignore[no-any-return]
        return fn(*args)

    def mix_point_channels(self) -> List[int]:
        cfg = self.config
        out = [cfg.block_out_channels[0]]
        for level, ch in enumerate(cfg.block_out_channels):
            out += [ch] * cfg.layers_per_block
            if level < cfg.levels - 1:
                out.append(ch)
        return out + [cfg.block_out_channels[-1]]

    def mix_point_strides(self) -> List[int]:
        cfg = self.config
        out = [1]
        for level in range(cfg.levels):
            out += [2 ** level] * cfg.layers_per_block
            if level < cfg.levels - 1:
                out.append(2 ** (level + 1))
        return out + [2 ** (cfg.levels - 1)]

    # -- the split forward ----------------------------------------------------------------------------------

    def encode(self, sample: Tensor, timestep: Tensor, encoder_hidden_states: Tensor,
               input_offset: Optional[Tensor] = None, mix: Optional[Mix] = None, temb: Optional[Tensor] = None) -> List[Tensor]:
        """conv_in (+ input_offset), down blocks, mid block. Returns the mix points: the decoder's skips in order,
        then the mid-block output. With `mix = (features, μ)` each point i becomes (1 − μ_i)·h_i + μ_i·features_i
        before anything reads it. `temb` may be passed when the caller already has it."""
        if temb is None:
            temb = self.time_embed(timestep)
        if mix is not None:
            features, mu = mix
            if len(features) != len(self.mix_point_channels()) or mu.shape != (len(features),):
                raise ValueError(f'mix needs {len(self.mix_point_channels())} features and μ of that length, '
                                 f'got {len(features)} features and μ of shape {tuple(mu.shape)}')
        points: List[Tensor] = []

        def point(h: Tensor) -> Tensor:
            if mix is not None:
                i = len(points)
                m = mix[1][i].to(h.dtype)
                h = (1 - m) * h + m * mix[0][i].to(h.dtype)
            points.append(h)
            return h

        # The blocks are called as modules (not their children one by one) so a traced export names its nodes by
        # the full diffusers module path (/down_blocks.0/resnets.1/conv1/Conv), which onnx_weights.py reads back.
        h = self.conv_in(sample)
        if input_offset is not None:
            h = h + input_offset
        h = point(h)
        for block in self.down_blocks:
            h = block(h, temb, encoder_hidden_states, point, self._run)
        point(self.mid_block(h, temb, encoder_hidden_states, self._run))
        return points

    def decode(self, points: Sequence[Tensor], temb: Tensor, encoder_hidden_states: Tensor) -> Tensor:
        """Up blocks on the mid-block output (points[-1]) and the skips (points[:-1]), then the output head."""
        skips = list(points[:-1])
        h = points[-1]
        for block in self.up_blocks:
            h = block(h, skips, temb, encoder_hidden_states, self._run)
        return self.conv_out(F.silu(self.conv_norm_out(h)))  # type: ignore[no-any-return]

    def forward(self, sample: Tensor, timestep: Tensor, encoder_hidden_states: Tensor, mix: Optional[Mix] = None) -> Tensor:
        temb = self.time_embed(timestep)
        points = self.encode(sample, timestep, encoder_hidden_states, mix=mix, temb=temb)
        return self.decode(points, temb, encoder_hidden_states)
