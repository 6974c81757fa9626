import { randomBytes } from 'node:crypto';
import { kvBuckets, subjects } from '../../subjects.js';
import { tenantInboxPrefix } from '../../tenancy/permissions.js';
import { eventually } from './client.js';
import { leaks, type ProbeSession } from './types.js';
import { PROBE_AGENT, PROBE_RUN } from './victim.js';

interface Target {
  name: string;
  subject: string;
  /**
   * True when the victim's operator hears every message on it (a Baton subject or inbox of the tenant):
   * a publish that got through shows up there. Otherwise (KV subjects) the victim's streams are read
   * back at the end for it.
   */
  watched: boolean;
}

/** Concrete subjects of the victim, one under each pattern its components use. */
function victimSubjects(ns: string, keys: readonly string[]): Target[] {
  const inbox = tenantInboxPrefix(ns);
  const watched = (name: string, subject: string): Target => ({ name, subject, watched: true });
  return [
    watched('invoke', subjects.invoke(ns, PROBE_AGENT)),
    watched('durable invoke', subjects.durableInvoke(ns, PROBE_AGENT)),
    watched('status', subjects.agentStatus(ns, PROBE_AGENT)),
    watched('events', subjects.runEvents(ns, PROBE_RUN)),
    watched('cancel', subjects.runCancel(ns, PROBE_RUN)),
    watched('kill', subjects.kill(ns)),
    watched('registry', subjects.registry(ns)),
    watched('registry query', subjects.registryQuery(ns)),
    watched('dlq', subjects.deadLetter(ns, PROBE_AGENT)),
    watched('ledger', `${subjects.ledger(ns, 'svc')}.1`),
    watched('journal', subjects.journal(ns, 'probe-other')),
    watched('audit', subjects.audit(ns)),
    watched('approval', subjects.approval(ns, PROBE_RUN)),
    watched('inbox', `${inbox}.probe`),
    watched('durable inbox', `${inbox}.durable.probe`),
    ...keys.map((subject) => ({ name: 'KV key', subject, watched: false })),
  ];
}

/** Wildcards an eavesdropper would use; `sample` is where the victim then sends a secret to be overheard. */
function wildcards(ns: string): Array<{ name: string; subject: string; sample: string | undefined }> {
  const inbox = tenantInboxPrefix(ns);
  const buckets = Object.values(kvBuckets(ns));
  return [
    { name: 'all of the tenant', subject: `baton.${ns}.>`, sample: subjects.registry(ns) },
    { name: "the tenant's inboxes", subject: `${inbox}.>`, sample: `${inbox}.x` },
    { name: "the tenant's durable inboxes", subject: `${inbox}.durable.>`, sample: `${inbox}.durable.x` },
    { name: 'every tenant', subject: 'baton.>', sample: subjects.registry(ns) },
    { name: 'everything', subject: '>', sample: subjects.registry(ns) },
    // Nobody may publish on these: the subscription's refusal is the whole check.
    ...buckets.map((bucket) => ({
      name: `KV bucket ${bucket}`,
      subject: `$KV.${bucket}.>`,
      sample: undefined,
    })),
    { name: 'every KV bucket', subject: '$KV.>', sample: undefined },
    { name: 'the JetStream API', subject: '$JS.API.>', sample: undefined },
    { name: 'JetStream advisories', subject: '$JS.EVENT.>', sample: undefined },
    { name: 'default inboxes', subject: '_INBOX.>', sample: undefined },
    { name: 'system account', subject: '$SYS.>', sample: undefined },
  ];
}

/**
 * Subscribes to each victim subject and wildcard (a queue group too): each must be refused, and the
 * secret the victim then sends there must not arrive.
 */
export async function subscriptions(session: ProbeSession): Promise<void> {
  const ns = session.victim.tenant;
  const keys = session.victim.streams.flatMap((s) => (s.bucket === undefined ? [] : [s.subject]));
  const targets = [
    ...victimSubjects(ns, keys).map((t) => ({ ...t, sample: t.watched ? t.subject : undefined })),
    ...wildcards(ns),
  ];
  for (const target of targets) await subscribeTo(session, target.name, target.subject, target.sample);
  await subscribeTo(
    session,
    'invoke queue group',
    subjects.invoke(ns, PROBE_AGENT),
    undefined,
    subjects.queueGroup(ns, PROBE_AGENT),
  );
}

async function subscribeTo(
  session: ProbeSession,
  name: string,
  subject: string,
  sample: string | undefined,
  queue?: string,
): Promise<void> {
  const { attacker, victim, waitMs } = session;
  const row = session.row('subscribe', `${name} (${subject}${queue ? ` queue ${queue}` : ''})`);
  const got: string[] = [];
  const sub = attacker.bus.connection.subscribe(subject, {
    ...(queue ? { queue } : {}),
    callback: (error, message) => {
      if (!error) got.push(message.string());
    },
  });
  const denied = await attacker.refused('subscription', subject, waitMs);
  // The victim sends a secret where the subscription would hear it, and sees it arrive itself.
  if (sample !== undefined) {
    const secret = `${victim.secret}-sub-${randomBytes(3).toString('hex')}`;
    const delivered = victim.seen.length;
    victim.operator.bus.publish(sample, secret);
    await eventually(() => victim.seen.slice(delivered).includes(secret), waitMs);
    // Anything the server sent the attacker before this round trip has been handled by now.
    await attacker.bus.connection.flush();
  }
  if (!sub.isClosed()) sub.unsubscribe();
  row.outcome = got.some((text) => leaks(text, victim.secret)) ? 'read' : denied ? 'denied' : 'undenied';
}

/**
 * Publishes on each victim subject: each must be refused, and the message must not arrive where the
 * victim's own does (or, for KV keys, be found in its buckets at the end).
 */
export async function publications(session: ProbeSession): Promise<void> {
  const { attacker, victim, waitMs } = session;
  const keys = victim.streams.flatMap((s) => (s.bucket === undefined ? [] : [s.subject]));
  for (const target of victimSubjects(victim.tenant, keys)) {
    const row = session.row('publish', `${target.name} (${target.subject})`);
    const text = session.marker(row);
    attacker.bus.connection.publish(target.subject, text);
    const denied = await attacker.refused('publish', target.subject, waitMs);
    if (!target.watched) {
      row.outcome = denied ? 'denied' : 'isolated';
      if (!denied) row.detail = "published in its own account; the victim's buckets are checked at the end";
      continue;
    }
    // The victim publishes there too and sees it: anything the attacker got through arrived first.
    const control = `control-${randomBytes(4).toString('hex')}`;
    victim.operator.bus.publish(target.subject, control);
    await eventually(() => victim.seen.includes(control), waitMs);
    row.outcome = victim.seen.includes(text) ? 'write' : denied ? 'denied' : 'undenied';
  }
}

/** The system account: the server's monitoring requests. */
export async function system(session: ProbeSession): Promise<void> {
  const { attacker, victim, waitMs } = session;
  for (const subject of ['$SYS.REQ.SERVER.PING', `$SYS.REQ.ACCOUNT.${victim.tenant}.CONNZ`]) {
    const row = session.row('system', `request ${subject}`);
    try {
      const reply = await attacker.bus.connection.request(subject, '', { timeout: waitMs });
      row.outcome = reply.data.length > 0 ? 'read' : 'isolated';
    } catch (error) {
      const denied = await attacker.refused('publish', subject, waitMs);
      row.outcome = denied ? 'denied' : 'undenied';
      if (!denied) row.detail = String((error as Error)?.message).slice(0, 160);
    }
  }
}
