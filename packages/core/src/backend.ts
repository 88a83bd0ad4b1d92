import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { registerMsmoeKernels } from './kernels/register.js';
import { parseOrThrow } from './validate.js';

/**
 * Names of the compute backends msmoe can run on. `tensorflow-gpu` and `tensorflow` are the
 * native TensorFlow bindings (`@tensorflow/tfjs-node-gpu` / `@tensorflow/tfjs-node`, optional:
 * install them yourself); `wasm` is XNNPACK with SIMD (the Node default); `cpu` is pure
 * JavaScript (slow, used as a test oracle); `webgpu` / `webgl` exist in browsers only.
 */
export const BACKEND_NAMES = [
  'tensorflow-gpu',
  'tensorflow',
  'wasm',
  'cpu',
  'webgpu',
  'webgl',
] as const;

/** One of {@link BACKEND_NAMES}. */
export type BackendName = (typeof BACKEND_NAMES)[number];

/** Where the code runs; decides which backends are candidates. */
export type RuntimeEnvironment = 'node' | 'browser';

/** Order tried by `initBackend` when nothing is preferred, per environment. */
export const DEFAULT_BACKEND_ORDER: Readonly<Record<RuntimeEnvironment, readonly BackendName[]>> = {
  node: ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'],
  browser: ['webgpu', 'webgl', 'wasm', 'cpu'],
};

/** What happened when one backend was tried. */
export interface BackendAttempt {
  /** Backend tried. */
  name: BackendName;
  /** Whether it loaded and initialised. */
  ok: boolean;
  /** Why it failed, or what was loaded. */
  detail: string;
}

/** The backend `initBackend` settled on, and how it got there. */
export interface BackendChoice {
  /** msmoe name of the chosen backend. */
  name: BackendName;
  /** Name of the backend inside TensorFlow.js (`tensorflow` for both native bindings). */
  tfjsName: string;
  /** Detected runtime. */
  environment: RuntimeEnvironment;
  /** One sentence saying why this backend was chosen. */
  reason: string;
  /** Every backend tried, in order. */
  attempts: BackendAttempt[];
}

/**
 * Loads and initialises one backend. Resolves to a detail string on success; throws (with a
 * message saying what is missing) on failure. Injectable so selection logic can be tested.
 */
export type BackendLoader = (name: BackendName) => Promise<string>;

const backendNameSchema = z.enum(BACKEND_NAMES);

const initBackendOptionsSchema = z
  .object({
    prefer: z.union([z.literal('auto'), backendNameSchema]).optional(),
    fallback: z.boolean().optional(),
    environment: z.enum(['node', 'browser']).optional(),
    env: z.record(z.string(), z.string().optional()).optional(),
    wasmPaths: z.union([z.string(), z.record(z.string(), z.string())]).optional(),
    registerKernels: z.boolean().optional(),
    loader: z.custom<BackendLoader>((v) => typeof v === 'function').optional(),
  })
  .strict();

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /**
   * Backend to try first (`auto`, the default, uses {@link DEFAULT_BACKEND_ORDER}). With
   * `fallback` (default true) the remaining backends of the default order are tried after it.
   */
  prefer?: BackendName | 'auto';
  /** Try the other backends when the preferred one fails (default true). */
  fallback?: boolean;
  /** Override runtime detection (tests, workers). */
  environment?: RuntimeEnvironment;
  /**
   * Environment variables to read `MSMOE_BACKEND` from (default `process.env` in Node). When
   * `MSMOE_BACKEND` is set it wins over `prefer` and is strict: no fallback, an error if it
   * cannot be loaded.
   */
  env?: Record<string, string | undefined>;
  /** Where the browser fetches the wasm binaries from (`setWasmPaths`); Node finds them itself. */
  wasmPaths?: string | Record<string, string>;
  /** Register msmoe's missing kernels and gradients (default true). */
  registerKernels?: boolean;
  /** Replace the real loader (tests). */
  loader?: BackendLoader;
}

/** Raised when no requested backend could be initialised. */
export class BackendUnavailableError extends Error {
  /** Every backend tried and why it failed. */
  readonly attempts: BackendAttempt[];
  constructor(message: string, attempts: BackendAttempt[]) {
    super(message);
    this.name = 'BackendUnavailableError';
    this.attempts = attempts;
  }
}

/** Detects whether this code runs under Node.js or in a browser / web worker. */
export function detectEnvironment(): RuntimeEnvironment {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return proc?.versions?.node ? 'node' : 'browser';
}

/** The tfjs name a msmoe backend name registers as. */
export function tfjsBackendName(name: BackendName): string {
  return name === 'tensorflow-gpu' ? 'tensorflow' : name;
}

/**
 * Order in which backends are tried for the given preference (pure: no loading happens here).
 * Backends that cannot exist in the environment (e.g. `webgl` in Node) are rejected with an error
 * naming the allowed ones.
 */
export function backendOrder(
  environment: RuntimeEnvironment,
  prefer: BackendName | 'auto' = 'auto',
  fallback = true,
): BackendName[] {
  const defaults = DEFAULT_BACKEND_ORDER[environment];
  if (prefer === 'auto') return [...defaults];
  if (!defaults.includes(prefer)) {
    throw new BackendUnavailableError(
      `backend: "${prefer}" is not available in ${environment}; allowed: ${defaults.join(', ')}`,
      [],
    );
  }
  return fallback ? [prefer, ...defaults.filter((b) => b !== prefer)] : [prefer];
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] ?? err.message;
  return String(err);
}

/** Module names of the optional native bindings. */
const NATIVE_PACKAGES: Partial<Record<BackendName, string>> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

