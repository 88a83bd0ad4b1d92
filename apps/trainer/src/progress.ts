import { SingleBar } from 'cli-progress';
import { out as pc } from './colors.js';

/** Where a run's progress goes. */
export interface Reporter {
  start(label: string, total: number, from: number): void;
  step(
    step: number,
    values: { loss: number; perplexity: number; itemsPerSec: number; unit: string },
  ): void;
  info(message: string): void;
  warn(message: string): void;
  stop(): void;
  /** Progress of a long non-training phase (the final evaluation): `done` of `total` units. */
  progress?(label: string, done: number, total: number, unit: string): void;
}

const num = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : String(v));

/** A progress bar (TTY): step, ETA, tokens/s, loss and perplexity. */
export class BarReporter implements Reporter {
  private bar: SingleBar | null = null;
  /** The values the bar shows, kept so a restart after a message does not show placeholders. */
  private payload: Record<string, string> = { rate: '–', unit: '', loss: '–', ppl: '–' };
  private phase: { label: string; bar: SingleBar } | null = null;

  start(label: string, total: number, from: number): void {
    this.bar = new SingleBar({
      format: `${pc.bold(label)} {bar} {value}/{total} | ETA {eta_formatted} | {rate} {unit} | loss {loss} | ppl {ppl}`,
      barCompleteChar: '█',
      barIncompleteChar: '░',
      hideCursor: true,
      etaBuffer: 50,
    });
    this.payload = { rate: '–', unit: '', loss: '–', ppl: '–' };
    this.bar.start(total, from, this.payload);
  }

  step(
    step: number,
    v: { loss: number; perplexity: number; itemsPerSec: number; unit: string },
  ): void {
    this.payload = {
      rate: v.itemsPerSec.toFixed(0),
      unit: v.unit,
      loss: num(v.loss, 3),
      ppl: num(v.perplexity, 1),
    };
    this.bar?.update(step, this.payload);
  }

  info(message: string): void {
    if (this.bar) this.bar.stop();
    console.log(message);
    this.bar?.start(
      this.bar.getTotal(),
      (this.bar as unknown as { value: number }).value,
      this.payload,
    );
  }

  progress(label: string, done: number, total: number, unit: string): void {
    if (this.phase?.label !== label) {
      this.phase?.bar.stop();
      this.bar?.stop();
      this.bar = null;
      const bar = new SingleBar({
        format: `${pc.bold(label)} {bar} {value}/{total} ${unit} | ETA {eta_formatted}`,
        barCompleteChar: '█',
        barIncompleteChar: '░',
        hideCursor: true,
      });
      bar.start(total, 0);
      this.phase = { label, bar };
    }
    this.phase.bar.update(done);
    if (done >= total) {
      this.phase.bar.stop();
      this.phase = null;
    }
  }

  warn(message: string): void {
    this.info(pc.yellow(message));
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
    this.phase?.bar.stop();
    this.phase = null;
  }
}

/** Plain lines for logs (no TTY): one line every 10% of the run (not when quiet), plus evaluations and messages. */
export class LineReporter implements Reporter {
  private label = '';
  private total = 0;
  private next = 0;
  private t0 = 0;
  private from = 0;

  constructor(private readonly quiet = false) {}

  start(label: string, total: number, from: number): void {
    Object.assign(this, { label, total, from, t0: performance.now() });
    this.next = from + Math.max(1, Math.round(total / 10));
    if (!this.quiet) console.log(`${label}: steps ${from + 1}–${total}`);
  }

  step(
    step: number,
    v: { loss: number; perplexity: number; itemsPerSec: number; unit: string },
  ): void {
    if (this.quiet || (step < this.next && step !== this.total)) return;
    this.next = step + Math.max(1, Math.round(this.total / 10));
    const elapsed = (performance.now() - this.t0) / 1000;
    const eta = ((this.total - step) * elapsed) / Math.max(1, step - this.from);
    console.log(
      `${this.label} ${step}/${this.total} | ETA ${eta.toFixed(0)} s | ${v.itemsPerSec.toFixed(0)} ${v.unit} | loss ${num(v.loss, 3)} | ppl ${num(v.perplexity, 1)}`,
    );
  }

  info(message: string): void {
    console.log(message);
  }

  warn(message: string): void {
    console.warn(message);
  }

  private phase: { label: string; t0: number } | null = null;

  /** One line when a phase starts and one when it ends (with its time), unless quiet. */
  progress(label: string, done: number, total: number, unit: string): void {
    if (this.quiet) return;
    if (this.phase?.label !== label) {
      this.phase = { label, t0: performance.now() };
      console.log(`  ${label}: ${total} ${unit}`);
    }
    if (done >= total) {
      console.log(
        `  ${label}: done in ${((performance.now() - this.phase.t0) / 1000).toFixed(1)} s`,
      );
      this.phase = null;
    }
  }

  stop(): void {}
}

/** A bar on a TTY unless quiet; lines otherwise. */
export function createReporter(quiet: boolean): Reporter {
  return process.stdout.isTTY && !quiet ? new BarReporter() : new LineReporter(quiet);
}
