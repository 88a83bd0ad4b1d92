import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chartOption, chartSvg, chartsHtml, type LineChartSpec, type LinePoint } from './charts.js';
import { crc32c, maskedCrc32c } from './crc32c.js';
import { groupByVariant, renderReport } from './report.js';
import { findRuns, RunWriter, readRun } from './run.js';
import { summarize, tQuantile, tTwoSidedP, welch } from './stats.js';
import { frameRecord, readRecords, readRunScalars, readTfEvents } from './tfevents.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'msmoe-track-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('CRC-32C and TFRecord framing', () => {
  it('matches the standard check values', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
    expect(maskedCrc32c(new Uint8Array(0))).toBe((((0 >>> 15) | (0 << 17)) + 0xa282ead8) >>> 0);
  });

  it('frames and reads records back; a flipped byte is a CRC error naming the offset', () => {
    const a = frameRecord(new Uint8Array([1, 2, 3]));
    const b = frameRecord(new Uint8Array([4, 5]));
    const file = new Uint8Array([...a, ...b]);
    expect(readRecords(file).map((r) => Array.from(r))).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    const bad = file.slice();
    bad[a.length + 12] = (bad[a.length + 12] as number) ^ 0xff;
    expect(() => readRecords(bad)).toThrow(`bad data CRC at byte ${a.length}`);
    expect(() => readRecords(file.slice(0, file.length - 2))).toThrow('truncated record');
  });
});

describe('run folders', () => {
  it('writes config, metrics.jsonl, TensorBoard events (valid CRCs, scalars, hparams) and eval.json', async () => {
    const run = join(dir, 'run-a');
    const w = await RunWriter.create(
      run,
      { name: 'a', variant: 'SMoE', lr: 0.001 },
      { lr: 0.001, rule: 'residual' },
    );
    for (let s = 1; s <= 3; s++)
      w.log({ kind: 'step', step: s, time: Date.now(), loss: 5 - s, gradNorm: 1 });
    w.log({ kind: 'eval', step: 3, time: Date.now(), metrics: { perplexity: 42 } });
    w.log({
      kind: 'stats',
      step: 3,
      time: Date.now(),
      expertLoad: [[0.75, 0.25]],
      coefficients: { mu: 0.65 },
    } as never);
    await w.writeEval({ clean: { perplexity: 42 }, attacked: { perplexity: 50 } });
    const files = await readdir(run);
    const events = files.find((f) => f.startsWith('events.out.tfevents.'));
    expect(events).toBeDefined();
    const tb = readTfEvents(join(run, events as string));
    expect(tb.fileVersion).toBe('brain.Event:2');
    expect(tb.hparams).toEqual({ lr: 0.001, rule: 'residual' });
    expect(tb.scalars.filter((s) => s.tag === 'train/loss').map((s) => [s.step, s.value])).toEqual([
      [1, 4],
      [2, 3],
      [3, 2],
    ]);
    expect(tb.scalars.find((s) => s.tag === 'eval/perplexity')?.value).toBe(42);
    // The final metrics reach TensorBoard too (the HPARAMS tab's metrics).
    expect(tb.scalars.find((s) => s.tag === 'final/attacked/perplexity')?.value).toBe(50);
    expect(tb.scalars.find((s) => s.tag === 'routing/layer0/load expert 0')?.value).toBe(0.75);
    expect(tb.scalars.find((s) => s.tag === 'rule/mu')?.value).toBeCloseTo(0.65, 6);
    // A torn last line (crash mid-write) is ignored when reading back.
    await writeFile(
      join(run, 'metrics.jsonl'),
      `${await readFile(join(run, 'metrics.jsonl'), 'utf8')}{"kind":"st`,
    );
    const data = readRun(run);
    expect(data.config.variant).toBe('SMoE');
    expect(data.metrics).toHaveLength(5);
    expect(data.eval).toEqual({ clean: { perplexity: 42 }, attacked: { perplexity: 50 } });
    expect(findRuns(dir)).toEqual([run]);
    expect(() => readRun(dir)).toThrow('no config.json');
  });

  it('a resumed run writes a new event file whose restart marker drops the steps logged after the checkpoint', async () => {
    const run = join(dir, 'run-r');
    const w = await RunWriter.create(run, { name: 'r' });
    // Logged up to step 8, then a crash; the last checkpoint was step 5.
    for (let s = 1; s <= 8; s++) w.log({ kind: 'step', step: s, time: Date.now(), loss: 10 - s });
    const resumed = RunWriter.open(run, 5);
    for (let s = 6; s <= 10; s++)
      resumed.log({ kind: 'step', step: s, time: Date.now(), loss: 100 + s });
    const files = (await readdir(run))
      .filter((f) => f.startsWith('events.out.tfevents.'))
      .map((f) => join(run, f));
    expect(files).toHaveLength(2);
    const loss = readRunScalars(files)
      .filter((x) => x.tag === 'train/loss')
      .map((x) => [x.step, x.value]);
    // Steps 6–8 of the crashed process are gone; every step once, in order (no fold-back).
    expect(loss).toEqual([
      [1, 9],
      [2, 8],
      [3, 7],
      [4, 6],
      [5, 5],
      [6, 106],
      [7, 107],
      [8, 108],
      [9, 109],
      [10, 110],
    ]);
    expect(files.flatMap((f) => readTfEvents(f).restarts)).toEqual([6]);
  });
});

