import type { z } from 'zod';

/** Raised when a config or options object fails validation; the message names the field. */
export class ConfigError extends Error {
  /** Dotted path of the offending field (`''` for the object itself). */
  readonly field: string;
  constructor(message: string, field: string) {
    super(message);
    this.name = 'ConfigError';
    this.field = field;
  }
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const field = issue.path.map(String).join('.');
  let value: unknown = input;
  for (const key of issue.path) {
    value =
      value != null && typeof value === 'object'
        ? (value as Record<PropertyKey, unknown>)[key]
        : undefined;
  }
  const shown = value === undefined ? '' : ` (got ${JSON.stringify(value)})`;
  if (issue.code === 'unrecognized_keys') {
    return `${issue.keys.map((k) => (field ? `${field}.${k}` : k)).join(', ')}: unknown field`;
  }
  return `${field || 'value'}: ${issue.message}${shown}`;
}

/**
 * Validates `input` against a zod schema and returns the parsed value, or throws one
 * {@link ConfigError} whose first line names the field, the value and what is allowed.
 *
 * @param what - what is being validated, used as the message prefix (e.g. `"initBackend options"`).
 */
export function parseOrThrow<T extends z.ZodType>(
  schema: T,
  input: unknown,
  what: string,
): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues;
  const first = issues[0];
  const field = first ? first.path.map(String).join('.') : '';
  const lines = issues.map((i) => describeIssue(i, input));
  throw new ConfigError(`${what}: ${lines.join('; ')}`, field);
}

/**
 * Reports a failed cross-field check inside a zod `superRefine`: the field's path, what is
 * allowed, and the offending value (what {@link parseOrThrow} shows as "got …").
 */
export function refineIssue(
  ctx: z.RefinementCtx,
  path: PropertyKey[],
  message: string,
  input: unknown,
): void {
  ctx.addIssue({ code: 'custom', path, message, input });
}
