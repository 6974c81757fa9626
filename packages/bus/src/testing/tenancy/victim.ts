import { randomBytes } from 'node:crypto';
import { createAuditLog, type MemoryStore } from '@baton/core';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { remoteAgent } from '../../agent/remote.js';
import { serveAgent } from '../../agent/serve.js';
import type { AgentWorker } from '../../agent/worker-options.js';
import { natsAuditSink } from '../../audit/jetstream-sink.js';
import { natsCacheStore } from '../../cache/nats-cache-store.js';
import { natsApprovals } from '../../durable/approvals.js';
import { natsJournal } from '../../durable/journal.js';
import { natsMemoryStore } from '../../memory/nats-kv-store.js';
import { jetstreamNames, kvBuckets, subjects } from '../../subjects.js';
import type { BusSubscription } from '../../transport/types.js';
import { echoAgent, echoContract } from '../agents.js';
import { eventually, TenantClient, type TenantCredentials } from './client.js';

/** The agent and run every probe aims at. */
export const PROBE_AGENT = 'echo';
export const PROBE_RUN = 'probe-run';
/** An agent nobody serves: its durable invocation waits in the work queue, holding the secret. */
const IDLE_AGENT = 'idle';

/** One JetStream stream of the victim tenant, and a subject its records are stored under. */
export interface VictimStream {
  stream: string;
  subject: string;
  /** Its KV bucket, when it is one. */
  bucket?: string;
  key?: string;
  /** When the stream was created (from its info): a stream of the same name elsewhere differs. */
  created: string;
  firstSeq: number;
  lastSeq: number;
  /** Its first message, as text. */
  first: string;
}

/**
 * The tenant under attack, set up through Baton's own APIs by its own users — which is also the proof
 * that each role can do its job: a durable worker serves `echo` (journal, approvals, audit), a caller
 * invokes it durably, keeps a journal, asks for an approval, audits and remembers. Every record holds
 * `secret`, so a read by another tenant shows up as the secret in what it got back. The operator
 * watches every Baton subject and inbox of the tenant (`seen`): a write by another tenant shows up there.
 */
export class Victim {
  readonly secret = `secret-${randomBytes(6).toString('hex')}`;
  /** Everything published on `baton.<ns>.>` and `_INBOX_<ns>.>` since setup, as text. */
  readonly seen: string[] = [];
  private readonly watches: BusSubscription[] = [];

  private constructor(
    readonly operator: TenantClient,
    readonly worker: TenantClient,
    readonly caller: TenantClient,
    readonly served: AgentWorker,
  ) {}

  get tenant(): string {
    return this.operator.tenant;
  }

  static async setUp(
    url: string,
    users: { operator: TenantCredentials; worker: TenantCredentials; caller: TenantCredentials },
  ): Promise<Victim> {
    const [operator, worker, caller] = await Promise.all([
      TenantClient.connect(url, users.operator),
      TenantClient.connect(url, users.worker),
      TenantClient.connect(url, users.caller),
    ]);
    const namespace = operator.tenant;
    const limits = { maxBytes: 8 * 1024 * 1024, timeoutMs: 10_000 };
    const served = await serveAgent(worker.bus, echoAgent({ name: PROBE_AGENT }), {
      contract: echoContract,
      namespace,
      durable: { ackWaitMs: 5_000 },
      heartbeatMs: 0,
      journal: natsJournal(worker.bus, { namespace, ...limits }),
      approvals: natsApprovals(worker.bus, { namespace }),
    });
    const victim = new Victim(operator, worker, caller, served);
    await victim.record(namespace, limits);
    await victim.locate();
    for (const pattern of [`baton.${namespace}.>`, `_INBOX_${namespace}.>`]) {
      victim.watches.push(operator.bus.subscribe(pattern, (message) => victim.seen.push(message.string())));
    }
    await operator.bus.flush();
    return victim;
  }

