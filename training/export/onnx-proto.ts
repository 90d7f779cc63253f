/**
 * The subset of the ONNX protobuf schema the exporter writes and reads back, written from
 * the public ONNX IR spec (message and field numbers are the spec's; only what we use).
 */
import protobuf from 'protobufjs';

const ONNX_SUBSET = `
syntax = "proto2";
package onnx;

message AttributeProto {
  enum AttributeType {
    UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5;
    FLOATS = 6; INTS = 7; STRINGS = 8; TENSORS = 9; GRAPHS = 10;
  }
  optional string name = 1;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  optional AttributeType type = 20;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  repeated AttributeProto attribute = 5;
  optional string domain = 7;
}

message ModelProto {
  optional int64 ir_version = 1;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}

message TensorProto {
  repeated int64 dims = 1 [packed = true];
  optional int32 data_type = 2;
  optional string name = 8;
  optional bytes raw_data = 9;
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
`;

/** TensorProto.DataType codes used here. */
export const OnnxDataType = { float: 1, uint8: 2, int32: 6, int64: 7, bool: 9, float16: 10 } as const;

export const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

const root = protobuf.parse(ONNX_SUBSET, { keepCase: true }).root;
/** protobufjs type of onnx.ModelProto (encode / decode / verify). */
export const ModelProtoType = root.lookupType('onnx.ModelProto');

/** A dimension as written: a fixed size or a symbolic name. */
export type OnnxDim = number | string;

export interface OnnxValueInfo {
  name: string;
  elemType: number;
  shape: OnnxDim[];
}

export interface OnnxAttribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
}

export interface OnnxNode {
  name: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes: OnnxAttribute[];
}

export interface OnnxInitializer {
  name: string;
  dataType: number;
  dims: number[];
  raw: Uint8Array;
}

export interface OnnxModel {
  graphName: string;
  docString: string;
  opset: number;
  nodes: OnnxNode[];
  initializers: OnnxInitializer[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

/** ONNX IR version 8 pairs with opset 17 (ONNX 1.12). */
const IR_VERSION = 8;

function valueInfo(v: OnnxValueInfo): object {
  return {
    name: v.name,
    type: {
      tensor_type: {
        elem_type: v.elemType,
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

/** Serialise a model to ONNX protobuf bytes. */
export function encodeModel(m: OnnxModel): Uint8Array {
  const msg = ModelProtoType.fromObject({
    ir_version: IR_VERSION,
    producer_name: 'codi-studio',
    producer_version: '1',
    model_version: 1,
    doc_string: m.docString,
    opset_import: [{ domain: '', version: m.opset }],
    graph: {
      name: m.graphName,
      node: m.nodes.map((n) => ({
        name: n.name,
        op_type: n.opType,
        input: n.inputs,
        output: n.outputs,
        attribute: n.attributes,
      })),
      initializer: m.initializers.map((t) => ({ name: t.name, data_type: t.dataType, dims: t.dims, raw_data: t.raw })),
      input: m.inputs.map(valueInfo),
      output: m.outputs.map(valueInfo),
    },
  });
  return ModelProtoType.encode(msg).finish();
}

/** protobufjs returns int64 as Long (when `long` is installed) or number. */
function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof (v as { toNumber?: unknown }).toNumber === 'function') return (v as { toNumber(): number }).toNumber();
  return Number(v);
}

interface DecodedValueInfo {
  name?: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: { dim_value?: unknown; dim_param?: string }[] } } };
}

/** Graph inputs (excluding initializers) and outputs of an ONNX file's bytes. */
export function readModelSignature(bytes: Uint8Array): { inputs: OnnxValueInfo[]; outputs: OnnxValueInfo[]; opset: number } {
  const model = ModelProtoType.toObject(ModelProtoType.decode(bytes), { defaults: false }) as {
    graph?: { input?: DecodedValueInfo[]; output?: DecodedValueInfo[]; initializer?: { name?: string }[] };
    opset_import?: { domain?: string; version?: unknown }[];
  };
  const g = model.graph;
  if (!g) throw new Error('ONNX file has no graph');
  const inits = new Set((g.initializer ?? []).map((t) => t.name));
  const conv = (v: DecodedValueInfo): OnnxValueInfo => {
    const tt = v.type?.tensor_type;
    if (!v.name || !tt) throw new Error('ONNX graph IO without a tensor type');
    return {
      name: v.name,
      elemType: tt.elem_type ?? 0,
      shape: (tt.shape?.dim ?? []).map((d) => (d.dim_param !== undefined ? d.dim_param : num(d.dim_value))),
    };
  };
  const opset = (model.opset_import ?? []).find((o) => !o.domain);
  return {
    inputs: (g.input ?? []).filter((v) => !inits.has(v.name)).map(conv),
    outputs: (g.output ?? []).map(conv),
    opset: opset ? num(opset.version) : 0,
  };
}
