import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { natsApprovals } from '../../durable/approvals.js';
import { subjects } from '../../subjects.js';
import { eventually, type TenantClient, type TenantCredentials } from './client.js';
import type { ProbeAttempt } from './types.js';
import { PROBE_RUN, type Victim } from './victim.js';

/** Inside the victim tenant: a worker may not publish kill or cancel, a caller may not publish kill. */
export async function roleChecks(
  victim: Victim,
  waitMs: number,
  rows: ProbeAttempt[],
  marker: (row: ProbeAttempt) => string,
): Promise<void> {
  const ns = victim.tenant;
  const checks: Array<[TenantClient, string]> = [
    [victim.worker, subjects.kill(ns)],
    [victim.worker, subjects.runCancel(ns, PROBE_RUN)],
    [victim.caller, subjects.kill(ns)],
  ];
  for (const [client, subject] of checks) {
    const row: ProbeAttempt = {
      by: client.label,
      kind: 'role',
      target: `publish ${subject}`,
      outcome: 'undenied',
    };
    rows.push(row);
    const text = marker(row);
    client.bus.connection.publish(subject, text);
    const denied = await client.refused('publish', subject, waitMs);
    const control = `control-${randomBytes(4).toString('hex')}`;
    victim.operator.bus.publish(subject, control);
    await eventually(() => victim.seen.includes(control), waitMs);
    row.outcome = victim.seen.includes(text) ? 'write' : denied ? 'denied' : 'undenied';
  }
}

/** Logins: no credentials, a wrong password, a user of one tenant with another's password. */
export async function authAttempts(
  url: string,
  victimUser: TenantCredentials,
  attacker: TenantCredentials | undefined,
  rows: ProbeAttempt[],
): Promise<void> {
  const tries: Array<[string, { user?: string; pass?: string }]> = [
    ['no credentials', {}],
    [`${victimUser.user} with a wrong password`, { user: victimUser.user, pass: `${victimUser.password}-x` }],
  ];
  if (attacker) {
    tries.push([
      `${victimUser.user} with ${attacker.user}'s password`,
      { user: victimUser.user, pass: attacker.password },
    ]);
    tries.push([
      `${attacker.user} with ${victimUser.user}'s password`,
      { user: attacker.user, pass: victimUser.password },
    ]);
  }
  for (const [target, credentials] of tries) {
    const row: ProbeAttempt = {
      by: 'anyone',
      kind: 'auth',
      target: `log in: ${target}`,
      outcome: 'undenied',
    };
    rows.push(row);
    try {
      const connection = await connect({ servers: url, ...credentials, reconnect: false, timeout: 10_000 });
      row.outcome = 'read';
      await connection.close();
    } catch (error) {
      const message = String((error as Error)?.message);
      row.outcome = /authoriz/i.test(message) ? 'denied' : 'undenied';
      row.detail = message.slice(0, 120);
    }
  }
}

/**
 * After every attempt, the victim reads back everything it has. Each stream must be the one it created
 * (not purged, deleted or re-created), its work-queue consumer still there, its approval still pending
 * and its worker not killed; and no attacker's marker may appear in its subjects, streams or buckets
 * (a marker found turns its attempt into a `write`). Returns what the victim found changed.
 */
export async function findWrites(
  victim: Victim,
  markers: Map<string, ProbeAttempt>,
  waitMs: number,
): Promise<ProbeAttempt[]> {
  const changes: ProbeAttempt[] = [];
  const changed = (target: string) =>
    changes.push({ by: 'victim', kind: 'stream-write', target, outcome: 'write' });
  const jsm = await jetstreamManager(victim.operator.bus.connection, { timeout: waitMs, checkAPI: false });
  const texts = [...victim.seen];
  for (const target of victim.streams) {
    if (!(await victim.intact(target))) changed(`${target.stream} was purged, deleted or re-created`);
    const info = await jsm.streams.info(target.stream).catch(() => undefined);
    if (!info) continue;
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && seq > 0; seq++) {
      const message = await jsm.streams.getMessage(target.stream, { seq }).catch(() => null);
      if (message) texts.push(message.string());
    }
  }
  if (!(await victim.consumerIntact())) changed('the work-queue consumer is gone');
  const approval = await natsApprovals(victim.operator.bus, { namespace: victim.tenant, timeoutMs: waitMs })
    .get(PROBE_RUN, 'call-1')
    .catch(() => undefined);
  if (approval?.status !== 'pending') changed(`the approval is ${approval?.status ?? 'gone'}`);
  if (victim.served.killed) changed('the worker was killed');
  for (const [text, row] of markers) if (texts.some((seen) => seen.includes(text))) row.outcome = 'write';
  return changes;
}
