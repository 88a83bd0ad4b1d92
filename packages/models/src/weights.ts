import { loadSafetensors, type SaveSafetensorsOptions, saveSafetensors } from '@msmoe/core';
import * as tf from '@tensorflow/tfjs';
import type { HasWeights } from './weight-names.js';

/**
 * Writes a model's weights to a safetensors file (atomically), names as `variables()` gives them,
 * with the model config (JSON) in `__metadata__.config` so the forward can be rebuilt from the
 * file and its config alone.
 */
export async function saveWeights(
  path: string,
  model: HasWeights & { config?: unknown },
  options: SaveSafetensorsOptions = {},
): Promise<void> {
  const metadata = {
    ...(options.metadata ?? {}),
    ...(model.config ? { config: JSON.stringify(model.config) } : {}),
  };
  await saveSafetensors(path, model.variables(), { ...options, metadata });
}

/**
 * Loads weights saved by {@link saveWeights} into a model built with the same config. Every
 * weight must be present with the same shape; a missing, extra or mis-shaped tensor is named in
 * the error and nothing is assigned.
 */
export async function loadWeights(
  path: string,
  model: HasWeights,
): Promise<Record<string, string>> {
  const { tensors: saved, metadata } = await loadSafetensors(path);
  const tensors = Object.fromEntries(
    Object.entries(saved).map(([n, t]) => [model.currentWeightName?.(n) ?? n, t]),
  );
  try {
    const vars = model.variables();
    const problems: string[] = [];
    for (const [name, v] of Object.entries(vars)) {
      const t = tensors[name];
      if (!t) problems.push(`missing "${name}"`);
      else if (t.shape.join(',') !== v.shape.join(','))
        problems.push(`"${name}" has shape [${t.shape}], the model expects [${v.shape}]`);
    }
    for (const name of Object.keys(tensors))
      if (!(name in vars)) problems.push(`unexpected "${name}"`);
    if (problems.length > 0)
      throw new Error(
        `${path}: weights do not match the model: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; … (${problems.length} problems)` : ''}`,
      );
    for (const [name, v] of Object.entries(vars)) v.assign(tensors[name] as tf.Tensor);
    return metadata;
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
