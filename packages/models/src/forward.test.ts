// The forward passes written once over a backend, read symbolically: a backend whose values are
// expressions shows what each model computes, with no tensor library (the ONNX exporter is
// another such backend; its parity with tfjs is tested in @msmoe/onnx).
import { foldingOps, parseRuleConfig, UpdateRule } from '@msmoe/update-rules';
import { lmForward, type VitBackend, vitForward } from './forward.js';
import { parseLmConfig } from './lm/config.js';
import { parseVitConfig } from './vision/vit.js';

/** A backend of expression strings; names are shortened to the layer index (`layers.3.ln` → `ln3`). */
function symbolic(rule: UpdateRule): VitBackend<string> {
  const short = (name: string) => name.replace(/^(layers|blocks)\.(\d+)\.(.+)$/, '$3$2');
  const binary = (op: string) => (a: string | number, b: string | number) => `(${a} ${op} ${b})`;
  return {
    ops: foldingOps<string>({
      add: binary('+'),
      sub: binary('-'),
      mul: binary('*'),
      div: binary('/'),
      neg: (a) => `-${a}`,
      sqrt: (a) => `sqrt(${a})`,
      square: (a) => `${a}^2`,
      pow: (a, n) => `${a}^${n}`,
      norm: (a) => `|${a}|`,
      divSqrt: (a, b, eps) => `(${a} / sqrt(${b} + ${eps}))`,
    }),
    coefficients: rule.coefficientValues(),
    layerNorm: (x, name) => `${short(name)}(${x})`,
    linear: (x, w) => `${short(w.replace(/\.weight$/, ''))}(${x})`,
    activation: (x, kind) => `${kind}(${x})`,
    dropout: (x) => `drop(${x})`,
    moe: (x, name) => `${short(name)}(${x})`,
    embed: () => 'e',
    attention: (x, name) => `attn${name.split('.')[1]}(${x})`,
    classToken: (x) => `cls(${x})`,
  };
}

const lm = (over: object) =>
  parseLmConfig({ vocabSize: 9, dModel: 4, nHeads: 1, blockLength: 2, span: 2, ...over });

describe('lmForward', () => {
  it('paper structure: pre-LN sub-layers, x + Δ around the MoE, a final LayerNorm', () => {
    const c = lm({ architecture: 'sf', structure: 'paper' });
    const rule = new UpdateRule(c.rule);
    const x1 = '(e + drop(attn0(ln0(e))))';
    const ffn = `ffn.w21(drop(relu(ffn.w11(ln1(${x1})))))`;
    expect(lmForward(c, rule, symbolic(rule))).toBe(`final_ln((${x1} + drop(${ffn})))`);
    const g = lm({ architecture: 'g', structure: 'paper' });
    const residual = new UpdateRule(g.rule);
    expect(lmForward(g, residual, symbolic(residual))).toBe('final_ln((e + moe0(ln0(e))))');
  });

  it('reference structure: post-LN double residual with the rule’s sign, momentum carried across layers', () => {
    const c = lm({ architecture: 'mm', rule: parseRuleConfig({ rule: 'heavy-ball', mu: 0.5 }) });
    const rule = new UpdateRule(c.rule);
    // Layer 0: m = γ·u (γ = 1 folds away, μ·0 too); x1 = ln_out(x + ln_inner(x − m)).
    const x1 = 'ln_out0((e + ln_inner0((e - moe0(e)))))';
    // Layer 1: m = μ·m + u.
    const m1 = `((moe0(e) * 0.5) + moe1(${x1}))`;
    expect(lmForward(c, rule, symbolic(rule))).toBe(
      `ln_out1((${x1} + ln_inner1((${x1} - ${m1}))))`,
    );
  });
});

describe('vitForward', () => {
  it('pre-LN blocks, the MoE in every second block, the class token through the head', () => {
    const c = parseVitConfig({
      imageHeight: 4,
      imageWidth: 4,
      channels: 1,
      patchSize: 2,
      dModel: 4,
      nHeads: 1,
      depth: 2,
      mlpDim: 4,
      numClasses: 3,
    });
    const rule = new UpdateRule(c.rule);
    const x0 = '(e + drop(attn0(norm10(e))))';
    const x1 = `(${x0} + drop(mlp.fc20(gelu(mlp.fc10(norm20(${x0}))))))`;
    const x2 = `(${x1} + drop(attn1(norm11(${x1}))))`;
    expect(vitForward(c, rule, symbolic(rule))).toBe(
      `head(cls(norm((${x2} + moe1(norm21(${x2}))))))`,
    );
  });
});
