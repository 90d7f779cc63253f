"""The weights of an ONNX UNet export (diffusers / Optimum layout), as a diffusers state_dict.

Initialisers named like state_dict keys (what `torch.onnx.export(..., do_constant_folding=False)` keeps) are
returned under their names. A constant-folded export — Optimum's default — renames what folding touched:
Linear weights become transposed `onnx::MatMul_N` tensors and GroupNorm affines `onnx::Mul_N` / `onnx::Add_N`
of shape [C, 1, 1] (and tensors that happen to be equal are shared through Identity nodes). Those are mapped back
through the node that consumes them, whose name carries the module path (`/down_blocks.0/attentions.0/
transformer_blocks.0/attn1/to_q/MatMul` → `down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight`,
transposed). What cannot be mapped that way (e.g. graphs optimised by onnxruntime, whose fused attention packs
q/k/v into one tensor) is left out, and the loader's missing-key message says so.

External data is read only from files inside the model's folder: an absolute location, a `..` component or a
symlink that leaves the folder is refused (a model file must not make the loader read arbitrary files).
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import onnx
import torch
from onnx import TensorProto, numpy_helper

from .errors import WeightsError

_DTYPES: Dict[int, torch.dtype] = {
    TensorProto.FLOAT: torch.float32, TensorProto.FLOAT16: torch.float16, TensorProto.BFLOAT16: torch.bfloat16,
    TensorProto.DOUBLE: torch.float64, TensorProto.INT64: torch.int64, TensorProto.INT32: torch.int32,
    TensorProto.INT8: torch.int8, TensorProto.UINT8: torch.uint8, TensorProto.BOOL: torch.bool,
}

# Prefix of the names torch.onnx gives tensors it created (folded constants, deduplicated copies).
ANONYMOUS_PREFIX = 'onnx::'


def _external_file(model_path: Path, location: str, name: str) -> Path:
    folder = model_path.parent
    rel = Path(location)
    if rel.is_absolute() or location.startswith(('/', '\\')) or (len(location) > 1 and location[1] == ':'):
        raise WeightsError(f'{model_path}: initialiser "{name}" keeps its data at the absolute path {location!r}; '
                           'external data must be a file inside the model folder')
    if any(part == '..' for part in Path(location.replace('\\', '/')).parts):
        raise WeightsError(f'{model_path}: initialiser "{name}" keeps its data at {location!r}, which escapes the model '
                           'folder; external data must be a file inside the model folder')
    target = folder / rel
    real_folder = os.path.realpath(folder)
    real_target = os.path.realpath(target)
    if os.path.commonpath([real_folder, real_target]) != real_folder:
        raise WeightsError(f'{model_path}: initialiser "{name}" keeps its data at {location!r}, a link that leads out of '
                           'the model folder; external data must be a file inside the model folder')
    if not os.path.isfile(real_target):
        raise WeightsError(f'{model_path}: initialiser "{name}" keeps its data in {location!r}, which does not exist')
    return Path(real_target)


def _shape(init: TensorProto) -> List[int]:
    return [int(d) for d in init.dims]


def _tensor(model_path: Path, init: TensorProto) -> torch.Tensor:
    dtype = _DTYPES.get(init.data_type)
    if dtype is None:
        raise WeightsError(f'{model_path}: initialiser "{init.name}" has ONNX data type {init.data_type}, which is not supported')
    shape = _shape(init)
    nbytes = math.prod(shape) * torch.empty((), dtype=dtype).element_size()
    if init.data_location == TensorProto.EXTERNAL:
        info = {e.key: e.value for e in init.external_data}
        location = info.get('location')
        if not location:
            raise WeightsError(f'{model_path}: initialiser "{init.name}" is external but names no file')
        path = _external_file(model_path, location, init.name)
        try:
            offset = int(info.get('offset', '0'))
            length = int(info.get('length', str(nbytes)))
        except ValueError:
            raise WeightsError(f'{model_path}: initialiser "{init.name}" has a non-numeric external offset or length') from None
        if length != nbytes:
            raise WeightsError(f'{model_path}: initialiser "{init.name}" is {shape} of {dtype} ({nbytes} bytes) but its external '
                               f'data says {length} bytes')
        size = path.stat().st_size
        if offset < 0 or offset + length > size:
            raise WeightsError(f'{model_path}: initialiser "{init.name}" reads bytes {offset}..{offset + length} of {location!r}, '
                               f'which has {size}: the file is truncated')
        with path.open('rb') as f:
            f.seek(offset)
            raw = f.read(length)
        return torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(dtype).reshape(shape) if length else torch.empty(shape, dtype=dtype)
    if init.raw_data:
        if len(init.raw_data) != nbytes:
            raise WeightsError(f'{model_path}: initialiser "{init.name}" is {shape} of {dtype} ({nbytes} bytes) but holds '
                               f'{len(init.raw_data)} bytes')
        return torch.frombuffer(bytearray(init.raw_data), dtype=torch.uint8).view(dtype).reshape(shape)
    if init.data_type == TensorProto.BFLOAT16:
        bits = torch.tensor(list(init.int32_data), dtype=torch.int32).to(torch.int16)
        return bits.view(torch.bfloat16).reshape(shape)
    return torch.from_numpy(numpy_helper.to_array(init).copy()).reshape(shape)


def _scope(node_name: str) -> Optional[str]:
    """'/down_blocks.0/resnets.1/conv1/Conv' → 'down_blocks.0.resnets.1.conv1'."""
    if not node_name.startswith('/') or node_name.count('/') < 2:
        return None
    return node_name[1:].rsplit('/', 1)[0].replace('/', '.')


def _key_for(node: onnx.NodeProto, index: int, value: torch.Tensor) -> Optional[Tuple[str, torch.Tensor]]:
    """The state_dict key (and value in torch's layout) of a folded initialiser, from the node that reads it."""
    scope = _scope(node.name)
    if scope is None:
        return None
    leaf = scope.rsplit('.', 1)[-1]
    op = node.op_type
    if op == 'MatMul' and index == 1 and value.dim() == 2:
        return f'{scope}.weight', value.t().contiguous()
    if op == 'Gemm' and index in (1, 2):
        if index == 2:
            return f'{scope}.bias', value
        trans_b = next((a.i for a in node.attribute if a.name == 'transB'), 0)
        return f'{scope}.weight', value if trans_b else value.t().contiguous()
    if op == 'Conv' and index in (1, 2):
        return f'{scope}.{"weight" if index == 1 else "bias"}', value
    if op == 'LayerNormalization' and index in (1, 2):
        return f'{scope}.{"weight" if index == 1 else "bias"}', value
    if op in ('Mul', 'Add') and 'norm' in leaf and value.numel() > 1:
        # GroupNorm's affine after InstanceNormalization, broadcast as [C, 1, 1]. A decomposed LayerNorm's scalar
        # constants (eps, the exponent) sit in the same scope; they are single numbers, an affine never is.
        return f'{scope}.{"weight" if op == "Mul" else "bias"}', value.reshape(-1)
    return None


def read_onnx_initialisers_with_unmapped(model_path: Path) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """The state_dict of an ONNX UNet and the names of the anonymous initialisers no module path was found for."""
    try:
        model = onnx.load(str(model_path), load_external_data=False)
    except FileNotFoundError:
        raise WeightsError(f'{model_path}: file not found') from None
    except Exception as err:  # protobuf raises its own DecodeError; any parse failure means "not an ONNX model"
        raise WeightsError(f'{model_path}: not a readable ONNX model ({type(err).__name__}: {err})') from None
    graph = model.graph
    consumers: Dict[str, List[Tuple[onnx.NodeProto, int]]] = {}
    for node in graph.node:
        for i, name in enumerate(node.input):
            consumers.setdefault(name, []).append((node, i))

    def final_consumers(name: str, depth: int = 0) -> List[Tuple[onnx.NodeProto, int]]:
        out: List[Tuple[onnx.NodeProto, int]] = []
        for node, i in consumers.get(name, []):
            if node.op_type == 'Identity' and depth < 8:
                out += final_consumers(node.output[0], depth + 1)
            else:
                out.append((node, i))
        return out

    named: Dict[str, torch.Tensor] = {}
    mapped: Dict[str, torch.Tensor] = {}
    unmapped: List[str] = []
    for init in graph.initializer:
        value = _tensor(model_path, init)
        if not init.name.startswith(ANONYMOUS_PREFIX):
            named[init.name] = value
            continue
        keys = [k for k in (_key_for(node, i, value) for node, i in final_consumers(init.name)) if k is not None]
        if not keys and value.numel() > 1 and value.is_floating_point():
            unmapped.append(init.name)
        for key, tensor in keys:
            mapped.setdefault(key, tensor)
    # A tensor that kept its own name wins over one recovered from a consumer.
    return {**mapped, **named}, unmapped


def read_onnx_initialisers(model_path: Path) -> Dict[str, torch.Tensor]:
    """The initialisers of an ONNX UNet under their diffusers state_dict keys (see the module docstring)."""
    return read_onnx_initialisers_with_unmapped(model_path)[0]
