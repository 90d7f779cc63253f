"""Export of a trained PE-CoDi adapter as two ONNX graphs the engine runs (opset 17).

μ is applied inside the backbone graph, not folded into the adapter's features: the backbone
graph takes the branch's features and μ as inputs and mixes them at each of its L mix points,
so the same backbone file serves every adapter trained on it (and, fed zeros with μ = 0, is
the plain backbone). The adapter graph returns the features and its μ.

    OUT/
      model_index.json, scheduler/, text_encoder/, tokenizer/, vae_encoder/, vae_decoder/
                                   (copied from the user's diffusers ONNX folder when present)
      unet/model.onnx              sample, timestep, encoder_hidden_states, adapter_feature_0..L-1, adapter_mu → out_sample
      codi_adapter/model.onnx      sample, timestep, encoder_hidden_states, condition → adapter_feature_0..L-1, adapter_mu
      codi_adapter/codi_adapter.json

A graph whose weights pass 2 GB (SD's UNet in fp32 is ~3.4 GB) keeps them in one external-data
file beside it (model.onnx_data), as diffusers' own ONNX exports do.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Sequence, Tuple

import onnx
import torch
from torch import nn

from .adapter import CoDiAdapter
from .unet import SDUNet

if TYPE_CHECKING:
    from .loader import Backbone

FORMAT = "codi-sd-adapter/1"
OPSET = 17
COPIED_PARTS = ("vae_encoder", "vae_decoder", "text_encoder", "tokenizer", "scheduler", "model_index.json")
EXTERNAL_DATA = "model.onnx_data"
# the TorchScript exporter, whose dynamic_axes and names this file relies on (newer torch defaults to dynamo)
EXPORTER_ARGS = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}


class BackboneGraph(nn.Module):
    """The backbone with the branch's features and μ as inputs."""

    def __init__(self, unet: SDUNet) -> None:
        super().__init__()
        self.unet = unet
        self.points = len(unet.mix_point_channels())

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, encoder_hidden_states: torch.Tensor, *mix: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.unet(sample, timestep, encoder_hidden_states, mix=(list(mix[: self.points]), mix[self.points]))
        return out


class AdapterGraph(nn.Module):
    def __init__(self, adapter: CoDiAdapter) -> None:
        super().__init__()
        self.adapter = adapter

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, encoder_hidden_states: torch.Tensor, condition: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        features, mu = self.adapter(sample, timestep, encoder_hidden_states, condition)
        # μ is a weight: returned as is it would be a graph output that is only an initialiser,
        # which some runtimes refuse; an Identity node makes it an ordinary computed output
        return (*features, mu.clone())


def feature_names(n: int) -> List[str]:
    return [f"adapter_feature_{i}" for i in range(n)]


def example_inputs(unet: SDUNet, latent: Sequence[int], text: Sequence[int], batch: int = 1) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    sample = torch.randn((batch, *latent), generator=g)
    timestep = torch.full((batch,), 500.0)
    ehs = torch.randn((batch, *text), generator=g)
    return sample, timestep, ehs


def feature_axes(unet: SDUNet) -> Dict[str, Dict[int, str]]:
    axes: Dict[str, Dict[int, str]] = {}
    for name, stride in zip(feature_names(len(unet.mix_point_strides())), unet.mix_point_strides()):
        axes[name] = {0: "batch", 2: "height" if stride == 1 else f"height_div{stride}", 3: "width" if stride == 1 else f"width_div{stride}"}
    return axes


COMMON_AXES: Dict[str, Dict[int, str]] = {
    "sample": {0: "batch", 2: "height", 3: "width"},
    "timestep": {0: "batch"},
    "encoder_hidden_states": {0: "batch", 1: "sequence"},
}


