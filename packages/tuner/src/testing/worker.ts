// A tuning worker process for the storage tests: node --import tsx worker.ts <storage> <study> <trials> <mode>
// mode `normal` runs `trials` trials; `hang` starts one trial, prints "started <number>", then hangs (to be killed).
import { openStorage, Study, TpeSampler } from '../index.js';

const [url, name, trials, mode] = process.argv.slice(2) as [string, string, string, string];
const storage = await openStorage(url);
const study = await Study.create({
  name,
  storage,
  loadIfExists: true,
  sampler: new TpeSampler({ nStartupTrials: 4 }),
  heartbeatInterval: 0.5,
  retryFailed: { maxRetry: 2 },
  seed: process.pid,
});
if (mode === 'hang') {
  const t = await study.ask();
  await t.suggestFloat('x', -5, 5);
  await storage.heartbeat(t.trialId);
  console.log(`started ${t.number}`);
  await new Promise(() => {});
}
await study.optimize(
  async (t) => {
    const x = await t.suggestFloat('x', -5, 5);
    const y = await t.suggestFloat('y', -5, 5);
    await t.report(x * x, 0);
    await new Promise((r) => setTimeout(r, 10));
    return (x - 1) ** 2 + y * y;
  },
  { trials: Number(trials) },
);
await storage.close();
console.log('done');
