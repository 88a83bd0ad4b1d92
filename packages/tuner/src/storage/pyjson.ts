// JSON as Python writes it (Optuna's journal ops and attribute values): floats with a decimal
// point, NaN and Infinity as bare tokens. Shared by the journal and the SQL storages.
import { pyFloat } from '../distributions.js';

const NF = '__msmoe_nonfinite__:';

/** A number that must be written as a Python float (`3.0`, not `3`). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** Fields whose numbers Optuna writes as floats. */
const FLOAT_FIELDS = new Set([
  'param_value_internal',
  'value',
  'values',
  'intermediate_value',
  'params',
  'intermediate_values',
]);

function markFloats(v: unknown, inFloatField = false): unknown {
  if (typeof v === 'number') return inFloatField ? new PyFloat(v) : v;
  if (Array.isArray(v)) return v.map((x) => markFloats(x, inFloatField));
  if (v && typeof v === 'object' && !(v instanceof PyFloat))
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, markFloats(x, inFloatField || FLOAT_FIELDS.has(k))]),
    );
  return v;
}

/**
 * JSON as Python's `json.dumps` writes an Optuna journal op: NaN / Infinity / -Infinity as bare
 * tokens, and the values of float fields with a decimal point or exponent.
 */
export function pyJson(value: unknown): string {
  const s = JSON.stringify(markFloats(value), (_k, v) => {
    if (v instanceof PyFloat) return `${NF}${pyFloat(v.value)}`;
    if (typeof v === 'number' && !Number.isFinite(v)) return `${NF}${pyFloat(v)}`;
    return v;
  });
  return s.replace(new RegExp(`"${NF}([^"]*)"`, 'g'), '$1');
}

/** Parses JSON that may hold Python's bare NaN / Infinity tokens. */
export function parsePyJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const marked = text.replace(/([:[,]\s*)(-?Infinity|NaN)(?=\s*[,\]}])/g, `$1"${NF}$2"`);
    return JSON.parse(marked, (_k, v) =>
      typeof v === 'string' && v.startsWith(NF)
        ? {
            NaN: Number.NaN,
            Infinity: Number.POSITIVE_INFINITY,
            '-Infinity': Number.NEGATIVE_INFINITY,
          }[v.slice(NF.length)]
        : v,
    );
  }
}
