import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatonError } from '@baton/core';
import { researchTeam } from '@baton/teams';
import {
  createOtlpSpanExporter,
  otlpSettings,
  startTracing,
  type WarnOnceSpanExporter,
} from '@baton/telemetry';
import { context, propagation, trace } from '@opentelemetry/api';
import { BasicTracerProvider, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeJsonRequest, decodeProtobufRequest, type WireSpan } from './otlp-wire.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A local OTLP/HTTP collector: records every request and answers with `status` (200 by default). */
class Collector {
  readonly received: Received[] = [];
  status = 200;
  /** Answer nothing at all (a hung collector). */
  hang = false;
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.received.push({
          path: request.url ?? '',
          headers: request.headers,
          body: Buffer.concat(chunks),
        });
        if (this.hang) return;
        response.writeHead(this.status, { 'content-type': 'application/json' });
        response.end(this.status === 200 ? '{}' : '{"code":13,"message":"collector broken"}');
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  spans(): WireSpan[] {
    return this.received.flatMap((request) =>
      request.headers['content-type'] === 'application/json'
        ? decodeJsonRequest(request.body.toString('utf8'))
        : decodeProtobufRequest(request.body),
    );
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

const version = (name: string) =>
  (
    JSON.parse(readFileSync(new URL(`../../${name}/package.json`, import.meta.url), 'utf8')) as {
      version: string;
    }
  ).version;

describe('OTLP export through startTracing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-otlp-'));
  const collector = new Collector();
  beforeAll(async () => {
    await collector.start();
  });
  afterEach(() => {
    // Each test starts its own SDK: the previous one's global registrations go first.
    trace.disable();
    context.disable();
    propagation.disable();
    collector.received.length = 0;
    collector.status = 200;
    collector.hang = false;
  });
  afterAll(async () => {
    await collector.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * The packages' own tracers bind to the first SDK registered in this process (OpenTelemetry's proxy
   * tracers keep their first delegate), so only the first test relies on them; the later ones, each with
   * an SDK of their own, hand the team a tracer of that SDK.
   */
  async function runTeam(env: Record<string, string>, own: boolean, warnings: string[] = []) {
    const tracing = await startTracing({
      serviceName: 'otlp-test',
      dir,
      env,
      warn: (line) => warnings.push(line),
      retention: false,
    });
    const result = await researchTeam().run(
      { topic: 'structured output' },
      own ? { sessionId: 'session-42', tracer: trace.getTracer('otlp-test') } : { sessionId: 'session-42' },
    );
    await tracing.shutdown(10_000);
    return { tracing, result, warnings };
  }

  it('sends http/protobuf by default: GenAI spans, a CLIENT chat span, one scope per package, the conversation id', async () => {
    const { tracing, result, warnings } = await runTeam(
      { OTEL_EXPORTER_OTLP_ENDPOINT: `${collector.url}/` },
      false,
    );
    expect(result.status).toBe('completed');
    expect(tracing.otlpProtocol).toBe('http/protobuf');
    expect(tracing.otlpEndpoint).toBe(`${collector.url}/v1/traces`);
    expect(warnings).toEqual([]);

    expect(collector.received.length).toBeGreaterThan(0);
    for (const request of collector.received) {
      expect(request.path).toBe('/v1/traces');
      expect(request.headers['content-type']).toBe('application/x-protobuf');
    }
    const spans = collector.spans();
    expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([result.traceId]));
    expect(spans.every((span) => span.resource['service.name'] === 'otlp-test')).toBe(true);

    const workflow = spans.find((span) => span.name === 'invoke_workflow research');
    expect(workflow?.parentSpanId).toBe('');
    expect(workflow?.attributes).toMatchObject({
      'gen_ai.operation.name': 'invoke_workflow',
      'baton.team': 'research',
      'baton.run.status': 'completed',
      'gen_ai.conversation.id': 'session-42',
    });
    expect(workflow?.scope).toEqual({ name: '@baton/supervisor', version: version('supervisor') });

    const agents = spans.filter((span) => span.name.startsWith('invoke_agent '));
    expect(new Set(agents.map((span) => span.attributes['gen_ai.agent.name']))).toEqual(
      new Set(['researcher', 'writer', 'reviewer']),
    );
    const chats = spans.filter((span) => span.name.startsWith('chat '));
    expect(chats.length).toBeGreaterThanOrEqual(7);
    const tools = spans.filter((span) => span.name.startsWith('execute_tool '));
    expect(tools.map((span) => span.name)).toContain('execute_tool search_corpus');
    for (const span of [...agents, ...chats, ...tools]) {
      expect(span.scope, span.name).toEqual({ name: '@baton/core', version: version('core') });
      expect(span.attributes['gen_ai.conversation.id'], span.name).toBe('session-42');
    }
    // SPAN_KIND_CLIENT (3) for the calls to the model, INTERNAL (1) for agents and tools.
    expect(new Set(chats.map((span) => span.kind))).toEqual(new Set([3]));
    expect(chats[0]?.attributes['gen_ai.operation.name']).toBe('chat');
    expect(typeof chats[0]?.attributes['gen_ai.usage.input_tokens']).toBe('number');
    expect(new Set([...agents, ...tools].map((span) => span.kind))).toEqual(new Set([1]));
  });

