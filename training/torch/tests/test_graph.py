"""Graph execution details that the TF.js parity tests cannot isolate."""
from __future__ import annotations

import math

import torch

from codi_torch.graph import GraphModule, GraphProgram, group_norm_fp32, timestep_frequencies, to_record_layout, to_torch_layout


def _spec(ops: list[dict[str, object]], params: list[dict[str, object]], output: int) -> dict[str, object]:
    inputs = [{"name": "z", "id": 0}, {"name": "t", "id": 1}]
    return {"format": "codi-graph", "version": 1, "kind": "backbone", "inputs": inputs, "output": output, "params": params, "ops": ops}


def test_layout_round_trip() -> None:
    hwio = torch.arange(3 * 3 * 2 * 5, dtype=torch.float32).reshape(3, 3, 2, 5)
    oihw = to_torch_layout(hwio)
    assert list(oihw.shape) == [5, 2, 3, 3]
    assert oihw[4, 1, 2, 0] == hwio[2, 0, 1, 4]
    assert torch.equal(to_record_layout(oihw), hwio)
    dense = torch.ones(4, 6)
    assert to_torch_layout(dense) is dense


def test_stride_two_conv_pads_at_the_end_like_tf_same() -> None:
    # a kernel with only its top-left tap set reads x[2i, 2j] when no padding comes first (TF 'SAME')
    w = torch.zeros(3, 3, 1, 1)
    w[0, 0, 0, 0] = 1.0
    spec = _spec([{"op": "conv2d", "out": 2, "x": 0, "w": "backbone/c.w", "b": "backbone/c.b", "kernel": 3, "stride": 2}], [], 2)
    prog = GraphProgram(spec)
    x = torch.arange(16, dtype=torch.float32).reshape(1, 1, 4, 4)
    y = prog({"backbone/c.w": to_torch_layout(w), "backbone/c.b": torch.zeros(1)}, {"z": x, "t": torch.zeros(1)})
    assert y.shape == (1, 1, 2, 2)
    assert y.flatten().tolist() == [0.0, 2.0, 8.0, 10.0]


def test_timestep_frequencies_follow_the_formula() -> None:
    f = timestep_frequencies(8)
    assert f.dtype == torch.float32
    assert f.tolist() == [float(torch.tensor(math.exp(-math.log(10000.0) * i / 4), dtype=torch.float32)) for i in range(4)]


def test_upsample_and_mix_level() -> None:
    ops = [
        {"op": "upsampleNearest2", "out": 2, "x": 0},
        {"op": "param", "out": 3, "name": "adapter/mu"},
        {"op": "mixLevel", "out": 4, "a": 2, "b": 2, "mu": 3, "level": 1},
    ]
    prog = GraphProgram(_spec(ops, [], 4))
    x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    y = prog({"adapter/mu": torch.tensor([0.0, 0.5])}, {"z": x, "t": torch.zeros(1)})
    assert y[0, 0].tolist() == [[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0], [3.0, 3.0, 4.0, 4.0], [3.0, 3.0, 4.0, 4.0]]


def test_group_norm_stays_fp32_under_bf16() -> None:
    x = torch.randn(2, 4, 3, 3).to(torch.bfloat16)
    y = group_norm_fp32(x, 2, torch.ones(4), torch.zeros(4), 1e-5)
    assert y.dtype == torch.float32
    assert abs(float(y.mean())) < 1e-2


def test_graph_module_holds_the_spec_names_as_parameters() -> None:
    ops = [
        {"op": "conv2d", "out": 2, "x": 0, "w": "backbone/c.w", "b": "backbone/c.b", "kernel": 1, "stride": 1},
        {"op": "silu", "out": 3, "x": 2},
    ]
    params: list[dict[str, object]] = [{"name": "backbone/c.w", "shape": [1, 1, 2, 3]}, {"name": "backbone/c.b", "shape": [3]}]
    prog = GraphProgram(_spec(ops, params, 3))
    weights = {"backbone/c.w": torch.randn(3, 2, 1, 1), "backbone/c.b": torch.randn(3)}
    module = GraphModule(prog, weights)
    assert list(module.named_weights()) == ["backbone/c.w", "backbone/c.b"]
    assert sum(p.numel() for p in module.parameters()) == 9
    x = {"z": torch.randn(1, 2, 2, 2), "t": torch.zeros(1)}
    assert torch.equal(module(x), prog(weights, x))
    module(x).sum().backward()  # type: ignore[no-untyped-call]
    assert all(p.grad is not None for p in module.parameters())