def consolidate_external_data(model_path: Path) -> None:
    """Gather a graph's external tensors (torch writes one file per tensor past 2 GB) into one
    model.onnx_data beside it; a graph with inline weights is left as it is."""
    m = onnx.load(str(model_path), load_external_data=False)
    external = [t for t in m.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    if not external:
        return
    old_files = {Path(e.value).name for t in external for e in t.external_data if e.key == "location"}
    onnx.load_external_data_for_model(m, str(model_path.parent))
    tmp = model_path.with_name(model_path.name + ".tmp")
    onnx.save_model(m, str(tmp), save_as_external_data=True, all_tensors_to_one_file=True, location=EXTERNAL_DATA, size_threshold=1024)
    os.replace(tmp, model_path)
    for name in old_files - {EXTERNAL_DATA}:
        (model_path.parent / name).unlink(missing_ok=True)


def export_backbone_graph(unet: SDUNet, path: Path, latent: Sequence[int], text: Sequence[int]) -> None:
    n = len(unet.mix_point_channels())
    graph = BackboneGraph(unet).eval()
    sample, timestep, ehs = example_inputs(unet, latent, text)
    with torch.no_grad():
        points = unet.encode(sample, timestep, ehs)
    features = [torch.zeros_like(p) for p in points]
    mu = torch.zeros(n)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = ["sample", "timestep", "encoder_hidden_states", *feature_names(n), "adapter_mu"]
    with torch.no_grad():
        torch.onnx.export(graph, (sample, timestep, ehs, *features, mu), str(path), opset_version=OPSET, input_names=names,
                          output_names=["out_sample"], dynamic_axes={**COMMON_AXES, **feature_axes(unet), "out_sample": COMMON_AXES["sample"]},
                          do_constant_folding=True, **EXPORTER_ARGS)
    consolidate_external_data(path)


def export_adapter_graph(adapter: CoDiAdapter, unet: SDUNet, path: Path, latent: Sequence[int], text: Sequence[int]) -> None:
    n = int(adapter.mu.numel())
    graph = AdapterGraph(adapter).eval()
    sample, timestep, ehs = example_inputs(unet, latent, text)
    condition = torch.randn((1, adapter.condition_channels, *latent[1:]), generator=torch.Generator().manual_seed(1))
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(graph, (sample, timestep, ehs, condition), str(path), opset_version=OPSET,
                          input_names=["sample", "timestep", "encoder_hidden_states", "condition"],
                          output_names=[*feature_names(n), "adapter_mu"],
                          dynamic_axes={**COMMON_AXES, "condition": COMMON_AXES["sample"], **feature_axes(unet)},
                          do_constant_folding=True, **EXPORTER_ARGS)
    consolidate_external_data(path)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def adapter_manifest(task: str, condition_channels: int, mix_points: int, prediction: str, unet_sha: str, training: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "format": FORMAT,
        "task": task,
        "condition": {"channels": condition_channels, "kind": task},
        "mixPoints": mix_points,
        "predictionType": prediction,
        "backboneUnetSha256": unet_sha,
        "sampler": {"N": 50, "defaultSteps": 4, "sigmaData": 0.5},
        "training": training,
    }


def copy_pipeline_parts(pack: Path, out: Path) -> List[str]:
    """The parts of the user's diffusers ONNX folder the engine needs besides the UNet."""
    copied: List[str] = []
    for part in COPIED_PARTS:
        src = pack / part
        if src.is_symlink():
            continue  # a link could lead anywhere; the user copies such a part by hand
        if src.is_dir():
            shutil.copytree(src, out / part)
        elif src.is_file():
            shutil.copy2(src, out / part)
        else:
            continue
        copied.append(part)
    return copied


def export_folder(out: Path, backbone: "Backbone", adapter: CoDiAdapter, task: str, pack: Path, training: Dict[str, Any],
                  example_latent: Sequence[int], example_text: Sequence[int]) -> Path:
    """Write the export folder next to OUT and move it into place when complete.

    OUT may be absent or a previous export of this kind (replaced); anything else is refused,
    so a mistyped --out never overwrites a folder of the user's.
    """
    if out.exists() and not (out / "codi_adapter" / "codi_adapter.json").is_file():
        if not out.is_dir() or any(out.iterdir()):
            raise ValueError(f"--out {out} exists and is not an earlier CoDi adapter export; choose a new folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    unet = backbone.unet
    adapter_cpu = adapter.to("cpu").eval()
    unet_cpu = unet.to("cpu").eval()
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        copied = copy_pipeline_parts(pack, stage)
        # the user's unet/ (if copied with the pack) is replaced by the graph with the adapter inputs
        shutil.rmtree(stage / "unet", ignore_errors=True)
        export_backbone_graph(unet_cpu, stage / "unet" / "model.onnx", example_latent, example_text)
        export_adapter_graph(adapter_cpu, unet_cpu, stage / "codi_adapter" / "model.onnx", example_latent, example_text)
        manifest = adapter_manifest(task, adapter.condition_channels, int(adapter.mu.numel()), backbone.scheduler.prediction_type,
                                    sha256_of(stage / "unet" / "model.onnx"), {**training, "copiedParts": copied})
        (stage / "codi_adapter" / "codi_adapter.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf8")
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(out, old)
            os.replace(stage, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(stage, out)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return out
