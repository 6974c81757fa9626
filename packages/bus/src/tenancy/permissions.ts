import { coordinationBuckets, jetstreamNames, kvBuckets, subjects } from '../subjects.js';
import type { TenantRole } from './schema.js';

/** Where a tenant's clients receive replies: `NatsBus.connect({ inboxPrefix })` for its users. */
export function tenantInboxPrefix(namespace: string): string {
  return `_INBOX_${namespace}`;
}

/**
 * The subjects one user may publish and subscribe to (nats-server `permissions`). `allowResponses`
 * lets it answer the requests it receives — and only those — without a grant on the requester's inbox.
 */
export interface SubjectPermissions {
  publish: { allow: string[]; deny: string[] };
  subscribe: { allow: string[]; deny: string[] };
  allowResponses: boolean;
}

type Access = 'consume' | 'read' | 'write';

/**
 * The JetStream API of one stream, as much of it as `access` needs (nats.js v3 against nats-server 2.9+).
 * Reading is info, direct and stored-message gets, and the ephemeral (ordered) consumers reads and KV key
 * listings make and delete; consuming adds the durable work-queue consumer and its acks. Creating the
 * stream is allowed because Baton's components create what they use on first start; deleting, purging
 * (but see `memoryAccess`), editing messages or changing a stream's configuration is left to operators.
 */
function streamApi(stream: string, access: Access): string[] {
  const api = [
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.CREATE.${stream}`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    `$JS.API.CONSUMER.CREATE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.>`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.>`,
    `$JS.API.CONSUMER.DELETE.${stream}.>`,
    `$JS.ACK.${stream}.>`,
    `$JS.FC.${stream}.>`,
  ];
  if (access === 'consume') api.push(`$JS.API.CONSUMER.DURABLE.CREATE.${stream}.>`);
  return api;
}

/** A KV bucket: its stream's API and its key subjects (puts, creates, purges are publishes there). */
function bucketAccess(bucket: string): string[] {
  return [...streamApi(`KV_${bucket}`, 'write'), `$KV.${bucket}.>`];
}

/**
 * A bucket every role reads (gets, key listings, watches) but only operators write: the rollout pointers
 * and the kill flags. No `$KV.<bucket>.>` publish: a put, create, delete or purge is a publish there, so
 * the server refuses it (BUS_PERMISSION_DENIED). Creating the empty bucket stays allowed, so a worker
 * started before any operator wrote can watch it.
 */
function bucketReadAccess(bucket: string): string[] {
  return streamApi(`KV_${bucket}`, 'read');
}

/**
 * The memory bucket may also be purged by subject: erasing a person (`forgetSubject`, opt-out, delete)
 * then leaves nothing, where a KV purge would leave a marker per key. It adds no power over the data —
 * whoever writes the bucket can already purge every key of it — only the completeness of an erasure.
 */
function memoryAccess(bucket: string): string[] {
  return [...bucketAccess(bucket), `$JS.API.STREAM.PURGE.KV_${bucket}`];
}

/**
 * Least privilege per role in tenant `ns`. Everything is named under `baton.<ns>.`, `_INBOX_<ns>` and
 * the tenant's own streams and buckets, and the account is the tenant's own: a user can reach nothing of
 * another tenant even where a grant would match (`$JS.API` is per account).
 *
 * - **worker**: takes invocations (queue group), hears cancels, the kill switch, registry and status
 *   queries; publishes heartbeats, run events, dead letters, ledger settlements; answers what it is asked
 *   (`allow_responses`), and publishes durable replies only into the tenant's durable inboxes (the
 *   reply subject of a durable invocation is a header a caller wrote: the grant bounds where it can
 *   point). It consumes the durable work queue and writes the journal, approvals, audit, memory and
 *   the tool cache. It may NOT publish kill or cancel: a worker runs model-driven tools and must not
 *   stop others' work.
 * - **caller**: invokes agents (core and durable), asks about its calls after a reconnect, follows run
 *   events, cancels runs (a caller's abort must reach the remote run: the one-cancel promise), discovers
 *   workers, settles remote members' usage into its ledger, and keeps team journals, approvals, audit,
 *   memory and the tool cache. It may not publish kill. Its cancel grant covers every run of its
 *   tenant, not just its own: permissions in a configuration file cannot tie a subject to the user who
 *   started the run.
 * - **operator**: every Baton subject of the tenant, kill included, and the tenant's whole JetStream API
 *   (streams and buckets: create, delete, purge).
 *
 * Rollout and the persistent kill switch: workers and callers read the rollout pointers and the kill
 * flags (KV) but may not write them — promoting, rolling back, killing and unkilling are the operator's;
 * the rollout watcher runs as an operator. Workers take bundle-routed invocations, callers send them and
 * report run outcomes; both share the LLM semaphore bucket.
 */
