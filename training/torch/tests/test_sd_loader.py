"""Loading a diffusers folder: both weight formats load the exact network; malformed files are refused whole,
with a message that names the file and the fault."""
from __future__ import annotations

import json
import os
import struct
import warnings
from pathlib import Path
from typing import Any, Dict, Iterator, Tuple

import onnx
import pytest
import torch

from codi_torch.sd.config import UNetConfig
from codi_torch.sd.errors import WeightsError
from codi_torch.sd.loader import load_backbone
from codi_torch.sd.onnx_weights import read_onnx_initialisers
from codi_torch.sd.safetensors_io import read_safetensors, write_safetensors
from codi_torch.sd.tiny import tiny_scheduler_config, tiny_unet, write_tiny_sd
from codi_torch.sd.unet import SDUNet

WEIGHTS = 'unet/diffusion_pytorch_model.safetensors'


def _inputs() -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(3)
    return torch.randn(2, 4, 8, 8, generator=g), torch.tensor([1.0, 999.0]), torch.randn(2, 5, 16, generator=g)


@pytest.mark.parametrize('prediction', ['epsilon', 'v_prediction'])
def test_safetensors_folder_loads_the_generated_network(tmp_path: Path, prediction: Any) -> None:
    write_tiny_sd(tmp_path, 'safetensors', prediction, seed=4)
    backbone = load_backbone(tmp_path)
    assert backbone.source == 'safetensors' and backbone.weights_path == tmp_path / WEIGHTS
    assert backbone.scheduler.prediction_type == prediction and backbone.scheduler.num_train_timesteps == 1000
    with torch.no_grad():
        assert torch.equal(backbone.unet(*_inputs()), tiny_unet(prediction, seed=4)(*_inputs()))


def test_fp16_safetensors_load_as_float32(tmp_path: Path) -> None:
    write_tiny_sd(tmp_path, 'safetensors')
    tensors = read_safetensors(tmp_path / WEIGHTS)
    (tmp_path / WEIGHTS).unlink()
    write_safetensors(tmp_path / 'unet/diffusion_pytorch_model.fp16.safetensors', {k: v.half() for k, v in tensors.items()})
    backbone = load_backbone(tmp_path)
    assert all(p.dtype == torch.float32 for p in backbone.unet.parameters())
    key = 'conv_in.weight'
    assert torch.equal(backbone.unet.state_dict()[key], tensors[key].half().float())


# -- ONNX: a two-level SD-topology UNet keeps the exports fast ------------------------------------------------

MICRO = UNetConfig(4, 4, ('CrossAttnDownBlock2D', 'DownBlock2D'), ('UpBlock2D', 'CrossAttnUpBlock2D'), (8, 16), 1, 4, 1e-5, 16,
                   (2, 2), True, True, 0.0)


def _micro_unet() -> SDUNet:
    torch.manual_seed(5)
    unet = SDUNet(MICRO).eval()
    with torch.no_grad():  # random norm affines, so no two tensors are equal and each has its own place
        for m in unet.modules():
            if isinstance(m, (torch.nn.GroupNorm, torch.nn.LayerNorm)):
                m.weight.copy_(1 + 0.1 * torch.randn_like(m.weight))
                m.bias.copy_(0.1 * torch.randn_like(m.bias))
    return unet


def _write_micro_onnx(folder: Path, folding: bool, external: bool = False, opset: int = 17) -> SDUNet:
    unet = _micro_unet()
    (folder / 'unet').mkdir(parents=True)
    (folder / 'scheduler').mkdir()
    (folder / 'unet/config.json').write_text(json.dumps(MICRO.to_diffusers()))
    (folder / 'scheduler/scheduler_config.json').write_text(json.dumps(tiny_scheduler_config().to_diffusers()))
    path = folder / 'unet/model.onnx'
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        torch.onnx.export(unet, _inputs(), str(path), input_names=['sample', 'timestep', 'encoder_hidden_states'],
                          output_names=['out_sample'], opset_version=opset, do_constant_folding=folding)
    if external:
        model = onnx.load(str(path))
        onnx.save_model(model, str(path), save_as_external_data=True, location='weights.bin', size_threshold=0)
    return unet


@pytest.fixture(scope='module')
def micro_onnx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[Path, SDUNet]]:
    folder = tmp_path_factory.mktemp('micro')
    yield folder, _write_micro_onnx(folder, folding=False, external=True)


