import { BatonMetric, bundleOf, GenAI, isAgent, lazyInstruments, MetricAttr } from '@baton/core';

const instruments = lazyInstruments('@baton/bus', (meter) => ({
  invocations: meter.createCounter(BatonMetric.BUS_INVOCATIONS, {
    description: 'Invocations a worker served over the bus, by agent and the status it answered with',
  }),
  deadLetters: meter.createCounter(BatonMetric.BUS_DEAD_LETTERS, {
    description: 'Messages the bus dead-lettered, by agent and error code',
  }),
}));

/** A worker answered an invocation (with a result, or a typed failure). */
export function countInvocation(agent: string, status: string, bundle: string | undefined): void {
  const m = instruments();
  if (m === undefined) return;
  m.invocations.add(
    1,
    bundle === undefined
      ? { [GenAI.AGENT_NAME]: agent, [MetricAttr.STATUS]: status }
      : { [GenAI.AGENT_NAME]: agent, [MetricAttr.STATUS]: status, [MetricAttr.BUNDLE]: bundle },
  );
}

/** A message was dead-lettered. */
export function countDeadLetter(agent: string, code: string): void {
  instruments()?.deadLetters.add(1, { [GenAI.AGENT_NAME]: agent, [MetricAttr.ERROR_TYPE]: code });
}

/**
 * The bundle a worker serves: an agent's own, a team's (teams built by `@baton/supervisor` carry
 * theirs), or none for anything else that runs like an agent.
 */
export function servedBundle(agent: unknown): string | undefined {
  if (isAgent(agent)) return bundleOf(agent).hash;
  const carried = (agent as { bundle?: unknown } | null)?.bundle;
  if (typeof carried === 'string') return carried;
  if (typeof carried === 'function') {
    const bundle = (carried as () => { hash?: unknown } | undefined)();
    return typeof bundle?.hash === 'string' ? bundle.hash : undefined;
  }
  return undefined;
}

/** `{ bundle }` for a registry entry, or nothing when the served agent has no bundle. */
export function bundleField(agent: unknown): { bundle?: string } {
  const bundle = servedBundle(agent);
  return bundle === undefined ? {} : { bundle };
}
