// Relational storage for many workers (spec tuner.md §10.2, our schema): SQLite (libsql or
// better-sqlite3, WAL, one machine) and PostgreSQL (pg, many machines). Trial numbers are assigned in a
// transaction that locks the study; state changes are compare-and-set UPDATEs; heartbeats use
// the database server's clock.
import { AsyncLocalStorage } from 'node:async_hooks';
import { type Distribution, distributionFromJson, distributionToJson } from '../distributions.js';
import {
  type Direction,
  type FrozenTrial,
  isFinished,
  nowString,
  type StudyInfo,
  type TrialState,
} from '../trial.js';
import { type Storage, StorageError, type TrialTemplate } from './base.js';
import { parsePyJson, pyJson } from './pyjson.js';

/** A connection: `?` placeholders, rows as objects. */
export interface SqlConnection {
  readonly dialect: 'sqlite' | 'postgres';
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs `fn` in a write transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: BEGIN), retried on lock conflicts. */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

type Row = {
  trial_id: number;
  study_id: number;
  number: number;
  state: TrialState;
  value: number | null;
  value_type: number | null;
  datetime_start: string | null;
  datetime_complete: string | null;
  params: string;
  distributions: string;
  intermediate: string;
  user_attrs: string;
  system_attrs: string;
};

function encodeValue(v: number | null | undefined): [number | null, number | null] {
  if (v === null || v === undefined || Number.isNaN(v)) return [null, null];
  if (v === Number.POSITIVE_INFINITY) return [null, 2];
  if (v === Number.NEGATIVE_INFINITY) return [null, 3];
  return [v, 1];
}

function decodeValue(v: number | null, type: number | null): number | null {
  if (type === 2) return Number.POSITIVE_INFINITY;
  if (type === 3) return Number.NEGATIVE_INFINITY;
  return v === null ? null : Number(v);
}

function toTrial(r: Row): FrozenTrial {
  const dists: Record<string, Distribution> = {};
  for (const [k, v] of Object.entries(JSON.parse(r.distributions) as Record<string, string>))
    dists[k] = distributionFromJson(v);
  const inter: Record<number, number> = {};
  for (const [k, v] of Object.entries(parsePyJson(r.intermediate) as Record<string, number>))
    inter[Number(k)] = v;
  return {
    trialId: Number(r.trial_id),
    number: Number(r.number),
    state: r.state,
    value: decodeValue(r.value, r.value_type),
    params: parsePyJson(r.params) as Record<string, number>,
    distributions: dists,
    intermediate: inter,
    userAttrs: parsePyJson(r.user_attrs) as Record<string, unknown>,
    systemAttrs: parsePyJson(r.system_attrs) as Record<string, unknown>,
    datetimeStart: r.datetime_start,
    datetimeComplete: r.datetime_complete,
  };
}

/** Study storage in SQLite or PostgreSQL (tables `msmoe_studies`, `msmoe_trials`). */
export class RdbStorage implements Storage {
  private constructor(private readonly db: SqlConnection) {}

  /** Opens a connection and creates the tables if needed. */
  static async open(db: SqlConnection): Promise<RdbStorage> {
    const pg = db.dialect === 'postgres';
    const id = pg ? 'SERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT';
    const dbl = pg ? 'DOUBLE PRECISION' : 'REAL';
    const ddl = [
      `CREATE TABLE IF NOT EXISTS msmoe_studies (study_id ${id}, name VARCHAR(512) NOT NULL UNIQUE, direction VARCHAR(16) NOT NULL)`,
      `CREATE TABLE IF NOT EXISTS msmoe_trials (trial_id ${id}, study_id INTEGER NOT NULL REFERENCES msmoe_studies(study_id), number INTEGER NOT NULL, state VARCHAR(16) NOT NULL, value ${dbl}, value_type INTEGER, datetime_start VARCHAR(32), datetime_complete VARCHAR(32), params TEXT NOT NULL, distributions TEXT NOT NULL, intermediate TEXT NOT NULL, user_attrs TEXT NOT NULL, system_attrs TEXT NOT NULL, owner VARCHAR(128), heartbeat ${dbl}, UNIQUE (study_id, number))`,
      'CREATE INDEX IF NOT EXISTS msmoe_trials_study_state ON msmoe_trials (study_id, state)',
    ];
    // Concurrent CREATE TABLE IF NOT EXISTS can collide in PostgreSQL: serialise it with an advisory lock.
    if (pg) await db.query('SELECT pg_advisory_lock(7427001)');
    try {
      for (const s of ddl) await db.query(s);
    } finally {
      if (pg) await db.query('SELECT pg_advisory_unlock(7427001)');
    }
    return new RdbStorage(db);
  }

