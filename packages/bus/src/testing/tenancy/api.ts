import { type BatonError, readAudit } from '@baton/core';
import { remoteAgent } from '../../agent/remote.js';
import { natsAuditSink } from '../../audit/jetstream-sink.js';
import { natsCacheStore } from '../../cache/nats-cache-store.js';
import { natsApprovals } from '../../durable/approvals.js';
import { natsJournal } from '../../durable/journal.js';
import { killSwitch } from '../../kill.js';
import { natsMemoryStore } from '../../memory/nats-kv-store.js';
import { listAgents } from '../../registry.js';
import { subjects } from '../../subjects.js';
import { echoContract } from '../agents.js';
import { refusalOf } from './client.js';
import { leaks, type ProbeAttempt, type ProbeOutcome, type ProbeSession } from './types.js';
import { PROBE_AGENT, PROBE_RUN } from './victim.js';

/**
 * Baton's own APIs, used as a developer of the other tenant would: pointed at the victim's namespace
 * from the attacker's connection. Each must be refused (or find nothing: its JetStream calls land in the
 * attacker's own account), and none may reach the victim's worker, records or approvals.
 */
export async function apiAttempts(session: ProbeSession): Promise<void> {
  const { attacker, victim, waitMs } = session;
  const bus = attacker.bus;
  const namespace = victim.tenant;
  const secret = victim.secret;
  const found = (value: unknown): ProbeOutcome => (leaks(value, secret) ? 'read' : 'isolated');

  for (const durable of [false, true]) {
    const row = session.row('api', `remoteAgent(${PROBE_AGENT}${durable ? ', durable' : ''}).run`);
    const agent = remoteAgent(bus, {
      name: PROBE_AGENT,
      contract: echoContract,
      namespace,
      durable,
      timeoutMs: waitMs,
    });
    const started = Date.now();
    const result = await agent.run({ text: session.marker(row) });
    if (result.status === 'completed') row.outcome = 'write';
    else judgeError(row, result.error as BatonError | undefined);
    row.detail = `${row.detail ?? result.error?.code ?? result.status} after ${Date.now() - started} ms`;
  }

  const kill = session.row('api', 'killSwitch');
  await attempt(kill, async () => {
    await killSwitch(bus, { namespace, reason: session.marker(kill) });
    return (await attacker.refused('publish', subjects.kill(namespace), waitMs)) ? 'denied' : 'isolated';
  });

  await attempt(session.row('api', 'listAgents'), async () => {
    const agents = await listAgents(bus, { namespace, timeoutMs: Math.min(waitMs, 500) });
    if (agents.length > 0) return 'read';
    return (await attacker.refused('publish', subjects.registryQuery(namespace), waitMs))
      ? 'denied'
      : 'isolated';
  });

  const approvals = natsApprovals(bus, { namespace, timeoutMs: waitMs });
  await attempt(session.row('api', 'natsApprovals.get'), async () =>
    found(await approvals.get(PROBE_RUN, 'call-1')),
  );
  await attempt(session.row('api', 'natsApprovals.list'), async () => found(await approvals.list()));
  const decide = session.row('api', 'natsApprovals.decide (approve)');
  await attempt(decide, async () => {
    await approvals.decide(PROBE_RUN, 'call-1', { decision: 'approve' }, session.marker(decide));
    // Decided somewhere: the victim's own record must still be pending (checked at the end too).
    return 'isolated';
  });

  const journal = natsJournal(bus, { namespace, timeoutMs: waitMs, maxBytes: 1024 * 1024 });
  await attempt(session.row('api', 'natsJournal.read'), async () => found(await journal.read(PROBE_RUN)));
  await attempt(session.row('api', 'natsJournal.runs'), async () => {
    const runs = await journal.runs();
    return runs.includes(PROBE_RUN) ? 'read' : 'isolated';
  });
  await attempt(session.row('api', 'readAudit(natsAuditSink)'), async () =>
    found(await readAudit(natsAuditSink(bus, { namespace, timeoutMs: waitMs }))),
  );
  await attempt(session.row('api', 'natsCacheStore.get'), async () =>
    found(
      await natsCacheStore(bus, { namespace, maxBytes: 1024 * 1024, timeoutMs: waitMs }).get(
        'tool/search/probe',
      ),
    ),
  );
  await attempt(session.row('api', 'natsMemoryStore.get'), async () => {
    const memory = await natsMemoryStore(bus, { namespace });
    try {
      return found(await memory.get({ tenant: namespace, user: 'user-1' }, 'fact'));
    } finally {
      await memory.close();
    }
  });
}

/** Runs one attempt; a throw is judged by what refused it. */
async function attempt(row: ProbeAttempt, run: () => Promise<ProbeOutcome>): Promise<void> {
  try {
    row.outcome = await run();
    if (row.outcome === 'isolated') row.detail = 'found nothing: it ran in its own account';
  } catch (error) {
    judgeError(row, error);
  }
}

/** A refusal by permissions is `denied`; "nothing there" (its own account is empty) is `isolated`. */
function judgeError(row: ProbeAttempt, error: unknown): void {
  const refusal = refusalOf(error);
  const code = (error as { code?: unknown })?.code;
  if (refusal === 'permission') row.outcome = 'denied';
  else if (refusal === 'absent' || code === 'APPROVAL_UNKNOWN') row.outcome = 'isolated';
  else row.outcome = 'undenied';
  row.detail = typeof code === 'string' ? code : String((error as Error)?.message ?? error).slice(0, 160);
}
