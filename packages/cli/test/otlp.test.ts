import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: string | number } }[];
}
interface OtlpBody {
  resourceSpans: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] };
    scopeSpans: { spans: OtlpSpan[] }[];
  }[];
}

describe('baton run with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'baton-otlp-'));
  const bodies: OtlpBody[] = [];
  const paths: string[] = [];
  let sink: Server;
  let endpoint = '';
  beforeAll(async () => {
    // A local OTLP/HTTP receiver: records every POST body, answers like a collector.
    sink = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => {
        body += chunk;
      });
      request.on('end', () => {
        paths.push(`${request.method} ${request.url} ${request.headers['content-type']}`);
        if (request.url === '/v1/traces') bodies.push(JSON.parse(body) as OtlpBody);
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{}');
      });
    });
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => sink.close(resolve));
    rmSync(cwd, { recursive: true, force: true });
  });

  it('delivers one trace with invoke_workflow, invoke_agent per member, chat and execute_tool spans', async () => {
    const { code, stdout, stderr } = await runCli(['run', 'research', '--quiet'], {
      cwd,
      // JSON: this test reads the bodies as JSON (the default, protobuf, is covered in packages/telemetry).
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
    });
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(`also sent to ${endpoint}`);
    const traceId = /^Trace: ([0-9a-f]{32})/m.exec(stdout)?.[1];

    expect(paths.length).toBeGreaterThan(0);
    expect(paths.every((path) => path === 'POST /v1/traces application/json')).toBe(true);
    const resources = bodies.flatMap((body) => body.resourceSpans);
    const spans = resources.flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans));
    expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([traceId]));
    const serviceNames = resources.map(
      (resource) =>
        resource.resource.attributes.find((attribute) => attribute.key === 'service.name')?.value.stringValue,
    );
    expect(new Set(serviceNames)).toEqual(new Set(['baton-cli']));

    const names = spans.map((span) => span.name);
    expect(names.filter((name) => name === 'invoke_workflow research')).toHaveLength(1);
    const agents = spans
      .filter((span) => span.name.startsWith('invoke_agent '))
      .map(
        (span) =>
          span.attributes.find((attribute) => attribute.key === 'gen_ai.agent.name')?.value.stringValue,
      );
    expect(new Set(agents)).toEqual(new Set(['researcher', 'writer', 'reviewer']));
    expect(names.filter((name) => name.startsWith('chat ')).length).toBeGreaterThanOrEqual(7);
    expect(names).toContain('execute_tool search_corpus');
    expect(names).toContain('execute_tool read_document');
    // One tree: every span but the root has its parent in the trace.
    const ids = new Set(spans.map((span) => span.spanId));
    expect(
      spans.filter((span) => !span.parentSpanId || !ids.has(span.parentSpanId)).map((span) => span.name),
    ).toEqual(['invoke_workflow research']);
  });
});