describe('statistics', () => {
  it('t quantiles and p-values match the tables', () => {
    expect(tQuantile(0.95, 2)).toBeCloseTo(4.303, 3);
    expect(tQuantile(0.95, 10)).toBeCloseTo(2.228, 3);
    expect(tTwoSidedP(2.228, 10)).toBeCloseTo(0.05, 3);
    const s = summarize([1, 2, 3]);
    expect(s.mean).toBe(2);
    expect(s.std).toBe(1);
    expect(s.ci95[1] - 2).toBeCloseTo(4.303 / Math.sqrt(3), 3);
  });

  it("Welch's test separates different means and not equal ones", () => {
    expect(welch([1, 1.1, 0.9, 1.05], [2, 2.1, 1.9, 2.05]).p).toBeLessThan(0.001);
    expect(welch([1, 2, 3], [1.1, 2.1, 2.9]).p).toBeGreaterThan(0.5);
    // Reference (scipy.stats.ttest_ind(equal_var=False)): t = -2.4495, df = 4, p = 0.0705.
    const r = welch([1, 2, 3], [3, 4, 5]);
    expect(r.t).toBeCloseTo(-2.4495, 3);
    expect(r.df).toBeCloseTo(4, 6);
    expect(r.p).toBeCloseTo(0.0705, 3);
  });
});

describe('charts (ECharts options, SVG rendered by ECharts in Node)', () => {
  const lineSpec: LineChartSpec = {
    kind: 'line',
    title: 'loss',
    yLabel: 'loss',
    series: [
      {
        name: 'SMoE',
        points: [
          [1, 5, 0],
          [20, 3, 9.5],
        ],
      },
      {
        name: 'SMoE · seed 0',
        run: true,
        points: [
          [1, 5.1, 0],
          [20, 3.1, 9],
        ],
      },
    ],
  };

  it('a line chart: integer step ticks, thick means and thin runs, zoom, hover readout', () => {
    const o = chartOption(lineSpec) as {
      series: { lineStyle: { width: number } }[];
      dataZoom: unknown[];
      tooltip: { trigger: string };
    };
    expect(o.series.map((s) => s.lineStyle.width)).toEqual([2.2, 1]);
    expect(o.dataZoom.length).toBe(2);
    expect(o.tooltip.trigger).toBe('axis');
    const svg = chartSvg(chartOption(lineSpec));
    expect(svg).toMatch(/^<svg/);
    const labels = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(labels).toContain('SMoE'); // legend
    // Step ticks are whole numbers ("20", never "20.00" or "2.5").
    expect((o as unknown as { xAxis: { minInterval: number } }).xAxis.minInterval).toBe(1);
    expect(labels.filter((l) => /\.00$/.test(l as string))).toEqual([]);
  });

  it('a single point or a near-constant series draws (no degenerate axis, no hang)', () => {
    for (const points of [
      [[80, 4]],
      [
        [1, 1e6],
        [2, 1e6 * (1 + 1e-15)],
      ],
    ] as LinePoint[][]) {
      const svg = chartSvg(
        chartOption({
          kind: 'line',
          title: 't',
          yLabel: 'y',
          logY: true,
          series: [{ name: 'a', points }],
        }),
      );
      expect(svg).toMatch(/<path/);
    }
  });

  it('bars carry mean ± std as their label', () => {
    const o = chartOption({
      kind: 'bar',
      title: 'ppl',
      yLabel: 'ppl',
      categories: ['SMoE', 'MomentumSMoE'],
      series: [{ name: 'clean', values: [200, 190], errors: [3, 0] }],
    }) as { series: { data: { value: number; label?: { formatter: string } }[] }[] };
    expect(o.series[0]?.data.map((d) => d.label?.formatter ?? '')).toEqual(['200 ± 3', '']);
  });

  it('the page carries the options as data that no string can break out of, and the library only when given', () => {
    const spec: LineChartSpec = { ...lineSpec, title: '</script><script>alert(1)</script>' };
    const html = chartsHtml([spec]);
    expect(html).not.toMatch(/<script>alert/);
    expect(chartsHtml([spec], 'window.echarts={}')).toMatch(/window\.echarts=\{\}/);
  });
});