export function rolePermissions(ns: string, role: TenantRole): SubjectPermissions {
  const inbox = tenantInboxPrefix(ns);
  const names = jetstreamNames;
  const buckets = kvBuckets(ns);
  const coordination = coordinationBuckets(ns);
  const shared = {
    journal: [subjects.allJournals(ns), ...streamApi(names.journalStream(ns), 'write')],
    audit: [subjects.audit(ns), ...streamApi(names.auditStream(ns), 'write')],
    kv: [
      ...bucketAccess(buckets.results),
      ...bucketAccess(buckets.approvals),
      ...memoryAccess(buckets.memory),
      ...bucketAccess(buckets.cache),
      // The LLM semaphore: every worker and caller takes and gives back permits.
      ...bucketAccess(coordination.semaphore),
      ...bucketReadAccess(coordination.rollout),
      ...bucketReadAccess(coordination.control),
    ],
  };
  switch (role) {
    case 'worker':
      return {
        publish: {
          allow: [
            subjects.registry(ns),
            subjects.runEvents(ns, '*'),
            subjects.allDeadLetters(ns),
            subjects.allRolloutOutcomes(ns),
            `${subjects.ledger(ns, '*')}.*`,
            `${durableInboxPrefix(inbox)}.>`,
            '$JS.API.INFO',
            ...streamApi(names.invokeStream(ns), 'consume'),
            ...streamApi(names.deadLetterStream(ns), 'write'),
            ...shared.journal,
            ...shared.audit,
            ...shared.kv,
          ],
          deny: [subjects.kill(ns), subjects.allRunCancels(ns)],
        },
        subscribe: {
          allow: [
            subjects.invoke(ns, '*'),
            subjects.bundleInvoke(ns, '*', '*'),
            subjects.agentStatus(ns, '*'),
            subjects.allRunCancels(ns),
            subjects.kill(ns),
            subjects.registryQuery(ns),
            `${inbox}.>`,
          ],
          deny: [],
        },
        allowResponses: true,
      };
    case 'caller':
      return {
        publish: {
          allow: [
            // A2A (@baton/a2a): tasks in BATON_<ns>_A2A_TASKS, their events and cancels between gateways.
            ...bucketAccess(`BATON_${ns}_A2A_TASKS`),
            `baton.${ns}.a2a.>`,
            subjects.invoke(ns, '*'),
            subjects.bundleInvoke(ns, '*', '*'),
            subjects.allRolloutOutcomes(ns),
            subjects.durableInvoke(ns, '*'),
            subjects.agentStatus(ns, '*'),
            subjects.allRunCancels(ns),
            subjects.registryQuery(ns),
            '$JS.API.INFO',
            ...shared.journal,
            ...shared.audit,
            ...shared.kv,
          ],
          deny: [subjects.kill(ns)],
        },
        subscribe: {
          allow: [
            `baton.${ns}.a2a.>`,
            subjects.runEvents(ns, '*'),
            subjects.registry(ns),
            `${subjects.ledger(ns, '*')}.*`,
            `${inbox}.>`,
          ],
          deny: [],
        },
        allowResponses: true,
      };
    case 'operator':
      return {
        // Replies go to the tenant's inboxes by grant, so no response tracking is needed.
        publish: {
          allow: [`baton.${ns}.>`, `${inbox}.>`, '$JS.API.>', '$JS.ACK.>', '$JS.FC.>', '$KV.>'],
          deny: [],
        },
        subscribe: { allow: [`baton.${ns}.>`, `${inbox}.>`], deny: [] },
        allowResponses: false,
      };
  }
}

/** Durable replies land under `<inbox prefix>.durable`: the only inboxes a worker may publish to by grant. */
export function durableInboxPrefix(inboxPrefix: string | undefined): string {
  return `${inboxPrefix ?? '_INBOX'}.durable`;
}

/**
 * True when every subject `pattern` matches is matched by `grant` too (both may hold `*` and `>`).
 */
export function covers(grant: string, pattern: string): boolean {
  const granted = grant.split('.');
  const wanted = pattern.split('.');
  for (let index = 0; index < granted.length; index++) {
    const token = granted[index];
    if (token === '>') return index < wanted.length;
    const asked = wanted[index];
    if (asked === undefined || asked === '>') return false;
    if (token !== '*' && token !== asked) return false;
  }
  return granted.length === wanted.length;
}

/**
 * The union of several roles' permissions (a user with more than one role). A role's deny only sharpens
 * that role's own allow-list, so it is kept only while no other role of the user may do it.
 */
export function mergePermissions(all: readonly SubjectPermissions[]): SubjectPermissions {
  const permits = (side: 'publish' | 'subscribe', subject: string) =>
    all.some(
      (p) =>
        p[side].allow.some((grant) => covers(grant, subject)) &&
        !p[side].deny.some((denied) => covers(denied, subject)),
    );
  const union = (side: 'publish' | 'subscribe') => ({
    allow: withoutCovered([...new Set(all.flatMap((p) => p[side].allow))]),
    deny: [...new Set(all.flatMap((p) => p[side].deny))].filter((subject) => !permits(side, subject)),
  });
  return {
    publish: union('publish'),
    subscribe: union('subscribe'),
    allowResponses: all.some((p) => p.allowResponses),
  };
}

/** The grants no other one covers: an operator who is also a caller gets `baton.<ns>.>`, not 80 more. */
function withoutCovered(grants: readonly string[]): string[] {
  return grants.filter((grant, index) =>
    grants.every(
      (other, at) => at === index || !covers(other, grant) || (covers(grant, other) && at > index),
    ),
  );
}
