"""Export of a PE-CoDi adapter: the two ONNX graphs with the agreed names, the adapter manifest, the copied pipeline."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper

from codi_torch.sd.adapter import CoDiAdapter
from codi_torch.sd.export import EXTERNAL_DATA, consolidate_external_data, export_folder
from codi_torch.sd.loader import load_backbone

from .sd_fixtures import write_small_sd


def _dims(vi: onnx.ValueInfoProto) -> list[object]:
    return [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]


@pytest.mark.parametrize("prediction", ["epsilon", "v_prediction"])
def test_export_folder_has_the_agreed_graphs_and_manifest(tmp_path: Path, prediction: str) -> None:
    write_small_sd(tmp_path / "bb", prediction)
    backbone = load_backbone(tmp_path / "bb")
    adapter = CoDiAdapter(backbone.unet, 5)
    with torch.no_grad():
        adapter.mu.fill_(0.25)
    out = tmp_path / "out"
    export_folder(out, backbone, adapter, "inpaint", tmp_path / "bb", {"steps": 3}, (4, 8, 8), (4, 16))
    for part in ("vae_encoder/model.onnx", "vae_decoder/model.onnx", "text_encoder/model.onnx", "tokenizer/vocab.json", "model_index.json",
                 "scheduler/scheduler_config.json"):
        assert (out / part).is_file(), part
    assert not (out / "unet" / "diffusion_pytorch_model.safetensors").exists()
    n = len(backbone.unet.mix_point_channels())
    unet = onnx.load(str(out / "unet" / "model.onnx"))
    onnx.checker.check_model(unet)
    assert [i.name for i in unet.graph.input] == ["sample", "timestep", "encoder_hidden_states", *[f"adapter_feature_{i}" for i in range(n)], "adapter_mu"]
    assert [o.name for o in unet.graph.output] == ["out_sample"]
    assert unet.opset_import[0].version == 17
    assert _dims(unet.graph.input[0]) == ["batch", 4, "height", "width"]
    assert _dims(unet.graph.input[-1]) == [n]
    assert _dims(unet.graph.input[3 + n - 1])[1] == backbone.unet.mix_point_channels()[-1]
    ad = onnx.load(str(out / "codi_adapter" / "model.onnx"))
    onnx.checker.check_model(ad)
    assert [i.name for i in ad.graph.input] == ["sample", "timestep", "encoder_hidden_states", "condition"]
    assert [o.name for o in ad.graph.output] == [*[f"adapter_feature_{i}" for i in range(n)], "adapter_mu"]
    assert _dims(ad.graph.input[3]) == ["batch", 5, "height", "width"]
    manifest = json.loads((out / "codi_adapter" / "codi_adapter.json").read_text())
    assert manifest["format"] == "codi-sd-adapter/1" and manifest["task"] == "inpaint"
    assert manifest["condition"] == {"channels": 5, "kind": "inpaint"} and manifest["mixPoints"] == n
    assert manifest["predictionType"] == prediction
    assert manifest["backboneUnetSha256"] == hashlib.sha256((out / "unet" / "model.onnx").read_bytes()).hexdigest()
    assert manifest["sampler"] == {"N": 50, "defaultSteps": 4, "sigmaData": 0.5} and manifest["training"]["steps"] == 3
    # μ travels in the adapter graph (its value, computed by a node: not an initialiser-only output)
    mu_node = [node for node in ad.graph.node if "adapter_mu" in node.output]
    assert mu_node and mu_node[0].op_type == "Identity"
    init = {t.name: numpy_helper.to_array(t) for t in ad.graph.initializer}
    assert np.allclose(init[mu_node[0].input[0]], 0.25)


def test_out_folder_is_never_a_stranger(tmp_path: Path) -> None:
    write_small_sd(tmp_path / "bb", "epsilon", pipeline_parts=False)
    backbone = load_backbone(tmp_path / "bb")
    adapter = CoDiAdapter(backbone.unet, 4)
    mine = tmp_path / "photos"
    mine.mkdir()
    (mine / "keep.jpg").write_bytes(b"x")
    with pytest.raises(ValueError, match="not an earlier CoDi adapter export"):
        export_folder(mine, backbone, adapter, "restore", tmp_path / "bb", {}, (4, 8, 8), (4, 16))
    assert (mine / "keep.jpg").read_bytes() == b"x"
    out = tmp_path / "out"
    export_folder(out, backbone, adapter, "restore", tmp_path / "bb", {"steps": 1}, (4, 8, 8), (4, 16))
    export_folder(out, backbone, adapter, "restore", tmp_path / "bb", {"steps": 2}, (4, 8, 8), (4, 16))  # a re-export replaces it
    assert json.loads((out / "codi_adapter" / "codi_adapter.json").read_text())["training"]["steps"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bb", "out", "photos"]  # no staging left behind


def test_external_tensors_are_gathered_into_one_file(tmp_path: Path) -> None:
    w = numpy_helper.from_array(np.arange(4096, dtype=np.float32).reshape(64, 64), "w")
    b = numpy_helper.from_array(np.ones(64, dtype=np.float32), "b")
    graph = onnx.helper.make_graph([onnx.helper.make_node("Gemm", ["x", "w", "b"], ["y"])], "g",
                                   [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 64])],
                                   [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 64])], [w, b])
    path = tmp_path / "model.onnx"
    onnx.save_model(onnx.helper.make_model(graph), str(path), save_as_external_data=True, all_tensors_to_one_file=False, size_threshold=0)
    assert len(list(tmp_path.iterdir())) == 3
    consolidate_external_data(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx", EXTERNAL_DATA]
    m = onnx.load(str(path))
    assert np.array_equal(numpy_helper.to_array(m.graph.initializer[0]), np.arange(4096, dtype=np.float32).reshape(64, 64))
