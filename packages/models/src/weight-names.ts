import type * as tf from '@tensorflow/tfjs';

/** Anything with named trainable weights (every msmoe model). */
export interface HasWeights {
  variables(): Record<string, tf.Variable>;
  /** The current name of a weight saved under an older layout (files from earlier versions load). */
  currentWeightName?(name: string): string;
}

/**
 * Maps a weight name of the layout before 0.2, where the reference structures' LayerNorms were
 * `update.layers.<t>.*` (t: MoE layer index) and learnable coefficients `update.rule.*`, to the
 * current one: `<block of MoE layer t>.*` and `rule.*`. Other names are returned unchanged.
 */
export function legacyWeightName(
  name: string,
  blockOfMoeLayer: (t: number) => string | undefined,
): string {
  const legacy = /^update\.layers\.(\d+)\.(.+)$/.exec(name);
  if (legacy) {
    const block = blockOfMoeLayer(Number(legacy[1]));
    return block ? `${block}.${legacy[2]}` : name;
  }
  return name.startsWith('update.rule.') ? name.slice('update.'.length) : name;
}
