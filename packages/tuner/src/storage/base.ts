import { compatible, type Distribution } from '../distributions.js';
import {
  copyTrial,
  type Direction,
  type FrozenTrial,
  isFinished,
  nowString,
  type StudyInfo,
  type TrialState,
} from '../trial.js';

/** A storage operation that cannot be done (unknown study, finished trial, incompatible distribution…). */
export class StorageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageError';
  }
}

/** Fields a new trial may start with (enqueued WAITING trials, copies, retries). */
export interface TrialTemplate {
  state?: TrialState;
  value?: number | null;
  params?: Record<string, number>;
  distributions?: Record<string, Distribution>;
  intermediate?: Record<number, number>;
  userAttrs?: Record<string, unknown>;
  systemAttrs?: Record<string, unknown>;
}

/**
 * Where studies live. Every method is async (file, SQLite and PostgreSQL backends share it) and
 * returns copies. `setState` is a compare-and-set: it returns false when the trial had already
 * finished (another worker, a zombie sweep) so nothing is overwritten.
 */
export interface Storage {
  createStudy(
    name: string,
    direction: Direction,
    options?: { loadIfExists?: boolean },
  ): Promise<StudyInfo>;
  getStudy(name: string): Promise<StudyInfo | null>;
  /** Every study in the storage, oldest first (what a dashboard lists). */
  getAllStudies(): Promise<StudyInfo[]>;
  /** Creates a trial (RUNNING unless the template says WAITING) with the next number, atomically. */
  createTrial(studyId: number, template?: TrialTemplate, owner?: string): Promise<FrozenTrial>;
  /** Claims the oldest WAITING trial (→ RUNNING, compare-and-set), or null. */
  claimWaiting(studyId: number, owner?: string): Promise<FrozenTrial | null>;
  setParam(
    trialId: number,
    name: string,
    internal: number,
    distribution: Distribution,
  ): Promise<void>;
  setIntermediate(trialId: number, step: number, value: number): Promise<void>;
  setUserAttr(trialId: number, key: string, value: unknown): Promise<void>;
  setSystemAttr(trialId: number, key: string, value: unknown): Promise<void>;
  /** Finishes (or starts) a trial; false when it had already finished. */
  setState(trialId: number, state: TrialState, value?: number | null): Promise<boolean>;
  getTrials(studyId: number, states?: TrialState[]): Promise<FrozenTrial[]>;
  getTrial(trialId: number): Promise<FrozenTrial>;
  /** Records that the trial's worker is alive. */
  heartbeat(trialId: number): Promise<void>;
  /** Marks RUNNING trials whose heartbeat is older than `graceSeconds` as FAIL; returns them. */
  failStale(studyId: number, graceSeconds: number): Promise<FrozenTrial[]>;
  close(): Promise<void>;
}

/** The in-memory model every file-based storage replays into (and InMemoryStorage uses directly). */
export class StorageModel {
  readonly studies: (StudyInfo & { deleted: boolean })[] = [];
  readonly trials: (FrozenTrial & { studyId: number; owner: string | null })[] = [];

  study(studyId: number): StudyInfo {
    const s = this.studies[studyId];
    if (!s || s.deleted) throw new StorageError(`study ${studyId} does not exist`);
    return s;
  }

  trial(trialId: number): FrozenTrial & { studyId: number; owner: string | null } {
    const t = this.trials[trialId];
    if (!t) throw new StorageError(`trial ${trialId} does not exist`);
    return t;
  }

  private checkRunning(trialId: number) {
    const t = this.trial(trialId);
    if (isFinished(t.state))
      throw new StorageError(
        `trial ${t.number} is already finished (${t.state}): it cannot change`,
      );
    return t;
  }

  createStudy(name: string, direction: Direction): StudyInfo | null {
    if (this.studies.some((s) => s.name === name && !s.deleted)) return null;
    const s = { studyId: this.studies.length, name, direction, deleted: false };
    this.studies.push(s);
    return { studyId: s.studyId, name, direction };
  }

  allStudies(): StudyInfo[] {
    return this.studies
      .filter((s) => !s.deleted)
      .map((s) => ({ studyId: s.studyId, name: s.name, direction: s.direction }));
  }

  findStudy(name: string): StudyInfo | null {
    const s = this.studies.find((x) => x.name === name && !x.deleted);
    return s ? { studyId: s.studyId, name: s.name, direction: s.direction } : null;
  }

  /** Distribution already used for a parameter name in a study (one per name). */
  studyDistribution(studyId: number, name: string): Distribution | null {
    for (const t of this.trials)
      if (t.studyId === studyId && t.distributions[name])
        return t.distributions[name] as Distribution;
    return null;
  }

