/**
 * The part of onnx.proto our exporter writes (ModelProto down to TensorProto), encoded with protobufjs
 * reflection. Field numbers are onnx.proto's, which ONNX never renumbers; a wrong one makes ORT reject
 * the model at session creation, which the export tests exercise.
 */
import protobuf from 'protobufjs';

/** TensorProto.DataType values we use. */
export const DataType = { FLOAT: 1, INT8: 3, INT32: 6, INT64: 7 } as const;
export type DataType = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values we use. */
const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

export interface TensorMessage {
  name: string;
  dims: number[];
  dataType: DataType;
  /** Little-endian element bytes. */
  rawData: Uint8Array;
}

/** An integer is INT, `{ float }` FLOAT, `{ floats }` FLOATS; ONNX checks the type, so it is never guessed. */
export type AttributeValue =
  | number
  | string
  | readonly number[]
  | readonly string[]
  | { float: number }
  | { floats: readonly number[] };

export interface NodeMessage {
  name: string;
  opType: string;
  input: string[];
  output: string[];
  attributes?: Record<string, AttributeValue>;
}

export interface ValueInfoMessage {
  name: string;
  elemType: DataType;
  /** A number is a fixed size, a string a symbolic one ("batch"). */
  shape: (number | string)[];
}

export interface ModelMessage {
  irVersion: number;
  opsetVersion: number;
  producerName: string;
  producerVersion: string;
  graphName: string;
  nodes: NodeMessage[];
  initializers: TensorMessage[];
  inputs: ValueInfoMessage[];
  outputs: ValueInfoMessage[];
  metadata: Record<string, string>;
}

const f = (id: number, type: string, rule?: 'repeated') => ({ id, type, ...(rule ? { rule } : {}) });

const SCHEMA = {
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            irVersion: f(1, 'int64'),
            producerName: f(2, 'string'),
            producerVersion: f(3, 'string'),
            graph: f(7, 'GraphProto'),
            opsetImport: f(8, 'OperatorSetIdProto', 'repeated'),
            metadataProps: f(14, 'StringStringEntryProto', 'repeated'),
          },
        },
        OperatorSetIdProto: { fields: { domain: f(1, 'string'), version: f(2, 'int64') } },
        StringStringEntryProto: { fields: { key: f(1, 'string'), value: f(2, 'string') } },
        GraphProto: {
          fields: {
            node: f(1, 'NodeProto', 'repeated'),
            name: f(2, 'string'),
            initializer: f(5, 'TensorProto', 'repeated'),
            input: f(11, 'ValueInfoProto', 'repeated'),
            output: f(12, 'ValueInfoProto', 'repeated'),
          },
        },
        NodeProto: {
          fields: {
            input: f(1, 'string', 'repeated'),
            output: f(2, 'string', 'repeated'),
            name: f(3, 'string'),
            opType: f(4, 'string'),
            attribute: f(5, 'AttributeProto', 'repeated'),
          },
        },
        AttributeProto: {
          fields: {
            name: f(1, 'string'),
            f: f(2, 'float'),
            i: f(3, 'int64'),
            s: f(4, 'bytes'),
            floats: f(7, 'float', 'repeated'),
            ints: f(8, 'int64', 'repeated'),
            strings: f(9, 'bytes', 'repeated'),
            type: f(20, 'int32'),
          },
        },
        TensorProto: {
          fields: {
            dims: f(1, 'int64', 'repeated'),
            dataType: f(2, 'int32'),
            name: f(8, 'string'),
            rawData: f(9, 'bytes'),
          },
        },
        ValueInfoProto: { fields: { name: f(1, 'string'), type: f(2, 'TypeProto') } },
        TypeProto: { fields: { tensorType: f(1, 'TypeProtoTensor') } },
        TypeProtoTensor: { fields: { elemType: f(1, 'int32'), shape: f(2, 'TensorShapeProto') } },
        TensorShapeProto: { fields: { dim: f(1, 'Dimension', 'repeated') } },
        Dimension: { fields: { dimValue: f(1, 'int64'), dimParam: f(2, 'string') } },
      },
    },
  },
};

let modelType: protobuf.Type | undefined;

/** Serialises a model to ONNX bytes (a ModelProto). */
export function encodeModel(m: ModelMessage): Uint8Array {
  const message = {
    irVersion: m.irVersion,
    producerName: m.producerName,
    producerVersion: m.producerVersion,
    opsetImport: [{ domain: '', version: m.opsetVersion }],
    metadataProps: Object.entries(m.metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: m.graphName,
      node: m.nodes.map(nodeProto),
      initializer: m.initializers,
      input: m.inputs.map(valueInfoProto),
      output: m.outputs.map(valueInfoProto),
    },
  };
  const type = modelProtoType();
  return type.encode(type.fromObject(message)).finish();
}

/** The graph's nodes as written (op type, inputs, outputs): what tests and tools inspect of a model. */
export function decodeNodes(bytes: Uint8Array): Pick<NodeMessage, 'opType' | 'input' | 'output'>[] {
  const model = modelProtoType().toObject(modelProtoType().decode(bytes), { arrays: true }) as {
    graph?: { node?: { opType: string; input: string[]; output: string[] }[] };
  };
  return (model.graph?.node ?? []).map(({ opType, input, output }) => ({ opType, input, output }));
}

function modelProtoType(): protobuf.Type {
  modelType ??= protobuf.Root.fromJSON(SCHEMA).lookupType('onnx.ModelProto');
  return modelType;
}

function nodeProto(node: NodeMessage): object {
  const attribute = Object.entries(node.attributes ?? {}).map(([name, value]) => attributeProto(name, value));
  return { name: node.name, opType: node.opType, input: node.input, output: node.output, attribute };
}

function attributeProto(name: string, value: AttributeValue): object {
  const utf8 = (s: string) => new TextEncoder().encode(s);
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: utf8(value) };
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new TypeError(`attribute ${name}: ${value} is not an integer`);
    return { name, type: AttributeType.INT, i: value };
  }
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: AttributeType.FLOATS, floats: value.floats };
  if (value.every((v) => typeof v === 'string')) {
    return { name, type: AttributeType.STRINGS, strings: (value as readonly string[]).map(utf8) };
  }
  return { name, type: AttributeType.INTS, ints: value };
}

function valueInfoProto(v: ValueInfoMessage): object {
  const dim = v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name: v.name, type: { tensorType: { elemType: v.elemType, shape: { dim } } } };
}
