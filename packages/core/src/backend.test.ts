import * as tf from '@tensorflow/tfjs';
import {
  type BackendName,
  BackendUnavailableError,
  backendOrder,
  detectEnvironment,
  initBackend,
  tfjsBackendName,
} from './backend.js';
import { ConfigError } from './validate.js';

function fakeLoader(available: BackendName[]) {
  const calls: BackendName[] = [];
  const loader = async (name: BackendName) => {
    calls.push(name);
    if (!available.includes(name)) throw new Error(`${name} missing`);
    return `${name} ok`;
  };
  return { loader, calls };
}

describe('backendOrder', () => {
  it('follows the documented default order per environment', () => {
    expect(backendOrder('node')).toEqual(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']);
    expect(backendOrder('browser')).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
  });
  it('puts the preferred backend first, then the rest, or only it without fallback', () => {
    expect(backendOrder('node', 'cpu')).toEqual(['cpu', 'tensorflow-gpu', 'tensorflow', 'wasm']);
    expect(backendOrder('node', 'wasm', false)).toEqual(['wasm']);
  });
  it('rejects a backend that cannot exist in the environment, naming the allowed ones', () => {
    expect(() => backendOrder('node', 'webgl')).toThrow(
      /"webgl" is not available in node; allowed: tensorflow-gpu, tensorflow, wasm, cpu/,
    );
  });
});

describe('initBackend selection (injected loader)', () => {
  it('falls through unavailable backends and reports why', async () => {
    const { loader, calls } = fakeLoader(['wasm', 'cpu']);
    const choice = await initBackend({
      loader,
      environment: 'node',
      env: {},
      registerKernels: false,
    });
    expect(calls).toEqual(['tensorflow-gpu', 'tensorflow', 'wasm']);
    expect(choice.name).toBe('wasm');
    expect(choice.attempts.map((a) => a.ok)).toEqual([false, false, true]);
    expect(choice.reason).toContain('tensorflow-gpu: tensorflow-gpu missing');
    expect(choice.reason).toContain('first available in the default order');
  });
  it('picks the GPU binding first when present and maps it to tfjs "tensorflow"', async () => {
    const { loader } = fakeLoader(['tensorflow-gpu', 'wasm']);
    const choice = await initBackend({
      loader,
      environment: 'node',
      env: {},
      registerKernels: false,
    });
    expect(choice.name).toBe('tensorflow-gpu');
    expect(choice.tfjsName).toBe('tensorflow');
    expect(tfjsBackendName('wasm')).toBe('wasm');
  });
  it('uses the browser order in a browser', async () => {
    const { loader, calls } = fakeLoader(['webgl']);
    const choice = await initBackend({ loader, environment: 'browser', registerKernels: false });
    expect(calls).toEqual(['webgpu', 'webgl']);
    expect(choice.name).toBe('webgl');
  });
  it('MSMOE_BACKEND forces one backend, strictly', async () => {
    const { loader, calls } = fakeLoader(['wasm', 'cpu']);
    const choice = await initBackend({
      loader,
      environment: 'node',
      env: { MSMOE_BACKEND: 'cpu' },
      prefer: 'wasm',
      registerKernels: false,
    });
    expect(choice.name).toBe('cpu');
    expect(choice.reason).toContain('forced by MSMOE_BACKEND');
    expect(calls).toEqual(['cpu']);
    await expect(
      initBackend({
        loader,
        environment: 'node',
        env: { MSMOE_BACKEND: 'tensorflow' },
        registerKernels: false,
      }),
    ).rejects.toThrow(/none could be initialised \(tensorflow: tensorflow missing\)/);
  });
  it('MSMOE_BACKEND=auto means the default order', async () => {
    const { loader } = fakeLoader(['cpu']);
    const choice = await initBackend({
      loader,
      environment: 'node',
      env: { MSMOE_BACKEND: 'auto' },
      registerKernels: false,
    });
    expect(choice.name).toBe('cpu');
  });
  it('rejects an unknown MSMOE_BACKEND value, listing the allowed ones', async () => {
    await expect(
      initBackend({ environment: 'node', env: { MSMOE_BACKEND: 'cuda' } }),
    ).rejects.toThrow(
      'MSMOE_BACKEND: "cuda" is not a backend; allowed: auto, tensorflow-gpu, tensorflow, wasm, cpu, webgpu, webgl',
    );
  });
  it('fails with every attempt listed when nothing loads', async () => {
    const { loader } = fakeLoader([]);
    const err = await initBackend({
      loader,
      environment: 'node',
      env: {},
      registerKernels: false,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as BackendUnavailableError).attempts).toHaveLength(4);
  });
  it('validates options at the door: unknown field and bad value are named', async () => {
    await expect(initBackend({ prefered: 'cpu' } as never)).rejects.toThrow(ConfigError);
    await expect(initBackend({ prefered: 'cpu' } as never)).rejects.toThrow(
      /prefered: unknown field/,
    );
    await expect(initBackend({ prefer: 'gpu' } as never)).rejects.toThrow(
      /prefer: .*\(got "gpu"\)/,
    );
  });
});

describe('initBackend (real loaders)', () => {
  it('detects Node', () => {
    expect(detectEnvironment()).toBe('node');
  });
  it('auto-selects the best installed backend and never requires tfjs-node', async () => {
    let nativeInstalled = true;
    try {
      require.resolve('@tensorflow/tfjs-node');
    } catch {
      nativeInstalled = false;
    }
    const choice = await initBackend({ env: {} });
    if (!nativeInstalled) {
      expect(choice.name).toBe('wasm');
      expect(choice.attempts[1]?.detail).toMatch(/@tensorflow\/tfjs-node is not installed/);
    }
    expect(tf.getBackend()).toBe(choice.tfjsName);
  });
  it('initialises cpu and wasm on request and registers the missing kernels', async () => {
    for (const name of ['cpu', 'wasm'] as const) {
      const choice = await initBackend({ prefer: name, fallback: false, env: {} });
      expect(choice.name).toBe(name);
      expect(tf.getBackend()).toBe(name);
    }
    expect(tf.getGradient('TopK')).toBeDefined();
    expect(tf.getKernel('UnsortedSegmentSum', 'wasm')).toBeDefined();
  });
});
