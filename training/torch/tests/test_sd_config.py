"""UNet and scheduler configs: what SD 1.x / 2.x use is read, anything else refused with a message naming it."""
from __future__ import annotations

from typing import Any, Dict

import pytest
import torch

from codi_torch.sd.config import SchedulerConfig, UNetConfig
from codi_torch.sd.errors import WeightsError

from .sd_configs import SD15, SD21


def test_sd15_and_sd21_configs_read() -> None:
    sd15 = UNetConfig.from_diffusers(SD15)
    assert sd15.heads == (8, 8, 8, 8) and not sd15.use_linear_projection and sd15.cross_attention_dim == 768
    sd21 = UNetConfig.from_diffusers(SD21)
    assert sd21.heads == (5, 10, 20, 20) and sd21.use_linear_projection and sd21.cross_attention_dim == 1024


@pytest.mark.parametrize('change, words', [
    ({'down_block_types': ['CrossAttnDownBlock2D', 'SimpleCrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D']},
     ['unknown down block type', 'SimpleCrossAttnDownBlock2D']),
    ({'up_block_types': ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'AttnUpBlock2D']}, ['unknown up block type', 'AttnUpBlock2D']),
    ({'addition_embed_type': 'text_time'}, ['addition_embed_type', 'not supported']),
    ({'class_embed_type': 'timestep'}, ['class_embed_type']),
    ({'some_new_option': 1}, ['unknown UNet config keys', 'some_new_option']),
    ({'_class_name': 'UNet2DModel'}, ['UNet2DModel', 'not an SD UNet2DConditionModel']),
    ({'block_out_channels': [320, 640, 1280]}, ['down_block_types', '3 blocks']),
    ({'norm_num_groups': 48}, ['norm_num_groups 48']),
    ({'attention_head_dim': [8, 8]}, ['attention_head_dim', 'list of 4']),
    ({'transformer_layers_per_block': 2}, ['transformer_layers_per_block']),
])
def test_unknown_unet_configs_are_refused_by_name(change: Dict[str, Any], words: list[str]) -> None:
    with pytest.raises(WeightsError) as err:
        UNetConfig.from_diffusers({**SD15, **change}, source='sd/unet/config.json')
    message = str(err.value)
    assert message.startswith('sd/unet/config.json: ')
    for word in words:
        assert word in message


def test_scheduler_reads_sd_defaults_and_refuses_what_changes_the_schedule() -> None:
    pndm = {'_class_name': 'PNDMScheduler', 'beta_end': 0.012, 'beta_schedule': 'scaled_linear', 'beta_start': 0.00085,
            'num_train_timesteps': 1000, 'set_alpha_to_one': False, 'skip_prk_steps': True, 'steps_offset': 1, 'trained_betas': None}
    cfg = SchedulerConfig.from_diffusers(pndm)
    assert cfg.prediction_type == 'epsilon'
    assert SchedulerConfig.from_diffusers({**pndm, 'prediction_type': 'v_prediction'}).prediction_type == 'v_prediction'
    with pytest.raises(WeightsError, match='prediction_type .sample. is not supported'):
        SchedulerConfig.from_diffusers({**pndm, 'prediction_type': 'sample'})
    with pytest.raises(WeightsError, match='unknown beta_schedule .sigmoid.'):
        SchedulerConfig.from_diffusers({**pndm, 'beta_schedule': 'sigmoid'})
    with pytest.raises(WeightsError, match='trained_betas'):
        SchedulerConfig.from_diffusers({**pndm, 'trained_betas': [0.1, 0.2]})


def test_scaled_linear_alphas_cumprod() -> None:
    a = SchedulerConfig(1000, 0.00085, 0.012, 'scaled_linear', 'epsilon').alphas_cumprod()
    assert a.dtype == torch.float32 and a.shape == (1000,)
    assert abs(a[0].item() - (1 - 0.00085)) < 1e-7
    # SD's ᾱ at the last step, 0.004660 (diffusers' float32 cumprod gives the same to 6 digits).
    assert abs(a[-1].item() - 0.0046601) < 1e-6
    assert bool((a[1:] < a[:-1]).all())
    lin = SchedulerConfig(1000, 0.0001, 0.02, 'linear', 'epsilon').alphas_cumprod()
    assert abs(lin[0].item() - 0.9999) < 1e-7
