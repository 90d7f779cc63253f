"""The FLOP counter behind the SD throughput numbers (build/gpu/sd-adapter-smoke.sh, training/SD-ADAPTERS.md)."""
from __future__ import annotations

import torch
from torch import nn

from codi_torch.sd.bench import forward_flops
from codi_torch.sd.unet import Attention


def test_counts_two_flops_per_multiply_add() -> None:
    conv = nn.Conv2d(3, 8, 3, padding=1)
    assert forward_flops(conv, lambda: conv(torch.zeros(2, 3, 5, 5))) == 2 * (2 * 8 * 5 * 5) * (3 * 3 * 3)
    lin = nn.Linear(6, 4)
    assert forward_flops(lin, lambda: lin(torch.zeros(2, 7, 6))) == 2 * (2 * 7 * 4) * 6


def test_attention_counts_projections_and_both_products() -> None:
    attn = Attention(query_dim=8, context_dim=16, heads=2, head_dim=4)
    x, ctx = torch.zeros(1, 10, 8), torch.zeros(1, 3, 16)
    projections = 2 * (10 * 8 * 8 + 3 * 16 * 8 * 2 + 10 * 8 * 8)  # q, k and v, out
    products = 2 * 2 * 10 * 3 * 8  # QKᵀ and AV over 2 heads × 4 dims
    assert forward_flops(attn, lambda: attn(x, ctx)) == projections + products
