import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { subjects } from '../../subjects.js';
import { tenantInboxPrefix } from '../../tenancy/permissions.js';
import { eventually, type Refusal, refusalOf, TenantClient, type TenantCredentials } from './client.js';
import { PROBE_AGENT, PROBE_RUN, Victim, type VictimStream } from './victim.js';

export type ProbeKind = 'subscribe' | 'publish' | 'stream-read' | 'stream-write' | 'system' | 'auth' | 'role';

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
  crossTenantWrites: number;
  undenied: number;
  /** Inside the victim tenant: a worker publishing kill or cancel, a caller publishing kill. */
  roleAttempts: number;
  roleEscalations: number;
  /** Allowed operations on each attacker connection, before and after its attempts (they must pass). */
  controls: { passed: number; failed: number };
  byKind: Partial<Record<ProbeKind, number>>;
  rows: ProbeAttempt[];
}

/** Concrete subjects of the victim, and a subject under each wildcard pattern where a message can land. */
function victimSubjects(ns: string): Array<{ name: string; subject: string }> {
  const inbox = tenantInboxPrefix(ns);
  return [
    { name: 'invoke', subject: subjects.invoke(ns, PROBE_AGENT) },
    { name: 'durable invoke', subject: subjects.durableInvoke(ns, PROBE_AGENT) },
    { name: 'status', subject: subjects.agentStatus(ns, PROBE_AGENT) },
    { name: 'events', subject: subjects.runEvents(ns, PROBE_RUN) },
    { name: 'cancel', subject: subjects.runCancel(ns, PROBE_RUN) },
    { name: 'kill', subject: subjects.kill(ns) },
    { name: 'registry', subject: subjects.registry(ns) },
    { name: 'registry query', subject: subjects.registryQuery(ns) },
    { name: 'dlq', subject: subjects.deadLetter(ns, PROBE_AGENT) },
    { name: 'ledger', subject: `${subjects.ledger(ns, 'svc')}.1` },
    { name: 'journal', subject: subjects.journal(ns, 'probe-other') },
    { name: 'approval', subject: subjects.approval(ns, PROBE_RUN) },
    { name: 'inbox', subject: `${inbox}.probe` },
    { name: 'durable inbox', subject: `${inbox}.durable.probe` },
  ];
}

const WILDCARDS = (ns: string) => [
  { name: 'all of the tenant', subject: `baton.${ns}.>`, sample: subjects.registry(ns) },
  {
    name: "the tenant's inboxes",
    subject: `${tenantInboxPrefix(ns)}.>`,
    sample: `${tenantInboxPrefix(ns)}.x`,
  },
  { name: 'every tenant', subject: 'baton.>', sample: subjects.registry(ns) },
  { name: 'everything', subject: '>', sample: subjects.registry(ns) },
  // No user of any tenant can publish here: the subscription's refusal is the whole check.
  { name: 'default inboxes', subject: '_INBOX.>', sample: undefined },
  { name: 'system account', subject: '$SYS.>', sample: undefined },
];

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
  let serial = 0;
  const marker = (row: ProbeAttempt) => {
    const text = `${run}-${++serial}`;
    markers.set(text, row);
    return text;
  };
  try {
    log(`victim ${victim.tenant} set up (${victim.streams.length} streams and buckets hold its secret)`);
    for (const credentials of options.attackers) {
      const attacker = await TenantClient.connect(options.url, credentials);
      try {
        const control = async () =>
          (await accountInfoWorks(attacker, waitMs)) ? controls.passed++ : controls.failed++;
        await control();
        const attempts = new Attempts(attacker, victim, waitMs, rows, marker);
        await attempts.subscriptions();
        await attempts.publications();
        await attempts.system();
        await attempts.streams();
        await control();
        log(`${attacker.label}: ${rows.filter((row) => row.by === attacker.label).length} attempts`);
      } finally {
        await attacker.close();
      }
    }
    await roleChecks(victim, waitMs, rows, marker);
    await authAttempts(options, rows);
    await findWrites(victim, rows, markers, waitMs);
  } finally {
    await victim.close();
  }
  return summarize(rows, controls);
}

/** The attempts of one attacker connection, one at a time so each denial is its own. */
class Attempts {
  private readonly label: string;

  constructor(
    private readonly attacker: TenantClient,
    private readonly victim: Victim,
    private readonly waitMs: number,
    private readonly rows: ProbeAttempt[],
    private readonly marker: (row: ProbeAttempt) => string,
  ) {
    this.label = attacker.label;
  }

