// Where a run came from: the msmoe version, the git commit of a checkout, the command line, the
// backend and the Node.js version, recorded in config.json and shown per run in report.html.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { computeLabel } from './compute.js';

/** The provenance block of config.json. */
export interface Provenance {
  msmoe: string;
  /** Commit of the checkout msmoe runs from (with `+dirty` for uncommitted changes), or null. */
  commit: string | null;
  command: string;
  backend: string | null;
  node: string;
  platform: string;
}

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..', '..');

function gitCommit(): string | null {
  try {
    const opts = {
      cwd: ROOT,
      encoding: 'utf8' as const,
      stdio: ['ignore', 'pipe', 'ignore'] as ('ignore' | 'pipe')[],
      timeout: 5000,
    };
    const head = execFileSync('git', ['rev-parse', 'HEAD'], opts).trim();
    const dirty = execFileSync(
      'git',
      ['status', '--porcelain', '--untracked-files=no'],
      opts,
    ).trim();
    return dirty ? `${head}+dirty` : head;
  } catch {
    return null; // not a checkout, or no git
  }
}

let cached: Omit<Provenance, 'backend' | 'command'> | null = null;

/** This process's provenance (the git lookup is done once). */
export function provenance(backend?: string): Provenance {
  if (!cached) {
    let version = 'unknown';
    try {
      version = JSON.parse(readFileSync(join(HERE, '..', 'package.json'), 'utf8')).version;
    } catch {
      // keep unknown
    }
    cached = {
      msmoe: version,
      commit: gitCommit(),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    };
  }
  return {
    ...cached,
    command: process.argv.slice(2).join(' '),
    backend: backend ? computeLabel(backend) : null,
  };
}
