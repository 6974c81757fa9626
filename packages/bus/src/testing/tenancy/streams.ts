import { randomBytes } from 'node:crypto';
import { type JetStreamClient, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { jetstreamNames } from '../../subjects.js';
import { type Refusal, refusalOf, type TenantClient } from './client.js';
import { leaks, type ProbeAttempt, type ProbeOutcome, type ProbeSession } from './types.js';
import { PROBE_AGENT, type VictimStream } from './victim.js';

/**
 * JetStream: every read and write of the victim's streams and buckets, through the attacker's own
 * JetStream API. A success is judged by what it touched: only the victim's own stream (same creation
 * time, same first message) makes a read, only a change to the victim's stream makes a write — the same
 * call may well succeed on a stream of that name in the attacker's own account, which is isolation.
 */
export async function streams(session: ProbeSession): Promise<void> {
  const { attacker, victim, waitMs } = session;
  const connection = attacker.bus.connection;
  const jsm = await jetstreamManager(connection, { timeout: waitMs, checkAPI: false });
  const js = jetstream(connection, { timeout: waitMs });
  const directGets = new DirectGets(attacker, victim.secret);
  const theVictims = (target: VictimStream) => (text: unknown) =>
    leaks(text, victim.secret) || (typeof text === 'string' && text === target.first) ? 'read' : 'isolated';
  const changed = (target: VictimStream) => async (): Promise<ProbeOutcome> =>
    (await victim.intact(target)) ? 'isolated' : 'write';
  for (const target of victim.streams) {
    const { stream } = target;
    await settle(session.row('stream-read', `info ${stream}`), jsm.streams.info(stream), (info) =>
      info.created === target.created ? 'read' : 'isolated',
    );
    await settle(
      session.row('stream-read', `get message ${target.firstSeq} of ${stream}`),
      jsm.streams.getMessage(stream, { seq: target.firstSeq }).then((m) => m?.string() ?? null),
      theVictims(target),
    );
    directGets.ask(session.row('stream-read', `direct get ${target.subject}`), stream, target.subject);
    await settle(
      session.row('stream-read', `consume ${stream}`),
      readFirst(js, stream, waitMs),
      theVictims(target),
    );
    if (target.bucket !== undefined && target.key !== undefined) {
      const { bucket, key } = target;
      await settle(
        session.row('stream-read', `KV get ${bucket}/${key}`),
        kvGet(js, bucket, key),
        theVictims(target),
      );
      const put = session.row('stream-write', `KV put ${bucket}/${key}`);
      await settle(put, js.publish(`$KV.${bucket}.${key}`, session.marker(put)), () => 'isolated');
    } else {
      const row = session.row('stream-write', `publish ${target.subject}`);
      await settle(row, js.publish(target.subject, session.marker(row)), () => 'isolated');
    }
    await settleAsync(
      session.row('stream-write', `purge ${stream}`),
      jsm.streams.purge(stream),
      changed(target),
    );
    await settleAsync(
      session.row('stream-write', `delete ${stream}`),
      jsm.streams.delete(stream),
      changed(target),
    );
  }
  const invoke = jetstreamNames.invokeStream(victim.tenant);
  const consumer = jetstreamNames.consumer(PROBE_AGENT);
  await settleAsync(
    session.row('stream-write', `delete consumer ${invoke}/${consumer}`),
    jsm.consumers.delete(invoke, consumer),
    async () => ((await victim.consumerIntact()) ? 'isolated' : 'write'),
  );
  // A stream of the attacker's own that claims the victim's subjects: its account's messages only.
  const journal = victim.streams.find((s) => s.stream === jetstreamNames.journalStream(victim.tenant));
  if (journal) {
    const shadow = `SHADOW_${randomBytes(3).toString('hex')}`;
    await settle(
      session.row('stream-read', `shadow stream on ${journal.subject}`),
      jsm.streams.add({ name: shadow, subjects: [journal.subject] }),
      () => 'isolated',
    );
    // Gone again, so the API attempts after this one meet an account as the victim's name left it.
    await jsm.streams.delete(shadow).catch(() => undefined);
  }
  await directGets.judge();
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
      if (got.some((text) => leaks(text, this.secret))) row.outcome = 'read';
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
  await settleAsync(row, attempt, async (value) => onSuccess(value));
}

async function settleAsync<T>(
  row: ProbeAttempt,
  attempt: Promise<T>,
  onSuccess: (value: T) => Promise<ProbeOutcome>,
): Promise<void> {
  let value: T;
  try {
    value = await attempt;
  } catch (error) {
    const refusal: Refusal = refusalOf(error);
    row.outcome = refusal === 'permission' ? 'denied' : refusal === 'absent' ? 'isolated' : 'undenied';
    row.detail = refusal === 'other' ? String((error as Error)?.message ?? error).slice(0, 160) : refusal;
    return;
  }
  row.outcome = await onSuccess(value);
  if (row.outcome === 'isolated') row.detail = 'succeeded in its own account';
}

async function readFirst(js: JetStreamClient, stream: string, waitMs: number): Promise<string | null> {
  const consumer = await js.consumers.get(stream);
  try {
    const message = await consumer.next({ expires: Math.min(waitMs, 2_000) });
    return message?.string() ?? null;
  } finally {
    await consumer.delete().catch(() => undefined);
  }
}

async function kvGet(js: JetStreamClient, bucket: string, key: string): Promise<string | null> {
  const kv = await new Kvm(js).open(bucket);
  const entry = await kv.get(key);
  return entry?.string() ?? null;
}