  private row(kind: ProbeKind, target: string): ProbeAttempt {
    const row: ProbeAttempt = { by: this.label, kind, target, outcome: 'undenied' };
    this.rows.push(row);
    return row;
  }

  /** Subscribes to each victim subject (a queue group too): refused, and nothing the victim sends arrives. */
  async subscriptions(): Promise<void> {
    const ns = this.victim.tenant;
    const targets: Array<{ name: string; subject: string; sample: string | undefined }> = [
      ...victimSubjects(ns).map((target) => ({ ...target, sample: target.subject })),
      ...WILDCARDS(ns),
    ];
    for (const target of targets) await this.subscribeTo(target.name, target.subject, target.sample);
    await this.subscribeTo(
      'invoke queue group',
      subjects.invoke(ns, PROBE_AGENT),
      undefined,
      subjects.queueGroup(ns, PROBE_AGENT),
    );
  }

  private async subscribeTo(
    name: string,
    subject: string,
    sample: string | undefined,
    queue?: string,
  ): Promise<void> {
    const row = this.row('subscribe', `${name} (${subject}${queue ? ` queue ${queue}` : ''})`);
    const got: string[] = [];
    const connection = this.attacker.bus.connection;
    const sub = connection.subscribe(subject, {
      ...(queue ? { queue } : {}),
      callback: (error, message) => {
        if (!error) got.push(message.string());
      },
    });
    const denied = await this.attacker.deniedWithin('subscription', subject, this.waitMs);
    // The victim sends a secret where the subscription would hear it, and sees it arrive itself.
    if (sample !== undefined) {
      const secret = `${this.victim.secret}-sub`;
      const delivered = this.victim.seen.length;
      this.victim.operator.bus.publish(sample, secret);
      await eventually(() => this.victim.seen.slice(delivered).includes(secret), this.waitMs);
    }
    await connection.flush();
    if (!sub.isClosed()) sub.unsubscribe();
    row.outcome = got.some((text) => text.includes(this.victim.secret))
      ? 'read'
      : denied
        ? 'denied'
        : 'undenied';
  }

  /** Publishes on each victim subject: refused, and the victim's own message arrives where the attacker's does not. */
  async publications(): Promise<void> {
    for (const target of victimSubjects(this.victim.tenant)) {
      const row = this.row('publish', `${target.name} (${target.subject})`);
      const text = this.marker(row);
      this.attacker.bus.connection.publish(target.subject, text);
      const denied = await this.attacker.deniedWithin('publish', target.subject, this.waitMs);
      await this.victimControl(target.subject);
      row.outcome = this.victim.seen.includes(text) ? 'write' : denied ? 'denied' : 'undenied';
    }
  }

  /** The victim publishes on `subject` and sees it: anything the attacker got through would be in `seen` first. */
  private async victimControl(subject: string): Promise<void> {
    const control = `control-${randomBytes(4).toString('hex')}`;
    this.victim.operator.bus.publish(subject, control);
    await eventually(() => this.victim.seen.includes(control), this.waitMs);
  }

  /** The system account: its subjects and the server's monitoring requests. */
  async system(): Promise<void> {
    const connection = this.attacker.bus.connection;
    for (const subject of ['$SYS.REQ.SERVER.PING', `$SYS.REQ.ACCOUNT.${this.victim.tenant}.CONNZ`]) {
      const row = this.row('system', `request ${subject}`);
      await settle(row, connection.request(subject, '', { timeout: this.waitMs }), (reply) =>
        reply.string().length > 0 ? 'read' : 'isolated',
      );
    }
  }

