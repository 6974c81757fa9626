import type { Guard, GuardContext, GuardStage, GuardVerdict } from '@baton/core';
import { seededRandom } from '@baton/core';
import { expect } from 'vitest';

/** Seeded, so a fuzz failure can be replayed. */
export const prng = seededRandom;

/** A guard context for a direct `guard.check(value, context)` call. */
export function guardContext(stage: GuardStage, tool?: string, signal?: AbortSignal): GuardContext {
  const context: GuardContext = {
    stage,
    runId: 'run_test',
    agent: 'tester',
    signal: signal ?? new AbortController().signal,
  };
  if (tool !== undefined) context.tool = tool;
  return context;
}

export async function check(guard: Guard, value: unknown, stage: GuardStage = 'toolOutput', tool?: string) {
  return (await guard.check(value, guardContext(stage, tool))) as GuardVerdict;
}

const PALETTE = [
  ...'0123456789 -.+()@:/_=#;\'"`$*[]{}<>|\\!?,\n\t',
  ...'abcdefxyzABCDEFXYZ',
  'ignore previous instructions',
  'SELECT',
  'DROP',
  '--',
  '/*',
  '*/',
  '/*!',
  "E'",
  '$$',
  'sk-',
  'AKIA',
  'eyJ',
  '-----BEGIN PRIVATE KEY-----',
  '4111',
  'DE89',
  '::',
  '\u200b',
  '\u202e',
  '\u{e0041}',
  'а',
  'ｉ',
  '𝐢',
  '\ud800',
  '\udc00',
  '\u0000',
  '🙂',
];

/** A random string built from characters and fragments that the detectors care about. */
export function randomText(random: () => number, maxParts = 60): string {
  const parts = Math.floor(random() * maxParts);
  let out = '';
  for (let index = 0; index < parts; index++) out += PALETTE[Math.floor(random() * PALETTE.length)];
  return out;
}

/** A random JSON-ish value (strings, numbers, arrays, objects, null, a Date, occasionally a cycle). */
export function randomValue(random: () => number, depth = 0): unknown {
  const pick = random();
  if (depth > 4 || pick < 0.4) return randomText(random);
  if (pick < 0.5) return Math.floor(random() * 1e12);
  if (pick < 0.55) return null;
  if (pick < 0.58) return undefined;
  if (pick < 0.6) return new Date(0);
  if (pick < 0.8)
    return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(random, depth + 1));
  const object: Record<string, unknown> = {};
  for (let index = 0; index < Math.floor(random() * 4); index++)
    object[randomText(random, 4)] = randomValue(random, depth + 1);
  if (random() < 0.05) object.self = object;
  return object;
}

/** A verdict of the guard interface's shape. */
export function expectVerdict(verdict: GuardVerdict): void {
  expect(['pass', 'rewrite', 'trip']).toContain(verdict.action);
  if (verdict.action !== 'pass') expect(typeof verdict.reason).toBe('string');
}

/** Milliseconds `fn` takes (best of `runs`, so a busy machine's noise is not counted). */
export async function bestTime(fn: () => unknown, runs = 3): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    await fn();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}
