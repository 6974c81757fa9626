import { type Metrics, startMetrics } from '@baton/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestGateway } from './helpers.js';

// GET /metrics on a real gateway, scraped with a real HTTP client after real runs.

let metrics: Metrics;
beforeAll(async () => {
  metrics = await startMetrics({ serviceName: 'baton-serve-test', env: {}, scrape: true });
});
afterAll(async () => {
  await metrics.shutdown();
});

/** The sum of the samples of `name` whose labels include every `labels` pair (undefined: none). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) {
      sum = (sum ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

describe('GET /metrics', () => {
  it('serves the runtime metrics in the Prometheus format, without a key, after runs', async () => {
    const server = await startTestGateway({ ...(metrics.scrape ? { metrics: metrics.scrape } : {}) });
    for (let i = 0; i < 2; i++) {
      const reply = await call(server, '/v1/runs', { body: { team: 'pair', input: { text: `hi ${i}` } } });
      expect(reply.status).toBe(200);
    }
    const scraped = await fetch(`${server.url}/metrics`);
    expect(scraped.status).toBe(200);
    expect(scraped.headers.get('content-type')).toContain('text/plain');
    const text = await scraped.text();
    expect(text).toContain('# TYPE baton_team_run_ended_total counter');
    expect(
      sample(text, 'baton_team_run_ended_total', { baton_team: 'pair', baton_run_status: 'completed' }),
    ).toBe(2);
    expect(
      sample(text, 'baton_agent_run_ended_total', { baton_team: 'pair', baton_run_status: 'completed' }),
    ).toBe(4);
    expect(text).toMatch(/baton_team_run_duration_bucket\{[^}]*le="15"[^}]*\} 2/);
    expect(text).toMatch(/baton_agent_run_steps_bucket\{/);
    expect(text).toMatch(/baton_team_run_ended_total\{[^}]*baton_bundle="sha256:[0-9a-f]{64}"/);
  });

  it('is not there when the gateway was given no metrics', async () => {
    const server = await startTestGateway();
    const reply = await call(server, '/metrics');
    expect(reply.status).toBe(404);
  });
});
