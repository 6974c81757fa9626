import type { TenantClient } from './client.js';
import type { Victim } from './victim.js';

/**
 * What an attempt goes through: core subjects (subscribe, publish), the system account, JetStream
 * (streams and KV buckets, read or written through the attacker's own JetStream API), Baton's own APIs
 * pointed at the other tenant's namespace, logging in, and — inside the victim tenant — roles.
 */
export type ProbeKind =
  | 'subscribe'
  | 'publish'
  | 'stream-read'
  | 'stream-write'
  | 'api'
  | 'system'
  | 'auth'
  | 'role';

/**
 * How one attempt ended. `denied`: the server refused it (permissions). `isolated`: it ran, but in the
 * attacker's own account, where nothing of the victim exists. `read` / `write`: the victim's data reached
 * the attacker, or the attacker's reached (or changed) the victim's. `undenied`: none of these — the
 * attempt was neither refused nor shown harmless, which a tight configuration never leaves.
 */
export type ProbeOutcome = 'denied' | 'isolated' | 'read' | 'write' | 'undenied';

export interface ProbeAttempt {
  by: string;
  kind: ProbeKind;
  target: string;
  outcome: ProbeOutcome;
  detail?: string;
}

/** One attacker connection at work: where its attempts are recorded and marked. */
export interface ProbeSession {
  readonly attacker: TenantClient;
  readonly victim: Victim;
  /** Upper bound of any one wait. */
  readonly waitMs: number;
  /** Records a new attempt (outcome `undenied` until it is judged). */
  row(kind: ProbeKind, target: string): ProbeAttempt;
  /**
   * A unique text for what `row` writes: found anywhere in the victim's subjects, streams or buckets
   * afterwards, it turns the attempt into a `write`.
   */
  marker(row: ProbeAttempt): string;
}

/** The secret in what an attempt got back: the victim's data reached the attacker. */
export function leaks(value: unknown, secret: string): boolean {
  if (typeof value === 'string') return value.includes(secret);
  try {
    return JSON.stringify(value ?? null).includes(secret);
  } catch {
    return false;
  }
}
