import { BatonError } from '@baton/core';

export const DEFAULT_NAMESPACE = 'default';

/** One subject token: namespaces, agent names and run ids become subject segments, so no dots or wildcards. */
const TOKEN = /^[A-Za-z0-9_-]{1,128}$/;

export function isSubjectToken(value: unknown): value is string {
  return typeof value === 'string' && TOKEN.test(value);
}

/** Throws CONFIG_INVALID unless `value` is usable as one subject token. */
export function checkToken(where: string, field: string, value: unknown): string {
  if (!isSubjectToken(value)) {
    throw new BatonError('CONFIG_INVALID', `${where}: "${field}" must be 1–128 letters, digits, "_" or "-"`, {
      details: { field, value: typeof value === 'string' ? value : typeof value },
    });
  }
  return value;
}

export function resolveNamespace(where: string, namespace: string | undefined): string {
  return namespace === undefined ? DEFAULT_NAMESPACE : checkToken(where, 'namespace', namespace);
}

/**
 * Every subject Baton uses. `<ns>` is the tenant: `natsServerConfig` (tenancy/) puts each tenant in its own
 * NATS account and grants its users these subjects of their own namespace only.
 * Durable invocations use their own subject so a JetStream stream never captures (and acks) core requests.
 */
export const subjects = {
  invoke: (ns: string, agent: string) => `baton.${ns}.agent.${agent}.invoke`,
  /** Queue group shared by every worker of one agent. */
  queueGroup: (ns: string, agent: string) => `baton.${ns}.agent.${agent}`,
  durableInvoke: (ns: string, agent: string) => `baton.${ns}.agent.${agent}.durable`,
  /**
   * "What became of invocation X?", asked after a reconnect. No queue group: only the instance that ran
   * the invocation knows, so every instance hears the question and the others stay silent.
   */
  agentStatus: (ns: string, agent: string) => `baton.${ns}.agent.${agent}.status`,
  allDurableInvokes: (ns: string) => `baton.${ns}.agent.*.durable`,
  runEvents: (ns: string, runId: string) => `baton.${ns}.run.${runId}.events`,
  runCancel: (ns: string, runId: string) => `baton.${ns}.run.${runId}.cancel`,
  allRunCancels: (ns: string) => `baton.${ns}.run.*.cancel`,
  approval: (ns: string, runId: string) => `baton.${ns}.approval.${runId}`,
  kill: (ns: string) => `baton.${ns}.control.kill`,
  /** Heartbeats: workers announce themselves here. */
  registry: (ns: string) => `baton.${ns}.registry`,
  /** Discovery: a request here is answered by every live worker of the namespace. */
  registryQuery: (ns: string) => `baton.${ns}.registry.query`,
  deadLetter: (ns: string, agent: string) => `baton.${ns}.dlq.${agent}`,
  /** Remote members settle their usage into their caller's ledger here (one service per caller bus). */
  ledger: (ns: string, service: string) => `baton.${ns}.ledger.${service}`,
  allDeadLetters: (ns: string) => `baton.${ns}.dlq.>`,
  /** One run's journal: a single subject per run, so expected-last-subject-sequence fences its writers. */
  journal: (ns: string, runId: string) => `baton.${ns}.journal.${runId}`,
  allJournals: (ns: string) => `baton.${ns}.journal.*`,
  /** The audit log: one subject, so expected-last-subject-sequence keeps its one chain from forking. */
  audit: (ns: string) => `baton.${ns}.audit`,
  /**
   * Invocations routed to one bundle of an agent (rollout/): only workers serving that bundle take them.
   * A token after `invoke`, so `invoke(ns, '*')` grants never cover it by accident and tenancy grants it
   * on its own.
   */
  bundleInvoke: (ns: string, agent: string, bundle: string) => `baton.${ns}.agent.${agent}.invoke.${bundle}`,
  /** Queue group of the workers serving one bundle of an agent. */
  bundleQueueGroup: (ns: string, agent: string, bundle: string) =>
    `baton.${ns}.agent.${agent}.bundle.${bundle}`,
  /** Run outcomes `{ agent, bundle, status }` the rollout watcher judges a canary by. */
  rolloutOutcome: (ns: string, agent: string) => `baton.${ns}.rollout.outcome.${agent}`,
  allRolloutOutcomes: (ns: string) => `baton.${ns}.rollout.outcome.*`,
} as const;

/** JetStream stream and bucket names may not contain dots; namespaces are already restricted to tokens. */
export const jetstreamNames = {
  invokeStream: (ns: string) => `BATON_${ns}_INVOKE`,
  deadLetterStream: (ns: string) => `BATON_${ns}_DLQ`,
  resultsBucket: (ns: string) => `BATON_${ns}_RESULTS`,
  consumer: (agent: string) => `agent_${agent}`,
  journalStream: (ns: string) => `BATON_${ns}_JOURNAL`,
  approvalsBucket: (ns: string) => `BATON_${ns}_APPROVALS`,
  auditStream: (ns: string) => `BATON_${ns}_AUDIT`,
  /** Long-term memory (natsMemoryStore): one bucket per tenant, whatever the memory namespaces inside. */
  memoryBucket: (ns: string) => `BATON_${ns}_MEMORY`,
  /** Tool results and model responses (natsCacheStore), shared by every worker of the tenant. */
  cacheBucket: (ns: string) => `BATON_${ns}_CACHE`,
  /** Rollout pointers (rollout/): every role reads them, only operators write them. */
  rolloutBucket: (ns: string) => `BATON_${ns}_ROLLOUT`,
  /** The persistent kill switch (kill.ts): every role reads it, only operators write it. */
  controlBucket: (ns: string) => `BATON_${ns}_CONTROL`,
  /** Permits of the shared LLM semaphores (semaphore/): written by every worker and caller. */
  semaphoreBucket: (ns: string) => `BATON_${ns}_SEMAPHORE`,
} as const;

/** The KV bucket names of a namespace (their streams are `KV_<bucket>`, their subjects `$KV.<bucket>.>`). */
export function kvBuckets(ns: string): { results: string; approvals: string; memory: string; cache: string } {
  return {
    results: jetstreamNames.resultsBucket(ns),
    approvals: jetstreamNames.approvalsBucket(ns),
    memory: jetstreamNames.memoryBucket(ns),
    cache: jetstreamNames.cacheBucket(ns),
  };
}

/**
 * The coordination buckets of a namespace, apart from `kvBuckets` (which every role writes): the rollout
 * pointers and the kill switch are read by all and written by operators only; the semaphore is shared.
 */
export function coordinationBuckets(ns: string): { rollout: string; control: string; semaphore: string } {
  return {
    rollout: jetstreamNames.rolloutBucket(ns),
    control: jetstreamNames.controlBucket(ns),
    semaphore: jetstreamNames.semaphoreBucket(ns),
  };
}
