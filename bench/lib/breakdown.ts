// Where a training step's time goes: markers at the edges of each part of the LM forward (an
// identity op whose forward and gradient record the time; kernels run synchronously on wasm and
// cpu, so a timestamp is when the work before it finished), plus the clip/optimizer halves of the
// step and the time spent reading tensors back to the host.

import { Rng } from '@msmoe/core';
import type { ForwardProbe, MoELanguageModel } from '@msmoe/models';
import { type AdamOptimizer, clipByGlobalNorm, type LmTask } from '@msmoe/training';
import * as tf from '@tensorflow/tfjs';

type Event = { part: string; edge: 'start' | 'end'; pass: 'fwd' | 'bwd'; t: number };

/** Milliseconds per step, by part. */
export interface StepBreakdown {
  attention: number;
  /** Router + experts (the MoE layer calls). */
  moe: number;
  /** The update rule and its structure's LayerNorms (an MoE block minus its MoE layer). */
  rule: number;
  /** Final LayerNorm, output layer and loss. */
  output: number;
  dense: number;
  optimizer: number;
  /** What the step spent outside the parts above: embedding, gradient bookkeeping, clipping, the tape. */
  overhead: number;
  total: number;
  /** Of the above, reading tensors back to the host (losses, norms, routing decisions). */
  hostSyncs: number;
}

/** A probe recording forward and backward timestamps at each part's edges. */
function recorder(events: Event[]): ForwardProbe {
  return (x, part, edge) => {
    const op = tf.customGrad(((v: tf.Tensor) => {
      events.push({ part, edge, pass: 'fwd', t: performance.now() });
      return {
        value: tf.clone(v),
        gradFunc: (dy: tf.Tensor) => {
          events.push({ part, edge, pass: 'bwd', t: performance.now() });
          return [tf.clone(dy)];
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]) as (v: tf.Tensor) => tf.Tensor;
    return op(x);
  };
}

/** Sums each part's durations: forward start → end, backward end → start (reverse order). */
function durations(events: Event[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const pass of ['fwd', 'bwd'] as const) {
    const open = new Map<string, number[]>();
    const list = events.filter((e) => e.pass === pass);
    for (const e of list) {
      const opening = pass === 'fwd' ? 'start' : 'end';
      const stack = open.get(e.part) ?? [];
      open.set(e.part, stack);
      if (e.edge === opening) stack.push(e.t);
      else out[e.part] = (out[e.part] ?? 0) + e.t - (stack.pop() ?? e.t);
    }
  }
  return out;
}

/**
 * Runs `steps` training steps of an LM task as the Trainer does (loss and gradients, global-norm
 * clipping, Adam) and returns the median breakdown per step.
 */
export function breakdownLm(
  model: MoELanguageModel,
  task: LmTask,
  optimizer: AdamOptimizer,
  steps: number,
): StepBreakdown {
  const events: Event[] = [];
  const probe = recorder(events);
  // LmTask builds the forward; the probe reaches it through the model.
  const loss = model.loss.bind(model);
  model.loss = (tokens, targets, B, caches, options = {}) =>
    loss(tokens, targets, B, caches, { ...options, probe });
  let syncMs = 0;
  const dataSync = tf.Tensor.prototype.dataSync;
  tf.Tensor.prototype.dataSync = function (this: tf.Tensor) {
    const t0 = performance.now();
    try {
      return dataSync.call(this);
    } finally {
      syncMs += performance.now() - t0;
    }
  } as typeof dataSync;
  const rows: StepBreakdown[] = [];
  const rng = new Rng(1);
  try {
    const vars = task.variables();
    const byTfName = new Map(Object.entries(vars).map(([n, v]) => [v.name, n]));
    for (let step = 0; step < steps; step++) {
      events.length = 0;
      syncMs = 0;
      const t0 = performance.now();
      const reports: tf.Tensor[] = [];
      const { value, grads } = tf.variableGrads(
        () => task.loss(step, rng, (r) => reports.push(r.nll, r.aux), false),
        Object.values(vars),
      );
      tf.dispose(reports);
      value.dataSync();
      value.dispose();
      const named = Object.fromEntries(
        Object.entries(grads).map(([n, g]) => [byTfName.get(n) as string, g]),
      );
      const clipped = clipByGlobalNorm(named, 1);
      tf.dispose(Object.values(named));
      const t1 = performance.now();
      optimizer.apply(vars, clipped.grads, 1e-3);
      tf.dispose(Object.values(clipped.grads));
      const t2 = performance.now();
      const d = durations(events);
      const parts = {
        attention: d.attention ?? 0,
        moe: d.moe ?? 0,
        rule: (d.block ?? 0) - (d.moe ?? 0),
        output: d.output ?? 0,
        dense: d.dense ?? 0,
        optimizer: t2 - t1,
      };
      const total = t2 - t0;
      const named2 = Object.values(parts).reduce((a, b) => a + b, 0);
      rows.push({ ...parts, overhead: total - named2, total, hostSyncs: syncMs });
    }
  } finally {
    model.loss = loss;
    tf.Tensor.prototype.dataSync = dataSync;
  }
  const median = (k: keyof StepBreakdown) => {
    const v = rows.map((r) => r[k]).sort((a, b) => a - b);
    return v[Math.floor(v.length / 2)] as number;
  };
  return Object.fromEntries(
    (Object.keys(rows[0] as StepBreakdown) as (keyof StepBreakdown)[]).map((k) => [k, median(k)]),
  ) as unknown as StepBreakdown;
}