describe('report', () => {
  it('renders every chart kind into one offline page', async () => {
    for (const [variant, seeds, mu] of [
      ['SMoE', [0, 1], null],
      ['MomentumSMoE', [0, 1], 0.7],
    ] as const) {
      for (const seed of seeds) {
        const w = await RunWriter.create(join(dir, `${variant}-s${seed}`), {
          variant,
          seed,
          model: { architecture: mu ? 'smsm' : 'sgsg' },
        });
        for (let s = 1; s <= 20; s++)
          w.log({
            kind: 'step',
            step: s,
            time: 0,
            loss: 6 - s * 0.1 - seed * 0.05,
            gradNorm: 1 + s / 10,
          });
        w.log({
          kind: 'stats',
          step: 10,
          time: 0,
          coefficients: mu ? { mu: mu - 0.05, gamma: 1 } : {},
        });
        w.log({
          kind: 'stats',
          step: 20,
          time: 0,
          expertLoad: [
            [0.4, 0.3, 0.2, 0.1],
            [0.25, 0.25, 0.25, 0.25],
          ],
          coefficients: mu ? { mu, gamma: 1 } : {},
        });
        w.log({
          kind: 'eval',
          step: 10,
          time: 0,
          metrics: { 'valid perplexity': 300, routingChange: 0.3 },
        });
        w.log({
          kind: 'eval',
          step: 20,
          time: 0,
          metrics: { 'valid perplexity': 200, routingChange: 0.1 },
        });
        await w.writeEval({
          clean: { perplexity: 200 + seed },
          attacked: { perplexity: 260 + seed },
        });
      }
    }
    const html = renderReport(findRuns(dir).map(readRun), { title: 'A/B' });
    expect(html).not.toMatch(/<script>|https?:\/\/(?!www\.w3\.org)/); // offline; no script without the library
    const charts = html.match(/<div class="chart" data-chart=/g) ?? [];
    // loss, 2 eval curves, clean-vs-attacked, 2 expert-load, grad norm, mu
    expect(charts).toHaveLength(8);
    expect(html.match(/<svg/g)?.length).toBe(8); // each drawn as static SVG in Node
    // Per-run lines next to the means, named by seed.
    expect(html).toMatch(/SMoE · seed 1/);
    // With ECharts inlined, the page gets its controls and the interactive script.
    const live = renderReport(findRuns(dir).map(readRun), { chartLibrary: 'window.echarts={};' });
    expect(live).toMatch(/id="msmoe-smooth"/);
    expect(live).toMatch(/name="msmoe-x" value="time"/);
    expect(html).toMatch(
      /<td>model\.architecture<\/td><td>&#34;smsm&#34;<\/td><td>&#34;sgsg&#34;<\/td>/,
    );
    expect(html).toMatch(/SMoE<\/td><td>2<\/td><td>20<\/td>/);
    // A learned coefficient gets a chart; a fixed one is listed.
    expect(html).toMatch(/Update-rule coefficient mu over training/);
    expect(html).not.toMatch(/Update-rule coefficient gamma/);
    expect(html).toMatch(/<li>MomentumSMoE: gamma = 1.00<\/li>/);
    expect(renderReport([], { refreshSeconds: 5 })).toMatch(/<script>setInterval/);
  });
});

describe('report grouping and runs', () => {
  const run = (dir: string, config: Record<string, unknown>, finished = true) => ({
    dir,
    config,
    metrics: [
      { kind: 'step' as const, step: 1, time: 1000, loss: 5 },
      { kind: 'step' as const, step: 2, time: 61000, loss: 4 },
    ],
    eval: finished ? { clean: { perplexity: 100 } } : null,
  });

  it('pools seeds of one experiment only: a variant run with other settings is its own, labelled group', () => {
    const base = { variant: 'SMoE', train: { steps: 80, lr: 0.003 }, provenance: { command: 'a' } };
    const groups = groupByVariant([
      run('a/SMoE-s0', { ...base, seed: 0 }),
      run('a/SMoE-s1', { ...base, seed: 1, provenance: { command: 'b' } }),
      run('b/SMoE-s0', { ...base, seed: 0, train: { steps: 30, lr: 0.001 } }),
      run('a/MomentumSMoE-s0', { ...base, variant: 'MomentumSMoE', seed: 0 }),
    ]);
    expect(groups.map((g) => [g.variant, g.runs.length])).toEqual([
      ['SMoE [train.steps=80, train.lr=0.003]', 2],
      ['SMoE [train.steps=30, train.lr=0.001]', 1],
      ['MomentumSMoE', 1],
    ]);
  });

  it('lists every run with its status, steps, wall time and provenance', () => {
    const html = renderReport([
      run('x/SMoE-s0', {
        variant: 'SMoE',
        seed: 0,
        provenance: {
          msmoe: '0.1.0',
          commit: '0123456789abcdef',
          backend: 'wasm',
          node: 'v20.1.0',
          command: 'train --steps 2',
        },
      }),
      run('x/SMoE-s1', { variant: 'SMoE', seed: 1 }, false),
    ]);
    expect(html).toMatch(/<h2>Runs<\/h2>/);
    expect(html).toMatch(
      /<td>SMoE-s0<\/td><td>SMoE<\/td><td>0<\/td><td>finished<\/td><td>2<\/td><td>60 s<\/td><td>0\.1\.0<\/td><td>0123456789ab<\/td><td>wasm<\/td><td>v20\.1\.0<\/td>/,
    );
    expect(html).toMatch(
      /class="unfinished"[^>]*><td>SMoE-s1<\/td><td>SMoE<\/td><td>1<\/td><td>running or stopped<\/td>/,
    );
    expect(html).toContain('title="train --steps 2"');
  });
});