  /** Writes the secret everywhere the tenant keeps data, as its caller (and the operator for the DLQ). */
  private async record(namespace: string, limits: { maxBytes: number; timeoutMs: number }): Promise<void> {
    const bus = this.caller.bus;
    const durable = remoteAgent(bus, {
      name: PROBE_AGENT,
      contract: echoContract,
      namespace,
      durable: true,
      timeoutMs: 30_000,
    });
    const reply = await durable.run({ text: this.secret });
    if (reply.status !== 'completed') throw new Error(`victim durable call: ${JSON.stringify(reply.error)}`);
    // Done means acknowledged too: until then the work queue's first message may still change.
    const jsm = await jetstreamManager(this.operator.bus.connection, { checkAPI: false });
    const settled = await eventually(async () => {
      const info = await jsm.consumers.info(
        jetstreamNames.invokeStream(namespace),
        jetstreamNames.consumer(PROBE_AGENT),
      );
      return info.num_ack_pending === 0 && info.num_pending === 0;
    }, limits.timeoutMs);
    if (!settled) throw new Error("the victim's durable call was not acknowledged");
    // The work queue forgets what was done: an invocation for an agent nobody serves stays in it.
    await jetstream(bus.connection).publish(subjects.durableInvoke(namespace, IDLE_AGENT), this.secret);
    const writer = await natsJournal(bus, { namespace, ...limits }).open(PROBE_RUN, 'victim');
    await writer.append({
      type: 'model.step',
      at: Date.now(),
      elapsedMs: 1,
      step: 1,
      response: { text: this.secret, toolCalls: [], model: 'm', finishReason: 'stop' },
    });
    await natsApprovals(bus, { namespace }).request({
      runId: PROBE_RUN,
      toolCallId: 'call-1',
      agent: PROBE_AGENT,
      tool: 'wire_money',
      risk: 'destructive',
      reason: 'risk',
      args: { note: this.secret },
      requestedAt: Date.now(),
    });
    const audit = createAuditLog({ sink: natsAuditSink(bus, { namespace, timeoutMs: limits.timeoutMs }) });
    await audit.record({
      kind: 'tool.call',
      agent: PROBE_AGENT,
      runId: PROBE_RUN,
      tool: 'wire_money',
      toolCallId: 'call-1',
      args: { note: this.secret },
      outcome: 'ok',
    });
    await natsCacheStore(bus, { namespace, maxBytes: 1024 * 1024 }).set(
      'tool/search/probe',
      { note: this.secret },
      { ttlMs: 3_600_000 },
    );
    const memory: MemoryStore = await natsMemoryStore(bus, { namespace });
    await memory.put({ tenant: namespace, user: 'user-1' }, 'fact', this.secret);
    this.operator.bus.publish(
      subjects.deadLetter(namespace, PROBE_AGENT),
      JSON.stringify({ note: this.secret }),
    );
    await this.operator.bus.flush();
  }

  /** The tenant's streams and buckets, each with a subject (or key) that holds the secret. */
  streams: VictimStream[] = [];

  /** Finds the stored subject of every record: KV keys are the bucket's own encoding, read back here. */
  private async locate(): Promise<void> {
    const ns = this.tenant;
    const buckets = kvBuckets(ns);
    const kvm = new Kvm(this.operator.bus.connection);
    const firstKey = async (bucket: string): Promise<string> => {
      for await (const key of await (await kvm.open(bucket)).keys()) return key;
      throw new Error(`the victim's bucket ${bucket} is empty`);
    };
    const kv = async (bucket: string) => {
      const key = await firstKey(bucket);
      return this.stream(`KV_${bucket}`, `$KV.${bucket}.${key}`, { bucket, key });
    };
    this.streams = [
      await this.stream(jetstreamNames.invokeStream(ns), subjects.durableInvoke(ns, IDLE_AGENT)),
      await this.stream(jetstreamNames.deadLetterStream(ns), subjects.deadLetter(ns, PROBE_AGENT)),
      await this.stream(jetstreamNames.journalStream(ns), subjects.journal(ns, PROBE_RUN)),
      await this.stream(jetstreamNames.auditStream(ns), subjects.audit(ns)),
      await kv(buckets.results),
      await kv(buckets.approvals),
      await kv(buckets.memory),
      await kv(buckets.cache),
    ];
    this.consumerName = jetstreamNames.consumer(PROBE_AGENT);
    await this.consumerIntact();
  }

  private consumerName = '';

  private async stream(
    stream: string,
    subject: string,
    kv: { bucket?: string; key?: string } = {},
  ): Promise<VictimStream> {
    const jsm = await jetstreamManager(this.operator.bus.connection, { checkAPI: false });
    const info = await jsm.streams.info(stream);
    const first = await jsm.streams.getMessage(stream, { seq: info.state.first_seq }).catch(() => null);
    return {
      stream,
      subject,
      ...kv,
      created: info.created,
      firstSeq: info.state.first_seq,
      lastSeq: info.state.last_seq,
      first: first?.string() ?? '',
    };
  }

  /**
   * True while `target` is the stream it was: same creation, same first message, nothing removed. A
   * purge, a delete (and a re-creation) or a removed message all show here.
   */
  async intact(target: VictimStream): Promise<boolean> {
    try {
      const jsm = await jetstreamManager(this.operator.bus.connection, { checkAPI: false });
      const info = await jsm.streams.info(target.stream);
      const first = await jsm.streams.getMessage(target.stream, { seq: target.firstSeq }).catch(() => null);
      return (
        info.created === target.created &&
        info.state.first_seq === target.firstSeq &&
        info.state.last_seq >= target.lastSeq &&
        (first?.string() ?? '') === target.first
      );
    } catch {
      return false;
    }
  }

  /** True while the durable work queue's consumer is still there. */
  async consumerIntact(): Promise<boolean> {
    const jsm = await jetstreamManager(this.operator.bus.connection, { checkAPI: false });
    const invoke = jetstreamNames.invokeStream(this.tenant);
    return jsm.consumers.info(invoke, this.consumerName).then(
      () => true,
      () => false,
    );
  }

  async close(): Promise<void> {
    for (const watch of this.watches) watch.unsubscribe();
    await this.served.stop();
    await Promise.all([this.operator.close(), this.worker.close(), this.caller.close()]);
  }
}
