"""The worker's frame loop: replies in order, errors as messages (no traceback), NaN as strings."""
from __future__ import annotations

import io
from typing import Any, Dict, List, Optional

import torch

from codi_torch.protocol import read_frame, write_frame
from codi_torch.worker import serve


def _exchange(requests: List[Dict[str, Any]], tensors: Optional[List[Dict[str, torch.Tensor]]] = None) -> List[Dict[str, Any]]:
    inp = io.BytesIO()
    for i, r in enumerate(requests):
        write_frame(inp, r, (tensors or [{}] * len(requests))[i])
    inp.seek(0)
    out = io.BytesIO()
    serve(inp, out)
    out.seek(0)
    replies: List[Dict[str, Any]] = []
    while True:
        f = read_frame(out)
        if f is None:
            return replies
        h, t = f
        h["_tensors"] = t
        replies.append(h)


def test_round_trip_keeps_tensors_and_non_finite_numbers() -> None:
    buf = io.BytesIO()
    write_frame(buf, {"a": float("nan"), "b": [float("inf"), 1.5]}, {"x": torch.arange(6, dtype=torch.float32).reshape(2, 3)})
    buf.seek(0)
    frame = read_frame(buf)
    assert frame is not None
    h, t = frame
    assert h["a"] == "NaN" and h["b"] == ["Infinity", 1.5]
    assert t["x"].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_errors_come_back_as_messages() -> None:
    replies = _exchange([{"cmd": "hello"}, {"cmd": "step"}, {"cmd": "bogus"}, {"cmd": "setup", "graph": {"format": "x"}}, {"cmd": "exit"}])
    assert replies[0]["ok"] is True and replies[0]["torch"] == torch.__version__
    assert replies[1] == {"ok": False, "error": "the worker has not been set up", "tensors": [], "_tensors": {}}
    assert replies[2]["error"] == "unknown command bogus"
    assert replies[3]["ok"] is False and "Traceback" not in replies[3]["error"]
    assert replies[4]["ok"] is True


def test_eval_runs_a_spec_on_nhwc_inputs() -> None:
    spec = {
        "format": "codi-graph", "version": 1, "kind": "backbone", "output": 3, "params": [],
        "inputs": [{"name": "z", "id": 0}, {"name": "t", "id": 1}],
        "ops": [{"op": "silu", "out": 2, "x": 0}, {"op": "scale", "out": 3, "x": 2, "s": 2.0}],
    }
    z = torch.tensor([[[[1.0, -1.0]]]])  # NHWC [1, 1, 1, 2]
    replies = _exchange([{"cmd": "eval", "graph": spec, "t": [5]}], [{"z": z}])
    v = replies[0]["_tensors"]["v"]
    assert list(v.shape) == [1, 1, 1, 2]
    assert v.flatten().tolist() == [float(2 * torch.nn.functional.silu(torch.tensor(1.0))), float(2 * torch.nn.functional.silu(torch.tensor(-1.0)))]