  private get now(): string {
    return this.db.dialect === 'postgres'
      ? 'extract(epoch from clock_timestamp())'
      : "((julianday('now') - 2440587.5) * 86400.0)";
  }

  async createStudy(
    name: string,
    direction: Direction,
    options: { loadIfExists?: boolean } = {},
  ): Promise<StudyInfo> {
    const existing = await this.getStudy(name);
    if (existing) {
      if (!options.loadIfExists)
        throw new StorageError(`study "${name}" already exists (use loadIfExists)`);
      return existing;
    }
    await this.db.query(
      'INSERT INTO msmoe_studies (name, direction) VALUES (?, ?) ON CONFLICT (name) DO NOTHING',
      [name, direction],
    );
    return (await this.getStudy(name)) as StudyInfo;
  }

  async getStudy(name: string): Promise<StudyInfo | null> {
    const [r] = await this.db.query<{ study_id: number; name: string; direction: Direction }>(
      'SELECT study_id, name, direction FROM msmoe_studies WHERE name = ?',
      [name],
    );
    return r ? { studyId: Number(r.study_id), name: r.name, direction: r.direction } : null;
  }

  async getAllStudies(): Promise<StudyInfo[]> {
    const rows = await this.db.query<{ study_id: number; name: string; direction: Direction }>(
      'SELECT study_id, name, direction FROM msmoe_studies ORDER BY study_id',
    );
    return rows.map((r) => ({ studyId: Number(r.study_id), name: r.name, direction: r.direction }));
  }

  async createTrial(
    studyId: number,
    template: TrialTemplate = {},
    owner?: string,
  ): Promise<FrozenTrial> {
    const state = template.state ?? 'RUNNING';
    const [value, type] = encodeValue(template.value);
    const dists = Object.fromEntries(
      Object.entries(template.distributions ?? {}).map(([k, d]) => [k, distributionToJson(d)]),
    );
    const id = await this.db.transaction(async () => {
      if (this.db.dialect === 'postgres')
        await this.db.query('SELECT study_id FROM msmoe_studies WHERE study_id = ? FOR UPDATE', [
          studyId,
        ]);
      const [c] = await this.db.query<{ n: number }>(
        'SELECT COUNT(*) AS n FROM msmoe_trials WHERE study_id = ?',
        [studyId],
      );
      const [r] = await this.db.query<{ trial_id: number }>(
        `INSERT INTO msmoe_trials (study_id, number, state, value, value_type, datetime_start, datetime_complete, params, distributions, intermediate, user_attrs, system_attrs, owner, heartbeat)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL) RETURNING trial_id`,
        [
          studyId,
          Number(c?.n ?? 0),
          state,
          value,
          type,
          state === 'RUNNING' ? nowString() : null,
          isFinished(state) ? nowString() : null,
          pyJson(template.params ?? {}),
          JSON.stringify(dists),
          pyJson(template.intermediate ?? {}),
          pyJson(template.userAttrs ?? {}),
          pyJson(template.systemAttrs ?? {}),
          owner ?? null,
        ],
      );
      return Number(r?.trial_id);
    });
    return this.getTrial(id);
  }

