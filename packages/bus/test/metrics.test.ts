import { InProcessBus, listAgents, remoteAgent, serveAgent, subjects, watchDeadLetters } from '@baton/bus';
import { echoContract, waitUntil } from '@baton/bus/testing';
import { BatonMetric, bundleOf, defineAgent } from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  type DataPoint,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';

let exporter: InMemoryMetricExporter;
let reader: PeriodicExportingMetricReader;
let provider: MeterProvider;
const buses: InProcessBus[] = [];
beforeEach(() => {
  exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  provider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(provider);
});
afterEach(async () => {
  await Promise.all(buses.splice(0).map((bus) => bus.close()));
  metrics.disable();
  await provider.shutdown();
});

async function pointsOf(name: string): Promise<DataPoint<number>[]> {
  exporter.reset();
  await reader.forceFlush();
  const all = exporter
    .getMetrics()
    .flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics));
  return (all.find((metric) => metric.descriptor.name === name)?.dataPoints ?? []) as DataPoint<number>[];
}

function echo() {
  return defineAgent({
    name: 'echo',
    description: 'Echoes through the run loop',
    instructions: 'Answer with JSON {"text": ...}.',
    input: echoContract.input,
    output: z.object({ text: z.string() }),
    model: scriptedModel(() => ({ text: '{"text":"from the loop"}' })),
  });
}

describe('bus metrics and the served bundle', () => {
  it('a worker announces the bundle it serves, and counts the invocations it answers', async () => {
    const bus = new InProcessBus();
    buses.push(bus);
    const agent = echo();
    await serveAgent(bus, agent, { contract: echoContract, namespace: 'ns', heartbeatMs: 0 });
    const [info] = await listAgents(bus, { namespace: 'ns', timeoutMs: 300 });
    expect(info?.bundle).toBe(bundleOf(agent).hash);

    const remote = remoteAgent(bus, { name: 'echo', contract: echoContract, namespace: 'ns' });
    for (let i = 0; i < 2; i++) expect((await remote.run({ text: 'x' })).status).toBe('completed');
    const invocations = await pointsOf(BatonMetric.BUS_INVOCATIONS);
    expect(invocations).toHaveLength(1);
    expect(invocations[0]?.value).toBe(2);
    expect(invocations[0]?.attributes).toEqual({
      'gen_ai.agent.name': 'echo',
      'baton.run.status': 'completed',
      'baton.bundle': bundleOf(agent).hash,
    });
  });

  it('counts the messages it dead-letters, by error code', async () => {
    const bus = new InProcessBus();
    buses.push(bus);
    await serveAgent(bus, echo(), { contract: echoContract, namespace: 'ns', heartbeatMs: 0 });
    const letters: string[] = [];
    watchDeadLetters(bus, { namespace: 'ns' }, (letter) => letters.push(letter.error.code));
    bus.publish(subjects.invoke('ns', 'echo'), 'this is not an envelope');
    await waitUntil(() => letters.length === 1, 'the dead letter');
    const dead = await pointsOf(BatonMetric.BUS_DEAD_LETTERS);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.value).toBe(1);
    expect(dead[0]?.attributes).toEqual({ 'gen_ai.agent.name': 'echo', 'error.type': letters[0] });
  });
});
