// Declarative search spaces (JSON or code), validated, with conditional (tree-structured)
// sub-spaces under categorical choices, compiled to define-by-run suggestions.
import { z } from 'zod';
import {
  type Choice,
  categoricalDistribution,
  floatDistribution,
  intDistribution,
  SearchSpaceError,
} from './distributions.js';
import type { Trial } from './study.js';

/** One parameter of a declarative space. */
export type ParamSpec =
  | { type: 'float'; low: number; high: number; log?: boolean; step?: number }
  | { type: 'int'; low: number; high: number; log?: boolean; step?: number }
  | { type: 'categorical'; choices: Choice[]; conditional?: Record<string, SpaceSpec> };
/** A declarative search space: parameter name → spec. */
export type SpaceSpec = { [name: string]: ParamSpec };

const choice = z.union([z.null(), z.boolean(), z.number(), z.string()]);
const paramSchema: z.ZodType<ParamSpec> = z.lazy(() =>
  z.discriminatedUnion('type', [
    z
      .object({
        type: z.literal('float'),
        low: z.number(),
        high: z.number(),
        log: z.boolean().optional(),
        step: z.number().optional(),
      })
      .strict(),
    z
      .object({
        type: z.literal('int'),
        low: z.number().int(),
        high: z.number().int(),
        log: z.boolean().optional(),
        step: z.number().int().optional(),
      })
      .strict(),
    z
      .object({
        type: z.literal('categorical'),
        choices: z.array(choice).min(1),
        conditional: z.record(z.string(), spaceSchema).optional(),
      })
      .strict(),
  ]),
) as z.ZodType<ParamSpec>;
const spaceSchema: z.ZodType<SpaceSpec> = z.lazy(() => z.record(z.string().min(1), paramSchema));

/**
 * Validates a space (from JSON): every parameter's fields, then its distribution rules (bounds,
 * log, step), and that conditional keys are among the choices. Errors name the parameter path.
 */
export function parseSpace(input: unknown, path = ''): SpaceSpec {
  const r = spaceSchema.safeParse(input);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new SearchSpaceError(
      `space: ${[path, ...(i?.path ?? []).map(String)].filter(Boolean).join('.') || 'value'}: ${i?.message}`,
    );
  }
  const space = r.data;
  for (const [name, p] of Object.entries(space)) {
    const full = path ? `${path}.${name}` : name;
    if (p.type === 'float')
      floatDistribution(full, p.low, p.high, { log: p.log, step: p.step ?? null });
    else if (p.type === 'int') intDistribution(full, p.low, p.high, { log: p.log, step: p.step });
    else {
      categoricalDistribution(full, p.choices);
      for (const [key, sub] of Object.entries(p.conditional ?? {})) {
        if (!p.choices.map(String).includes(key))
          throw new SearchSpaceError(
            `parameter "${full}": conditional key "${key}" is not one of the choices ${JSON.stringify(p.choices)}`,
          );
        parseSpace(sub, `${full}.${key}`);
      }
    }
  }
  return space;
}

/** Suggests every parameter of a space in a trial (conditional sub-spaces only under their choice); returns the values. */
export async function suggestSpace(
  trial: Trial,
  space: SpaceSpec,
): Promise<Record<string, Choice>> {
  const out: Record<string, Choice> = {};
  for (const [name, p] of Object.entries(space)) {
    if (p.type === 'float')
      out[name] = await trial.suggestFloat(name, p.low, p.high, { log: p.log, step: p.step });
    else if (p.type === 'int')
      out[name] = await trial.suggestInt(name, p.low, p.high, { log: p.log, step: p.step });
    else {
      const v = await trial.suggestCategorical(name, p.choices);
      out[name] = v;
      const sub = p.conditional?.[String(v)];
      if (sub) Object.assign(out, await suggestSpace(trial, sub));
    }
  }
  return out;
}
