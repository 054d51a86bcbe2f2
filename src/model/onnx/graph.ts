/**
 * Builds an ONNX graph node by node: readable unique value names, nodes in topological order (each added
 * after its inputs exist), weights as raw little-endian initializers.
 */
import { type AttributeValue, DataType, type NodeMessage, type TensorMessage } from './proto.ts';

/**
 * What flows between layers while the graph is built, as the layer converters see it. Sequences are
 * time-major and LEFT-aligned: step t of row b is real when t < lengths[b], padding otherwise.
 */
export type Value =
  /** int32 word ids [seq, batch]. */
  | { kind: 'ids'; name: string }
  /**
   * float32 per-step features [seq, batch, size]. `ids` names the int32 [seq, batch] ids they were looked
   * up from, when the step mask is "id != 0" (an embedding's maskZero); without it, step t of row b is
   * real when t < lengths[b] (what a recurrent layer's output carries).
   */
  | { kind: 'steps'; name: string; size: number; ids?: string }
  /** float32 per-row features [batch, size]. */
  | { kind: 'features'; name: string; size: number };

export class GraphBuilder {
  readonly nodes: NodeMessage[] = [];
  readonly initializers: TensorMessage[] = [];
  readonly #used = new Map<string, number>();

  /** A value name not used before, from a readable stem ("lstm/Y_h", then "lstm/Y_h_1"). */
  fresh(stem: string): string {
    const count = this.#used.get(stem) ?? 0;
    this.#used.set(stem, count + 1);
    return count === 0 ? stem : `${stem}_${count}`;
  }

  /** Adds a node with fresh outputs named after `stem` ('' skips an optional output); returns the names. */
  nodeWithOutputs(
    opType: string,
    stem: string,
    inputs: string[],
    outputs: string[],
    attributes?: Record<string, AttributeValue>,
  ): string[] {
    const names = outputs.map((o) => (o === '' ? '' : this.fresh(`${stem}/${o}`)));
    this.nodes.push({
      name: this.fresh(`${stem}/${opType}`),
      opType,
      input: inputs,
      output: names,
      attributes,
    });
    return names;
  }

  /** Adds a single-output node; returns its output's name. */
  node(opType: string, stem: string, inputs: string[], attributes?: Record<string, AttributeValue>): string {
    const [output] = this.nodeWithOutputs(opType, stem, inputs, [opType], attributes);
    if (output === undefined) throw new Error('unreachable: one output was asked for');
    return output;
  }

  floatInitializer(stem: string, dims: number[], data: Float32Array): string {
    return this.#initializer(stem, dims, DataType.FLOAT, data);
  }

  /** int64 constants: the shape and axes inputs of Reshape, Unsqueeze and friends. */
  int64Initializer(stem: string, values: readonly number[]): string {
    return this.#initializer(stem, [values.length], DataType.INT64, BigInt64Array.from(values.map(BigInt)));
  }

  /** int32 constants (scalars with dims []): operands of integer arithmetic on the ids. */
  int32Initializer(stem: string, dims: number[], values: readonly number[]): string {
    return this.#initializer(stem, dims, DataType.INT32, Int32Array.from(values));
  }

  /** int8 codes of a quantised table (../quantize.ts). */
  int8Initializer(stem: string, dims: number[], data: Int8Array): string {
    return this.#initializer(stem, dims, DataType.INT8, data);
  }

  #initializer(
    stem: string,
    dims: number[],
    dataType: DataType,
    data: Float32Array | BigInt64Array | Int32Array | Int8Array,
  ): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (data.length !== expected) {
      throw new Error(`initializer ${stem}: ${data.length} values for shape [${dims.join(', ')}]`);
    }
    const name = this.fresh(stem);
    // A copy: the tensor's own bytes may be a view into a larger buffer.
    const rawData = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    this.initializers.push({ name, dims, dataType, rawData });
    return name;
  }
}
