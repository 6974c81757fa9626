import { randomBytes } from 'node:crypto';
import type { Bus } from '../../transport/types.js';

/** Two buses on the same broker: two NATS connections, or one in-process bus seen twice. */
export interface BusPair {
  caller: Bus;
  worker: Bus;
  close(): Promise<void>;
}

export interface ConformanceContext {
  caller: Bus;
  worker: Bus;
  /** A namespace of its own, so cases never see each other's traffic. */
  namespace: string;
  /** Another pair on the same broker (closed after the case). */
  connect(): Promise<BusPair>;
  /** Runs after the case, last registered first. */
  defer(cleanup: () => Promise<void> | void): void;
}

export interface ConformanceCase {
  name: string;
  run(context: ConformanceContext): Promise<void>;
}

/** Runs one case against a pair, then its cleanups (even when it fails). */
export async function runConformanceCase(
  testCase: ConformanceCase,
  pair: BusPair,
  connect: () => Promise<BusPair>,
): Promise<void> {
  const cleanups: Array<() => Promise<void> | void> = [];
  const context: ConformanceContext = {
    caller: pair.caller,
    worker: pair.worker,
    namespace: `t${randomBytes(5).toString('hex')}`,
    connect: async () => {
      const extra = await connect();
      cleanups.push(() => extra.close());
      return extra;
    },
    defer: (cleanup) => {
      cleanups.push(cleanup);
    },
  };
  try {
    await testCase.run(context);
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch {
        // Keep cleaning.
      }
    }
  }
}

/** Polls `predicate` until it holds; throws with `what` after `timeoutMs`. */
export async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function bytes(text: string): Uint8Array {
  return Buffer.from(text, 'utf8');
}

export function text(data: Uint8Array): string {
  return Buffer.from(data).toString('utf8');
}
