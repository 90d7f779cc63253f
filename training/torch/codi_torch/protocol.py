"""Frames between the Node driver and a worker (training/engine-torch/protocol.ts is the other end).

A frame is a little-endian uint32 header length, a UTF-8 JSON header, then the raw
little-endian float32 data of the tensors the header lists under "tensors" (name, shape),
in that order. Tensors cross as ParamRecord / NHWC data; conversion happens in the worker.
"""
from __future__ import annotations

import json
import math
import struct
from typing import Any, BinaryIO, Dict, List, Optional, Tuple

import numpy as np
import torch

Header = Dict[str, Any]
TensorMap = Dict[str, torch.Tensor]


def _read_exact(stream: BinaryIO, n: int) -> Optional[bytes]:
    chunks: List[bytes] = []
    left = n
    while left > 0:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame(stream: BinaryIO) -> Optional[Tuple[Header, TensorMap]]:
    """The next frame, or None at end of input."""
    head = _read_exact(stream, 4)
    if head is None:
        return None
    (length,) = struct.unpack("<I", head)
    raw = _read_exact(stream, length)
    if raw is None:
        return None
    header: Header = json.loads(raw.decode("utf-8"))
    tensors: TensorMap = {}
    for entry in header.get("tensors", []):
        shape = [int(d) for d in entry["shape"]]
        count = int(np.prod(shape)) if shape else 1
        data = _read_exact(stream, count * 4)
        if data is None:
            raise EOFError(f"frame ended inside tensor {entry['name']}")
        arr = np.frombuffer(data, dtype="<f4").reshape(shape)
        tensors[entry["name"]] = torch.from_numpy(arr.copy())
    return header, tensors


def _json_safe(value: Any) -> Any:
    """NaN and +-Inf as strings: JSON has no literal for them (the driver turns them back)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def write_frame(stream: BinaryIO, header: Header, tensors: Optional[TensorMap] = None) -> None:
    items = list((tensors or {}).items())
    full = _json_safe(dict(header))
    full["tensors"] = [{"name": k, "shape": list(v.shape)} for k, v in items]
    raw = json.dumps(full, allow_nan=False).encode("utf-8")
    stream.write(struct.pack("<I", len(raw)))
    stream.write(raw)
    for _, v in items:
        stream.write(v.detach().to(torch.float32).contiguous().cpu().numpy().astype("<f4").tobytes())
    stream.flush()
