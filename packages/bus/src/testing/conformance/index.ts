import { agentConformance } from './agents.js';
import type { ConformanceCase } from './context.js';
import { hostileConformance } from './hostile.js';
import { malformedConformance } from './malformed.js';
import { transportConformance } from './transport.js';

export {
  type BusPair,
  type ConformanceCase,
  type ConformanceContext,
  runConformanceCase,
  waitUntil,
} from './context.js';
export { agentConformance, hostileConformance, malformedConformance, transportConformance };

/** Every case both transports must pass: run each with `runConformanceCase` in your test framework. */
export const busConformance: readonly ConformanceCase[] = [
  ...transportConformance,
  ...agentConformance,
  ...malformedConformance,
  ...hostileConformance,
];
