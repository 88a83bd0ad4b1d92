// The msmoe playground: exported models on onnxruntime-web (wasm files served locally from /ort/).
import { CORRUPTIONS, type CorruptionName, corrupt } from '@msmoe/corruptions';
import { PALETTE, renderReport } from '@msmoe/tracking/report';
// ECharts' browser build, inlined into the runs report so its charts are interactive.
import echartsSource from 'echarts/dist/echarts.min.js?raw';
import * as ort from 'onnxruntime-web/wasm';

ort.env.wasm.wasmPaths = new URL('./ort/', document.baseURI).href;
ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? 2 : 1;

const $ = <T extends Element = HTMLElement>(sel: string, root: ParentNode = document) =>
  root.querySelector(sel) as T;

/** A loaded model with its metadata. */
interface Loaded {
  session: ort.InferenceSession;
  meta: Record<string, string>;
  label: string;
}

function showError(id: string, message: string | null): void {
  const el = $(`#${id}`);
  el.hidden = message === null;
  el.textContent = message ?? '';
}

/** metadata_props of an ONNX model (onnxruntime-web exposes them as `session.handler.metadata` only in some builds: read the protobuf). */
function metadataOf(bytes: Uint8Array): Record<string, string> {
  // Minimal protobuf walk: ModelProto field 14 = metadata_props (StringStringEntryProto: 1 key, 2 value).
  const out: Record<string, string> = {};
  const dec = new TextDecoder();
  let i = 0;
  const varint = () => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[i++] as number;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
      shift += 7;
    }
  };
  while (i < bytes.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) varint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else if (wire === 2) {
      const len = varint();
      if (field === 14) {
        const end = i + len;
        let key = '';
        let value = '';
        while (i < end) {
          const t = varint();
          const l = varint();
          const s = dec.decode(bytes.subarray(i, i + l));
          i += l;
          if (t >> 3 === 1) key = s;
          else value = s;
        }
        out[key] = value;
      } else i += len;
    } else throw new Error('not an ONNX model (unexpected protobuf wire type)');
  }
  return out;
}

async function load(bytes: Uint8Array, kind: 'lm' | 'vit'): Promise<Loaded> {
  let meta: Record<string, string>;
  try {
    meta = metadataOf(bytes);
  } catch {
    throw new Error('this file is not an ONNX model');
  }
  const k = meta['msmoe.kind'];
  if (!k)
    throw new Error('this ONNX model was not exported by msmoe (no msmoe.kind in its metadata)');
  if (kind === 'lm' && k !== 'lm')
    throw new Error(`this is a ${k} model; the text tab needs a language model`);
  if (kind === 'vit' && k === 'lm')
    throw new Error('this is a language model; the image tab needs a ViT-MoE or Soft-MoE ViT');
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  return { session, meta, label: meta['msmoe.label'] ?? k };
}

async function fetchModel(path: string, kind: 'lm' | 'vit'): Promise<Loaded> {
  const res = await fetch(path);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return load(new Uint8Array(await res.arrayBuffer()), kind);
}

const softmax = (xs: ArrayLike<number>) => {
  let m = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < xs.length; i++) m = Math.max(m, xs[i] as number);
  const e = Array.from(xs, (x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
};
const topK = (p: number[], k: number) =>
  p
    .map((v, i) => [i, v] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, k);

// ───────────────────────── text tab ─────────────────────────
const lms: Record<string, Loaded> = {};

/** Word-level ids as the training vocabulary (unknown words → <unk>). */
export function tokenize(text: string, vocabulary: string[]): number[] {
  const index = new Map(vocabulary.map((t, i) => [t, i]));
  const unk = index.get('<unk>') ?? 0;
  return text
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => index.get(w) ?? unk);
}

