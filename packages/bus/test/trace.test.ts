import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Messaging, NatsBus, remoteAgent } from '@baton/bus';
import { echoContract, type NatsServer, startNatsServer, waitUntil } from '@baton/bus/testing';
import { Budget } from '@baton/core';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnWorker, type WorkerProcess } from './helpers.js';

interface ExportedSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  kind: number;
  attributes: Record<string, unknown>;
}

describe('one trace across processes', () => {
  let server: NatsServer;
  let worker: WorkerProcess;
  let bus: NatsBus;
  const exporter = new InMemorySpanExporter();
  const dir = mkdtempSync(join(tmpdir(), 'baton-trace-'));
  const traceFile = join(dir, 'worker-spans.jsonl');

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
    );
    server = await startNatsServer({ readyTimeoutMs: 30_000 });
    worker = spawnWorker({ url: server.url, instance: 'traced', namespace: 'tr', agent: 'core', traceFile });
    await worker.ready;
    bus = await NatsBus.connect({ servers: server.url, name: 'caller' });
  });
  afterAll(async () => {
    await worker?.kill();
    await bus?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    trace.disable();
    context.disable();
  });

  it("the worker's invoke_agent span sits under the caller's span", async () => {
    const remote = remoteAgent(bus, { name: 'echo', contract: echoContract, namespace: 'tr' });
    const tracer = trace.getTracer('test');
    const budget = new Budget({ maxTokens: 1_000 });
    const { result, team } = await tracer.startActiveSpan('invoke_workflow team', async (span) => {
      const outcome = await remote.run({ text: 'traced' }, { budget });
      span.end();
      return { result: outcome, team: span.spanContext() };
    });
    expect(result.status, JSON.stringify(result.error)).toBe('completed');
    expect(result.output).toEqual({ text: 'traced', by: 'traced' });
    expect(budget.used.tokens).toBe(18);
    expect(result.traceId).toBe(team.traceId);

    const send = exporter.getFinishedSpans().find((span) => span.kind === SpanKind.PRODUCER);
    expect(send?.name).toBe('send baton.tr.agent.echo.invoke');
    expect(send?.spanContext().traceId).toBe(team.traceId);
    expect(send?.parentSpanContext?.spanId).toBe(team.spanId);
    expect(send?.attributes).toMatchObject({
      [Messaging.SYSTEM]: 'nats',
      [Messaging.SYSTEM_NAME]: 'nats',
      [Messaging.DESTINATION]: 'baton.tr.agent.echo.invoke',
      [Messaging.OPERATION_TYPE]: 'send',
    });

    let spans: ExportedSpan[] = [];
    await waitUntil(
      () => {
        try {
          spans = readFileSync(traceFile, 'utf8')
            .trim()
            .split('\n')
            .map((line) => JSON.parse(line) as ExportedSpan);
        } catch {
          return false;
        }
        // Every span the assertions read: each is written as it ends, some after the reply went out.
        return ['invoke_agent', 'chat', 'process'].every((name) =>
          spans.some((span) => span.name.startsWith(name)),
        );
      },
      'the worker spans',
      20_000,
    );
    const processSpan = spans.find((span) => span.kind === SpanKind.CONSUMER);
    const invoke = spans.find((span) => span.name === 'invoke_agent echo');
    const chat = spans.find((span) => span.name.startsWith('chat'));
    expect(processSpan?.name).toBe('process baton.tr.agent.echo.invoke');
    expect(processSpan?.traceId).toBe(team.traceId);
    expect(processSpan?.parentSpanId).toBe(send?.spanContext().spanId);
    expect(processSpan?.attributes).toMatchObject({
      [Messaging.SYSTEM]: 'nats',
      [Messaging.CONSUMER_GROUP]: 'baton.tr.agent.echo',
      [Messaging.OPERATION_TYPE]: 'process',
      [Messaging.MESSAGE_ID]: send?.attributes[Messaging.MESSAGE_ID],
    });
    expect(invoke?.traceId).toBe(team.traceId);
    expect(invoke?.parentSpanId).toBe(processSpan?.spanId);
    expect(chat?.parentSpanId).toBe(invoke?.spanId);
    expect(result.spanId).toBe(invoke?.spanId);
  });
});