  createTrial(
    studyId: number,
    template: TrialTemplate = {},
    owner: string | null = null,
    datetimeStart?: string | null,
  ) {
    this.study(studyId);
    const state = template.state ?? 'RUNNING';
    const t = {
      trialId: this.trials.length,
      number: this.trials.filter((x) => x.studyId === studyId).length,
      state,
      value: template.value ?? null,
      params: { ...(template.params ?? {}) },
      distributions: { ...(template.distributions ?? {}) },
      intermediate: { ...(template.intermediate ?? {}) },
      userAttrs: structuredClone(template.userAttrs ?? {}),
      systemAttrs: structuredClone(template.systemAttrs ?? {}),
      datetimeStart:
        datetimeStart !== undefined ? datetimeStart : state === 'RUNNING' ? nowString() : null,
      datetimeComplete: isFinished(state) ? nowString() : null,
      studyId,
      owner,
    };
    this.trials.push(t);
    return t;
  }

  setParam(trialId: number, name: string, internal: number, distribution: Distribution): void {
    const t = this.checkRunning(trialId);
    const prev = this.studyDistribution(t.studyId, name);
    if (prev && !compatible(prev, distribution))
      throw new StorageError(
        `parameter "${name}": its distribution differs from the one the study already uses`,
      );
    t.params[name] = internal;
    t.distributions[name] = distribution;
  }

  setIntermediate(trialId: number, step: number, value: number): void {
    this.checkRunning(trialId).intermediate[step] = value;
  }

  setAttr(trialId: number, kind: 'userAttrs' | 'systemAttrs', key: string, value: unknown): void {
    this.checkRunning(trialId)[kind][key] = structuredClone(value);
  }

  /** Compare-and-set state change; returns false when not allowed (finished, or RUNNING → RUNNING). */
  setState(
    trialId: number,
    state: TrialState,
    value: number | null | undefined,
    time: string,
    owner?: string | null,
  ): boolean {
    const t = this.trial(trialId);
    if (isFinished(t.state)) return false;
    if (state === 'RUNNING' && t.state === 'RUNNING') return false;
    t.state = state;
    if (value !== undefined && value !== null) t.value = value;
    if (state === 'RUNNING') {
      t.datetimeStart = time;
      if (owner !== undefined) t.owner = owner;
    }
    if (isFinished(state)) t.datetimeComplete = time;
    return true;
  }

  getTrials(studyId: number, states?: TrialState[]): FrozenTrial[] {
    this.study(studyId);
    return this.trials
      .filter((t) => t.studyId === studyId && (!states || states.includes(t.state)))
      .map(strip);
  }
}

/** A trial without the model's bookkeeping fields, copied. */
export function strip(t: FrozenTrial & { studyId?: number; owner?: string | null }): FrozenTrial {
  const { studyId: _s, owner: _o, ...rest } = t;
  return copyTrial(rest);
}

/** Storage in this process's memory (the default; nothing persists). */
export class InMemoryStorage implements Storage {
  private readonly model = new StorageModel();
  private readonly beats = new Map<number, number>();

  async createStudy(name: string, direction: Direction, options: { loadIfExists?: boolean } = {}) {
    const existing = this.model.findStudy(name);
    if (existing) {
      if (!options.loadIfExists)
        throw new StorageError(`study "${name}" already exists (use loadIfExists)`);
      return existing;
    }
    return this.model.createStudy(name, direction) as StudyInfo;
  }
  async getStudy(name: string) {
    return this.model.findStudy(name);
  }
  async getAllStudies() {
    return this.model.allStudies();
  }
  async createTrial(studyId: number, template?: TrialTemplate, owner?: string) {
    return strip(this.model.createTrial(studyId, template, owner ?? null));
  }
  async claimWaiting(studyId: number, owner?: string) {
    const w = this.model.trials.find((t) => t.studyId === studyId && t.state === 'WAITING');
    if (!w || !this.model.setState(w.trialId, 'RUNNING', null, nowString(), owner ?? null))
      return null;
    return strip(w);
  }
  async setParam(trialId: number, name: string, internal: number, d: Distribution) {
    this.model.setParam(trialId, name, internal, d);
  }
  async setIntermediate(trialId: number, step: number, value: number) {
    this.model.setIntermediate(trialId, step, value);
  }
  async setUserAttr(trialId: number, key: string, value: unknown) {
    this.model.setAttr(trialId, 'userAttrs', key, value);
  }
  async setSystemAttr(trialId: number, key: string, value: unknown) {
    this.model.setAttr(trialId, 'systemAttrs', key, value);
  }
  async setState(trialId: number, state: TrialState, value?: number | null) {
    return this.model.setState(trialId, state, value, nowString());
  }
  async getTrials(studyId: number, states?: TrialState[]) {
    return this.model.getTrials(studyId, states);
  }
  async getTrial(trialId: number) {
    return strip(this.model.trial(trialId));
  }
  async heartbeat(trialId: number) {
    this.beats.set(trialId, Date.now());
  }
  async failStale(studyId: number, graceSeconds: number) {
    const now = Date.now();
    const out: FrozenTrial[] = [];
    for (const t of this.model.trials) {
      const beat = this.beats.get(t.trialId);
      if (
        t.studyId === studyId &&
        t.state === 'RUNNING' &&
        beat !== undefined &&
        now - beat > graceSeconds * 1000
      )
        if (this.model.setState(t.trialId, 'FAIL', null, nowString())) out.push(strip(t));
    }
    return out;
  }
  async close() {}
}
