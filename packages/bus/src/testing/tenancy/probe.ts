import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { apiAttempts } from './api.js';
import { authAttempts, findWrites, roleChecks } from './checks.js';
import { TenantClient, type TenantCredentials } from './client.js';
import { streams } from './streams.js';
import { publications, subscriptions, system } from './subjects.js';
import type { ProbeAttempt, ProbeKind, ProbeOutcome, ProbeSession } from './types.js';
import { Victim } from './victim.js';

export interface CrossTenantProbeOptions {
  url: string;
  /** The tenant attacked: its operator, a worker and a caller set it up and watch it. */
  victim: { operator: TenantCredentials; worker: TenantCredentials; caller: TenantCredentials };
  /** Users of other tenants, each of whom tries every read and write. */
  attackers: readonly TenantCredentials[];
  /** Upper bound of any one wait (default 10 s; every wait ends as soon as its answer is in). */
  waitMs?: number;
  log?: (line: string) => void;
}

export interface CrossTenantReport {
  /** Cross-tenant attempts (not counting the role checks inside the victim tenant). */
  attempts: number;
  denied: number;
  isolated: number;
  crossTenantReads: number;
  /** Attempts whose message or change reached the victim, plus changes the victim found on its own. */
  crossTenantWrites: number;
  undenied: number;
  /** Inside the victim tenant: a worker publishing kill or cancel, a caller publishing kill. */
  roleAttempts: number;
  roleEscalations: number;
  /** Allowed operations on each attacker connection, before and after its attempts (they must pass). */
  controls: { passed: number; failed: number };
  /** Cross-tenant attempts per kind. */
  byKind: Partial<Record<ProbeKind, number>>;
  rows: ProbeAttempt[];
}

/**
 * Every cross-tenant read and write this module knows, by every attacker, against a victim set up with
 * real data; resolves with what happened to each (see ProbeOutcome). Needs a nats-server started with a
 * `natsServerConfig` holding both tenants, with JetStream.
 */
export async function probeCrossTenant(options: CrossTenantProbeOptions): Promise<CrossTenantReport> {
  const waitMs = options.waitMs ?? 10_000;
  const log = options.log ?? (() => undefined);
  const victim = await Victim.setUp(options.url, options.victim);
  const rows: ProbeAttempt[] = [];
  const controls = { passed: 0, failed: 0 };
  const markers = new Map<string, ProbeAttempt>();
  const run = `probe-${randomBytes(4).toString('hex')}`;
  const marker = (row: ProbeAttempt) => {
    const text = `${run}-${markers.size + 1}`;
    markers.set(text, row);
    return text;
  };
  let changes: ProbeAttempt[] = [];
  try {
    log(`victim ${victim.tenant} set up (${victim.streams.length} streams and buckets hold its secret)`);
    for (const credentials of options.attackers) {
      const attacker = await TenantClient.connect(options.url, credentials);
      try {
        const control = async () =>
          (await accountInfoWorks(attacker, waitMs)) ? controls.passed++ : controls.failed++;
        const session: ProbeSession = {
          attacker,
          victim,
          waitMs,
          marker,
          row: (kind, target) => {
            const row: ProbeAttempt = { by: attacker.label, kind, target, outcome: 'undenied' };
            rows.push(row);
            return row;
          },
        };
        await control();
        await subscriptions(session);
        await publications(session);
        await system(session);
        // Before the API attempts: those may create streams of the victim's names in the attacker's account.
        await streams(session);
        await apiAttempts(session);
        await control();
        log(`${attacker.label}: ${rows.filter((row) => row.by === attacker.label).length} attempts`);
      } finally {
        await attacker.close();
      }
    }
    await roleChecks(victim, waitMs, rows, marker);
    await authAttempts(options.url, options.victim.caller, options.attackers[0], rows);
    changes = await findWrites(victim, markers, waitMs);
  } finally {
    await victim.close();
  }
  return summarize([...rows, ...changes], controls);
}

/** An allowed request on the attacker's connection (publish + reply on its own inbox): must answer. */
async function accountInfoWorks(attacker: TenantClient, waitMs: number): Promise<boolean> {
  try {
    const jsm = await jetstreamManager(attacker.bus.connection, { timeout: waitMs, checkAPI: false });
    await jsm.getAccountInfo();
    return true;
  } catch {
    return false;
  }
}

function summarize(rows: ProbeAttempt[], controls: { passed: number; failed: number }): CrossTenantReport {
  const cross = rows.filter((row) => row.kind !== 'role' && row.by !== 'victim');
  const roles = rows.filter((row) => row.kind === 'role');
  const count = (list: ProbeAttempt[], outcome: ProbeOutcome) =>
    list.filter((row) => row.outcome === outcome).length;
  const byKind: Partial<Record<ProbeKind, number>> = {};
  for (const row of cross) byKind[row.kind] = (byKind[row.kind] ?? 0) + 1;
  const victimSide = rows.filter((row) => row.by === 'victim');
  return {
    attempts: cross.length,
    denied: count(cross, 'denied'),
    isolated: count(cross, 'isolated'),
    crossTenantReads: count(cross, 'read'),
    crossTenantWrites: count(cross, 'write') + victimSide.length,
    undenied: count(cross, 'undenied'),
    roleAttempts: roles.length,
    roleEscalations: roles.filter((row) => row.outcome !== 'denied').length,
    controls,
    byKind,
    rows,
  };
}
