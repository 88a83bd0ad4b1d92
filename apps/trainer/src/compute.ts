// Where a process's arithmetic runs: the tfjs backend, plus the native output layer
// (onnxruntime-node, optional) on the backends whose output layer runs on the host (wasm, cpu).
import {
  type BackendChoice,
  type BackendName,
  initBackend,
  isHostBackend,
  outputLayerKernel,
} from '@msmoe/core';
import { enableNativeOutputLayer } from '@msmoe/onnx/native';

/**
 * Initialises the tfjs backend (`auto` or a name, strict) and, on wasm and cpu, the native output
 * layer when onnxruntime-node is installed (`MSMOE_NATIVE_OUTPUT=off` keeps it on tfjs). Every
 * process of a run (pool workers, data-parallel replicas) calls this, so all of them compute alike.
 * Returns the backend choice and, on wasm/cpu, one line on the output layer.
 */
export async function initCompute(
  name: string,
): Promise<{ choice: BackendChoice; outputLayer: string | null }> {
  const choice = await initBackend(
    name === 'auto' ? {} : { prefer: name as BackendName, fallback: false },
  );
  return {
    choice,
    outputLayer: isHostBackend(choice.name) ? enableNativeOutputLayer().detail : null,
  };
}

/** The backend as recorded in a run's provenance: its name and the native output layer, if any. */
export function computeLabel(backend: string): string {
  const kernel = outputLayerKernel();
  return kernel ? `${backend} + output layer on ${kernel.name}` : backend;
}