async function predictText(): Promise<void> {
  const prompt = $<HTMLInputElement>('#prompt').value;
  for (const [slot, lm] of Object.entries(lms)) {
    const panel = $(`.panel[data-model="${slot}"]`);
    $('h2', panel).textContent = lm.label;
    const cfg = JSON.parse(lm.meta['msmoe.config'] as string) as {
      span: number;
      dModel: number;
      architecture: string;
    };
    const vocabulary = JSON.parse(lm.meta.vocabulary as string) as string[];
    const ids = tokenize(prompt, vocabulary);
    const note = $('.note', panel);
    if (!ids.length) {
      // Say so, rather than keep the previous prediction on screen.
      note.textContent = 'Type a few words: the prompt is empty.';
      $('.top5', panel).innerHTML = '';
      $('.heatmap', panel).innerHTML = '';
      continue;
    }
    const unknown = prompt
      .split(/\s+/)
      .filter(Boolean)
      .filter((w) => !vocabulary.includes(w));
    note.textContent = unknown.length
      ? `Not in this model's ${vocabulary.length}-word vocabulary (read as <unk>): ${unknown.slice(0, 8).join(', ')}${unknown.length > 8 ? ', …' : ''}`
      : '';
    const feeds: Record<string, ort.Tensor> = {
      tokens: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
    };
    const attn = [...cfg.architecture].filter((l) => l === 's').length;
    for (let i = 0; i < attn; i++)
      feeds[`cache_${i}`] = new ort.Tensor('float32', new Float32Array(cfg.span * cfg.dModel), [
        1,
        cfg.span,
        cfg.dModel,
      ]);
    const out = await lm.session.run(feeds);
    const logits = out.logits?.data as Float32Array;
    const V = vocabulary.length;
    const last = logits.subarray((ids.length - 1) * V, ids.length * V);
    // <unk> stands for every rare word at once: a language-model demo leaves it out of the top 5.
    const probs = softmax(last);
    const unkId = vocabulary.indexOf('<unk>');
    if (unkId >= 0) probs[unkId] = -1;
    $('.top5', panel).innerHTML = topK(probs, 5)
      .map(
        ([i, p]) =>
          `<li><span class="word">${escapeHtml(vocabulary[i] ?? '?')}</span> <span class="prob">${(100 * p).toFixed(2)}%</span></li>`,
      )
      .join('');
    const words = prompt.split(/\s+/).filter(Boolean);
    const layers = Object.keys(out)
      .filter((k) => k.startsWith('top_expert_'))
      .sort();
    $('.heatmap', panel).innerHTML =
      `<table class="heat"><tr><th></th>${words.map((w) => `<th>${escapeHtml(w)}</th>`).join('')}</tr>${layers
        .map((k, t) => {
          const ex = Array.from(out[k]?.data as BigInt64Array, Number);
          return `<tr><th>MoE ${t + 1}</th>${ex.map((e) => `<td style="background:${PALETTE[e % PALETTE.length]};color:#fff" title="expert ${e}">${e}</td>`).join('')}</tr>`;
        })
        .join('')}</table>`;
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// ───────────────────────── image tab ─────────────────────────
const vits: Record<string, Loaded> = {};
let digits: { labels: number[]; images: number[][] } = { labels: [], images: [] };
let index = 0;
let drawn: Float32Array | null = null;

function currentImage(): Float32Array {
  return drawn ?? Float32Array.from(digits.images[index] ?? new Array(784).fill(0));
}

async function predictImage(): Promise<void> {
  const name = $<HTMLSelectElement>('#corruption').value as CorruptionName;
  const severity = Number($<HTMLInputElement>('#severity').value);
  $('#severity-value').textContent = String(severity);
  $('#digit-index').textContent = drawn ? 'drawn' : `#${index} (label ${digits.labels[index]})`;
  const clean = { data: currentImage(), height: 28, width: 28, channels: 1 };
  const img = severity > 0 ? corrupt(clean, name, severity, { seed: 0, index }) : clean;
  const canvas = $<HTMLCanvasElement>('#canvas');
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
  const pixels = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = Math.max(0, Math.min(255, img.data[i] as number));
    pixels.data.set([v, v, v, 255], i * 4);
  }
  const small = document.createElement('canvas');
  small.width = 28;
  small.height = 28;
  (small.getContext('2d') as CanvasRenderingContext2D).putImageData(pixels, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, 224, 224);
  for (const [slot, vit] of Object.entries(vits)) {
    const panel = $(`.panel[data-vit="${slot}"]`);
    $('h2', panel).textContent = vit.label;
    const out = await vit.session.run({
      images: new ort.Tensor('float32', Float32Array.from(img.data), [1, 28, 28, 1]),
    });
    const classes = JSON.parse(vit.meta.classes ?? '[]') as string[];
    $('.pred', panel).innerHTML = topK(softmax(out.logits?.data as Float32Array), 3)
      .map(
        ([c, p]) =>
          `<li><span class="class">${escapeHtml(classes[c] ?? String(c))}</span> <span class="prob">${(100 * p).toFixed(2)}%</span></li>`,
      )
      .join('');
    const blocks = Object.keys(out)
      .filter((k) => k.startsWith('top_expert_'))
      .sort();
    $('.grids', panel).innerHTML = blocks
      .map((k, t) => {
        const ex = Array.from(out[k]?.data as BigInt64Array, Number).slice(1); // skip the class token
        return `<div title="MoE block ${t + 1}">MoE ${t + 1}<div class="grid">${ex.map((e) => `<div style="background:${PALETTE[e % PALETTE.length]}">${e}</div>`).join('')}</div></div>`;
      })
      .join('');
  }
}

function setupDrawing(): void {
  const canvas = $<HTMLCanvasElement>('#canvas');
  let down = false;
  const paint = (ev: PointerEvent) => {
    if (!down || !drawn) return;
    const r = canvas.getBoundingClientRect();
    const x = Math.floor(((ev.clientX - r.left) / r.width) * 28);
    const y = Math.floor(((ev.clientY - r.top) / r.height) * 28);
    for (let dy = -1; dy <= 1; dy++)
      for (let dx = -1; dx <= 1; dx++) {
        const [xx, yy] = [x + dx, y + dy];
        if (xx >= 0 && xx < 28 && yy >= 0 && yy < 28)
          drawn[yy * 28 + xx] = Math.min(
            255,
            (drawn[yy * 28 + xx] as number) + (dx || dy ? 90 : 255),
          );
      }
    void predictImage();
  };
  canvas.addEventListener('pointerdown', (e) => {
    down = true;
    paint(e);
  });
  canvas.addEventListener('pointermove', paint);
  window.addEventListener('pointerup', () => {
    down = false;
  });
  $('#clear').addEventListener('click', () => {
    drawn = new Float32Array(784);
    void predictImage();
  });
}

// ───────────────────────── runs tab ─────────────────────────
async function loadRunFolders(files: FileList): Promise<void> {
  const byRun = new Map<string, Record<string, File>>();
  for (const f of Array.from(files)) {
    const parts = (f.webkitRelativePath || f.name).split('/');
    const base = parts.pop() as string;
    if (!['config.json', 'metrics.jsonl', 'eval.json'].includes(base)) continue;
    const dir = parts.join('/');
    byRun.set(dir, { ...(byRun.get(dir) ?? {}), [base]: f });
  }
  const runs = [];
  for (const [dir, f] of byRun) {
    if (!f['config.json']) continue;
    const metrics = f['metrics.jsonl']
      ? (await f['metrics.jsonl'].text())
          .split('\n')
          .filter((l) => l.trim())
          .flatMap((l) => {
            try {
              return [JSON.parse(l)];
            } catch {
              return [];
            }
          })
      : [];
    runs.push({
      dir,
      config: JSON.parse(await f['config.json'].text()),
      metrics,
      eval: f['eval.json'] ? JSON.parse(await f['eval.json'].text()) : null,
    });
  }
  if (!runs.length) throw new Error('no run folder (with a config.json) in the chosen folder');
  $<HTMLIFrameElement>('#runs-frame').srcdoc = renderReport(runs, {
    title: `${runs.length} run(s)`,
    chartLibrary: echartsSource,
  });
}

// ───────────────────────── wiring ─────────────────────────
function tabs(): void {
  for (const b of Array.from(document.querySelectorAll<HTMLButtonElement>('nav button')))
    b.addEventListener('click', () => {
      for (const x of Array.from(document.querySelectorAll('nav button, .tab')))
        x.classList.remove('active');
      b.classList.add('active');
      $(`#tab-${b.dataset.tab}`).classList.add('active');
    });
}

async function main(): Promise<void> {
  tabs();
  const select = $<HTMLSelectElement>('#corruption');
  select.innerHTML = CORRUPTIONS.map(
    (c) => `<option value="${c}"${c === 'gaussian_noise' ? ' selected' : ''}>${c}</option>`,
  ).join('');
  $('#predict').addEventListener(
    'click',
    () => void predictText().catch((e) => showError('text-error', String(e.message ?? e))),
  );
  $('#prompt').addEventListener('keydown', (e) => {
    if ((e as KeyboardEvent).key === 'Enter') void predictText();
  });
  for (const id of ['#corruption', '#severity'])
    $(id).addEventListener(
      'input',
      () => void predictImage().catch((e) => showError('image-error', String(e.message ?? e))),
    );
  $('#prev').addEventListener('click', () => {
    drawn = null;
    index = (index + digits.images.length - 1) % digits.images.length;
    void predictImage();
  });
  $('#next').addEventListener('click', () => {
    drawn = null;
    index = (index + 1) % digits.images.length;
    void predictImage();
  });
  setupDrawing();
  // Your own model replaces the right-hand one of its tab; a bad file is reported there.
  const onModelFile = (
    input: string,
    errorId: string,
    kind: 'lm' | 'vit',
    rerun: () => Promise<void>,
  ) =>
    $<HTMLInputElement>(input).addEventListener('change', async (e) => {
      const f = (e.target as HTMLInputElement).files?.[0];
      if (!f) return;
      try {
        showError(errorId, null);
        const loaded = await load(new Uint8Array(await f.arrayBuffer()), kind);
        if (kind === 'lm') lms.momentum = loaded;
        else vits.momentum = loaded;
        await rerun();
      } catch (err) {
        showError(errorId, `${f.name}: ${(err as Error).message}`);
      }
    });
  onModelFile('#text-file', 'text-error', 'lm', predictText);
  onModelFile('#image-file', 'image-error', 'vit', predictImage);
  $<HTMLInputElement>('#runs-folder').addEventListener('change', async (e) => {
    try {
      showError('runs-error', null);
      await loadRunFolders((e.target as HTMLInputElement).files as FileList);
    } catch (err) {
      showError('runs-error', (err as Error).message);
    }
  });
  try {
    [lms.smoe, lms.momentum, vits.smoe, vits.momentum] = await Promise.all([
      fetchModel('./models/lm-smoe.onnx', 'lm'),
      fetchModel('./models/lm-momentum.onnx', 'lm'),
      fetchModel('./models/vit-smoe.onnx', 'vit'),
      fetchModel('./models/vit-momentum.onnx', 'vit'),
    ]);
    digits = await (await fetch('./data/mnist-test.json')).json();
    $<HTMLIFrameElement>('#runs-frame').src = './runs/report.html';
    await predictText();
    await predictImage();
    $('#status').textContent =
      `ready · onnxruntime-web ${ort.env.versions?.web ?? ''} · ${ort.env.wasm.numThreads} thread(s)`;
    document.body.dataset.ready = 'true';
  } catch (err) {
    $('#status').textContent = `error: ${(err as Error).message}`;
    showError('text-error', (err as Error).message);
  }
}

void main();
