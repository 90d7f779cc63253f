"""Tiny CoDi SD export for the engine tests (run with a Python that has torch).

Writes, into a folder that already holds a tiny diffusers ONNX pipeline
(tests/fixtures-gen/diffusers-tiny.ts writeTinyPipeline), the two graphs of the CoDi SD
export contract with exactly its input and output names:

  unet/model.onnx          sample, timestep, encoder_hidden_states, adapter_feature_0..L-1,
                           adapter_mu -> out_sample  (mu = 0 and zero features: the plain UNet)
  codi_adapter/model.onnx  sample, timestep, encoder_hidden_states, condition
                           -> adapter_feature_0..L-1, adapter_mu
  codi_adapter/codi_adapter.json  (backboneUnetSha256 = sha256 of unet/model.onnx)
  unet/config.json         an SD-style config (2 down blocks, 1 layer each) whose mix points
                           are conv_in, each resnet, the downsampler and the mid block.

The networks are a few convolutions with random weights, not an SD UNet; what matches the
real export is the IO signature, the mixing rule (1 - mu_i) h_i + mu_i f_i at every mix point,
and the folder layout.
"""
import argparse
import hashlib
import json
import os
from pathlib import Path
from typing import List

import torch
from torch import nn
import torch.nn.functional as F

C = 8
TEXT_DIM = 16
LATENT = 4
MIX_POINTS = 5
COND_CHANNELS = {'inpaint': 5, 'restore': 4, 'edit': 4}


def timestep_features(t: torch.Tensor) -> torch.Tensor:
    freqs = torch.tensor([1.0, 0.1, 0.01, 0.001])
    arg = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.sin(arg), torch.cos(arg)], dim=1)


class Encoder(nn.Module):
    """conv_in -> res0 -> down0 (stride 2) -> res1 -> mid: five mix points."""

    def __init__(self) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(LATENT, C, 3, padding=1)
        self.temb = nn.Linear(8, C)
        self.text = nn.Linear(TEXT_DIM, C)
        self.res0 = nn.Conv2d(C, C, 3, padding=1)
        self.down0 = nn.Conv2d(C, C, 3, stride=2, padding=1)
        self.res1 = nn.Conv2d(C, C, 3, padding=1)
        self.mid = nn.Conv2d(C, C, 3, padding=1)

    def emb(self, timestep: torch.Tensor, ehs: torch.Tensor) -> torch.Tensor:
        e = self.temb(timestep_features(timestep)) + self.text(ehs.mean(dim=1))
        return e[:, :, None, None]

    def points(self, sample, timestep, ehs, offset, mix) -> List[torch.Tensor]:
        emb = self.emb(timestep, ehs)
        out: List[torch.Tensor] = []

        def keep(h: torch.Tensor) -> torch.Tensor:
            if mix is not None:
                feats, mu = mix
                i = len(out)
                h = (1 - mu[i]) * h + mu[i] * feats[i]
            out.append(h)
            return h

        h = self.conv_in(sample)
        if offset is not None:
            h = h + offset
        h = keep(h)
        h = keep(F.silu(self.res0(h) + emb))
        h = keep(F.silu(self.down0(h)))
        h = keep(F.silu(self.res1(h) + emb))
        keep(F.silu(self.mid(h)))
        return out


