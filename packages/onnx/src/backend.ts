// The models' own forward passes (`lmForward`, `vitForward` of @msmoe/models) run over graph
// values: this is the backend both exporters share, so an export is the model's code, not a copy.
import type { ModelBackend, MoELayer } from '@msmoe/models';
import type { UpdateRule } from '@msmoe/update-rules';
import type { GraphBuilder } from './graph.js';
import { gelu, softMoE, sparseMoE, type WeightReader } from './moe.js';
import { graphOps, OnnxExportError } from './ops.js';

/** What an exporter reads off a model. */
export interface ExportableModel {
  readonly rule: UpdateRule;
  readonly moeLayers: MoELayer[];
  variables(): Record<string, { dataSync(): ArrayLike<number>; shape: number[] }>;
}

/** The graph backend's shared parts, with the model's weights as initializers by name. */
export interface GraphBackend extends Omit<ModelBackend<string>, 'embed' | 'attention'> {
  /** The graph value of a weight (added once). */
  weight(name: string): string;
  /** Each MoE layer's first-choice expert per token `[tokens]` int64, for routing displays. */
  routes: string[];
}

/**
 * The shared parts of a graph backend: LayerNorm, linear, activations, no dropout, the rule's
 * coefficients baked in as numbers, and each MoE layer built from its own router and expert
 * configuration (top-k with either scoring, or Soft MoE). What the graph cannot represent (an
 * expert-choice router, a capacity that could drop tokens at evaluation, SwiGLU experts) is refused
 * with an error naming the layer.
 */
export function graphBackend(g: GraphBuilder, model: ExportableModel): GraphBackend {
  const vars = model.variables();
  // Each weight is read off the model once (the expert MLPs slice the same stacked weight per
  // expert, and SAM evaluates each MoE block twice).
  const read = new Map<string, ReturnType<WeightReader>>();
  const data: WeightReader = (name) => {
    const v = vars[name];
    if (!v) throw new OnnxExportError(`export: the model has no weight "${name}"`);
    const t = read.get(name) ?? { data: v.dataSync() as Float32Array, shape: [...v.shape] };
    read.set(name, t);
    return t;
  };
  const weight = (name: string) => {
    const t = data(name);
    return g.float(name, t.data, t.shape);
  };
  const routes: string[] = [];
  return {
    ops: graphOps(g),
    coefficients: model.rule.coefficientValues(),
    weight,
    routes,
    layerNorm: (x, n, eps = 1e-5) =>
      g.op1('LayerNormalization', [x, weight(`${n}.weight`), weight(`${n}.bias`)], {
        axis: { int: -1 },
        epsilon: eps,
      }),
    linear: (x, w, b) => g.op1('Add', [g.op1('MatMul', [x, weight(w)]), weight(b)]),
    activation: (x, kind) => (kind === 'relu' ? g.op1('Relu', [x]) : gelu(g, x)),
    dropout: (x) => x,
    moe: (x, name, t) => {
      const { router, experts } = model.moeLayers[t] as MoELayer;
      const r = router.config;
      const { activation, dModel: d } = experts.config;
      const refuse = (why: string) => new OnnxExportError(`export: MoE layer ${name}: ${why}`);
      if (activation !== 'relu' && activation !== 'gelu')
        throw refuse(`the ${activation} experts are not exportable (relu and gelu are)`);
      const route: string[] = [];
      let y: string;
      if (r.type === 'soft') {
        const spec = { E: r.numExperts, S: r.slotsPerExpert, d, activation };
        y = softMoE(g, x, name, spec, data, route);
      } else if (r.type === 'top-k') {
        const cf = r.capacityFactor?.eval;
        if (cf !== undefined && !r.dropless && (cf * r.k) / r.numExperts < 1)
          throw refuse(
            `evaluation capacity ${cf}·k/E < 1 could drop tokens; exporting capacity buffers is not supported`,
          );
        const { scoring, renormalize, k } = r;
        y = sparseMoE(
          g,
          x,
          name,
          { E: r.numExperts, k, d, scoring, renormalize, activation },
          data,
          route,
        );
      } else throw refuse(`the ${r.type} router is not exportable (top-k and soft are)`);
      routes[t] = route[0] as string;
      return y;
    },
  };
}