  /** JetStream: every read and write of the victim's streams and buckets, through the attacker's own API. */
  async streams(): Promise<void> {
    const connection = this.attacker.bus.connection;
    const jsm = await jetstreamManager(connection, { timeout: this.waitMs, checkAPI: false });
    const js = jetstream(connection, { timeout: this.waitMs });
    const secret = this.victim.secret;
    const leaked = (value: unknown): ProbeOutcome =>
      JSON.stringify(value ?? null).includes(secret) ? 'read' : 'isolated';
    const directGets = new DirectGets(this.attacker, secret);
    for (const target of this.victim.streams) {
      const { stream } = target;
      await settle(this.row('stream-read', `info ${stream}`), jsm.streams.info(stream), () => 'read');
      await settle(
        this.row('stream-read', `get message 1 of ${stream}`),
        jsm.streams.getMessage(stream, { seq: 1 }),
        (m) => (m ? 'read' : 'isolated'),
      );
      directGets.ask(this.row('stream-read', `direct get ${target.subject}`), stream, target.subject);
      await settle(this.row('stream-read', `consume ${stream}`), readFirst(js, stream, this.waitMs), leaked);
      if (target.bucket !== undefined && target.key !== undefined) {
        const { bucket, key } = target;
        await settle(this.row('stream-read', `KV get ${bucket}/${key}`), kvGet(js, bucket, key), leaked);
        const putRow = this.row('stream-write', `KV put ${bucket}/${key}`);
        await settle(putRow, js.publish(`$KV.${bucket}.${key}`, this.marker(putRow)), () => 'isolated');
      } else {
        const row = this.row('stream-write', `publish ${target.subject}`);
        await settle(row, js.publish(target.subject, this.marker(row)), () => 'isolated');
      }
      await settle(this.row('stream-write', `purge ${stream}`), jsm.streams.purge(stream), () => 'write');
      await settle(this.row('stream-write', `delete ${stream}`), jsm.streams.delete(stream), () => 'write');
    }
    const invoke = this.victim.streams[0]?.stream as string;
    const consumer = `agent_${PROBE_AGENT}`;
    await settle(
      this.row('stream-write', `delete consumer ${invoke}/${consumer}`),
      jsm.consumers.delete(invoke, consumer),
      () => 'write',
    );
    // A stream of the attacker's own that claims the victim's subjects: its account's messages only.
    const journal = this.victim.streams.find((s) => s.stream.endsWith('_JOURNAL')) as VictimStream;
    const shadow = this.row('stream-read', `shadow stream on ${journal.subject}`);
    await settle(
      shadow,
      jsm.streams.add({ name: `SHADOW_${randomBytes(3).toString('hex')}`, subjects: [journal.subject] }),
      () => 'isolated',
    );
    await directGets.judge();
  }
}

/**
 * Direct gets, judged at the end of an attacker's session. JetStream answers a direct get only from a
 * stream that allows them: in an account without the stream nobody answers at all (not even "no
 * responders": the JetStream API is imported into every account). So the requests go out first, their
 * replies are collected on an inbox of the attacker's own, and every other attempt of the session runs
 * before they are judged — seconds in which a reply that was coming would have come.
 */
class DirectGets {
  private readonly inbox: string;
  private readonly replies = new Map<string, string[]>();
  private readonly asked: Array<{ row: ProbeAttempt; subject: string; token: string }> = [];

  constructor(
    private readonly attacker: TenantClient,
    private readonly secret: string,
  ) {
    this.inbox = attacker.bus.createInbox();
    attacker.bus.connection.subscribe(`${this.inbox}.*`, {
      callback: (error, message) => {
        if (error) return;
        const token = message.subject.slice(this.inbox.length + 1);
        this.replies.set(token, [...(this.replies.get(token) ?? []), message.string()]);
      },
    });
  }

  ask(row: ProbeAttempt, stream: string, subject: string): void {
    const request = `$JS.API.DIRECT.GET.${stream}.${subject}`;
    const token = String(this.asked.length + 1);
    this.asked.push({ row, subject: request, token });
    this.attacker.bus.connection.publish(request, '', { reply: `${this.inbox}.${token}` });
  }

  async judge(): Promise<void> {
    await this.attacker.bus.connection.flush();
    for (const { row, subject, token } of this.asked) {
      const got = this.replies.get(token) ?? [];
      const denied = this.attacker.denials.some((d) => d.operation === 'publish' && d.subject === subject);
      if (got.some((text) => text.includes(this.secret))) row.outcome = 'read';
      else if (denied) row.outcome = 'denied';
      else {
        row.outcome = 'isolated';
        row.detail = got.length > 0 ? 'answered from its own account' : 'no such stream in its account';
      }
    }
  }
}

/** Waits for an attempt and records how it ended; a refusal is `denied` (permissions) or `isolated`. */
async function settle<T>(
  row: ProbeAttempt,
  attempt: Promise<T>,
  onSuccess: (value: T) => ProbeOutcome,
): Promise<void> {
  try {
    row.outcome = onSuccess(await attempt);
  } catch (error) {
    const refusal: Refusal = refusalOf(error);
    row.outcome = refusal === 'permission' ? 'denied' : refusal === 'absent' ? 'isolated' : 'undenied';
    row.detail = refusal === 'other' ? String((error as Error)?.message ?? error).slice(0, 160) : refusal;
  }
}

