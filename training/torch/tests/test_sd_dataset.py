"""The encoded SD data set reader (sd-dataset.json + raw float32 files)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from codi_torch.sd.dataset import DatasetError, EncodedDataset, batch_indices, write_tiny_dataset


def test_round_trip_and_text_broadcast(tmp_path: Path) -> None:
    write_tiny_dataset(tmp_path / "inp", "inpaint", count=6, size=8)
    ds = EncodedDataset(tmp_path / "inp")
    assert (ds.task, ds.count, ds.latent_shape, ds.condition_shape, ds.text_rows) == ("inpaint", 6, (4, 8, 8), (5, 8, 8), 1)
    b = ds.batch([5, 0])
    assert b.target.shape == (2, 4, 8, 8) and b.condition.shape == (2, 5, 8, 8) and b.text.shape == (2, 4, 16)
    assert np.array_equal(b.target[0].numpy(), np.fromfile(tmp_path / "inp" / "target.f32", dtype="<f4").reshape(6, 4, 8, 8)[5])
    assert np.array_equal(b.text[0].numpy(), b.text[1].numpy())
    write_tiny_dataset(tmp_path / "edit", "edit", count=3)
    e = EncodedDataset(tmp_path / "edit")
    assert e.text_rows == 3 and not np.array_equal(e.batch([0]).text.numpy(), e.batch([1]).text.numpy())


def _corrupt(folder: Path, **changes: object) -> None:
    meta = json.loads((folder / "sd-dataset.json").read_text())
    meta.update(changes)
    (folder / "sd-dataset.json").write_text(json.dumps(meta))


@pytest.mark.parametrize("change,message", [
    ({"format": "other"}, "format"),
    ({"condition": [4, 8, 8]}, "inpaint condition"),
    ({"count": 7}, "bytes"),
    ({"files": {"target": "../target.f32", "condition": "condition.f32", "text": "text.f32"}}, "inside the data set folder"),
    ({"textRows": 2}, "textRows"),
])
def test_refuses_an_inconsistent_set(tmp_path: Path, change: dict[str, object], message: str) -> None:
    write_tiny_dataset(tmp_path, "inpaint", count=6)
    _corrupt(tmp_path, **change)
    with pytest.raises(DatasetError, match=message):
        EncodedDataset(tmp_path)


def test_truncated_file_is_refused(tmp_path: Path) -> None:
    write_tiny_dataset(tmp_path, "restore", count=4)
    data = (tmp_path / "condition.f32").read_bytes()
    (tmp_path / "condition.f32").write_bytes(data[:-4])
    with pytest.raises(DatasetError, match="condition.f32"):
        EncodedDataset(tmp_path)


def test_batches_are_a_function_of_the_step_and_cover_each_epoch() -> None:
    first_epoch = [i for s in range(3) for i in batch_indices(6, 2, s, seed=4)]
    assert sorted(first_epoch) == list(range(6))
    assert batch_indices(6, 4, 7, 4) == batch_indices(6, 4, 7, 4)
    assert batch_indices(6, 4, 1, 4) != batch_indices(6, 4, 1, 5)