def test_onnx_export_without_folding_keeps_state_dict_names(micro_onnx: Tuple[Path, SDUNet]) -> None:
    folder, unet = micro_onnx
    backbone = load_backbone(folder)
    assert backbone.source == 'onnx'
    for key, value in unet.state_dict().items():
        assert torch.equal(backbone.unet.state_dict()[key], value), key


@pytest.mark.parametrize('opset', [14, 17])
def test_constant_folded_export_is_mapped_back_through_node_names(tmp_path: Path, opset: int) -> None:
    # What Optimum writes (opset 14 by default for SD, so LayerNorm decomposed): Linear weights folded into transposed
    # onnx::MatMul_N, GroupNorm affines into onnx::Mul_N/Add_N.
    unet = _write_micro_onnx(tmp_path, folding=True, opset=opset)
    names = [i.name for i in onnx.load(str(tmp_path / 'unet/model.onnx')).graph.initializer]
    assert sum(n.startswith('onnx::MatMul') for n in names) > 10 and sum(n.startswith('onnx::Mul') for n in names) > 5
    loaded = read_onnx_initialisers(tmp_path / 'unet/model.onnx')
    for key, value in unet.state_dict().items():
        assert torch.equal(loaded[key], value), key
    with torch.no_grad():
        assert torch.equal(load_backbone(tmp_path).unet(*_inputs()), unet(*_inputs()))


def _external_location(model: onnx.ModelProto, location: str) -> onnx.ModelProto:
    for init in model.graph.initializer:
        for entry in init.external_data:
            if entry.key == 'location':
                entry.value = location
    return model


@pytest.mark.parametrize('location, words', [
    ('../weights.bin', 'escapes the model folder'),
    ('sub/../../weights.bin', 'escapes the model folder'),
    ('/etc/passwd', 'absolute path'),
    ('link.bin', 'leads out of the model folder'),
    ('absent.bin', 'does not exist'),
])
def test_external_data_outside_the_folder_is_refused(micro_onnx: Tuple[Path, SDUNet], tmp_path: Path, location: str, words: str) -> None:
    source, _ = micro_onnx
    folder = tmp_path / 'pack'
    (folder / 'unet').mkdir(parents=True)
    (folder / 'scheduler').mkdir()
    for rel in ('unet/config.json', 'scheduler/scheduler_config.json'):
        (folder / rel).write_bytes((source / rel).read_bytes())
    outside = tmp_path / 'weights.bin'  # a real file next to the folder: the refusal is not "file missing"
    outside.write_bytes((source / 'unet/weights.bin').read_bytes())
    os.symlink(outside, folder / 'unet/link.bin')
    model = _external_location(onnx.load(str(source / 'unet/model.onnx'), load_external_data=False), location)
    onnx.save_model(model, str(folder / 'unet/model.onnx'))
    with pytest.raises(WeightsError) as err:
        load_backbone(folder)
    assert str(folder / 'unet/model.onnx') in str(err.value) and words in str(err.value)
    assert location in str(err.value)


def test_truncated_external_data_is_refused(micro_onnx: Tuple[Path, SDUNet], tmp_path: Path) -> None:
    source, _ = micro_onnx
    folder = tmp_path / 'pack'
    (folder / 'unet').mkdir(parents=True)
    (folder / 'unet/model.onnx').write_bytes((source / 'unet/model.onnx').read_bytes())
    data = (source / 'unet/weights.bin').read_bytes()
    (folder / 'unet/weights.bin').write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsError, match='truncated'):
        read_onnx_initialisers(folder / 'unet/model.onnx')


# -- malformed safetensors ---------------------------------------------------------------------------------


def _raw_safetensors(path: Path, header: Dict[str, Any], data: bytes) -> None:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack('<Q', len(raw)) + raw + data)


def test_truncated_safetensors_is_refused(tmp_path: Path) -> None:
    write_tiny_sd(tmp_path, 'safetensors')
    path = tmp_path / WEIGHTS
    data = path.read_bytes()
    path.write_bytes(data[:-100])
    with pytest.raises(WeightsError) as err:
        load_backbone(tmp_path)
    assert str(path) in str(err.value) and 'past the end of the file' in str(err.value) and 'truncated' in str(err.value)
    path.write_bytes(data[:200])  # cut inside the JSON header
    with pytest.raises(WeightsError, match='only 192 follow: the file is truncated'):
        read_safetensors(path)
    path.write_bytes(data[:5])
    with pytest.raises(WeightsError, match='too short for a safetensors file'):
        read_safetensors(path)


