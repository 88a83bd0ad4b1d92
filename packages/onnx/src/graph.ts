// A small ONNX graph builder on onnx-proto's generated protobuf bindings: initializers as raw
// little-endian bytes, nodes with typed attributes, dynamic input/output shapes, metadata_props.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** ONNX element types used here. */
export const DT = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9 } as const;

/** An attribute value: number (float unless `int`), integer list, string, or a tensor. */
export type Attr =
  | number
  | { int: number }
  | number[]
  | string
  | { ints: number[] }
  | { floats: number[] };

/** Builds one ONNX graph: `op()` returns output names, `const*()` adds initializers. */
export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private readonly weights = new Set<string>();
  private readonly constants = new Map<string, string>();
  private counter = 0;

  /** A fresh value name with a readable prefix. */
  name(prefix: string): string {
    let n = `${prefix}_${this.counter++}`;
    while (this.used.has(n)) n = `${prefix}_${this.counter++}`;
    this.used.add(n);
    return n;
  }

  /** A float32 initializer (weights), added once per name: a weight read twice (SAM) is one initializer. */
  float(name: string, data: Float32Array, dims: number[]): string {
    if (this.weights.has(name)) return name;
    this.weights.add(name);
    this.used.add(name);
    this.initializers.push({
      name,
      dataType: DT.FLOAT,
      dims,
      rawData: new Uint8Array(
        data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
      ),
    });
    return name;
  }

  /** An int64 constant (shared when identical). */
  int64(values: number[], dims: number[] = [values.length]): string {
    const key = `i64:${dims.join('x')}:${values.join(',')}`;
    const hit = this.constants.get(key);
    if (hit) return hit;
    const name = this.name('c_i64');
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({
      name,
      dataType: DT.INT64,
      dims,
      rawData: new Uint8Array(data.buffer),
    });
    this.constants.set(key, name);
    return name;
  }

  /** A float32 scalar or small constant (shared when identical). */
  scalar(value: number, dims: number[] = []): string {
    const key = `f32:${dims.join('x')}:${value}`;
    const hit = this.constants.get(key);
    if (hit) return hit;
    const name = this.float(this.name('c_f32'), new Float32Array([value]), dims);
    this.constants.set(key, name);
    return name;
  }

  /** Declares a graph input; string dims are symbolic (dynamic) axes. */
  input(name: string, elemType: number, dims: (number | string)[]): string {
    this.used.add(name);
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** Declares a graph output of an existing value. */
  output(value: string, name: string, elemType: number, dims: (number | string)[]): void {
    if (value !== name) this.op('Identity', [value], {}, [name]);
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  /** Adds a node; returns its output names (fresh unless given). */
  op(
    type: string,
    inputs: string[],
    attrs: Record<string, Attr> = {},
    outputs: string[] | number = 1,
  ): string[] {
    const outs =
      typeof outputs === 'number'
        ? Array.from({ length: outputs }, () => this.name(type.toLowerCase()))
        : outputs;
    for (const o of outs) this.used.add(o);
    this.nodes.push({
      opType: type,
      name: this.name(`n_${type}`),
      input: inputs,
      output: outs,
      attribute: Object.entries(attrs).map(([name, v]) => attribute(name, v)),
    });
    return outs;
  }

  /** One-output node. */
  op1(type: string, inputs: string[], attrs: Record<string, Attr> = {}): string {
    return this.op(type, inputs, attrs)[0] as string;
  }

  /** Serialises the model (opset 17, IR 8) with metadata_props. */
  build(graphName: string, metadata: Record<string, string> = {}): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'msmoe',
      producerVersion: '0.1.0',
      opsetImport: [{ domain: '', version: 17 }],
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
      graph: {
        name: graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(
  name: string,
  elemType: number,
  dims: (number | string)[],
): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: {
          dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  };
}

function attribute(name: string, v: Attr): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') return { name, type: T.FLOAT, f: v };
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('int' in v) return { name, type: T.INT, i: v.int };
  if ('ints' in v) return { name, type: T.INTS, ints: v.ints };
  return { name, type: T.FLOATS, floats: v.floats };
}

/** Reads a model's metadata_props (e.g. to rebuild its config in the browser). */
export function readMetadata(bytes: Uint8Array): Record<string, string> {
  const m = onnx.ModelProto.decode(bytes);
  return Object.fromEntries((m.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
}
