"""Dynamic int8 variant of an ONNX graph (experiment for issue 20's speed goal; not shipped).

Every Conv with constant weights becomes DynamicQuantizeLinear (activations, uint8, per tensor)
-> ConvInteger -> Cast -> x (activation scale * weight scale) + bias. Weights are quantised per
tensor, uint8 asymmetric (``--weights uint8``, the fast path of ONNX Runtime's CPU ConvInteger)
or int8 symmetric. onnxruntime-node has no quantiser and Python's onnxruntime is not a
dependency, so the rewrite is done with the onnx package alone.

    /usr/bin/python3 build/quantize/conv_integer.py IN.onnx OUT.onnx [--weights uint8|int8]

Measured against fp32 with build/quantize/compare-forward.ts (bench/results/2026-12-06-speed.md).
"""
import argparse
from typing import Any

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper


def quantise_weights(w: NDArray[np.float32], kind: str) -> tuple[NDArray[Any], NDArray[Any], float]:
    if kind == "int8":
        scale = max(float(np.abs(w).max()) / 127.0, 1e-12)
        q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
        return q, np.array(0, np.int8), scale
    lo, hi = min(0.0, float(w.min())), max(0.0, float(w.max()))
    scale = max((hi - lo) / 255.0, 1e-12)
    zero = int(round(-lo / scale))
    q = np.clip(np.round(w / scale) + zero, 0, 255).astype(np.uint8)
    return q, np.array(zero, np.uint8), scale


def rewrite(model: onnx.ModelProto, kind: str) -> int:
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    nodes: list[onnx.NodeProto] = []
    added: list[onnx.TensorProto] = []
    k = 0
    for n in g.node:
        if n.op_type != "Conv" or n.input[1] not in inits:
            nodes.append(n)
            continue
        k += 1
        p = f"convint{k}_"
        w = numpy_helper.to_array(inits[n.input[1]]).astype(np.float32)
        q, zero, scale = quantise_weights(w, kind)
        added += [numpy_helper.from_array(q, p + "w"), numpy_helper.from_array(zero, p + "wzp"),
                  numpy_helper.from_array(np.array(scale, np.float32), p + "sw")]
        nodes.append(helper.make_node("DynamicQuantizeLinear", [n.input[0]], [p + "xq", p + "xs", p + "xzp"]))
        conv = helper.make_node("ConvInteger", [p + "xq", p + "w", p + "xzp", p + "wzp"], [p + "yi"])
        conv.attribute.extend(n.attribute)
        nodes += [conv, helper.make_node("Cast", [p + "yi"], [p + "yf"], to=TensorProto.FLOAT),
                  helper.make_node("Mul", [p + "xs", p + "sw"], [p + "s"])]
        if len(n.input) > 2 and n.input[2]:
            b = numpy_helper.to_array(inits[n.input[2]]).astype(np.float32).reshape(1, -1, 1, 1)
            added.append(numpy_helper.from_array(b, p + "b"))
            nodes += [helper.make_node("Mul", [p + "yf", p + "s"], [p + "ys"]),
                      helper.make_node("Add", [p + "ys", p + "b"], [n.output[0]])]
        else:
            nodes.append(helper.make_node("Mul", [p + "yf", p + "s"], [n.output[0]]))
    del g.node[:]
    g.node.extend(nodes)
    g.initializer.extend(added)
    used = {i for nd in g.node for i in nd.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    return k


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--weights", choices=["uint8", "int8"], default="uint8")
    a = ap.parse_args()
    model = onnx.load(a.src)
    k = rewrite(model, a.weights)
    onnx.checker.check_model(model)
    onnx.save(model, a.dst)
    print(f"{k} Conv nodes quantised ({a.weights} weights) -> {a.dst}")


if __name__ == "__main__":
    main()
