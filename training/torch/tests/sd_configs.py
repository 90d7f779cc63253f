"""The published diffusers configs of the SD 1.5 and SD 2.1 UNets, shared by the SD tests."""
from __future__ import annotations

from typing import Any, Dict

SD15: Dict[str, Any] = {
    '_class_name': 'UNet2DConditionModel', '_diffusers_version': '0.6.0', 'act_fn': 'silu', 'attention_head_dim': 8,
    'block_out_channels': [320, 640, 1280, 1280], 'center_input_sample': False, 'cross_attention_dim': 768,
    'down_block_types': ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
    'downsample_padding': 1, 'flip_sin_to_cos': True, 'freq_shift': 0, 'in_channels': 4, 'layers_per_block': 2,
    'mid_block_scale_factor': 1, 'norm_eps': 1e-05, 'norm_num_groups': 32, 'out_channels': 4, 'sample_size': 64,
    'up_block_types': ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
}
SD21 = {**SD15, '_diffusers_version': '0.10.0.dev0', 'attention_head_dim': [5, 10, 20, 20], 'cross_attention_dim': 1024,
        'dual_cross_attention': False, 'num_class_embeds': None, 'only_cross_attention': False, 'sample_size': 96,
        'upcast_attention': True, 'use_linear_projection': True}
