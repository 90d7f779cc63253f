"""Stable-Diffusion UNet and scheduler configs, read from diffusers' config.json files.

Only what SD 1.x / 2.x UNet2DConditionModel checkpoints use is accepted. A key this code does not know, or a
known key with a value that would change the network (a different block type, class embeddings, a
non-default time embedding...), is refused: silently ignoring it would load weights into the wrong network.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Tuple

import torch

from .errors import WeightsError

DOWN_BLOCKS = ('CrossAttnDownBlock2D', 'DownBlock2D')
UP_BLOCKS = ('CrossAttnUpBlock2D', 'UpBlock2D')
MID_BLOCKS = ('UNetMidBlock2DCrossAttn',)

# Keys that carry no meaning for the network (bookkeeping, or consumed by pipelines, not the UNet).
_IGNORED_UNET_KEYS = frozenset({'_class_name', '_diffusers_version', '_name_or_path', 'sample_size', 'dropout'})

# Keys whose only accepted value is the one SD 1.x / 2.x use (None counts as "absent"). Anything else selects
# a network this module does not build.
_FIXED_UNET_KEYS: Mapping[str, Tuple[Any, ...]] = {
    'act_fn': ('silu',),
    'center_input_sample': (False,),
    'downsample_padding': (1,),
    'mid_block_scale_factor': (1, 1.0),
    'dual_cross_attention': (False,),
    'only_cross_attention': (False,),
    'upcast_attention': (False, True),  # a numerics hint for fp16 attention; this module computes attention in fp32
    'class_embed_type': (None,),
    'num_class_embeds': (None,),
    'addition_embed_type': (None,),
    'addition_time_embed_dim': (None,),
    'addition_embed_type_num_heads': (None, 64),
    'projection_class_embeddings_input_dim': (None,),
    'class_embeddings_concat': (False,),
    'encoder_hid_dim': (None,),
    'encoder_hid_dim_type': (None,),
    'resnet_time_scale_shift': ('default',),
    'resnet_skip_time_act': (False,),
    'resnet_out_scale_factor': (1, 1.0),
    'time_embedding_type': ('positional',),
    'time_embedding_dim': (None,),
    'time_embedding_act_fn': (None,),
    'timestep_post_act': (None,),
    'time_cond_proj_dim': (None,),
    'conv_in_kernel': (3,),
    'conv_out_kernel': (3,),
    'mid_block_type': ('UNetMidBlock2DCrossAttn',),
    'mid_block_only_cross_attention': (None, False),
    'cross_attention_norm': (None,),
    'attention_type': ('default',),
    'reverse_transformer_layers_per_block': (None,),
    'transformer_layers_per_block': (1, [1, 1, 1, 1]),
}

_KNOWN_UNET_KEYS = frozenset({
    'in_channels', 'out_channels', 'down_block_types', 'up_block_types', 'block_out_channels', 'layers_per_block',
    'norm_num_groups', 'norm_eps', 'cross_attention_dim', 'attention_head_dim', 'num_attention_heads',
    'use_linear_projection', 'flip_sin_to_cos', 'freq_shift',
}) | _IGNORED_UNET_KEYS | frozenset(_FIXED_UNET_KEYS)


def _refuse(source: str, what: str) -> WeightsError:
    return WeightsError(f'{source}: {what}')


def _int(d: Mapping[str, Any], key: str, source: str, default: Any = None) -> int:
    value = d.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _refuse(source, f'"{key}" must be a positive integer, got {value!r}')
    return value


def _int_list(value: Any, key: str, source: str, length: int) -> List[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value] * length
    if not isinstance(value, list) or len(value) != length or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
        raise _refuse(source, f'"{key}" must be a positive integer or a list of {length} positive integers, got {value!r}')
    return list(value)


def _bool(d: Mapping[str, Any], key: str, source: str, default: bool) -> bool:
    value = d.get(key, default)
    if not isinstance(value, bool):
        raise _refuse(source, f'"{key}" must be true or false, got {value!r}')
    return value


@dataclass(frozen=True)
class UNetConfig:
    """An SD 1.x / 2.x UNet2DConditionModel. `heads[i]` is the number of attention heads of level i: diffusers'
    SD configs name it `attention_head_dim` (a historical misnomer it keeps for compatibility)."""
    in_channels: int
    out_channels: int
    down_block_types: Tuple[str, ...]
    up_block_types: Tuple[str, ...]
    block_out_channels: Tuple[int, ...]
    layers_per_block: int
    norm_num_groups: int
    norm_eps: float
    cross_attention_dim: int
    heads: Tuple[int, ...]
    use_linear_projection: bool
    flip_sin_to_cos: bool
    freq_shift: float

    @property
    def levels(self) -> int:
        return len(self.block_out_channels)

    @property
    def time_embed_dim(self) -> int:
        return self.block_out_channels[0] * 4

    @staticmethod
    def from_diffusers(d: Mapping[str, Any], source: str = 'unet/config.json') -> 'UNetConfig':
        if not isinstance(d, Mapping):
            raise _refuse(source, 'is not a JSON object')
        class_name = d.get('_class_name', 'UNet2DConditionModel')
        if class_name != 'UNet2DConditionModel':
            raise _refuse(source, f'is a {class_name!r}, not an SD UNet2DConditionModel')
        unknown = sorted(k for k in d if k not in _KNOWN_UNET_KEYS)
        if unknown:
            raise _refuse(source, f'unknown UNet config keys {unknown[:5]} (this code builds SD 1.x / 2.x UNets only)')
        for key, accepted in _FIXED_UNET_KEYS.items():
            if key in d and d[key] not in accepted:
                raise _refuse(source, f'"{key}" = {d[key]!r} is not supported (SD 1.x / 2.x use {accepted[0]!r})')

        block_out = d.get('block_out_channels')
        if not isinstance(block_out, list) or not block_out:
            raise _refuse(source, f'"block_out_channels" must be a non-empty list, got {block_out!r}')
        levels = len(block_out)
        block_out_channels = _int_list(block_out, 'block_out_channels', source, levels)
        down = d.get('down_block_types')
        up = d.get('up_block_types')
        if not isinstance(down, list) or len(down) != levels:
            raise _refuse(source, f'"down_block_types" must list {levels} blocks, got {down!r}')
        if not isinstance(up, list) or len(up) != levels:
            raise _refuse(source, f'"up_block_types" must list {levels} blocks, got {up!r}')
        for kind in down:
            if kind not in DOWN_BLOCKS:
                raise _refuse(source, f'unknown down block type {kind!r} (known: {", ".join(DOWN_BLOCKS)})')
        for kind in up:
            if kind not in UP_BLOCKS:
                raise _refuse(source, f'unknown up block type {kind!r} (known: {", ".join(UP_BLOCKS)})')
        # The skip topology pairs down level i with up level L-1-i; attention must match on both sides for the
        # checkpoints this code knows (it always does in SD 1.x / 2.x).
        for i, kind in enumerate(down):
            if (kind == 'CrossAttnDownBlock2D') != (up[levels - 1 - i] == 'CrossAttnUpBlock2D'):
                raise _refuse(source, f'down block {i} ({kind}) and up block {levels - 1 - i} ({up[levels - 1 - i]}) disagree about attention')

        groups = _int(d, 'norm_num_groups', source, 32)
        for c in block_out_channels:
            if c % groups:
                raise _refuse(source, f'block_out_channels {block_out_channels} are not all divisible by norm_num_groups {groups}')
        heads_raw = d.get('num_attention_heads')
        if heads_raw is None:
            heads_raw = d.get('attention_head_dim', 8)
        heads = _int_list(heads_raw, 'attention_head_dim', source, levels)
        for i, (c, h) in enumerate(zip(block_out_channels, heads)):
            if c % h:
                raise _refuse(source, f'level {i}: {c} channels do not split into {h} attention heads')
        norm_eps = d.get('norm_eps', 1e-5)
        freq_shift = d.get('freq_shift', 0)
        if isinstance(norm_eps, bool) or not isinstance(norm_eps, (int, float)) or not norm_eps > 0:
            raise _refuse(source, f'"norm_eps" must be a positive number, got {norm_eps!r}')
        if isinstance(freq_shift, bool) or not isinstance(freq_shift, (int, float)):
            raise _refuse(source, f'"freq_shift" must be a number, got {freq_shift!r}')
        cross = d.get('cross_attention_dim', 1280)
        if isinstance(cross, list):
            raise _refuse(source, f'"cross_attention_dim" per block ({cross!r}) is not supported')
        return UNetConfig(
            in_channels=_int(d, 'in_channels', source, 4),
            out_channels=_int(d, 'out_channels', source, 4),
            down_block_types=tuple(down),
            up_block_types=tuple(up),
            block_out_channels=tuple(block_out_channels),
            layers_per_block=_int(d, 'layers_per_block', source, 2),
            norm_num_groups=groups,
            norm_eps=float(norm_eps),
            cross_attention_dim=_int(d, 'cross_attention_dim', source, 1280),
            heads=tuple(heads),
            use_linear_projection=_bool(d, 'use_linear_projection', source, False),
            flip_sin_to_cos=_bool(d, 'flip_sin_to_cos', source, True),
            freq_shift=float(freq_shift),
        )

    def to_diffusers(self) -> Dict[str, Any]:
        """The config.json diffusers writes for this UNet (what `from_diffusers` reads back)."""
        return {
            '_class_name': 'UNet2DConditionModel',
            '_diffusers_version': '0.21.4',
            'act_fn': 'silu',
            'attention_head_dim': list(self.heads),
            'block_out_channels': list(self.block_out_channels),
            'center_input_sample': False,
            'cross_attention_dim': self.cross_attention_dim,
            'down_block_types': list(self.down_block_types),
            'downsample_padding': 1,
            'dual_cross_attention': False,
            'flip_sin_to_cos': self.flip_sin_to_cos,
            'freq_shift': self.freq_shift if self.freq_shift % 1 else int(self.freq_shift),
            'in_channels': self.in_channels,
            'layers_per_block': self.layers_per_block,
            'mid_block_scale_factor': 1,
            'norm_eps': self.norm_eps,
            'norm_num_groups': self.norm_num_groups,
            'num_class_embeds': None,
            'only_cross_attention': False,
            'out_channels': self.out_channels,
            'sample_size': 8 * 2 ** (self.levels - 1),
            'up_block_types': list(self.up_block_types),
            'upcast_attention': False,
            'use_linear_projection': self.use_linear_projection,
        }


BETA_SCHEDULES = ('scaled_linear', 'linear', 'squaredcos_cap_v2')
PREDICTION_TYPES = ('epsilon', 'v_prediction')


@dataclass(frozen=True)
class SchedulerConfig:
    """The training noise schedule of the backbone (diffusers' scheduler_config.json). Other keys of that file
    (timestep spacing, step offsets, the sampler class) only concern sampling and are not read here."""
    num_train_timesteps: int
    beta_start: float
    beta_end: float
    beta_schedule: str
    prediction_type: str

    @staticmethod
    def from_diffusers(d: Mapping[str, Any], source: str = 'scheduler/scheduler_config.json') -> 'SchedulerConfig':
        if not isinstance(d, Mapping):
            raise _refuse(source, 'is not a JSON object')
        if d.get('trained_betas') is not None:
            raise _refuse(source, 'uses trained_betas, which this code does not support')
        if d.get('rescale_betas_zero_snr', False):
            raise _refuse(source, 'uses rescale_betas_zero_snr, which this code does not support')
        schedule = d.get('beta_schedule', 'scaled_linear')
        if schedule not in BETA_SCHEDULES:
            raise _refuse(source, f'unknown beta_schedule {schedule!r} (known: {", ".join(BETA_SCHEDULES)})')
        prediction = d.get('prediction_type', 'epsilon')
        if prediction not in PREDICTION_TYPES:
            raise _refuse(source, f'prediction_type {prediction!r} is not supported (known: {", ".join(PREDICTION_TYPES)})')
        steps = _int(d, 'num_train_timesteps', source, 1000)
        if steps < 2:
            raise _refuse(source, f'"num_train_timesteps" must be at least 2, got {steps}')
        betas = []
        for key, default in (('beta_start', 0.00085), ('beta_end', 0.012)):
            value = d.get(key, default)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
                raise _refuse(source, f'"{key}" must be a number in (0, 1), got {value!r}')
            betas.append(float(value))
        return SchedulerConfig(steps, betas[0], betas[1], str(schedule), str(prediction))

    def to_diffusers(self) -> Dict[str, Any]:
        return {
            '_class_name': 'DDIMScheduler',
            '_diffusers_version': '0.21.4',
            'num_train_timesteps': self.num_train_timesteps,
            'beta_start': self.beta_start,
            'beta_end': self.beta_end,
            'beta_schedule': self.beta_schedule,
            'prediction_type': self.prediction_type,
            'clip_sample': False,
            'set_alpha_to_one': False,
            'steps_offset': 1,
            'timestep_spacing': 'leading',
        }

    def alphas_cumprod(self) -> torch.Tensor:
        """ᾱ_t for t = 0..T-1, float32. Computed in float64 exactly as the engine's core/math/schedule.ts
        does, so trainer and sampler agree on the schedule; float32 so it never promotes the model's tensors."""
        T = self.num_train_timesteps
        if self.beta_schedule == 'scaled_linear':
            betas = torch.linspace(math.sqrt(self.beta_start), math.sqrt(self.beta_end), T, dtype=torch.float64) ** 2
        elif self.beta_schedule == 'linear':
            betas = torch.linspace(self.beta_start, self.beta_end, T, dtype=torch.float64)
        else:
            s = 0.008
            u = torch.arange(T + 1, dtype=torch.float64) / T
            f = torch.cos((u + s) / (1 + s) * (math.pi / 2)) ** 2
            betas = torch.clamp(1 - f[1:] / f[:-1], max=0.999)
        return torch.cumprod(1 - betas, dim=0).to(torch.float32)
