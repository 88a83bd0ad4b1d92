import type { Distribution } from './distributions.js';

/** Trial states, with Optuna's codes. */
export type TrialState = 'RUNNING' | 'COMPLETE' | 'PRUNED' | 'FAIL' | 'WAITING';
/** Optuna's integer code of each state (journal files, RDB). */
export const STATE_CODE: Record<TrialState, number> = {
  RUNNING: 0,
  COMPLETE: 1,
  PRUNED: 2,
  FAIL: 3,
  WAITING: 4,
};
/** State of an Optuna state code. */
export const STATE_OF_CODE: TrialState[] = ['RUNNING', 'COMPLETE', 'PRUNED', 'FAIL', 'WAITING'];

/** Whether a state is final. */
export const isFinished = (s: TrialState) => s === 'COMPLETE' || s === 'PRUNED' || s === 'FAIL';

/** Optimisation direction. */
export type Direction = 'minimize' | 'maximize';

/** A trial as stored: plain data, copied out of storages. */
export interface FrozenTrial {
  /** Storage-wide id. */
  trialId: number;
  /** Number within its study (0, 1, …). */
  number: number;
  state: TrialState;
  /** Objective value (null unless COMPLETE, or PRUNED with a last intermediate value). */
  value: number | null;
  /** Internal parameter values (categorical: choice index). */
  params: Record<string, number>;
  distributions: Record<string, Distribution>;
  /** Reported intermediate values by step. */
  intermediate: Record<number, number>;
  userAttrs: Record<string, unknown>;
  systemAttrs: Record<string, unknown>;
  /** Naive local ISO time `YYYY-MM-DDTHH:MM:SS.ffffff` (Optuna's journal form), or null. */
  datetimeStart: string | null;
  datetimeComplete: string | null;
}

/** A study as stored. */
export interface StudyInfo {
  studyId: number;
  name: string;
  direction: Direction;
}

/** Current time in Optuna's naive local form with microseconds. */
export function nowString(date = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}T${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}.${p(date.getMilliseconds() * 1000, 6)}`;
}

/** A deep copy of a trial. */
export function copyTrial(t: FrozenTrial): FrozenTrial {
  return {
    ...t,
    params: { ...t.params },
    distributions: { ...t.distributions },
    intermediate: { ...t.intermediate },
    userAttrs: structuredClone(t.userAttrs),
    systemAttrs: structuredClone(t.systemAttrs),
  };
}

/** The last reported step of a trial, or null. */
export function lastStep(t: FrozenTrial): number | null {
  const steps = Object.keys(t.intermediate).map(Number);
  return steps.length ? Math.max(...steps) : null;
}