  async claimWaiting(studyId: number, owner?: string): Promise<FrozenTrial | null> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const [w] = await this.db.query<{ trial_id: number }>(
        "SELECT trial_id FROM msmoe_trials WHERE study_id = ? AND state = 'WAITING' ORDER BY number LIMIT 1",
        [studyId],
      );
      if (!w) return null;
      const ok = await this.db.query(
        "UPDATE msmoe_trials SET state = 'RUNNING', datetime_start = ?, owner = ? WHERE trial_id = ? AND state = 'WAITING' RETURNING trial_id",
        [nowString(), owner ?? null, w.trial_id],
      );
      if (ok.length) return this.getTrial(Number(w.trial_id));
    }
    return null;
  }

  /** Read-modify-write of a JSON column of a running trial, in a transaction. */
  private async update(
    trialId: number,
    column: 'params' | 'intermediate' | 'user_attrs' | 'system_attrs',
    fn: (o: Record<string, unknown>, t: Row) => void,
    alsoDistributions?: (d: Record<string, string>) => void,
  ): Promise<void> {
    await this.db.transaction(async () => {
      const lock = this.db.dialect === 'postgres' ? ' FOR UPDATE' : '';
      const [r] = await this.db.query<Row>(`SELECT * FROM msmoe_trials WHERE trial_id = ?${lock}`, [
        trialId,
      ]);
      if (!r) throw new StorageError(`trial ${trialId} does not exist`);
      if (isFinished(r.state))
        throw new StorageError(
          `trial ${r.number} is already finished (${r.state}): it cannot change`,
        );
      const o = parsePyJson(r[column]) as Record<string, unknown>;
      fn(o, r);
      if (alsoDistributions) {
        const d = JSON.parse(r.distributions) as Record<string, string>;
        alsoDistributions(d);
        await this.db.query(
          `UPDATE msmoe_trials SET ${column} = ?, distributions = ? WHERE trial_id = ?`,
          [pyJson(o), JSON.stringify(d), trialId],
        );
      } else
        await this.db.query(`UPDATE msmoe_trials SET ${column} = ? WHERE trial_id = ?`, [
          pyJson(o),
          trialId,
        ]);
    });
  }

  async setParam(trialId: number, name: string, internal: number, d: Distribution): Promise<void> {
    await this.update(
      trialId,
      'params',
      (o) => {
        o[name] = internal;
      },
      (dists) => {
        dists[name] = distributionToJson(d);
      },
    );
  }

  async setIntermediate(trialId: number, step: number, value: number): Promise<void> {
    await this.update(trialId, 'intermediate', (o) => {
      o[String(step)] = value;
    });
  }

  async setUserAttr(trialId: number, key: string, value: unknown): Promise<void> {
    await this.update(trialId, 'user_attrs', (o) => {
      o[key] = value;
    });
  }

  async setSystemAttr(trialId: number, key: string, value: unknown): Promise<void> {
    await this.update(trialId, 'system_attrs', (o) => {
      o[key] = value;
    });
  }

  async setState(trialId: number, state: TrialState, value?: number | null): Promise<boolean> {
    const [v, type] = encodeValue(value);
    if (state === 'RUNNING') {
      const r = await this.db.query(
        "UPDATE msmoe_trials SET state = 'RUNNING', datetime_start = ? WHERE trial_id = ? AND state = 'WAITING' RETURNING trial_id",
        [nowString(), trialId],
      );
      return r.length > 0;
    }
    const keep = value === undefined || value === null;
    const r = await this.db.query(
      `UPDATE msmoe_trials SET state = ?, ${keep ? '' : 'value = ?, value_type = ?, '}datetime_complete = ? WHERE trial_id = ? AND state IN ('RUNNING', 'WAITING') RETURNING trial_id`,
      keep
        ? [state, isFinished(state) ? nowString() : null, trialId]
        : [state, v, type, isFinished(state) ? nowString() : null, trialId],
    );
    return r.length > 0;
  }

  async getTrials(studyId: number, states?: TrialState[]): Promise<FrozenTrial[]> {
    const rows = await this.db.query<Row>(
      `SELECT * FROM msmoe_trials WHERE study_id = ?${states ? ` AND state IN (${states.map(() => '?').join(', ')})` : ''} ORDER BY number`,
      [studyId, ...(states ?? [])],
    );
    return rows.map(toTrial);
  }

  async getTrial(trialId: number): Promise<FrozenTrial> {
    const [r] = await this.db.query<Row>('SELECT * FROM msmoe_trials WHERE trial_id = ?', [
      trialId,
    ]);
    if (!r) throw new StorageError(`trial ${trialId} does not exist`);
    return toTrial(r);
  }

  async heartbeat(trialId: number): Promise<void> {
    await this.db.query(
      `UPDATE msmoe_trials SET heartbeat = ${this.now} WHERE trial_id = ? AND state = 'RUNNING'`,
      [trialId],
    );
  }

  async failStale(studyId: number, graceSeconds: number): Promise<FrozenTrial[]> {
    const rows = await this.db.query<{ trial_id: number }>(
      `UPDATE msmoe_trials SET state = 'FAIL', datetime_complete = ? WHERE study_id = ? AND state = 'RUNNING' AND heartbeat IS NOT NULL AND heartbeat < ${this.now} - ? RETURNING trial_id`,
      [nowString(), studyId, graceSeconds],
    );
    return Promise.all(rows.map((r) => this.getTrial(Number(r.trial_id))));
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

/**
 * Serialises the use of one connection by concurrent async callers in this process (trials run by
 * several in-process workers): a transaction holds it until it ends, and the queries made inside
 * it (recognised through AsyncLocalStorage) run directly; any other query waits its turn.
 */
class ConnectionLock {
  private tail: Promise<void> = Promise.resolve();
  private readonly als = new AsyncLocalStorage<symbol>();
  private owner: symbol | null = null;

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.owner !== null && this.als.getStore() === this.owner) return fn();
    const prev = this.tail;
    let release = () => {};
    this.tail = new Promise<void>((r) => {
      release = r;
    });
    await prev;
    const token = Symbol('connection');
    this.owner = token;
    try {
      return await this.als.run(token, fn);
    } finally {
      this.owner = null;
      release();
    }
  }
}

