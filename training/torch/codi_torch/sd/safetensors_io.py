"""The safetensors format, read and written without the safetensors package.

A file is: an 8-byte little-endian header length N, N bytes of JSON ({name: {dtype, shape, data_offsets:
[begin, end]}, optional "__metadata__": {str: str}}), then the raw little-endian tensor bytes, offsets counted
from the end of the header. Everything in the header is checked against the file before a tensor is built:
a file that lies about its sizes is refused whole.
"""
from __future__ import annotations

import json
import math
import mmap
import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import torch

from .errors import WeightsError

DTYPES: Mapping[str, torch.dtype] = {
    'F64': torch.float64, 'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16,
    'I64': torch.int64, 'I32': torch.int32, 'I16': torch.int16, 'I8': torch.int8, 'U8': torch.uint8, 'BOOL': torch.bool,
}
_NAMES = {dtype: name for name, dtype in DTYPES.items()}
# A header is a list of names and shapes; 100 MB is the limit the reference implementation also sets.
MAX_HEADER_BYTES = 100_000_000


def _itemsize(dtype: torch.dtype) -> int:
    return torch.empty((), dtype=dtype).element_size()


def _parse_header(path: Path, raw: bytes, data_len: int) -> Tuple[Dict[str, Tuple[torch.dtype, List[int], int, int]], Dict[str, str]]:
    try:
        header = json.loads(raw.decode('utf-8'))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise WeightsError(f'{path}: the safetensors header is not valid JSON ({err})') from None
    if not isinstance(header, dict):
        raise WeightsError(f'{path}: the safetensors header is not a JSON object')
    metadata_raw = header.pop('__metadata__', None) or {}
    if not isinstance(metadata_raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata_raw.items()):
        raise WeightsError(f'{path}: "__metadata__" must map strings to strings')
    entries: Dict[str, Tuple[torch.dtype, List[int], int, int]] = {}
    for name, entry in header.items():
        if not isinstance(entry, dict):
            raise WeightsError(f'{path}: tensor "{name}" has no dtype/shape/data_offsets entry')
        dtype_name = entry.get('dtype')
        if dtype_name not in DTYPES:
            raise WeightsError(f'{path}: tensor "{name}" has unknown dtype {dtype_name!r} (known: {", ".join(DTYPES)})')
        shape = entry.get('shape')
        if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
            raise WeightsError(f'{path}: tensor "{name}" has an invalid shape {shape!r}')
        offsets = entry.get('data_offsets')
        if (not isinstance(offsets, list) or len(offsets) != 2
                or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)):
            raise WeightsError(f'{path}: tensor "{name}" has invalid data_offsets {offsets!r}')
        begin, end = offsets
        if not 0 <= begin <= end:
            raise WeightsError(f'{path}: tensor "{name}" has data_offsets {offsets} that do not form a range')
        if end > data_len:
            raise WeightsError(f'{path}: tensor "{name}" ends at byte {end} of the data, past the end of the file '
                               f'({data_len} data bytes): the file is truncated or its header is wrong')
        dtype = DTYPES[str(dtype_name)]
        expected = math.prod(shape) * _itemsize(dtype)
        if end - begin != expected:
            raise WeightsError(f'{path}: tensor "{name}" is declared {dtype_name} {shape} ({expected} bytes) but its data_offsets '
                               f'span {end - begin} bytes: the header lies about its dtype, shape or offsets')
        entries[name] = (dtype, list(shape), begin, end)
    spans = sorted((begin, end, name) for name, (_, _, begin, end) in entries.items() if end > begin)
    for (_, end_a, name_a), (begin_b, _, name_b) in zip(spans, spans[1:]):
        if begin_b < end_a:
            raise WeightsError(f'{path}: tensors "{name_a}" and "{name_b}" overlap in the data section')
    return entries, dict(metadata_raw)


def read_safetensors_with_metadata(path: Path) -> Tuple[Dict[str, torch.Tensor], Dict[str, str]]:
    """All tensors (each its own copy, native dtype) and the "__metadata__" of a safetensors file."""
    try:
        size = path.stat().st_size
        f = path.open('rb')
    except OSError as err:
        raise WeightsError(f'{path}: cannot read ({err.strerror})') from None
    with f:
        if size < 8:
            raise WeightsError(f'{path}: {size} bytes is too short for a safetensors file (it is truncated or not safetensors)')
        n = int.from_bytes(f.read(8), 'little')
        if n > MAX_HEADER_BYTES:
            raise WeightsError(f'{path}: the header length field says {n} bytes, more than the {MAX_HEADER_BYTES} allowed (not a safetensors file?)')
        if 8 + n > size:
            raise WeightsError(f'{path}: the header length field says {n} bytes but only {size - 8} follow: the file is truncated')
        raw = f.read(n)
        entries, metadata = _parse_header(path, raw, size - 8 - n)
        tensors: Dict[str, torch.Tensor] = {}
        if size == 8 + n:
            for name, (dtype, shape, _, _) in entries.items():
                tensors[name] = torch.empty(shape, dtype=dtype)
            return tensors, metadata
        # A private mapping: pages come from the file on demand and each tensor is copied out before it closes.
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY) as mm:
            base = 8 + n
            for name, (dtype, shape, begin, end) in entries.items():
                if end == begin:
                    tensors[name] = torch.empty(shape, dtype=dtype)
                    continue
                flat = torch.frombuffer(mm, dtype=torch.uint8, count=end - begin, offset=base + begin)
                t = flat.clone().view(dtype).reshape(shape)
                if sys.byteorder != 'little' and t.element_size() > 1:
                    raise WeightsError(f'{path}: reading safetensors on a big-endian machine is not supported')
                tensors[name] = t
                del flat
    return tensors, metadata


def read_safetensors(path: Path) -> Dict[str, torch.Tensor]:
    """All tensors of a safetensors file; WeightsError (naming the file and the fault) for anything malformed."""
    return read_safetensors_with_metadata(path)[0]


def write_safetensors(path: Path, tensors: Mapping[str, torch.Tensor], metadata: Optional[Dict[str, str]] = None) -> None:
    """Write `tensors` (any of DTYPES) as safetensors, atomically (a temporary file renamed into place)."""
    header: Dict[str, Any] = {}
    if metadata:
        header['__metadata__'] = dict(metadata)
    blobs: List[bytes] = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().to('cpu').contiguous()
        if t.dtype not in _NAMES:
            raise WeightsError(f'{path}: tensor "{name}" has dtype {t.dtype}, which safetensors_io does not write')
        blob = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b''
        header[name] = {'dtype': _NAMES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    raw = json.dumps(header, separators=(',', ':')).encode('utf-8')
    raw += b' ' * (-len(raw) % 8)  # the data section starts 8-byte aligned, as the reference writer does
    tmp = path.with_name(path.name + '.tmp')
    with tmp.open('wb') as f:
        f.write(len(raw).to_bytes(8, 'little'))
        f.write(raw)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)
