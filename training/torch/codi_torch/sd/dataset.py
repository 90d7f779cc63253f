"""The encoded data set of an SD-class run: latents and text embeddings written once by
`codi encode-dataset` (the pack's own VAE and text encoder under ONNX Runtime), so the heavy
encoders stay out of the training loop.

Layout (format "codi-sd-dataset/1"): `sd-dataset.json` naming three raw little-endian float32
files, row-major [N, ...]: the target latents [N, 4, h, w], the task's latent-space condition
[N, Cc, h, w] and the text embeddings [R, S, D] with R = 1 (one prompt for all, e.g. the empty
prompt for inpaint/restore) or R = N (one instruction per item, edit).

The files are memory-mapped: a real set (10k items at 512 px is ~1.3 GB of latents and
conditions) is read a batch at a time, never all at once.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

FORMAT = "codi-sd-dataset/1"
TASKS = ("inpaint", "restore", "edit")
CONDITION_CHANNELS = {"inpaint": 5, "restore": 4, "edit": 4}


class DatasetError(ValueError):
    """An encoded data set this reader refuses, with a message naming the file and the fault."""


@dataclass(frozen=True)
class Batch:
    target: torch.Tensor
    condition: torch.Tensor
    text: torch.Tensor


def _shape(meta: Dict[str, Any], key: str, rank: int, where: Path) -> Tuple[int, ...]:
    v = meta.get(key)
    if not isinstance(v, list) or len(v) != rank or not all(isinstance(x, int) and x > 0 for x in v):
        raise DatasetError(f'{where}: "{key}" must be a list of {rank} positive integers, got {v!r}')
    return tuple(v)


class EncodedDataset:
    """Reads one encoded data set folder; refuses anything inconsistent before training starts."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        meta_path = folder / "sd-dataset.json"
        try:
            meta = json.loads(meta_path.read_text(encoding="utf8"))
        except FileNotFoundError:
            raise DatasetError(f"{meta_path}: not found (write the data set with `codi encode-dataset`)") from None
        except json.JSONDecodeError as e:
            raise DatasetError(f"{meta_path}: not valid JSON ({e})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise DatasetError(f'{meta_path}: "format" must be "{FORMAT}"')
        task = meta.get("task")
        if task not in TASKS:
            raise DatasetError(f'{meta_path}: "task" must be one of {", ".join(TASKS)}, got {task!r}')
        count = meta.get("count")
        if not isinstance(count, int) or count < 1:
            raise DatasetError(f'{meta_path}: "count" must be a positive integer, got {count!r}')
        self.task: str = task
        self.count: int = count
        self.latent_shape = _shape(meta, "latent", 3, meta_path)
        self.condition_shape = _shape(meta, "condition", 3, meta_path)
        self.text_shape = _shape(meta, "text", 2, meta_path)
        if self.condition_shape[0] != CONDITION_CHANNELS[task] or self.condition_shape[1:] != self.latent_shape[1:]:
            raise DatasetError(
                f"{meta_path}: a {task} condition is [{CONDITION_CHANNELS[task]}, h, w] at the latent size {list(self.latent_shape[1:])}, "
                f"got {list(self.condition_shape)}"
            )
        scaling = meta.get("scalingFactor")
        if not isinstance(scaling, (int, float)) or not math.isfinite(scaling) or scaling <= 0:
            raise DatasetError(f'{meta_path}: "scalingFactor" must be a positive number, got {scaling!r}')
        self.scaling_factor = float(scaling)
        text_rows = meta.get("textRows", count)
        if text_rows not in (1, count):
            raise DatasetError(f'{meta_path}: "textRows" must be 1 or count ({count}), got {text_rows!r}')
        self.text_rows: int = text_rows
        files = meta.get("files")
        if not isinstance(files, dict):
            raise DatasetError(f'{meta_path}: "files" must name the target, condition and text files')
        self.target = self._map(files, "target", (count, *self.latent_shape))
        self.condition = self._map(files, "condition", (count, *self.condition_shape))
        self.text = self._map(files, "text", (text_rows, *self.text_shape))

    def _map(self, files: Dict[str, Any], key: str, shape: Tuple[int, ...]) -> "np.ndarray[Any, Any]":
        name = files.get(key)
        if not isinstance(name, str) or not name or os.path.isabs(name) or ".." in Path(name).parts:
            raise DatasetError(f'{self.folder / "sd-dataset.json"}: files.{key} must be a file name inside the data set folder, got {name!r}')
        path = self.folder / name
        if not path.is_file():
            raise DatasetError(f"{path}: missing (files.{key})")
        expected = int(np.prod(shape)) * 4
        size = path.stat().st_size
        if size != expected:
            raise DatasetError(f"{path}: {size} bytes, but {list(shape)} float32 needs {expected}")
        return np.memmap(path, dtype="<f4", mode="r", shape=shape)

    def batch(self, indices: Sequence[int]) -> Batch:
        """The items at `indices` as float32 tensors (text broadcast when the set has one row)."""
        idx = np.asarray(list(indices), dtype=np.int64)
        text_idx = idx if self.text_rows == self.count else np.zeros_like(idx)
        return Batch(
            target=torch.from_numpy(np.array(self.target[idx], dtype=np.float32)),
            condition=torch.from_numpy(np.array(self.condition[idx], dtype=np.float32)),
            text=torch.from_numpy(np.array(self.text[text_idx], dtype=np.float32)),
        )


def batch_indices(count: int, batch: int, step: int, seed: int) -> List[int]:
    """The global batch of step `step` (0-based): epochs of seeded permutations, read in order.

    A pure function of (count, batch, step, seed), so a resumed run draws exactly the batches the
    uninterrupted run would have, with no sampler state in the checkpoint.
    """
    out: List[int] = []
    pos = step * batch
    perm_epoch = -1
    perm: List[int] = []
    while len(out) < batch:
        epoch, offset = divmod(pos, count)
        if epoch != perm_epoch:
            g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
            perm = [int(i) for i in torch.randperm(count, generator=g)]
            perm_epoch = epoch
        take = min(batch - len(out), count - offset)
        out.extend(perm[offset:offset + take])
        pos += take
    return out


def write_dataset(folder: Path, task: str, target: "np.ndarray[Any, Any]", condition: "np.ndarray[Any, Any]", text: "np.ndarray[Any, Any]",
                  scaling_factor: float = 0.18215) -> None:
    """Write arrays in the encoded layout (the tests' and the tiny generator's writer)."""
    if task not in TASKS:
        raise DatasetError(f"unknown task {task!r}")
    folder.mkdir(parents=True, exist_ok=True)
    files = {"target": "target.f32", "condition": "condition.f32", "text": "text.f32"}
    for key, arr in (("target", target), ("condition", condition), ("text", text)):
        np.ascontiguousarray(arr, dtype="<f4").tofile(folder / files[key])
    meta = {
        "format": FORMAT,
        "task": task,
        "count": int(target.shape[0]),
        "latent": [int(x) for x in target.shape[1:]],
        "condition": [int(x) for x in condition.shape[1:]],
        "text": [int(x) for x in text.shape[1:]],
        "textRows": int(text.shape[0]),
        "scalingFactor": scaling_factor,
        "files": files,
    }
    (folder / "sd-dataset.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf8")


def write_tiny_dataset(folder: Path, task: str, count: int = 8, size: int = 8, text_len: int = 4, text_dim: int = 16, seed: int = 0,
                       text_rows: Optional[int] = None) -> None:
    """A small random encoded set whose condition is a function of the target, as the real tasks'
    are (masked latent + mask, a blurred latent, a shifted latent), so a short run can learn it."""
    g = np.random.default_rng(seed)
    # smooth latents: random values at half size, upsampled (real latents are spatially correlated)
    coarse = g.standard_normal((count, 4, max(1, size // 2), max(1, size // 2))).astype(np.float32)
    target = np.repeat(np.repeat(coarse, 2, axis=2), 2, axis=3)[:, :, :size, :size]
    if task == "inpaint":
        mask = np.zeros((count, 1, size, size), dtype=np.float32)
        for i in range(count):
            y, x = g.integers(0, size // 2, 2)
            mask[i, :, y:y + size // 2, x:x + size // 2] = 1
        condition = np.concatenate([target * (1 - mask), mask], axis=1)
    elif task == "restore":
        pooled = target.reshape(count, 4, size // 2, 2, size // 2, 2).mean(axis=(3, 5))
        condition = np.repeat(np.repeat(pooled, 2, axis=2), 2, axis=3)
    elif task == "edit":
        condition = target - 0.5
    else:
        raise DatasetError(f"unknown task {task!r}")
    rows = text_rows if text_rows is not None else (count if task == "edit" else 1)
    text = g.standard_normal((rows, text_len, text_dim)).astype(np.float32)
    write_dataset(folder, task, target, condition.astype(np.float32), text)
