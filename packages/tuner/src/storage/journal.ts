// Optuna-compatible journal file storage (spec tuner.md §10.1): one JSON op per line, replayed in
// order; appends under Optuna's symlink lock; non-finite numbers as Python's bare tokens.
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { type Distribution, distributionFromJson, distributionToJson } from '../distributions.js';
import {
  type Direction,
  type FrozenTrial,
  isFinished,
  nowString,
  STATE_CODE,
  STATE_OF_CODE,
  type StudyInfo,
  type TrialState,
} from '../trial.js';
import { type Storage, StorageError, StorageModel, strip, type TrialTemplate } from './base.js';
import { parsePyJson, pyJson } from './pyjson.js';

const OP = {
  CREATE_STUDY: 0,
  DELETE_STUDY: 1,
  SET_STUDY_USER_ATTR: 2,
  SET_STUDY_SYSTEM_ATTR: 3,
  CREATE_TRIAL: 4,
  SET_TRIAL_PARAM: 5,
  SET_TRIAL_STATE_VALUES: 6,
  SET_TRIAL_INTERMEDIATE_VALUE: 7,
  SET_TRIAL_USER_ATTR: 8,
  SET_TRIAL_SYSTEM_ATTR: 9,
} as const;

type Op = Record<string, unknown> & { op_code: number; worker_id: string };

/**
 * A study file Optuna reads with `JournalStorage(JournalFileStorage(path))` (and optuna-dashboard
 * opens directly), and that several processes can share: every write takes the file lock, replays
 * what others appended, then appends its lines in one write and fsyncs. Heartbeats are files
 * `<path>.heartbeat/<worker>` (Optuna's journal has none), so a dead worker's RUNNING trial can be
 * failed by the others.
 */
export class JournalFileStorage implements Storage {
  private readonly model = new StorageModel();
  private offset = 0;
  private readonly workerId: string;
  private readonly lockPath: string;

  constructor(
    readonly path: string,
    options: { workerId?: string } = {},
  ) {
    this.workerId = options.workerId ?? `${randomUUID()}-${process.pid}`;
    this.lockPath = `${path}.lock`;
    if (!existsSync(path)) writeFileSync(path, '', { flag: 'a' });
    this.sync();
  }

  /** Records skipped on read: torn by a crash mid-write (byte offset and the JSON error). */
  readonly skipped: { byte: number; reason: string }[] = [];

