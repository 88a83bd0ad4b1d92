import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findRuns, RunWriter, readRun, renderReport } from '@msmoe/tracking';
import type { Browser } from 'playwright-core';
import { CHART_PROBE, hasChromium, launchChromium } from '../../../tools/testing/chromium.js';
import { httpRequest } from '../../../tools/testing/http.js';

const ROOT = join(__dirname, '..', '..', '..');
const MAIN = join(ROOT, 'apps', 'trainer', 'src', 'main.ts');
// CI installs Debian chromium (.ci/run); elsewhere the browser tests say why they are skipped.
const available = hasChromium();
if (!available && process.env.CI)
  throw new Error('CI: /usr/bin/chromium is required (apt-get install chromium)');
const maybe = available ? describe : describe.skip;
if (!available)
  console.warn(
    'browser tests skipped: /usr/bin/chromium is not installed (apt-get install chromium)',
  );

type Probe = { width: number; height: number; marks: number; live: boolean; title: string }[];

async function fakeStudy(dir: string) {
  for (const [variant, mu] of [
    ['SMoE', null],
    ['MomentumSMoE', 0.7],
  ] as const)
    for (const seed of [0, 1]) {
      const w = await RunWriter.create(join(dir, `${variant}-s${seed}`), {
        variant,
        seed,
        model: { rule: mu ? 'm' : 'g' },
      });
      for (let s = 1; s <= 30; s++)
        w.log({
          kind: 'step',
          step: s,
          time: 0,
          loss: 7 - s / 10 - seed / 20,
          gradNorm: 2 - s / 30,
        });
      w.log({
        kind: 'stats',
        step: 30,
        time: 0,
        expertLoad: [[0.4, 0.3, 0.2, 0.1]],
        coefficients: mu ? { mu } : {},
      });
      w.log({
        kind: 'eval',
        step: 15,
        time: 0,
        metrics: { 'valid perplexity': 500, routingChange: 0.2 },
      });
      w.log({
        kind: 'eval',
        step: 30,
        time: 0,
        metrics: { 'valid perplexity': 300, routingChange: 0.1 },
      });
      await w.writeEval({
        clean: { perplexity: 300 + seed },
        attacked: { perplexity: 380 + seed },
      });
    }
}

