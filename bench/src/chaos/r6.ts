/**
 * security.r6: tenants on NATS (issue 12). A real nats-server runs the configuration `natsServerConfig`
 * generates for three tenants (one account each, least-privilege users per role, per-tenant inboxes).
 * Tenant `acme` is set up through Baton's own APIs by its own users — a durable worker serving an agent,
 * a caller invoking it, a journal, an approval waiting, an audit log, a memory — every record holding a
 * secret. Then every user of the two other tenants (worker, caller, operator of each) tries every
 * cross-tenant read and write `probeCrossTenant` knows: subscribing to acme's subjects, inboxes, KV
 * buckets and wildcards; publishing invoke, cancel, kill and the rest into them; the system account;
 * reading, writing, purging and deleting acme's streams and buckets through JetStream; Baton's own APIs
 * (remoteAgent, killSwitch, listAgents, approvals, journal, audit, memory) pointed at acme; and logging
 * in with the wrong password or another user's.
 *
 * An attempt passes when the server refused it (`denied`) or it ran in the attacker's own account and
 * found or changed nothing of acme's (`isolated`). Reads and writes are found by the secret turning up on
 * the attacker's side, and by acme reading back everything it has at the end (a marker of an attempt
 * there, a stream purged or re-created, its approval decided, its worker killed). Inside acme, a worker
 * publishing kill or cancel and a caller publishing kill must be refused too (`roleEscalations`).
 */
import { randomBytes } from 'node:crypto';
import { natsServerConfig, TENANT_ROLES, type TenantRole } from '@baton/bus';
import { probeCrossTenant, startNatsServer, type TenantCredentials } from '@baton/bus/testing';
import type { ChaosScenario } from './scenario.js';

const VICTIM = 'acme';
const OTHERS = ['globex', 'initech'] as const;

export const r6: ChaosScenario = {
  key: 'security.r6',
  description:
    'every cross-tenant read and write (subjects, KV, streams, inboxes, kill/cancel, Baton APIs) against the generated nats-server config is denied or isolated: 0 reads, 0 writes',
  async run(options) {
    const users = new Map<string, TenantCredentials>();
    const user = (tenant: string, role: TenantRole): TenantCredentials => {
      const name = `${tenant}-${role}`;
      let found = users.get(name);
      if (!found) {
        found = { tenant, user: name, password: randomBytes(18).toString('base64url'), roles: [role] };
        users.set(name, found);
      }
      return found;
    };
    const tenants = [VICTIM, ...OTHERS].map((name) => ({
      name,
      jetstream: { maxMemory: '64M', maxFile: '1G', maxStreams: 32, maxConsumers: 256 },
      users: TENANT_ROLES.map((role) => {
        const { user: id, password, roles } = user(name, role);
        return { user: id, password, roles: [...roles] };
      }),
    }));
    // A quick look sends one attacker per role; a full run every user of both other tenants.
    const attackers = options.quick
      ? TENANT_ROLES.map((role, index) => user(OTHERS[index % OTHERS.length] as string, role))
      : OTHERS.flatMap((tenant) => TENANT_ROLES.map((role) => user(tenant, role)));
    const server = await startNatsServer({ jetstream: true, config: natsServerConfig({ tenants }) });
    try {
      options.log(`nats-server ${server.url}: ${tenants.length} tenants, ${users.size} users`);
      const started = performance.now();
      const report = await probeCrossTenant({
        url: server.url,
        victim: {
          operator: user(VICTIM, 'operator'),
          worker: user(VICTIM, 'worker'),
          caller: user(VICTIM, 'caller'),
        },
        attackers,
        waitMs: 20_000,
        log: options.log,
      });
      const seconds = (performance.now() - started) / 1_000;
      const failures = report.rows
        .filter((row) => row.outcome !== 'denied' && row.outcome !== 'isolated')
        .slice(0, 20)
        .map(
          (row) =>
            `${row.by}: ${row.kind} ${row.target} → ${row.outcome}${row.detail ? ` (${row.detail})` : ''}`,
        );
      options.log(
        `${report.attempts} attempts in ${seconds.toFixed(1)} s: ${report.denied} denied, ${report.isolated} isolated, ${report.crossTenantReads} reads, ${report.crossTenantWrites} writes, ${report.undenied} undenied`,
      );
      return {
        attempts: report.attempts,
        crossTenantReads: report.crossTenantReads,
        crossTenantWrites: report.crossTenantWrites,
        undenied: report.undenied,
        denied: report.denied,
        isolated: report.isolated,
        byKind: report.byKind,
        attackers: attackers.length,
        roleAttempts: report.roleAttempts,
        roleEscalations: report.roleEscalations,
        controls: report.controls,
        failures,
      };
    } finally {
      await server.stop();
    }
  },
  check(figures) {
    const problems: string[] = [];
    const { attempts, crossTenantReads, crossTenantWrites, undenied, roleEscalations } = figures as Record<
      string,
      number
    >;
    const controls = figures.controls as { failed: number } | undefined;
    if (!(attempts >= 100)) problems.push(`only ${attempts} cross-tenant attempts (at least 100 promised)`);
    if (crossTenantReads > 0) problems.push(`${crossTenantReads} cross-tenant reads got through`);
    if (crossTenantWrites > 0) problems.push(`${crossTenantWrites} cross-tenant writes got through`);
    if (undenied > 0) problems.push(`${undenied} attempts were neither refused nor shown isolated`);
    if (roleEscalations > 0)
      problems.push(`${roleEscalations} kill/cancel publishes inside the tenant were not refused`);
    if ((controls?.failed ?? 0) > 0) {
      problems.push(
        `${controls?.failed} allowed operations of the attackers failed (the probe could not judge)`,
      );
    }
    return problems;
  },
};