/**
 * Loads an SQL driver, an optional peer dependency of `@msmoe/tuner` (the journal file needs
 * none): a missing one is a clear error naming the package to install.
 */
export async function optionalDriver<T>(pkg: string, scheme: string): Promise<T> {
  try {
    return (await import(pkg)) as T;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND')
      throw new StorageError(
        `${scheme} storages need the optional package ${pkg}: npm i ${pkg} (the journal:<file> storage needs nothing)`,
      );
    throw err;
  }
}

/** The part of the better-sqlite3 API that libsql shares and the SQLite storage uses. */
interface SqliteDatabase {
  pragma(sql: string): unknown;
  exec(sql: string): unknown;
  prepare(sql: string): {
    readonly reader: boolean;
    all(...params: unknown[]): unknown[];
    run(...params: unknown[]): unknown;
  };
  close(): unknown;
}
type SqliteDriver = {
  default: new (path: string, options?: { timeout?: number }) => SqliteDatabase;
};

/**
 * The SQLite driver: `libsql` (prebuilt binaries on npm, nothing to compile), or `better-sqlite3`
 * where a project has it instead; both take the same calls and SQLite's own file locks.
 */
async function sqliteDriver(): Promise<SqliteDriver> {
  try {
    return await optionalDriver<SqliteDriver>('libsql', 'sqlite:');
  } catch (err) {
    if (!(err instanceof StorageError)) throw err;
    try {
      return await optionalDriver<SqliteDriver>('better-sqlite3', 'sqlite:');
    } catch {
      throw err;
    }
  }
}

/** A SQLite connection (libsql or better-sqlite3, WAL, busy timeout) for {@link RdbStorage}. */
export async function sqliteConnection(path: string): Promise<SqlConnection> {
  const { default: Database } = await sqliteDriver();
  const db = new Database(path, { timeout: 30_000 });
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 30000');
  const lock = new ConnectionLock();
  return {
    dialect: 'sqlite',
    query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
      return lock.run(async () => {
        const stmt = db.prepare(sql);
        const args = params.map((p) => (typeof p === 'boolean' ? Number(p) : p));
        if (stmt.reader) return stmt.all(...args) as T[];
        stmt.run(...args);
        return [];
      });
    },
    transaction<T>(fn: () => Promise<T>): Promise<T> {
      return lock.run(async () => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const out = await fn();
          db.exec('COMMIT');
          return out;
        } catch (err) {
          db.exec('ROLLBACK');
          throw err;
        }
      });
    },
    async close() {
      db.close();
    },
  };
}

/** A PostgreSQL connection (one pg client) for {@link RdbStorage}. */
export async function postgresConnection(url: string): Promise<SqlConnection> {
  const pg = await optionalDriver<typeof import('pg')>('pg', 'postgres://');
  const Client = (pg.default ?? pg).Client;
  const client = new Client({ connectionString: url });
  await client.connect();
  const toPg = (sql: string) => {
    let i = 0;
    return sql.replace(/\?/g, () => `$${++i}`);
  };
  const lock = new ConnectionLock();
  const conn: SqlConnection = {
    dialect: 'postgres',
    query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
      return lock.run(async () => (await client.query(toPg(sql), params)).rows as T[]);
    },
    async transaction<T>(fn: () => Promise<T>): Promise<T> {
      for (let attempt = 0; ; attempt++) {
        try {
          return await lock.run(async () => {
            await client.query('BEGIN');
            try {
              const out = await fn();
              await client.query('COMMIT');
              return out;
            } catch (err) {
              await client.query('ROLLBACK');
              throw err;
            }
          });
        } catch (err) {
          const code = (err as { code?: string }).code;
          // Deadlock, serialisation failure, or a unique-number race: retry after a random pause (as Optuna, ≤ 5 times).
          if (attempt < 5 && (code === '40P01' || code === '40001' || code === '23505')) {
            await new Promise((r) => setTimeout(r, Math.random() * 200));
            continue;
          }
          throw err;
        }
      }
    },
    async close() {
      await client.end();
    },
  };
  return conn;
}
