/**
 * The CLI's OTLP export at its edges: spans reach the collector when the run ends on SIGTERM (the
 * exporters are flushed on that path too), and a collector that is down costs one warning, not one per
 * batch, and never the run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@baton/bus/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, runCli, startCli, waitForStderr } from './cli.js';

interface JsonSpan {
  name: string;
  kind: number;
  attributes: { key: string; value: { stringValue?: string } }[];
}
interface JsonBody {
  resourceSpans: { scopeSpans: { spans: JsonSpan[] }[] }[];
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

describe('OTLP export from the CLI', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'baton-otlp-exit-'));
  const spans: JsonSpan[] = [];
  let collector: Server;
  let collectorUrl = '';
  let provider: Server;
  let providerUrl = '';
  let requests = 0;

  beforeAll(async () => {
    collector = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => {
        body += chunk;
      });
      request.on('end', () => {
        const parsed = JSON.parse(body) as JsonBody;
        spans.push(...parsed.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{}');
      });
    });
    collectorUrl = await listen(collector);
    // An OpenAI-compatible provider that never answers: the run is still going when the signal comes.
    provider = createServer((request) => {
      requests++;
      request.resume();
    });
    providerUrl = await listen(provider);
  });
  afterAll(async () => {
    provider.closeAllConnections();
    collector.closeAllConnections();
    await new Promise((resolve) => provider.close(resolve));
    await new Promise((resolve) => collector.close(resolve));
    rmSync(cwd, { recursive: true, force: true });
  });

  it('SIGTERM mid-run: the aborted run still reaches the collector, chat spans as CLIENT', async () => {
    const child = startCli(['run', 'research', '--timeout', '120'], {
      cwd,
      env: {
        OPENAI_BASE_URL: `${providerUrl}/v1`,
        OPENAI_API_KEY: 'test-key',
        BATON_MODEL: 'hung-model',
        OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      },
    });
    const done = collect(child, 90_000);
    await waitForStderr(child, /\[researcher\] started/, 60_000);
    while (requests === 0) {
      if (child.exitCode !== null) throw new Error('the CLI exited before calling the model');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGTERM');
    const { code, stderr } = await done;
    expect(stderr).toContain('SIGTERM: stopping the team');
    expect(code).toBe(1);
    // Exported before the process exited: nothing is waiting on a timer of the batch processor.
    const workflow = spans.find((span) => span.name === 'invoke_workflow research');
    expect(workflow, JSON.stringify(spans.map((span) => span.name))).toBeDefined();
    expect(workflow?.attributes.find((a) => a.key === 'baton.run.status')?.value.stringValue).toBe('aborted');
    const chat = spans.find((span) => span.name === 'chat hung-model');
    expect(chat?.kind).toBe(3);
  }, 180_000);

  it('a collector that is down: one warning on stderr for the whole run, and the run completes', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const { code, stdout, stderr } = await runCli(['run', 'research', '--quiet'], {
      cwd,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: closed, OTEL_EXPORTER_OTLP_TIMEOUT: '1000' },
      timeoutMs: 90_000,
    });
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(`also sent to ${closed}/v1/traces as http/protobuf`);
    const warnings = stderr.split('\n').filter((line) => line.includes('OTLP export to'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(
      `baton: warning: OTLP export to ${closed}/v1/traces (http/protobuf) failed`,
    );
  });
});
