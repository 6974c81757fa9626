import type { Guardrails, GuardStage } from '@baton/core';

const STAGES: readonly GuardStage[] = ['input', 'output', 'toolInput', 'toolOutput', 'memoryWrite'];

/**
 * The guardrails a served run gets: the caller's (a team's, rebuilt from the envelope) first, then the
 * worker's own, stage by stage; the agent's own run after both (core's order). The worker's come after
 * the caller's so that what its policy passes is what is really used: a guard that rewrites runs before
 * the worker's check, never after it. Undefined when neither side has any.
 */
export function combineGuardrails(
  caller: Guardrails | undefined,
  worker: Guardrails | undefined,
): Guardrails | undefined {
  if (!caller) return worker;
  if (!worker) return caller;
  const combined: Guardrails = {};
  for (const stage of STAGES) {
    const guards = [...(caller[stage] ?? []), ...(worker[stage] ?? [])];
    if (guards.length > 0) combined[stage] = guards;
  }
  return combined;
}
