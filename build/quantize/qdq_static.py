"""Static int8 (QDQ) variant of an ONNX graph, from activation ranges measured on calibration data.

Two steps, because onnxruntime-node (which measures the ranges) has no graph editor and Python's
onnxruntime (which has a quantiser) is not a dependency; the rewrite uses the onnx package alone:

    /usr/bin/python3 build/quantize/qdq_static.py probe IN.onnx PROBE.onnx
        IN with every Conv's input and output added as graph outputs, for build/quantize/calibrate.ts
    /usr/bin/python3 build/quantize/qdq_static.py quantise IN.onnx RANGES.json OUT.onnx

Every Conv with constant weights becomes DequantizeLinear(QuantizeLinear(x)) -> Conv -> Q -> DQ:
activations uint8 with a per-tensor scale and zero point from the measured [lo, hi] (widened to
include 0), weights int8 symmetric per output channel, bias int32 at the product of the two
scales. That is the pattern ONNX Runtime's CPU provider fuses into QLinearConv (u8 x s8, the VNNI
kernels), so everything between the convolutions stays float. With ``--float-ends`` the
convolutions that read the graph's inputs and the last one stay float as well.
"""
import argparse
import json
from typing import Any

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper


def quantisable(model: onnx.ModelProto, float_ends: bool = False) -> list[onnx.NodeProto]:
    inits = {i.name for i in model.graph.initializer}
    convs = [n for n in model.graph.node if n.op_type == "Conv" and n.input[1] in inits]
    if not float_ends:
        return convs
    # the convolutions that read the graph's inputs and the last one (the output head) stay
    # float: their error reaches the result without a normalisation in between
    inputs = {i.name for i in model.graph.input}
    return [n for n in convs[:-1] if n.input[0] not in inputs]


def probe(model: onnx.ModelProto) -> int:
    g = model.graph
    have = {o.name for o in g.output}
    names: list[str] = []
    for n in quantisable(model):
        for t in (n.input[0], n.output[0]):
            if t not in have and t not in names:
                names.append(t)
    g.output.extend(helper.make_tensor_value_info(t, TensorProto.FLOAT, None) for t in names)
    return len(names)


def activation_qparams(lo: float, hi: float) -> tuple[float, int]:
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = max((hi - lo) / 255.0, 1e-8)
    return scale, int(np.clip(round(-lo / scale), 0, 255))


def weight_qparams(w: NDArray[np.float32]) -> tuple[NDArray[np.int8], NDArray[np.float32]]:
    amax = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
    scale = np.maximum(amax / 127.0, 1e-12).astype(np.float32)
    q = np.clip(np.round(w / scale.reshape(-1, 1, 1, 1)), -127, 127).astype(np.int8)
    return q, scale


def quantise(model: onnx.ModelProto, ranges: dict[str, list[float]], float_ends: bool = False) -> int:
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    # protobuf hands out a new wrapper object per access, so nodes are known by their output
    targets = {n.output[0] for n in quantisable(model, float_ends)}
    nodes: list[onnx.NodeProto] = []
    added: list[onnx.TensorProto] = []
    qdq_of: dict[str, str] = {}  # float tensor -> its Q/DQ copy, so a tensor two convs read is quantised once

    def qdq(name: str) -> tuple[str, float]:
        lo, hi = ranges[name]
        scale, zero = activation_qparams(lo, hi)
        if name not in qdq_of:
            p = f"qdq_{len(qdq_of)}_"
            added.extend([numpy_helper.from_array(np.array(scale, np.float32), p + "s"),
                          numpy_helper.from_array(np.array(zero, np.uint8), p + "z")])
            nodes.extend([helper.make_node("QuantizeLinear", [name, p + "s", p + "z"], [p + "q"]),
                          helper.make_node("DequantizeLinear", [p + "q", p + "s", p + "z"], [p + "dq"])])
            qdq_of[name] = p + "dq"
        return qdq_of[name], scale

    k = 0
    for n in g.node:
        if n.output[0] not in targets:
            nodes.append(n)
            continue
        k += 1
        p = f"qconv{k}_"
        x, sx = qdq(n.input[0])
        w = numpy_helper.to_array(inits[n.input[1]]).astype(np.float32)
        wq, sw = weight_qparams(w)
        added.extend([numpy_helper.from_array(wq, p + "wq"), numpy_helper.from_array(sw, p + "ws"),
                      numpy_helper.from_array(np.zeros(len(sw), np.int8), p + "wz")])
        nodes.append(helper.make_node("DequantizeLinear", [p + "wq", p + "ws", p + "wz"], [p + "w"], axis=0))
        inputs = [x, p + "w"]
        if len(n.input) > 2 and n.input[2]:
            b = numpy_helper.to_array(inits[n.input[2]]).astype(np.float64)
            sb = (sx * sw.astype(np.float64)).astype(np.float32)
            bq = np.round(b / sb).astype(np.int32)
            added.extend([numpy_helper.from_array(bq, p + "bq"), numpy_helper.from_array(sb, p + "bs"),
                          numpy_helper.from_array(np.zeros(len(sb), np.int32), p + "bz")])
            nodes.append(helper.make_node("DequantizeLinear", [p + "bq", p + "bs", p + "bz"], [p + "b"], axis=0))
            inputs.append(p + "b")
        y = n.output[0]
        conv = helper.make_node("Conv", inputs, [p + "y"], name=n.name)
        conv.attribute.extend(n.attribute)
        nodes.append(conv)
        lo, hi = ranges[y]
        sy, zy = activation_qparams(lo, hi)
        added.extend([numpy_helper.from_array(np.array(sy, np.float32), p + "ys"),
                      numpy_helper.from_array(np.array(zy, np.uint8), p + "yz")])
        nodes.extend([helper.make_node("QuantizeLinear", [p + "y", p + "ys", p + "yz"], [p + "yq"]),
                      helper.make_node("DequantizeLinear", [p + "yq", p + "ys", p + "yz"], [y])])
    del g.node[:]
    g.node.extend(nodes)
    g.initializer.extend(added)
    used = {i for nd in g.node for i in nd.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    return k


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("probe")
    pp.add_argument("src")
    pp.add_argument("dst")
    pq = sub.add_parser("quantise")
    pq.add_argument("src")
    pq.add_argument("ranges")
    pq.add_argument("dst")
    pq.add_argument("--float-ends", action="store_true", help="keep the input and output convolutions float")
    a = ap.parse_args()
    model = onnx.load(a.src)
    if a.cmd == "probe":
        k = probe(model)
        onnx.save(model, a.dst)
        print(f"{k} tensors exposed -> {a.dst}")
        return
    with open(a.ranges, encoding="utf-8") as f:
        ranges: dict[str, Any] = json.load(f)
    k = quantise(model, ranges, a.float_ends)
    onnx.checker.check_model(model)
    onnx.save(model, a.dst)
    print(f"{k} Conv nodes quantised (QDQ, u8 activations, s8 per-channel weights) -> {a.dst}")


if __name__ == "__main__":
    main()
