import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** The checks of testing/native-checks.ts, run in a plain Node process (see there why). */
function runChecks() {
  const root = join(__dirname, '..', '..', '..');
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@msmoe/source',
      join(__dirname, 'testing', 'native-checks.ts'),
    ],
    { cwd: root, encoding: 'utf8', env: { ...process.env, MSMOE_NATIVE_OUTPUT: '' } },
  );
  return JSON.parse(out.trim().split('\n').at(-1) as string);
}

describe('the native output layer (onnxruntime-node)', () => {
  const r = runChecks();

  it('gives the loss and the gradients of h, W and b of the tfjs path, in one chunk and in several', () => {
    for (const c of r.parity.chunks) {
      expect(c.lossRel).toBeLessThan(1e-6);
      for (const g of c.gradRel) expect(g).toBeLessThan(1e-4);
    }
    expect(r.parity.evalLossRel).toBeLessThan(1e-6);
    // One call for the whole batch, then ⌈24 / 7⌉ = 4 for chunks of 7 rows; the loss-only graph
    // once, outside a tape.
    expect(r.parity.calls).toEqual({ grads: 5, loss: 1 });
  });

  it('computes mean(logsumexp(z) − z_target) on hand-made logits', () => {
    expect(r.handMade.value).toBeCloseTo(r.handMade.expected, 6);
  });

  it('trains an LM as the tfjs path does (5 Adam steps) with a flat tensor count', () => {
    const { reference, native, calls } = r.training;
    expect(calls.grads).toBe(5);
    native.losses.forEach((l: number, i: number) => {
      expect(Math.abs(l - reference.losses[i])).toBeLessThan(1e-4);
    });
    expect(native.losses.at(-1)).toBeLessThan(native.losses[0]);
    expect(reference.growth).toBe(0);
    expect(native.growth).toBe(0);
  });

  it('MSMOE_NATIVE_OUTPUT=off keeps the output layer on tfjs, another value is a clear error, unset installs it', () => {
    expect(r.switches.off).toEqual({
      enabled: false,
      detail: 'native output layer off (MSMOE_NATIVE_OUTPUT=off)',
    });
    expect(r.switches.offKernel).toBeNull();
    expect(r.switches.bad).toBe(
      'ConfigError: MSMOE_NATIVE_OUTPUT: "0" is not allowed; allowed: on, off',
    );
    expect(r.switches.badKernel).toBeNull();
    expect(r.switches.on).toEqual({
      enabled: true,
      detail: 'output layer on onnxruntime-node 1.30.0 (1 thread)',
    });
    expect(r.switches.onKernel).toBe('onnxruntime-node 1.30.0 (1 thread)');
  });
});