class Backbone(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.enc = Encoder()
        self.conv_out = nn.Conv2d(C, LATENT, 3, padding=1)

    def forward(self, sample, timestep, ehs, f0, f1, f2, f3, f4, mu):  # type: ignore[no-untyped-def]
        p = self.enc.points(sample, timestep, ehs, None, ([f0, f1, f2, f3, f4], mu))
        up = F.interpolate(p[4] + p[3] + p[2], scale_factor=2.0, mode='nearest')
        return self.conv_out(F.silu(up + p[1] + p[0]))


class Adapter(nn.Module):
    def __init__(self, cond_channels: int) -> None:
        super().__init__()
        self.enc = Encoder()
        self.cond = nn.Conv2d(cond_channels, C, 3, padding=1)
        self.mu = nn.Parameter(torch.linspace(0.3, 0.7, MIX_POINTS))

    def forward(self, sample, timestep, ehs, condition):  # type: ignore[no-untyped-def]
        feats = self.enc.points(sample, timestep, ehs, self.cond(condition), None)
        # times a value of the inputs, so the exporter keeps adapter_mu a computed output
        mu = self.mu * (timestep.float().mean() * 0 + 1)
        return (*feats, mu)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('folder', type=Path)
    ap.add_argument('--task', choices=sorted(COND_CHANNELS), required=True)
    ap.add_argument('--prediction', choices=['epsilon', 'v_prediction'], default='epsilon')
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    cc = COND_CHANNELS[a.task]
    backbone = Backbone().eval()
    adapter = Adapter(cc).eval()
    adapter.enc.load_state_dict(backbone.enc.state_dict())
    with torch.no_grad():
        for p in adapter.enc.parameters():
            p.add_(0.2 * torch.randn_like(p))

    B, H, W = 1, 8, 8
    sample = torch.randn(B, LATENT, H, W)
    t = torch.full((B,), 500.0)
    ehs = torch.randn(B, 77, TEXT_DIM)
    feats = list(adapter(sample, t, ehs, torch.randn(B, cc, H, W)))
    names = [f'adapter_feature_{i}' for i in range(MIX_POINTS)]
    # Dynamic spatial dims under names that say nothing about the level: the engine must take
    # the levels from unet/config.json, as with a real export.
    dyn_feats = {n: {0: 'batch', 2: f'{n}_h', 3: f'{n}_w'} for n in names}
    spatial = {0: 'batch', 2: 'height', 3: 'width'}

    unet_dir = a.folder / 'unet'
    for f in unet_dir.iterdir():
        f.unlink()
    torch.onnx.export(
        backbone, (sample, t, ehs, *feats), str(unet_dir / 'model.onnx'), opset_version=17,
        input_names=['sample', 'timestep', 'encoder_hidden_states', *names, 'adapter_mu'],
        output_names=['out_sample'],
        dynamic_axes={'sample': spatial, 'timestep': {0: 'batch'}, 'encoder_hidden_states': {0: 'batch'},
                      'out_sample': spatial, **dyn_feats},
    )
    (unet_dir / 'config.json').write_text(json.dumps({
        '_class_name': 'UNet2DConditionModel', 'in_channels': LATENT, 'out_channels': LATENT,
        'block_out_channels': [C, C], 'down_block_types': ['DownBlock2D', 'DownBlock2D'],
        'up_block_types': ['UpBlock2D', 'UpBlock2D'], 'layers_per_block': 1, 'cross_attention_dim': TEXT_DIM,
    }, indent=2) + '\n')

    ad_dir = a.folder / 'codi_adapter'
    os.makedirs(ad_dir, exist_ok=True)
    torch.onnx.export(
        adapter, (sample, t, ehs, torch.randn(B, cc, H, W)), str(ad_dir / 'model.onnx'), opset_version=17,
        input_names=['sample', 'timestep', 'encoder_hidden_states', 'condition'],
        output_names=[*names, 'adapter_mu'],
        dynamic_axes={'sample': spatial, 'timestep': {0: 'batch'}, 'encoder_hidden_states': {0: 'batch'},
                      'condition': spatial, **dyn_feats},
    )
    info = {
        'format': 'codi-sd-adapter/1', 'task': a.task, 'condition': {'channels': cc, 'kind': a.task},
        'mixPoints': MIX_POINTS, 'predictionType': a.prediction,
        'backboneUnetSha256': sha256(unet_dir / 'model.onnx'),
        'sampler': {'N': 50, 'defaultSteps': 4, 'sigmaData': 0.5},
        'training': {'steps': 0, 'batch': 1, 'lr': 1e-5, 'muLrScale': 1.0, 'seconds': 0.0,
                     'loss': {'first': 0.0, 'last': 0.0}},
    }
    (ad_dir / 'codi_adapter.json').write_text(json.dumps(info, indent=2) + '\n')


if __name__ == '__main__':
    main()