maybe('report and dashboard in headless Chromium', () => {
  let browser: Browser;
  let dir: string;
  beforeAll(async () => {
    browser = await launchChromium();
    dir = mkdtempSync(join(tmpdir(), 'msmoe-browser-'));
    await fakeStudy(dir);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('report.html opens offline and draws every chart, interactive (ECharts inlined)', async () => {
    const file = join(dir, 'report.html');
    writeFileSync(file, renderReport(findRuns(dir).map(readRun), { title: 'browser test' }));
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href);
    const charts = (await page.evaluate(CHART_PROBE)) as Probe;
    expect(charts.length).toBeGreaterThanOrEqual(7);
    for (const c of charts) {
      expect(c.width).toBeGreaterThan(100);
      expect(c.height).toBeGreaterThan(100);
      expect(c.marks).toBeGreaterThan(0);
      expect(c.live).toBe(true);
    }
    expect(requests.every((u) => u.startsWith('file:'))).toBe(true); // nothing fetched from anywhere
    await page.close();
  }, 60_000);

  it('report charts: hover reads values out, legend entries hide series, smoothing and axes change the drawing', async () => {
    const file = join(dir, 'report-ui.html');
    writeFileSync(file, renderReport(findRuns(dir).map(readRun), { title: 'ui test' }));
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    await page.goto(pathToFileURL(file).href);
    const loss = page.locator('[data-chart="0"]');
    const paths = () => loss.locator('svg path').count();
    const drawing = () => loss.locator('svg').innerHTML();
    // Hover: the tooltip names the variants with their values at that step.
    const box = (await loss.boundingBox()) as {
      x: number;
      y: number;
      width: number;
      height: number;
    };
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
    await page.waitForFunction(
      () =>
        /MomentumSMoE[\s\S]*\d/.test(document.querySelector('[data-chart="0"]')?.textContent ?? ''),
      null,
      { timeout: 5_000 },
    );
    // Legend: clicking a variant hides its mean line.
    const before = await paths();
    await loss
      .locator('svg text', { hasText: /^MomentumSMoE$/ })
      .first()
      .click();
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-chart="0"] svg path').length < n,
      before,
    );
    // The runs table: unticking a run hides its thin line in every chart.
    const shown = await paths();
    await page.locator('input[data-run]').first().uncheck();
    expect(await paths()).toBeLessThan(shown);
    // Smoothing, wall-time x-axis and log scale redraw the charts.
    let last = await drawing();
    await page.locator('#msmoe-smooth').fill('0.9');
    expect(await drawing()).not.toBe(last);
    last = await drawing();
    await page.check('input[name="msmoe-x"][value="time"]');
    expect(await loss.locator('svg text', { hasText: 'wall time (s)' }).count()).toBe(1);
    await page.check('input[name="msmoe-y"][value="log"]');
    expect(await drawing()).not.toBe(last);
    await page.close();
  }, 60_000);

  it('study.html: every chart drawn and interactive (history, parallel coordinates, importance, intermediate values, slices)', async () => {
    const { RandomSampler, renderStudyHtml, Study, TrialPruned } = await import('@msmoe/tuner');
    const study = await Study.create({ sampler: new RandomSampler(), seed: 3 });
    await study.optimize(
      async (t) => {
        const lr = await t.suggestFloat('lr', 1e-4, 1e-1, { log: true });
        const rule = await t.suggestCategorical('rule', ['g', 'm']);
        const v = (Math.log10(lr) + 2) ** 2 + (rule === 'm' ? 0 : 0.5);
        for (let s = 0; s < 3; s++) await t.report(v + 1 / (s + 1), s);
        if (t.number % 4 === 3) throw new TrialPruned();
        return v;
      },
      { trials: 24 },
    );
    const file = join(dir, 'study.html');
    writeFileSync(file, renderStudyHtml('s', study.direction, await study.trials()));
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(file).href);
    const charts = (await page.evaluate(CHART_PROBE)) as Probe;
    expect(charts.length).toBe(6); // history, parallel, importance, intermediate, 2 slices
    expect(charts.every((c) => c.live && c.marks > 0)).toBe(true);
    // Hover a trial's dot (where ECharts drew it): the tooltip gives its value.
    const box = (await page.locator('[data-chart="0"]').boundingBox()) as { x: number; y: number };
    const [px, py] = (await page.evaluate(() => {
      const b = document.querySelector('[data-chart="0"]') as HTMLElement;
      const c = (
        window as unknown as {
          echarts: {
            getInstanceByDom(e: HTMLElement): {
              getOption(): { series: { data: number[][] }[] };
              convertToPixel(f: object, v: number[]): number[];
            };
          };
        }
      ).echarts.getInstanceByDom(b);
      return c.convertToPixel({ seriesIndex: 0 }, c.getOption().series[0]?.data[0] as number[]);
    })) as [number, number];
    await page.mouse.move(box.x + px, box.y + py);
    await page.waitForFunction(
      () =>
        /trial[\s\S]*\d/.test(
          (document.querySelector('[data-chart="0"]') as HTMLElement).textContent ?? '',
        ),
      null,
      { timeout: 5_000 },
    );
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('msmoe dashboard serves the live page on 127.0.0.1 and shows new steps as runs train', async () => {
    const { url, child } = await startDashboard(dir, ['--refresh', '1']);
    try {
      const page = await browser.newPage();
      await page.goto(url);
      expect(((await page.evaluate(CHART_PROBE)) as Probe).length).toBeGreaterThanOrEqual(7);
      expect(await page.locator('td', { hasText: /^30$/ }).count()).toBeGreaterThan(0);
      // A run keeps training: the page picks the new step up without a reload.
      appendFileSync(
        join(dir, 'SMoE-s0', 'metrics.jsonl'),
        `${JSON.stringify({ kind: 'step', step: 45, time: 0, loss: 3 })}\n`,
      );
      await page.waitForFunction(
        "[...document.querySelectorAll('td')].some((td) => td.textContent === '45')",
        null,
        { timeout: 10_000 },
      );
      // The refreshed page's charts are interactive again (re-initialised, not static SVG).
      const after = (await page.evaluate(CHART_PROBE)) as Probe;
      expect(after.length).toBeGreaterThanOrEqual(7);
      expect(after.every((c) => c.live)).toBe(true);
      expect((await fetch(new URL('/../../etc/passwd', url))).status).toBe(404);
      await page.close();
    } finally {
      child.kill('SIGINT');
    }
  }, 60_000);
});

