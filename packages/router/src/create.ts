import type { Rng } from '@msmoe/core';
import { parseRouterConfig, type RouterConfig, type RouterConfigInput } from './config.js';
import { ExpertChoiceRouter } from './expert-choice.js';
import { SoftMoERouter } from './soft.js';
import { TopKRouter } from './top-k.js';
import type { Router } from './types.js';

/**
 * Builds a router from a plain (e.g. JSON) configuration, validated at the door.
 *
 * @example
 * ```ts
 * const router = createRouter({ type: 'top-k', dModel: 128, numExperts: 16, k: 2 }, new Rng(1));
 * ```
 */
export function createRouter(config: RouterConfigInput, rng: Rng): Router {
  return buildRouter(parseRouterConfig(config), rng);
}

/** Builds a router from an already validated configuration (e.g. a model config's `router`). */
export function buildRouter(c: RouterConfig, rng: Rng): Router {
  switch (c.type) {
    case 'top-k':
      return new TopKRouter(c, rng);
    case 'expert-choice':
      return new ExpertChoiceRouter(c, rng);
    case 'soft':
      return new SoftMoERouter(c, rng);
  }
}