async function readFirst(js: ReturnType<typeof jetstream>, stream: string, waitMs: number): Promise<unknown> {
  const consumer = await js.consumers.get(stream);
  try {
    const message = await consumer.next({ expires: Math.min(waitMs, 2_000) });
    return message?.string() ?? null;
  } finally {
    await consumer.delete().catch(() => undefined);
  }
}

async function kvGet(js: ReturnType<typeof jetstream>, bucket: string, key: string): Promise<unknown> {
  const kv = await new Kvm(js).open(bucket);
  const entry = await kv.get(key);
  return entry?.string() ?? null;
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

/** Inside the victim tenant: a worker may not publish kill or cancel, a caller may not publish kill. */
async function roleChecks(
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
    const denied = await client.deniedWithin('publish', subject, waitMs);
    const control = `control-${randomBytes(4).toString('hex')}`;
    victim.operator.bus.publish(subject, control);
    await eventually(() => victim.seen.includes(control), waitMs);
    row.outcome = victim.seen.includes(text) ? 'write' : denied ? 'denied' : 'undenied';
  }
}

/** Logins: no credentials, a wrong password, a user of one tenant with another's password. */
async function authAttempts(options: CrossTenantProbeOptions, rows: ProbeAttempt[]): Promise<void> {
  const victimUser = options.victim.caller.user;
  const attacker = options.attackers[0];
  const tries: Array<[string, { user?: string; pass?: string }]> = [
    ['no credentials', {}],
    [
      `${victimUser} with a wrong password`,
      { user: victimUser, pass: `${options.victim.caller.password}-wrong` },
    ],
  ];
  if (attacker)
    tries.push([
      `${victimUser} with ${attacker.user}'s password`,
      { user: victimUser, pass: attacker.password },
    ]);
  for (const [target, credentials] of tries) {
    const row: ProbeAttempt = {
      by: 'anyone',
      kind: 'auth',
      target: `log in: ${target}`,
      outcome: 'undenied',
    };
    rows.push(row);
    try {
      const connection = await connect({
        servers: options.url,
        ...credentials,
        reconnect: false,
        timeout: 10_000,
      });
      row.outcome = 'read';
      await connection.close();
    } catch (error) {
      row.outcome = /authoriz/i.test(String((error as Error)?.message)) ? 'denied' : 'undenied';
      row.detail = String((error as Error)?.message).slice(0, 120);
    }
  }
}

/**
 * After every attempt: the victim reads back every stream and bucket it has — each must still exist with
 * its records, hold no attacker marker, and its work-queue consumer must still be there; nothing the
 * attackers published reached its subjects, and its worker was never killed.
 */
async function findWrites(
  victim: Victim,
  rows: ProbeAttempt[],
  markers: Map<string, ProbeAttempt>,
  waitMs: number,
): Promise<void> {
  const jsm = await jetstreamManager(victim.operator.bus.connection, { timeout: waitMs, checkAPI: false });
  const texts = [...victim.seen];
  for (const target of victim.streams) {
    let info: Awaited<ReturnType<typeof jsm.streams.info>>;
    try {
      info = await jsm.streams.info(target.stream);
    } catch {
      rows.push({ by: 'victim', kind: 'stream-write', target: `${target.stream} is gone`, outcome: 'write' });
      continue;
    }
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && seq > 0; seq++) {
      const message = await jsm.streams.getMessage(target.stream, { seq }).catch(() => null);
      if (message) texts.push(message.string());
    }
  }
  const stillThere = await jsm.consumers
    .info(victim.streams[0]?.stream as string, `agent_${PROBE_AGENT}`)
    .then(
      () => true,
      () => false,
    );
  if (!stillThere)
    rows.push({
      by: 'victim',
      kind: 'stream-write',
      target: 'work-queue consumer is gone',
      outcome: 'write',
    });
  if (victim.served.killed)
    rows.push({ by: 'victim', kind: 'publish', target: 'worker was killed', outcome: 'write' });
  for (const [text, row] of markers) if (texts.some((seen) => seen.includes(text))) row.outcome = 'write';
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