maybe('dashboard: live studies from any storage', () => {
  let browser: Browser;
  let dir: string;
  beforeAll(async () => {
    browser = await launchChromium();
    dir = mkdtempSync(join(tmpdir(), 'msmoe-studies-'));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the journal studies in the folder and a SQLite one, and shows a study live as trials finish', async () => {
    const { openStorage, RandomSampler, Study } = await import('@msmoe/tuner');
    const objective = async (t: import('@msmoe/tuner').Trial) => {
      const x = await t.suggestFloat('train.lr', 1e-4, 1e-1, { log: true });
      await t.report(x, 0);
      return (Math.log10(x) + 2) ** 2;
    };
    mkdirSync(join(dir, 'tune'));
    const journal = await openStorage(`journal:${join(dir, 'tune', 'lr.log')}`);
    const a = await Study.create({ name: 'lr', storage: journal, sampler: new RandomSampler() });
    await a.optimize(objective, { trials: 6 });
    const sqlite = await openStorage(`sqlite:${join(dir, 'other.db')}`);
    const b = await Study.create({
      name: 'elsewhere',
      storage: sqlite,
      sampler: new RandomSampler(),
    });
    await b.optimize(objective, { trials: 3 });
    await sqlite.close();
    const { url, child } = await startDashboard(dir, [
      '--refresh',
      '1',
      '--storage',
      `sqlite:${join(dir, 'other.db')}`,
    ]);
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(url);
      const items = await page.locator('ul.studies li').allTextContents();
      expect(items).toEqual([
        expect.stringMatching(/^lr \(tune\/lr\.log\): 6 trials \(6 complete/),
        expect.stringMatching(/^elsewhere \(sqlite:.*other\.db\): 3 trials/),
      ]);
      await page.click('ul.studies a >> nth=0');
      await page.waitForURL(/\/study\/0$/);
      const charts = (await page.evaluate(CHART_PROBE)) as Probe;
      expect(charts.length).toBeGreaterThanOrEqual(4); // history, parallel, importance, intermediate, slice
      expect(charts.every((c) => c.live && c.marks > 0)).toBe(true);
      expect(await page.textContent('body')).toMatch(/6 trials: complete 6/);
      // Another worker finishes two trials: the open page shows them without a reload.
      await a.optimize(objective, { trials: 2 });
      await page.waitForFunction(
        () => /8 trials: complete 8/.test(document.body.textContent ?? ''),
        null,
        { timeout: 10_000 },
      );
      expect(((await page.evaluate(CHART_PROBE)) as Probe).every((c) => c.live)).toBe(true);
      expect((await fetch(new URL('/study/9', url))).status).toBe(404);
      await page.close();
    } finally {
      child.kill('SIGINT');
      await journal.close();
    }
  }, 90_000);
});

/** The node arguments of `msmoe dashboard <dir> --port <port>`. */
const DASHBOARD = (dir: string, port: string) => [
  '--import',
  'tsx',
  '--conditions=@msmoe/source',
  MAIN,
  'dashboard',
  dir,
  '--port',
  port,
];

/** Starts `msmoe dashboard <dir> --port 0`; resolves with its URL and the process. */
function startDashboard(
  dir: string,
  extra: string[] = [],
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [...DASHBOARD(dir, '0'), ...extra], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout?.on('data', (d) => {
      text += String(d);
      const m = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(text);
      if (m) resolve({ url: m[1] as string, child });
    });
    child.on('exit', () => reject(new Error(`dashboard exited: ${text}`)));
  });
}

const ask = httpRequest;

describe('dashboard as a hostile or unlucky user finds it', () => {
  let dir: string;
  let outside: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'msmoe-dash-'));
    outside = mkdtempSync(join(tmpdir(), 'msmoe-elsewhere-'));
    await fakeStudy(dir);
    await fakeStudy(outside);
    // A link to runs elsewhere, a dangling link, a torn config.json, a torn eval.json, a null line.
    symlinkSync(join(outside, 'SMoE-s0'), join(dir, 'linked-run'));
    symlinkSync(join(outside, 'missing'), join(dir, 'dangling'));
    writeFileSync(join(dir, 'SMoE-s1', 'config.json'), '{"variant": "SM');
    writeFileSync(join(dir, 'MomentumSMoE-s1', 'eval.json'), '{"clean": ');
    appendFileSync(join(dir, 'MomentumSMoE-s0', 'metrics.jsonl'), 'null\n');
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it('lists only the runs inside its folder, shows the readable ones and names the broken ones', async () => {
    expect(findRuns(dir).map((d) => d.slice(dir.length + 1))).toEqual([
      'MomentumSMoE-s0',
      'MomentumSMoE-s1',
      'SMoE-s0',
      'SMoE-s1',
    ]);
    const { url, child } = await startDashboard(dir);
    try {
      const page = await ask(url);
      expect(page.status).toBe(200);
      expect(page.body).toMatch(/Runs that cannot be read/);
      expect(page.body).toContain('SMoE-s1');
      expect(page.body).toContain('MomentumSMoE-s1');
      expect(page.body).not.toContain(outside);
      // GET/HEAD only; its own name only (DNS rebinding).
      for (const method of ['POST', 'PUT', 'DELETE', 'TRACE'])
        expect((await ask(url, { method })).status).toBe(405);
      expect((await ask(url, { method: 'HEAD' })).status).toBe(200);
      expect((await ask(url, { host: 'attacker.example' })).status).toBe(403);
      expect((await ask(url, { host: `localhost:${new URL(url).port}` })).status).toBe(200);
      // A port in use: one line, exit 2.
      const busy = spawnSync(process.execPath, DASHBOARD(dir, new URL(url).port), {
        cwd: ROOT,
        encoding: 'utf8',
      });
      expect(busy.status).toBe(2);
      expect(busy.stderr.trim()).toMatch(/^msmoe: dashboard: port \d+ is in use/);
    } finally {
      child.kill('SIGINT');
    }
    const range = spawnSync(process.execPath, DASHBOARD(dir, '70000'), {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(range.status).toBe(2);
    expect(range.stderr.trim()).toMatch(/--port 70000 is out of range/);
  }, 60_000);
});
