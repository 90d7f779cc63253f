"""The tiny SD generator's CLI writes the real diffusers layout that load_backbone reads."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from codi_torch.sd.loader import load_backbone
from codi_torch.sd.tiny import main, tiny_unet


def test_cli_writes_a_diffusers_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path), '--format', 'safetensors', '--prediction', 'v_prediction', '--seed', '2']) == 0
    assert json.loads(capsys.readouterr().out)['prediction'] == 'v_prediction'
    config = json.loads((tmp_path / 'unet/config.json').read_text())
    assert config['_class_name'] == 'UNet2DConditionModel' and config['cross_attention_dim'] == 16
    assert config['use_linear_projection'] is True and config['in_channels'] == config['out_channels'] == 4
    scheduler = json.loads((tmp_path / 'scheduler/scheduler_config.json').read_text())
    assert (scheduler['beta_schedule'], scheduler['beta_start'], scheduler['beta_end'], scheduler['num_train_timesteps']) == \
        ('scaled_linear', 0.00085, 0.012, 1000)
    backbone = load_backbone(tmp_path)
    assert backbone.scheduler.prediction_type == 'v_prediction'
    for key, value in tiny_unet('v_prediction', seed=2).state_dict().items():
        assert torch.equal(backbone.unet.state_dict()[key], value), key


def test_seeds_give_different_weights() -> None:
    a, b = tiny_unet(seed=0).state_dict(), tiny_unet(seed=1).state_dict()
    assert not torch.equal(a['conv_in.weight'], b['conv_in.weight'])
    assert not torch.equal(a['mid_block.attentions.0.norm.weight'], b['mid_block.attentions.0.norm.weight'])