  /**
   * Replays lines appended since the last read. A last line without its newline (a write in
   * progress, or torn) waits; a complete line that is not JSON (a torn record that a later append
   * ended) is skipped and listed in {@link skipped}.
   */
  private sync(): void {
    const fd = openSync(this.path, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size <= this.offset) return;
      const buf = Buffer.alloc(size - this.offset);
      readSync(fd, buf, 0, buf.length, this.offset);
      const text = buf.toString('utf8');
      let pos = 0;
      while (pos < text.length) {
        const nl = text.indexOf('\n', pos);
        const line = nl < 0 ? text.slice(pos) : text.slice(pos, nl);
        if (nl < 0) break; // no newline yet: a write in progress, or torn by a crash
        let op: Op | null = null;
        try {
          op = parsePyJson(line) as Op;
        } catch (err) {
          // A record torn by a crash mid-write, ended by the next writer's fresh line (as
          // Optuna's journal does): skipped, and said once.
          const at = this.offset + Buffer.byteLength(text.slice(0, pos));
          this.skipped.push({ byte: at, reason: (err as Error).message });
          process.emitWarning(
            `${this.path}: skipped an incomplete record at byte ${at} (a write torn by a crash)`,
            'JournalWarning',
          );
        }
        if (op) this.apply(op);
        pos = nl + 1;
      }
      this.offset += Buffer.byteLength(text.slice(0, pos));
    } finally {
      closeSync(fd);
    }
  }

  private apply(op: Op): void {
    const m = this.model;
    try {
      switch (op.op_code) {
        case OP.CREATE_STUDY: {
          const dirs = op.directions as number[];
          m.createStudy(op.study_name as string, dirs[0] === 2 ? 'maximize' : 'minimize');
          break;
        }
        case OP.DELETE_STUDY: {
          const s = m.studies[op.study_id as number];
          if (s) s.deleted = true;
          break;
        }
        case OP.CREATE_TRIAL: {
          const dists: Record<string, Distribution> = {};
          for (const [k, v] of Object.entries((op.distributions as Record<string, string>) ?? {}))
            dists[k] = distributionFromJson(v);
          const inter: Record<number, number> = {};
          for (const [k, v] of Object.entries(
            (op.intermediate_values as Record<string, number>) ?? {},
          ))
            inter[Number(k)] = v;
          const state =
            op.state !== undefined ? (STATE_OF_CODE[op.state as number] as TrialState) : 'RUNNING';
          const values = op.values as number[] | null | undefined;
          const t = m.createTrial(
            op.study_id as number,
            {
              state,
              value: (op.value as number | null | undefined) ?? values?.[0] ?? null,
              params: (op.params as Record<string, number>) ?? {},
              distributions: dists,
              intermediate: inter,
              userAttrs: (op.user_attrs as Record<string, unknown>) ?? {},
              systemAttrs: (op.system_attrs as Record<string, unknown>) ?? {},
            },
            op.worker_id,
            (op.datetime_start as string | null) ?? null,
          );
          if (op.datetime_complete) t.datetimeComplete = op.datetime_complete as string;
          break;
        }
        case OP.SET_TRIAL_PARAM:
          m.setParam(
            op.trial_id as number,
            op.param_name as string,
            op.param_value_internal as number,
            distributionFromJson(op.distribution as string),
          );
          break;
        case OP.SET_TRIAL_STATE_VALUES: {
          const state = STATE_OF_CODE[op.state as number] as TrialState;
          const values = op.values as number[] | null;
          const time = (state === 'RUNNING' ? op.datetime_start : op.datetime_complete) as
            | string
            | undefined;
          m.setState(
            op.trial_id as number,
            state,
            values ? (values[0] as number) : null,
            time ?? nowString(),
            state === 'RUNNING' ? op.worker_id : undefined,
          );
          break;
        }
        case OP.SET_TRIAL_INTERMEDIATE_VALUE:
          m.setIntermediate(
            op.trial_id as number,
            op.step as number,
            op.intermediate_value as number,
          );
          break;
        case OP.SET_TRIAL_USER_ATTR:
        case OP.SET_TRIAL_SYSTEM_ATTR: {
          const [k, v] = Object.entries(
            op.op_code === OP.SET_TRIAL_USER_ATTR
              ? (op.user_attr as object)
              : (op.system_attr as object),
          )[0] ?? ['', undefined];
          m.setAttr(
            op.trial_id as number,
            op.op_code === OP.SET_TRIAL_USER_ATTR ? 'userAttrs' : 'systemAttrs',
            k as string,
            v,
          );
          break;
        }
        default:
          break; // study attrs (2, 3) and DISCARD_TRIALS (10) are not modelled
      }
    } catch (err) {
      // Replay skips ops on unknown or finished trials (another writer's); ours are checked before writing.
      if (!(err instanceof StorageError)) throw err;
    }
  }

  private async lock(): Promise<void> {
    let wait = 1;
    while (true) {
      try {
        symlinkSync(basename(this.path), this.lockPath);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        try {
          // Optuna ≥ 4.3 releases a lock untouched for 30 s (its holder died).
          if (Date.now() - lstatSync(this.lockPath).mtimeMs > 30_000) this.unlock();
        } catch {
          // released meanwhile
        }
        await new Promise((r) => setTimeout(r, wait));
        wait = Math.min(wait * 2, 1000);
      }
    }
  }

  private unlock(): void {
    const tmp = `${this.lockPath}${randomUUID()}.rename`;
    renameSync(this.lockPath, tmp);
    unlinkSync(tmp);
  }

  /** Takes the lock, replays, builds the ops from the up-to-date model, appends them, applies them. */
  private async write<T>(build: () => { ops: Op[]; result: () => T }): Promise<T> {
    await this.lock();
    try {
      this.sync();
      const { ops, result } = build();
      if (ops.length) {
        let text = ops.map((o) => `${pyJson(o)}\n`).join('');
        const fd = openSync(this.path, 'a+');
        try {
          // A file that does not end in a newline was torn by a crash: start on a fresh line.
          const size = fstatSync(fd).size;
          if (size > 0) {
            const last = Buffer.alloc(1);
            readSync(fd, last, 0, 1, size - 1);
            if (last[0] !== 0x0a) text = `\n${text}`;
          }
          writeSync(fd, text);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        this.sync();
      }
      return result();
    } finally {
      this.unlock();
    }
  }

  private op(code: number, fields: Record<string, unknown>): Op {
    return { op_code: code, worker_id: this.workerId, ...fields };
  }

  async createStudy(
    name: string,
    direction: Direction,
    options: { loadIfExists?: boolean } = {},
  ): Promise<StudyInfo> {
    return this.write(() => {
      const existing = this.model.findStudy(name);
      if (existing) {
        if (!options.loadIfExists)
          throw new StorageError(
            `study "${name}" already exists in ${this.path} (use loadIfExists)`,
          );
        return { ops: [], result: () => existing };
      }
      return {
        ops: [
          this.op(OP.CREATE_STUDY, {
            study_name: name,
            directions: [direction === 'maximize' ? 2 : 1],
          }),
        ],
        result: () => this.model.findStudy(name) as StudyInfo,
      };
    });
  }

  async getStudy(name: string): Promise<StudyInfo | null> {
    this.sync();
    return this.model.findStudy(name);
  }

  async getAllStudies(): Promise<StudyInfo[]> {
    this.sync();
    return this.model.allStudies();
  }

  async createTrial(studyId: number, template: TrialTemplate = {}): Promise<FrozenTrial> {
    return this.write(() => {
      this.model.study(studyId);
      const id = this.model.trials.length;
      const state = template.state ?? 'RUNNING';
      const fields: Record<string, unknown> = {
        study_id: studyId,
        datetime_start: state === 'RUNNING' ? nowString() : null,
      };
      if (
        template.state ||
        template.params ||
        template.userAttrs ||
        template.systemAttrs ||
        template.intermediate
      ) {
        Object.assign(fields, {
          state: STATE_CODE[state],
          value: template.value ?? null,
          distributions: Object.fromEntries(
            Object.entries(template.distributions ?? {}).map(([k, d]) => [
              k,
              distributionToJson(d),
            ]),
          ),
          params: template.params ?? {},
          user_attrs: template.userAttrs ?? {},
          system_attrs: template.systemAttrs ?? {},
          intermediate_values: Object.fromEntries(
            Object.entries(template.intermediate ?? {}).map(([k, v]) => [String(k), v]),
          ),
        });
      }
      return { ops: [this.op(OP.CREATE_TRIAL, fields)], result: () => strip(this.model.trial(id)) };
    });
  }

  async claimWaiting(studyId: number): Promise<FrozenTrial | null> {
    return this.write(() => {
      const w = this.model.trials.find((t) => t.studyId === studyId && t.state === 'WAITING');
      if (!w) return { ops: [], result: () => null };
      return {
        ops: [
          this.op(OP.SET_TRIAL_STATE_VALUES, {
            trial_id: w.trialId,
            state: STATE_CODE.RUNNING,
            values: null,
            datetime_start: nowString(),
          }),
        ],
        result: () =>
          this.model.trial(w.trialId).owner === this.workerId
            ? strip(this.model.trial(w.trialId))
            : null,
      };
    });
  }

  private running(trialId: number) {
    const t = this.model.trial(trialId);
    if (isFinished(t.state))
      throw new StorageError(
        `trial ${t.number} is already finished (${t.state}): it cannot change`,
      );
    return t;
  }

  async setParam(trialId: number, name: string, internal: number, d: Distribution): Promise<void> {
    await this.write(() => {
      this.running(trialId);
      const t = this.model.trial(trialId);
      const prev = this.model.studyDistribution(t.studyId, name);
      if (prev && JSON.stringify(prev.kind) !== JSON.stringify(d.kind))
        throw new StorageError(
          `parameter "${name}": its distribution differs from the one the study already uses`,
        );
      return {
        ops: [
          this.op(OP.SET_TRIAL_PARAM, {
            trial_id: trialId,
            param_name: name,
            param_value_internal: internal,
            distribution: distributionToJson(d),
          }),
        ],
        result: () => undefined,
      };
    });
  }

  async setIntermediate(trialId: number, step: number, value: number): Promise<void> {
    await this.write(() => {
      this.running(trialId);
      return {
        ops: [
          this.op(OP.SET_TRIAL_INTERMEDIATE_VALUE, {
            trial_id: trialId,
            step,
            intermediate_value: value,
          }),
        ],
        result: () => undefined,
      };
    });
  }

  async setUserAttr(trialId: number, key: string, value: unknown): Promise<void> {
    await this.write(() => {
      this.running(trialId);
      return {
        ops: [this.op(OP.SET_TRIAL_USER_ATTR, { trial_id: trialId, user_attr: { [key]: value } })],
        result: () => undefined,
      };
    });
  }

  async setSystemAttr(trialId: number, key: string, value: unknown): Promise<void> {
    await this.write(() => {
      this.running(trialId);
      return {
        ops: [
          this.op(OP.SET_TRIAL_SYSTEM_ATTR, { trial_id: trialId, system_attr: { [key]: value } }),
        ],
        result: () => undefined,
      };
    });
  }

  async setState(trialId: number, state: TrialState, value?: number | null): Promise<boolean> {
    return this.write(() => {
      const t = this.model.trial(trialId);
      if (isFinished(t.state) || (state === 'RUNNING' && t.state === 'RUNNING'))
        return { ops: [], result: () => false };
      const fields: Record<string, unknown> = {
        trial_id: trialId,
        state: STATE_CODE[state],
        values: value === undefined || value === null ? null : [value],
      };
      if (state === 'RUNNING') fields.datetime_start = nowString();
      if (isFinished(state)) {
        fields.datetime_complete = nowString();
        // optuna-dashboard resets datetime_start on every state op: repeat the original.
        if (t.datetimeStart) fields.datetime_start = t.datetimeStart;
      }
      return { ops: [this.op(OP.SET_TRIAL_STATE_VALUES, fields)], result: () => true };
    });
  }

  async getTrials(studyId: number, states?: TrialState[]): Promise<FrozenTrial[]> {
    this.sync();
    return this.model.getTrials(studyId, states);
  }

  async getTrial(trialId: number): Promise<FrozenTrial> {
    this.sync();
    return strip(this.model.trial(trialId));
  }

  private heartbeatFile(worker: string): string {
    return join(`${this.path}.heartbeat`, worker.replace(/[^\w.-]/g, '_'));
  }

  async heartbeat(): Promise<void> {
    const f = this.heartbeatFile(this.workerId);
    mkdirSync(`${this.path}.heartbeat`, { recursive: true });
    if (existsSync(f)) {
      const now = new Date();
      utimesSync(f, now, now);
    } else writeFileSync(f, '');
  }

  async failStale(studyId: number, graceSeconds: number): Promise<FrozenTrial[]> {
    this.sync();
    const stale = this.model.trials.filter((t) => {
      if (t.studyId !== studyId || t.state !== 'RUNNING' || !t.owner || t.owner === this.workerId)
        return false;
      const f = this.heartbeatFile(t.owner);
      return existsSync(f) && Date.now() - statSync(f).mtimeMs > graceSeconds * 1000;
    });
    const out: FrozenTrial[] = [];
    for (const t of stale)
      if (await this.setState(t.trialId, 'FAIL', null))
        out.push(strip(this.model.trial(t.trialId)));
    return out;
  }

  async close(): Promise<void> {}
}
