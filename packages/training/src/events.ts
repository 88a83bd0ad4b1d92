/** One optimiser step (or a skipped one). */
export interface StepEvent {
  /** Updates applied so far (after this one). */
  step: number;
  /** Data position after this step (micro-batches consumed). */
  position: number;
  /** Training loss (NLL + aux), mean over the accumulated micro-batches. */
  loss: number;
  /** NLL part. */
  nll: number;
  /** Auxiliary router loss part. */
  aux: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Learning rate used. */
  lr: number;
  /** Tokens (LM) or images (vision) per second of this step, forward + backward + update. */
  itemsPerSec: number;
  /** Wall-clock milliseconds of this step. */
  ms: number;
  /** True when the step was skipped (non-finite loss or gradient). */
  skipped: boolean;
}

/** Routing and stability numbers, every `statsEvery` steps (from the last micro-batch). */
export interface StatsEvent {
  step: number;
  /** Share of assignments per expert, one row per MoE layer. */
  expertLoad: number[][];
  /** Mean per-token L2 norm of the hidden state after each MoE layer. */
  outputNorm: number[];
  /** Mean routing entropy per MoE layer (nats). */
  routingEntropy: number[];
  /** Assignments dropped by capacity. */
  droppedTokens: number;
  /** Current values of the update rule's coefficients (e.g. `mu`, `gamma`; learnable ones move), by name. */
  coefficients: Record<string, number>;
}

/** Result of an evaluation callback. */
export interface EvalEvent {
  step: number;
  metrics: Record<string, number>;
}

/** A checkpoint was written. */
export interface CheckpointEvent {
  step: number;
  path: string;
}

/** Something went wrong and was handled. */
export interface AnomalyEvent {
  step: number;
  position: number;
  /** `non-finite` (step skipped), `rollback` (restored the last checkpoint), `bad-checkpoint` (unreadable, skipped). */
  kind: 'non-finite' | 'rollback' | 'bad-checkpoint' | 'orphan-removed' | 'diverged';
  message: string;
}

/** Events a {@link Trainer} emits, by name. */
export interface TrainerEvents {
  step: StepEvent;
  stats: StatsEvent;
  eval: EvalEvent;
  checkpoint: CheckpointEvent;
  anomaly: AnomalyEvent;
}

/** A minimal typed event emitter (works in Node and browsers). */
export class Emitter<Events extends object> {
  private readonly handlers = new Map<keyof Events, Array<(e: never) => void>>();

  /** Subscribes; returns a function that unsubscribes. */
  on<K extends keyof Events>(name: K, handler: (event: Events[K]) => void): () => void {
    const list = this.handlers.get(name) ?? [];
    list.push(handler as (e: never) => void);
    this.handlers.set(name, list);
    return () => {
      const l = this.handlers.get(name);
      if (l) l.splice(l.indexOf(handler as (e: never) => void), 1);
    };
  }

  /** Calls every handler of an event in subscription order. */
  protected emit<K extends keyof Events>(name: K, event: Events[K]): void {
    for (const h of this.handlers.get(name) ?? []) (h as (e: Events[K]) => void)(event);
  }
}
