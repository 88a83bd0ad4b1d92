// What the CLI tests share: how to start `msmoe` as `npm run msmoe` does, and a CPU-cheap run.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root. */
export const ROOT = join(__dirname, '..', '..', '..', '..');
/** The CLI entry (TypeScript, run through tsx). */
export const MAIN = join(ROOT, 'apps', 'trainer', 'src', 'main.ts');
/** As `npm run msmoe`: one process (the tsx CLI wrapper would put a second one in front of the signals). */
export const NODE_ARGS = ['--import', 'tsx', '--conditions=@msmoe/source', MAIN];
/** A CPU-cheap run: tiny preset shrunk, a 300-word vocabulary, short evaluations. */
export const SMALL = [
  '--batch-size',
  '4',
  '--set',
  'data.vocabSize=300',
  'model.overrides.dModel=16',
  'model.overrides.dInner=16',
  'model.overrides.blockLength=8',
  'model.overrides.span=8',
  'eval.blocks=2',
  'eval.finalBlocks=3',
  'eval.batchSize=4',
];

/** Training steps a run folder has logged so far (0 before its metrics.jsonl exists). */
export function loggedSteps(runDir: string): number {
  const file = join(runDir, 'metrics.jsonl');
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"kind":"step"')).length
    : 0;
}
