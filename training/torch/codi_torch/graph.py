"""Execute a graph spec (core/nn/graph-spec.ts) with PyTorch.

The network is defined once, in TypeScript (core/nn/unet.ts); the TypeScript side records
it as a flat op list and this module runs that list. Tensors are NCHW here. Parameters
are kept in PyTorch's layouts (conv OIHW); `to_torch_layout` / `to_record_layout` convert
the project's ParamRecord layouts (conv HWIO, dense [in, out]) at the boundary.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Mapping, Optional

import torch
import torch.nn.functional as F

Params = Mapping[str, torch.Tensor]


def is_conv_weight(shape: List[int]) -> bool:
    """Conv weights are the only rank-4 parameters of the network."""
    return len(shape) == 4


def to_torch_layout(record_value: torch.Tensor) -> torch.Tensor:
    """HWIO (ParamRecord) -> OIHW (torch conv); other ranks unchanged."""
    if record_value.dim() == 4:
        return record_value.permute(3, 2, 0, 1).contiguous()
    return record_value


def to_record_layout(value: torch.Tensor) -> torch.Tensor:
    """OIHW (torch conv) -> HWIO (ParamRecord); other ranks unchanged."""
    if value.dim() == 4:
        return value.permute(2, 3, 1, 0).contiguous()
    return value


def timestep_frequencies(dim: int) -> torch.Tensor:
    """Ports timestepFrequencies (core/nn/layers.ts): f_i = 10000^(-i/half), float64 math, float32 result."""
    half = dim // 2
    return torch.tensor([math.exp(-math.log(10000.0) * i / half) for i in range(half)], dtype=torch.float32)


def group_norm_fp32(x: torch.Tensor, groups: int, gamma: torch.Tensor, beta: torch.Tensor, eps: float) -> torch.Tensor:
    """GroupNorm in fp32 even under bf16 autocast (torch 1.13's CPU autocast leaves it in bf16)."""
    if x.dtype == torch.float32:
        return F.group_norm(x, groups, gamma, beta, eps)
    with torch.autocast(device_type=x.device.type, enabled=False):
        return F.group_norm(x.float(), groups, gamma.float(), beta.float(), eps)


def _conv_same(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """TF 'SAME' padding: for stride 2 the extra row/column goes at the end (as in the ONNX export)."""
    if kernel == 1:
        return F.conv2d(x, w, b, stride=stride)
    if stride == 1:
        return F.conv2d(x, w, b, stride=1, padding=kernel // 2)
    h, wd = x.shape[2], x.shape[3]
    pad_h = max((math.ceil(h / stride) - 1) * stride + kernel - h, 0)
    pad_w = max((math.ceil(wd / stride) - 1) * stride + kernel - wd, 0)
    x = F.pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))
    return F.conv2d(x, w, b, stride=stride)


def _avg_pool2(x: torch.Tensor) -> torch.Tensor:
    y: torch.Tensor = F.avg_pool2d(x, 2)
    return y


def _upsample2(x: torch.Tensor) -> torch.Tensor:
    y: torch.Tensor = F.interpolate(x, scale_factor=2.0, mode="nearest")
    return y


def _per_channel(v: torch.Tensor) -> torch.Tensor:
    return v.reshape(v.shape[0], v.shape[1], 1, 1)


class GraphProgram:
    """A graph spec ready to run with any parameter set that holds its names."""

    def __init__(self, spec: Dict[str, Any]) -> None:
        if spec.get("format") != "codi-graph" or spec.get("version") != 1:
            raise ValueError("not a codi-graph version 1 spec")
        self.kind: str = spec["kind"]
        self.inputs: List[Dict[str, Any]] = spec["inputs"]
        self.output: int = spec["output"]
        self.params: List[Dict[str, Any]] = spec["params"]
        self.ops: List[Dict[str, Any]] = spec["ops"]
        self.param_names = [p["name"] for p in self.params]
        self._freqs: Dict[int, torch.Tensor] = {}

    def input_names(self) -> List[str]:
        return [i["name"] for i in self.inputs]

    def _frequencies(self, dim: int, device: torch.device) -> torch.Tensor:
        if dim not in self._freqs:
            self._freqs[dim] = timestep_frequencies(dim)
        return self._freqs[dim].to(device)

    def __call__(self, params: Params, inputs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        vals: Dict[int, torch.Tensor] = {}
        for i in self.inputs:
            if i["name"] not in inputs:
                raise ValueError(f"graph input {i['name']} is missing")
            vals[i["id"]] = inputs[i["name"]]
        for op in self.ops:
            vals[op["out"]] = self._run(op, vals, params)
        return vals[self.output]

    def _run(self, op: Dict[str, Any], vals: Dict[int, torch.Tensor], p: Params) -> torch.Tensor:
        kind = op["op"]
        fn: Optional[Callable[[Dict[str, Any], Dict[int, torch.Tensor], Params], torch.Tensor]] = _OPS.get(kind)
        if fn is None:
            if kind == "timestepEmbedding":
                t = vals[op["t"]]
                arg = t.float().reshape(-1, 1) * self._frequencies(op["dim"], t.device).reshape(1, -1)
                return torch.cat([torch.cos(arg), torch.sin(arg)], dim=1)
            raise ValueError(f"unknown graph op {kind}")
        return fn(op, vals, p)


def _attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, channels: int) -> torch.Tensor:
    n, c, h, w = q.shape
    qf = q.reshape(n, c, h * w).transpose(1, 2)
    kf = k.reshape(n, c, h * w)
    vf = v.reshape(n, c, h * w).transpose(1, 2)
    scores = torch.bmm(qf, kf) * (1.0 / math.sqrt(channels))
    out = torch.bmm(torch.softmax(scores, dim=-1), vf)
    return out.transpose(1, 2).reshape(n, c, h, w)


_OPS: Dict[str, Callable[[Dict[str, Any], Dict[int, torch.Tensor], Params], torch.Tensor]] = {
    "param": lambda op, v, p: p[op["name"]],
    "conv2d": lambda op, v, p: _conv_same(v[op["x"]], p[op["w"]], p[op["b"]], op["kernel"], op["stride"]),
    "groupNorm": lambda op, v, p: group_norm_fp32(v[op["x"]], op["groups"], p[op["gamma"]], p[op["beta"]], op["eps"]),
    "silu": lambda op, v, p: F.silu(v[op["x"]]),
    "add": lambda op, v, p: v[op["a"]] + v[op["b"]],
    "addPerChannel": lambda op, v, p: v[op["x"]] + _per_channel(v[op["v"]]),
    "mulPerChannel": lambda op, v, p: v[op["x"]] * _per_channel(v[op["v"]]),
    "scale": lambda op, v, p: v[op["x"]] * float(op["s"]),
    "mixLevel": lambda op, v, p: v[op["a"]] + v[op["mu"]][int(op["level"])] * (v[op["b"]] - v[op["a"]]),
    "avgPool2": lambda op, v, p: _avg_pool2(v[op["x"]]),
    "upsampleNearest2": lambda op, v, p: _upsample2(v[op["x"]]),
    "concatChannels": lambda op, v, p: torch.cat([v[i] for i in op["xs"]], dim=1),
    "dense": lambda op, v, p: torch.addmm(p[op["b"]], v[op["x"]], p[op["w"]]),
    "attention": lambda op, v, p: _attention(v[op["q"]], v[op["k"]], v[op["v"]], op["channels"]),
}


class GraphModule(torch.nn.Module):
    """nn.Module view of a graph spec: parameters under the spec's names (dots and slashes mangled)."""

    def __init__(self, program: GraphProgram, params: Params) -> None:
        super().__init__()
        self.program = program
        self.names = list(program.param_names)
        self.weights = torch.nn.ParameterList([torch.nn.Parameter(params[n]) for n in self.names])

    def named_weights(self) -> Dict[str, torch.Tensor]:
        return {n: w for n, w in zip(self.names, self.weights)}

    def forward(self, inputs: Dict[str, torch.Tensor]) -> torch.Tensor:
        return self.program(self.named_weights(), inputs)