def test_header_offset_past_the_end_is_refused(tmp_path: Path) -> None:
    path = tmp_path / 'w.safetensors'
    _raw_safetensors(path, {'a': {'dtype': 'F32', 'shape': [2], 'data_offsets': [4096, 4104]}}, b'\0' * 8)
    with pytest.raises(WeightsError) as err:
        read_safetensors(path)
    assert 'tensor "a" ends at byte 4104' in str(err.value) and 'past the end' in str(err.value)


def test_a_dtype_the_header_lies_about_is_refused(tmp_path: Path) -> None:
    path = tmp_path / 'w.safetensors'
    # Four F16 values (8 bytes) declared as F32: the sizes do not add up.
    _raw_safetensors(path, {'a': {'dtype': 'F32', 'shape': [4], 'data_offsets': [0, 8]}}, b'\0' * 8)
    with pytest.raises(WeightsError) as err:
        read_safetensors(path)
    assert 'declared F32 [4] (16 bytes)' in str(err.value) and 'span 8 bytes' in str(err.value)
    _raw_safetensors(path, {'a': {'dtype': 'F8_E4M3', 'shape': [4], 'data_offsets': [0, 4]}}, b'\0' * 4)
    with pytest.raises(WeightsError, match="unknown dtype 'F8_E4M3'"):
        read_safetensors(path)


def test_overlapping_tensors_are_refused(tmp_path: Path) -> None:
    path = tmp_path / 'w.safetensors'
    _raw_safetensors(path, {'a': {'dtype': 'F32', 'shape': [2], 'data_offsets': [0, 8]},
                            'b': {'dtype': 'F32', 'shape': [2], 'data_offsets': [4, 12]}}, b'\0' * 12)
    with pytest.raises(WeightsError, match='"a" and "b" overlap'):
        read_safetensors(path)


def test_a_missing_unet_key_is_refused(tmp_path: Path) -> None:
    write_tiny_sd(tmp_path, 'safetensors')
    tensors = read_safetensors(tmp_path / WEIGHTS)
    del tensors['mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight']
    write_safetensors(tmp_path / WEIGHTS, tensors)
    with pytest.raises(WeightsError) as err:
        load_backbone(tmp_path)
    assert '1 UNet weights missing: mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight' in str(err.value)
    assert str(tmp_path / WEIGHTS) in str(err.value)


def test_wrong_shapes_and_extra_keys_are_refused(tmp_path: Path) -> None:
    write_tiny_sd(tmp_path, 'safetensors')
    tensors = read_safetensors(tmp_path / WEIGHTS)
    tensors['conv_in.weight'] = torch.zeros(8, 9, 3, 3)
    tensors['add_embedding.linear_1.weight'] = torch.zeros(2, 2)
    write_safetensors(tmp_path / WEIGHTS, tensors)
    with pytest.raises(WeightsError) as err:
        load_backbone(tmp_path)
    assert 'conv_in.weight is [8, 9, 3, 3], the config needs [8, 4, 3, 3]' in str(err.value)
    assert '1 unexpected weights: add_embedding.linear_1.weight' in str(err.value)


def test_an_unknown_config_is_refused_before_any_weight_is_read(tmp_path: Path) -> None:
    write_tiny_sd(tmp_path, 'safetensors')
    config = json.loads((tmp_path / 'unet/config.json').read_text())
    config['down_block_types'][1] = 'KCrossAttnDownBlock2D'
    (tmp_path / 'unet/config.json').write_text(json.dumps(config))
    with pytest.raises(WeightsError) as err:
        load_backbone(tmp_path)
    assert str(tmp_path / 'unet/config.json') in str(err.value) and "unknown down block type 'KCrossAttnDownBlock2D'" in str(err.value)


def test_folders_without_loadable_weights_say_what_they_hold(tmp_path: Path) -> None:
    write_tiny_sd(tmp_path, 'safetensors')
    (tmp_path / WEIGHTS).rename(tmp_path / 'unet/diffusion_pytorch_model.bin')
    with pytest.raises(WeightsError, match='no UNet weights found .* diffusion_pytorch_model.bin are pickled PyTorch weights'):
        load_backbone(tmp_path)
    (tmp_path / 'scheduler/scheduler_config.json').unlink()
    with pytest.raises(WeightsError, match='scheduler_config.json: not found'):
        load_backbone(tmp_path)
