"""The PE-CoDi adapter of an SD-class backbone (docs/method.md §3.1, reading (a)).

The branch is a trainable copy of the backbone's encoder path (conv_in, the down blocks and
the mid block, initialised from the backbone's weights), fed conv_in(z_t) + embed(c) as control
branches are. Its activation at each of the backbone's L mix points joins the frozen backbone as
h' = (1 − μ_i)·h_i + μ_i·f_i with μ [L] starting at 0, so at step 0 the adapted model IS the
backbone. The condition embedding is NOT zero-initialised: with μ = 0 the start is exact
anyway, and a zero embedding would give the branch no gradient path from the condition until
it had moved away from zero (core/nn/unet.ts says the same of the project's own adapter).
"""
from __future__ import annotations

import copy
from typing import List, Optional, Tuple

import torch
from torch import nn

from .unet import SDUNet

Features = Tuple[List[torch.Tensor], torch.Tensor]


class CoDiAdapter(nn.Module):
    def __init__(self, backbone: SDUNet, condition_channels: int) -> None:
        super().__init__()
        encoder = copy.deepcopy(backbone)
        # the branch runs only the encoder path: drop the copy's decoder so it is neither
        # stored, trained nor exported (on SD 1.5 that is ~60 % of the UNet's weights)
        encoder.up_blocks = nn.ModuleList()
        delattr(encoder, "conv_norm_out")
        delattr(encoder, "conv_out")
        for p in encoder.parameters():
            p.requires_grad_(True)
        self.encoder = encoder
        channels = backbone.mix_point_channels()
        self.condition_channels = condition_channels
        self.cond_embed = nn.Conv2d(condition_channels, channels[0], kernel_size=3, padding=1)
        self.mu = nn.Parameter(torch.zeros(len(channels)))

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, encoder_hidden_states: torch.Tensor, condition: torch.Tensor) -> Features:
        features = self.encoder.encode(sample, timestep, encoder_hidden_states, input_offset=self.cond_embed(condition))
        return features, self.mu


class AdaptedSD(nn.Module):
    """backbone(z, t, text, mix = adapter(z, t, text, c)); the backbone's weights stay frozen."""

    def __init__(self, backbone: SDUNet, adapter: CoDiAdapter, grad_checkpointing: bool = False) -> None:
        super().__init__()
        self.backbone = backbone
        self.adapter = adapter
        for p in backbone.parameters():
            p.requires_grad_(False)
        self.set_grad_checkpointing(grad_checkpointing)

    def set_grad_checkpointing(self, on: bool) -> None:
        """Recompute each resnet and transformer in the backward pass (both halves): the frozen
        backbone's activations still have to be kept for the gradient to reach the branch."""
        self.backbone.gradient_checkpointing = on
        self.adapter.encoder.gradient_checkpointing = on

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, encoder_hidden_states: torch.Tensor, condition: torch.Tensor,
                adapter: Optional[CoDiAdapter] = None) -> torch.Tensor:
        """`adapter` overrides the trained branch (the EMA copy evaluates the consistency target)."""
        branch = adapter if adapter is not None else self.adapter
        out: torch.Tensor = self.backbone(sample, timestep, encoder_hidden_states, mix=branch(sample, timestep, encoder_hidden_states, condition))
        return out
