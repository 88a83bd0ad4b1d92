// `msmoe dashboard`: the pages it serves. `/` is the live report of a folder of runs, with the
// studies it knows listed on top; `/study/<n>` is a live study page (history, parallel
// coordinates, importance, intermediate values, slices) read from the study's storage: journal
// files found in the folder, and any `--storage` URL (journal, SQLite, PostgreSQL).
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, relative } from 'node:path';
import { esc, findRuns, readRuns, renderReport } from '@msmoe/tracking';
import { openStorage, renderStudyHtml, type Storage, type StudyInfo } from '@msmoe/tuner';

/** Whether a file is an Optuna-format journal (its first record is a JSON op). */
function isJournal(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(16);
    const n = readSync(fd, head, 0, 16, 0);
    return /^\{\s*"op_code"/.test(head.subarray(0, n).toString('utf8'));
  } finally {
    closeSync(fd);
  }
}

/** Journal files (`*.log`) under `folder`, at most `depth` folders down (checkpoints skipped). */
export function findJournals(folder: string, depth = 4): string[] {
  const out: string[] = [];
  const walk = (dir: string, d: number) => {
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e);
      let st: ReturnType<typeof statSync>;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        if (d > 0 && e !== 'checkpoints' && e !== 'node_modules' && !e.startsWith('.'))
          walk(p, d - 1);
      } else if (e.endsWith('.log') && st.size > 0 && isJournal(p)) out.push(p);
    }
  };
  walk(folder, depth);
  return out;
}

/** A study the dashboard shows: where it lives and what it is. */
interface StudyEntry {
  url: string;
  label: string;
  info: StudyInfo;
  storage: Storage;
}

/** Options of {@link createDashboard}. */
export interface DashboardOptions {
  /** Seconds between the pages' refreshes. */
  refreshSeconds: number;
  /** Study storages to show besides the journals found in the folder. */
  storages?: string[];
}

/**
 * The dashboard's request handler: the runs report at `/`, the studies at `/study/<n>`. Storages
 * stay open while it serves (a journal is replayed incrementally, a database keeps one
 * connection); `close` closes them.
 */
export async function createDashboard(
  folder: string,
  options: DashboardOptions,
): Promise<{
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  close(): Promise<void>;
}> {
  const open = new Map<string, Storage>();
  const storageOf = async (url: string) => {
    let s = open.get(url);
    if (!s) {
      s = await openStorage(url);
      open.set(url, s);
    }
    return s;
  };
  // Opened at start, so a wrong --storage is an error now, not a blank list later.
  for (const url of options.storages ?? []) await storageOf(url);

  const studies = async (): Promise<StudyEntry[]> => {
    const urls = [...findJournals(folder).map((f) => `journal:${f}`), ...(options.storages ?? [])];
    const out: StudyEntry[] = [];
    for (const url of [...new Set(urls)]) {
      const storage = await storageOf(url);
      const where = url.startsWith('journal:')
        ? relative(folder, url.slice('journal:'.length)) || url
        : url.replace(/\/\/[^@/]*@/, '//…@'); // never show a password
      for (const info of await storage.getAllStudies())
        out.push({ url, label: `${info.name} (${where})`, info, storage });
    }
    return out;
  };

  const nav = async (list: StudyEntry[]) => {
    if (!list.length) return '';
    const items = await Promise.all(
      list.map(async (s, i) => {
        const trials = await s.storage.getTrials(s.info.studyId);
        const count = (st: string) => trials.filter((t) => t.state === st).length;
        return `<li><a href="/study/${i}">${esc(s.label)}</a>: ${trials.length} trials (${count('COMPLETE')} complete, ${count('PRUNED')} pruned, ${count('RUNNING')} running, ${count('FAIL')} failed)</li>`;
      }),
    );
    return `<h2>Studies</h2><ul class="studies">${items.join('')}</ul>`;
  };

  const send = (res: ServerResponse, status: number, body: string, type = 'text/html'): void => {
    res
      .writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' })
      .end(body);
  };

  return {
    async handle(req, res) {
      const url = req.url ?? '/';
      try {
        const list = await studies();
        const m = /^\/study\/(\d+)$/.exec(url);
        if (m) {
          const s = list[Number(m[1])];
          if (!s) return send(res, 404, 'no such study', 'text/plain');
          const trials = await s.storage.getTrials(s.info.studyId);
          return send(
            res,
            200,
            renderStudyHtml(s.info.name, s.info.direction, trials, {
              refreshSeconds: options.refreshSeconds,
              topHtml: `<p><a href="/">← runs and studies</a> · ${esc(s.label)} · live, refreshing every ${options.refreshSeconds} s</p>`,
            }),
          );
        }
        if (url !== '/' && url !== '/index.html') return send(res, 404, 'not found', 'text/plain');
        const { runs, broken } = readRuns(findRuns(folder));
        const brokenHtml = broken.length
          ? `<h2>Runs that cannot be read</h2><ul>${broken.map((b) => `<li><code>${esc(b.dir)}</code>: ${esc(b.error)}</li>`).join('')}</ul>`
          : '';
        return send(
          res,
          200,
          renderReport(runs, {
            title: `msmoe dashboard: ${folder}`,
            refreshSeconds: options.refreshSeconds,
            topHtml: (await nav(list)) + brokenHtml,
          }),
        );
      } catch (err) {
        console.error(`dashboard: ${(err as Error).message}`);
        send(res, 500, 'the page could not be built', 'text/plain');
      }
    },
    async close() {
      for (const s of open.values()) await s.close();
      open.clear();
    },
  };
}
