import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { hasChromium, launchChromium } from '../../../tools/testing/chromium.js';

const ROOT = join(__dirname, '..', '..', '..');
const available = hasChromium();
if (!available && process.env.CI)
  throw new Error('CI: /usr/bin/chromium is required (apt-get install chromium)');
const maybe = available ? describe : describe.skip;

/** The same word-level tokenisation as the page. */
function tokenize(text: string, vocabulary: string[]): number[] {
  const index = new Map(vocabulary.map((t, i) => [t, i]));
  const unk = index.get('<unk>') ?? 0;
  return text
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => index.get(w) ?? unk);
}

/** metadata_props via onnx-proto (Node side). */
function metadata(bytes: Uint8Array): Record<string, string> {
  const { readMetadata } = require('../../../packages/onnx/src/graph.ts') as {
    readMetadata: (b: Uint8Array) => Record<string, string>;
  };
  return readMetadata(bytes);
}

maybe('apps/demo in headless Chromium', () => {
  let browser: Browser;
  let page: Page;
  let close: () => void;
  let baseUrl: string;
  let buildLog = '';
  const shots = process.env.MSMOE_SCREENSHOTS
    ? join(ROOT, 'docs', 'images')
    : join(ROOT, 'reports');
  beforeAll(async () => {
    const build = spawnSync('npm', ['run', '-s', 'demo:build'], { cwd: ROOT, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`demo build failed:\n${build.stderr}`);
    buildLog = build.stdout + build.stderr;
    const { serve } =
      require('../../../tools/serve-static.ts') as typeof import('../../../tools/serve-static.js');
    const server = await serve(join(ROOT, 'apps', 'demo', 'dist'), 0);
    close = server.close;
    baseUrl = server.url;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    expect(errors).toEqual([]);
    mkdirSync(shots, { recursive: true });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    close?.();
  });

  it('the build ships onnxruntime-web once: the wasm build only, no Node module, no WebGPU', () => {
    const dist = join(ROOT, 'apps', 'demo', 'dist');
    const files = readdirSync(dist, { recursive: true }) as string[];
    expect(files.filter((f) => f.endsWith('.wasm'))).toEqual([
      join('ort', 'ort-wasm-simd-threaded.wasm'),
    ]);
    expect(files.filter((f) => /jsep|jspi|asyncify|webgpu/.test(f))).toEqual([]);
    expect(buildLog).not.toMatch(/externalized for browser compatibility/);
  });

  it('the static server is bound to 127.0.0.1 and serves nothing outside its folder', async () => {
    expect(new URL(baseUrl).hostname).toBe('127.0.0.1');
    const { request } = await import('node:http');
    const status = (path: string) =>
      new Promise<number>((resolve) => {
        request(new URL(baseUrl), { path, method: 'GET' }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).end();
      });
    expect(await status('/index.html')).toBe(200);
    expect(await status('/%2e%2e/package.json')).toBe(404);
    expect(await status('/..%2f..%2fpackage.json')).toBe(404);
    expect(await status('/models/nope.onnx')).toBe(404);
  });

  it('text tab: the page’s top-5 equals onnxruntime-web’s in Node for the same prompt', async () => {
    const prompt = 'we must protect the freedom of the';
    await page.fill('#prompt', prompt);
    await page.click('#predict');
    await page.waitForFunction(
      (p) =>
        document.querySelector('.panel[data-model="momentum"] .heatmap th:last-child')
          ?.textContent === p.split(' ').at(-1),
      prompt,
    );
    const shown = await page.$$eval('.panel[data-model="momentum"] .top5 li', (lis) =>
      lis.map((li) => [
        li.querySelector('.word')?.textContent ?? '',
        Number.parseFloat(li.querySelector('.prob')?.textContent ?? ''),
      ]),
    );
    // The same model, prompt and tokens through onnxruntime-web in Node.
    const model = join(ROOT, 'apps', 'demo', 'public', 'models', 'lm-momentum.onnx');
    const bytes = new Uint8Array(readFileSync(model));
    const meta = metadata(bytes);
    const vocab = JSON.parse(meta.vocabulary as string) as string[];
    const cfg = JSON.parse(meta['msmoe.config'] as string) as {
      span: number;
      dModel: number;
      architecture: string;
    };
    const ids = tokenize(prompt, vocab);
    const feeds: Record<string, unknown> = {
      tokens: { type: 'int64', dims: [1, ids.length], data: ids },
    };
    for (let i = 0; i < [...cfg.architecture].filter((l) => l === 's').length; i++)
      feeds[`cache_${i}`] = {
        type: 'float32',
        dims: [1, cfg.span, cfg.dModel],
        data: new Array(cfg.span * cfg.dModel).fill(0),
      };
    const dir = mkdtempSync(join(tmpdir(), 'msmoe-demo-'));
    writeFileSync(
      join(dir, 'req.json'),
      JSON.stringify({ threads: 1, jobs: [{ model, runs: [feeds] }] }),
    );
    const out = JSON.parse(
      execFileSync(
        process.execPath,
        [join(ROOT, 'packages', 'onnx', 'src', 'testing', 'ort-run.mjs'), join(dir, 'req.json')],
        { encoding: 'utf8', maxBuffer: 1 << 28 },
      ),
    );
    rmSync(dir, { recursive: true, force: true });
    const V = vocab.length;
    const last = (out[0][0].logits.data as number[]).slice((ids.length - 1) * V, ids.length * V);
    const m = Math.max(...last);
    const e = last.map((x) => Math.exp(x - m));
    const s = e.reduce((a, b) => a + b, 0);
    const expected = e
      .map((x, i) => [vocab[i], (100 * x) / s] as const)
      .filter(([w]) => w !== '<unk>')
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5);
    // <unk> (every rare word at once) is left out of the top 5.
    expect(shown.map((x) => x[0])).toEqual(expected.map((x) => x[0]));
    expect(shown.map((x) => x[0])).not.toContain('<unk>');
    shown.forEach((x, i) => {
      expect(x[1] as number).toBeCloseTo(expected[i]?.[1] as number, 1);
    });
    expect(await page.locator('.panel[data-model="smoe"] .heatmap td').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(shots, 'demo-text.png'), fullPage: true });
    // An out-of-vocabulary word is named; an empty prompt says so instead of failing silently.
    await page.fill('#prompt', 'we must protect zyzzyvaquux');
    await page.click('#predict');
    await page.waitForFunction(() =>
      document
        .querySelector('.panel[data-model="smoe"] .note')
        ?.textContent?.includes('zyzzyvaquux'),
    );
    await page.fill('#prompt', '   ');
    await page.click('#predict');
    await page.waitForFunction(() =>
      document.querySelector('.panel[data-model="smoe"] .note')?.textContent?.includes('empty'),
    );
    expect(await page.locator('.panel[data-model="smoe"] .top5 li').count()).toBe(0);
    await page.fill('#prompt', prompt);
    await page.click('#predict');
    await page.waitForFunction(
      () => document.querySelectorAll('.panel[data-model="smoe"] .top5 li').length === 5,
    );
  }, 120_000);

  it('image tab: moving the severity slider changes the predictions shown', async () => {
    await page.click('nav button[data-tab="image"]');
    // The bundled digits take every class in turn (the test split itself starts with zeros).
    expect(await page.textContent('#digit-index')).toBe('#0 (label 0)');
    await page.click('#next');
    expect(await page.textContent('#digit-index')).toBe('#1 (label 1)');
    await page.click('#prev');
    await page.selectOption('#corruption', 'impulse_noise');
    const read = () =>
      page.$$eval('.panel[data-vit] .pred li', (lis) => lis.map((li) => li.textContent).join('|'));
    const before = await read();
    await page.fill('#severity', '5');
    await page.dispatchEvent('#severity', 'input');
    await page.waitForFunction(
      (b) =>
        Array.from(document.querySelectorAll('.panel[data-vit] .pred li'))
          .map((li) => li.textContent)
          .join('|') !== b,
      before,
    );
    expect(await page.textContent('#severity-value')).toBe('5');
    expect(
      await page.locator('.panel[data-vit="momentum"] .grid div').count(),
    ).toBeGreaterThanOrEqual(16);
    await page.screenshot({ path: join(shots, 'demo-image.png'), fullPage: true });
  }, 60_000);

  it('runs tab shows the dashboard; a wrong model file is a clear message, nothing crashes', async () => {
    await page.click('nav button[data-tab="runs"]');
    const frame = page.frameLocator('#runs-frame');
    await frame.locator('[data-chart] svg').first().waitFor();
    expect(await frame.locator('[data-chart] svg').count()).toBeGreaterThanOrEqual(7);
    // ECharts is inlined in the page: the charts are interactive, not only drawn.
    await frame.locator('#msmoe-smooth').waitFor();
    await page.screenshot({ path: join(shots, 'demo-runs.png') });
    await page.click('nav button[data-tab="text"]');
    await page.setInputFiles('#text-file', {
      name: 'notes.onnx',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from('hello, not a model'),
    });
    await page.waitForSelector('#text-error:not([hidden])');
    expect(await page.textContent('#text-error')).toMatch(/^notes\.onnx: /);
    const vit = readFileSync(join(ROOT, 'apps', 'demo', 'public', 'models', 'vit-smoe.onnx'));
    await page.setInputFiles('#text-file', {
      name: 'vit.onnx',
      mimeType: 'application/octet-stream',
      buffer: vit,
    });
    await page.waitForFunction(() =>
      /the text tab needs a language model/.test(
        document.querySelector('#text-error')?.textContent ?? '',
      ),
    );
    expect(await page.locator('.panel[data-model="smoe"] .top5 li').count()).toBe(5); // still working
  }, 60_000);
});