  it('sends http/json when OTEL_EXPORTER_OTLP_TRACES_PROTOCOL says so, to a traces endpoint used as given', async () => {
    const { tracing, result } = await runTeam(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9/ignored',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.url}/custom/traces`,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      },
      true,
    );
    expect(tracing.otlpProtocol).toBe('http/json');
    for (const request of collector.received) {
      expect(request.path).toBe('/custom/traces');
      expect(request.headers['content-type']).toBe('application/json');
    }
    const spans = collector.spans();
    expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([result.traceId]));
    const names = spans.map((span) => span.name);
    expect(names).toContain('invoke_workflow research');
    expect(names).toContain('execute_tool read_document');
    const chat = spans.find((span) => span.name.startsWith('chat '));
    expect(chat?.kind).toBe(3);
    expect(chat?.attributes['gen_ai.conversation.id']).toBe('session-42');
    expect(tracing.otlpStats()).toMatchObject({ exportedSpans: spans.length, failedExports: 0 });
  });

  it('a hung collector does not hold the exit: shutdown gives up after its bound', async () => {
    collector.hang = true;
    const tracing = await startTracing({
      serviceName: 'otlp-test',
      dir,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_EXPORTER_OTLP_TIMEOUT: '60000' },
      warn: () => {},
      retention: false,
    });
    await researchTeam().run({ topic: 'structured output' }, { tracer: trace.getTracer('otlp-test') });
    const started = performance.now();
    await tracing.shutdown(300);
    // Far below the exporter's own 60 s timeout; a wide margin for a busy machine.
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(collector.received.length).toBeGreaterThan(0);
  });
});

describe('a failing collector is reported once', () => {
  const collector = new Collector();
  beforeAll(async () => {
    await collector.start();
  });
  afterAll(() => collector.stop());

  /** Exports `count` batches of one span at once (a down collector makes each take its retries). */
  async function exportConcurrently(exporter: WarnOnceSpanExporter, count: number): Promise<void> {
    const spans: ReadableSpan[] = [];
    const provider = new BasicTracerProvider({
      spanProcessors: [
        {
          onStart: () => {},
          onEnd: (span) => spans.push(span),
          forceFlush: async () => {},
          shutdown: async () => {},
        },
      ],
    });
    for (let index = 0; index < count; index++)
      provider.getTracer('otlp-test').startSpan(`span ${index}`).end();
    await Promise.all(
      spans.map((span) => new Promise<void>((resolve) => exporter.export([span], () => resolve()))),
    );
  }

  /** Ends `count` spans one by one, each exported on its own through `exporter`. */
  async function exportSpans(exporter: WarnOnceSpanExporter, count: number): Promise<void> {
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracer = provider.getTracer('otlp-test');
    for (let index = 0; index < count; index++) {
      tracer.startSpan(`span ${index}`).end();
      // The simple processor's flush rejects with a failed export: the wrapper's answer is what counts.
      await provider.forceFlush().catch(() => undefined);
    }
  }

  it('a collector answering 500: one warning naming the endpoint over several exports, again after a recovery', async () => {
    const warnings: string[] = [];
    const exporter = await createOtlpSpanExporter({
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url },
      warn: (line) => warnings.push(line),
    });
    if (!exporter) throw new Error('no exporter');
    collector.status = 500;
    await exportSpans(exporter, 4);
    expect(collector.received).toHaveLength(4);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`OTLP export to ${collector.url}/v1/traces (http/protobuf) failed`);
    expect(warnings[0]).toMatch(/500|Internal Server Error/);
    expect(exporter.stats).toEqual({ exportedSpans: 0, failedSpans: 4, failedExports: 4 });

    // The collector recovers: no line for that; a new outage is reported again, once.
    collector.status = 200;
    await exportSpans(exporter, 2);
    collector.status = 500;
    await exportSpans(exporter, 3);
    expect(warnings).toHaveLength(2);
    expect(exporter.stats).toEqual({ exportedSpans: 2, failedSpans: 7, failedExports: 7 });
    await exporter.shutdown();
  });

  it('a collector that is down (a closed port): one warning naming the endpoint and the error', async () => {
    const closed = await new Collector().start();
    await closed.stop();
    const warnings: string[] = [];
    const exporter = await createOtlpSpanExporter({
      // A short export timeout bounds the exporter's own retries of a refused connection.
      env: {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${closed.url}/v1/traces`,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '1000',
      },
      warn: (line) => warnings.push(line),
    });
    if (!exporter) throw new Error('no exporter');
    await exportConcurrently(exporter, 3);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`OTLP export to ${closed.url}/v1/traces (http/json) failed`);
    expect(warnings[0]).toMatch(/ECONNREFUSED|timeout|Timeout/);
    expect(exporter.stats.failedExports).toBe(3);
    await exporter.shutdown();
  });

  it('the default sink is stderr: one line for a run whose spans all fail', async () => {
    const written: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      collector.status = 500;
      const exporter = await createOtlpSpanExporter({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url } });
      if (!exporter) throw new Error('no exporter');
      await exportSpans(exporter, 3);
      await exporter.shutdown();
    } finally {
      process.stderr.write = write;
      collector.status = 200;
    }
    expect(written.filter((line) => line.includes('OTLP export to'))).toHaveLength(1);
  });
});

describe('OTLP settings', () => {
  it('no endpoint: no export; the traces variables win over the general ones', () => {
    expect(otlpSettings({})).toBeUndefined();
    expect(otlpSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toEqual({
      protocol: 'http/protobuf',
      url: 'http://c:4318/v1/traces',
    });
    expect(
      otlpSettings({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:4318/x',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'HTTP/JSON',
      }),
    ).toEqual({ protocol: 'http/json', url: 'http://t:4318/x' });
  });

  it('grpc (or any other protocol) is a CONFIG_INVALID error that names the supported ones', () => {
    try {
      otlpSettings({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc',
      });
      expect.unreachable();
    } catch (error) {
      expect(BatonError.is(error, 'CONFIG_INVALID')).toBe(true);
      expect((error as BatonError).message).toBe(
        'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc is not supported: Baton exports spans with http/protobuf or http/json',
      );
      expect((error as BatonError).hint).toContain('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/protobuf');
    }
  });
});