/** Imports an optional module by a name computed at run time (bundlers leave it alone). */
async function importOptional(specifier: string): Promise<unknown> {
  return import(/* @vite-ignore */ specifier);
}

async function setAndCheck(tfjsName: string): Promise<void> {
  if (!tf.findBackendFactory(tfjsName)) {
    throw new Error(
      `backend "${tfjsName}" is not registered in this copy of @tensorflow/tfjs-core ` +
        `(${tf.version_core}); a second copy with another version was probably installed`,
    );
  }
  const ok = await tf.setBackend(tfjsName);
  if (!ok) throw new Error(`tf.setBackend("${tfjsName}") failed to initialise`);
  await tf.ready();
}

/** The loader used outside tests: imports the backend's package and initialises it. */
export function defaultBackendLoader(wasmPaths?: string | Record<string, string>): BackendLoader {
  return async (name) => {
    const nativePkg = NATIVE_PACKAGES[name];
    if (nativePkg) {
      let mod: unknown;
      try {
        mod = await importOptional(nativePkg);
      } catch (err) {
        const code = (err as { code?: string }).code;
        const missing = code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND';
        throw new Error(
          missing
            ? `${nativePkg} is not installed (optional: npm i ${nativePkg}@${tf.version_core})`
            : `${nativePkg} is installed but failed to load: ${errorText(err)}`,
        );
      }
      await setAndCheck('tensorflow');
      const native = tf.backend() as unknown as {
        isGPUPackage?: boolean;
        isUsingGpuDevice?: boolean;
      };
      if (name === 'tensorflow-gpu' && native.isUsingGpuDevice === false) {
        throw new Error(`${nativePkg} loaded but TensorFlow sees no GPU device (check CUDA/cuDNN)`);
      }
      const version = (mod as { version?: { 'tfjs-node'?: string } }).version?.['tfjs-node'];
      return `${nativePkg}${version ? `@${version}` : ''} loaded`;
    }
    if (name === 'wasm') {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      if (wasmPaths !== undefined) wasm.setWasmPaths(wasmPaths);
      await setAndCheck('wasm');
      const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
      return `XNNPACK wasm (simd: ${simd}, threads: ${threads})`;
    }
    if (name === 'webgpu') {
      try {
        await importOptional('@tensorflow/tfjs-backend-webgpu');
      } catch {
        throw new Error('@tensorflow/tfjs-backend-webgpu is not installed (optional)');
      }
      await setAndCheck('webgpu');
      return 'WebGPU';
    }
    if (name === 'cpu') {
      await setAndCheck('cpu');
      // tfjs prints a banner suggesting tfjs-node on the first cpu tensor in Node; we already
      // reported the choice, so silence it.
      (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
      return 'pure JavaScript';
    }
    await setAndCheck(name);
    return name;
  };
}

/**
 * Chooses and initialises the fastest available TensorFlow.js backend and registers what tfjs
 * lacks for MoE training (a TopK gradient, an UnsortedSegmentSum kernel for wasm).
 *
 * Node order: `tensorflow-gpu` → `tensorflow` → `wasm` → `cpu`; browser order: `webgpu` →
 * `webgl` → `wasm` → `cpu`. The environment variable `MSMOE_BACKEND` forces one backend (strict).
 *
 * @example
 * ```ts
 * const choice = await initBackend();            // auto
 * console.log(choice.name, '-', choice.reason);  // "wasm - tensorflow-gpu: … not installed; …"
 * await initBackend({ prefer: 'cpu', fallback: false });
 * ```
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendChoice> {
  const opts = parseOrThrow(initBackendOptionsSchema, options, 'initBackend options');
  const environment = opts.environment ?? detectEnvironment();
  const env =
    opts.env ??
    (environment === 'node'
      ? (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env
      : undefined) ??
    {};
  const forced = env.MSMOE_BACKEND?.trim();
  let order: BackendName[];
  let how: string;
  if (forced && forced !== 'auto') {
    const parsed = backendNameSchema.safeParse(forced);
    if (!parsed.success) {
      throw new BackendUnavailableError(
        `MSMOE_BACKEND: "${forced}" is not a backend; allowed: auto, ${BACKEND_NAMES.join(', ')}`,
        [],
      );
    }
    order = backendOrder(environment, parsed.data, false);
    how = 'forced by MSMOE_BACKEND';
  } else {
    const prefer = opts.prefer ?? 'auto';
    order = backendOrder(environment, prefer, opts.fallback ?? true);
    how = prefer === 'auto' ? 'first available in the default order' : `preferred "${prefer}"`;
  }
  const load = opts.loader ?? defaultBackendLoader(opts.wasmPaths);
  const attempts: BackendAttempt[] = [];
  for (const name of order) {
    try {
      const detail = await load(name);
      // After loading: importing a backend package registers its kernels, which would otherwise
      // overwrite the fixes registered here.
      if (opts.registerKernels ?? true) registerMsmoeKernels();
      attempts.push({ name, ok: true, detail });
      const skipped = attempts
        .filter((a) => !a.ok)
        .map((a) => `${a.name}: ${a.detail}`)
        .join('; ');
      return {
        name,
        tfjsName: tfjsBackendName(name),
        environment,
        reason: `${name} (${detail}), ${how}${skipped ? `; skipped ${skipped}` : ''}`,
        attempts,
      };
    } catch (err) {
      attempts.push({ name, ok: false, detail: errorText(err) });
    }
  }
  const tried = attempts.map((a) => `${a.name}: ${a.detail}`).join('; ');
  throw new BackendUnavailableError(`backend: none could be initialised (${tried})`, attempts);
}
