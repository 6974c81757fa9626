import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { keysFromEnv, loadServeConfig, sha256Hex } from '../src/index.js';
import { call, startTestGateway } from './helpers.js';

const ACME = 'acme-key-0123456789abcdef';
const GLOBEX = 'globex-key-0123456789abcdef';

describe('API keys and tenants', () => {
  it('401 without a key or with an unknown one; each key sees only its tenant', async () => {
    const server = await startTestGateway({
      config: {
        keys: [
          { id: 'acme', key: ACME, tenant: 'acme' },
          // The file may hold only the digest of a key.
          { id: 'globex', sha256: sha256Hex(GLOBEX), tenant: 'globex' },
        ],
      },
    });
    const none = await call(server, '/v1/teams');
    expect(none.status).toBe(401);
    expect(none.body.error).toMatchObject({ code: 'UNAUTHORIZED', category: 'user', retryable: false });
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    const wrong = await call(server, '/v1/teams', { key: 'not-a-key-0123456789abcdef' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.message).toContain('not valid');
    const noRun = await call(server, '/v1/runs', { body: { agent: 'echo', input: { text: 'x' } } });
    expect(noRun.status).toBe(401);

    const teams = await call(server, '/v1/teams', { key: ACME });
    expect(teams.status).toBe(200);
    expect(teams.body.teams.map((team: { name: string }) => team.name)).toEqual(['pair']);
    const viaHeader = await call(server, '/v1/agents', { headers: { 'x-api-key': GLOBEX } });
    expect(viaHeader.status).toBe(200);
    const echo = viaHeader.body.agents.find((agent: { name: string }) => agent.name === 'echo');
    expect(echo).toMatchObject({ contract: 'text@1', input: { type: 'object', required: ['text'] } });

    const run = await call(server, '/v1/runs', { key: ACME, body: { agent: 'echo', input: { text: 'x' } } });
    expect(run.status).toBe(200);
    expect((await call(server, `/v1/runs/${run.body.id}`, { key: ACME })).status).toBe(200);
    const other = await call(server, `/v1/runs/${run.body.id}`, { key: GLOBEX });
    expect(other.status).toBe(404);
    expect(
      (await call(server, `/v1/runs/${run.body.id}/cancel`, { key: GLOBEX, method: 'POST' })).status,
    ).toBe(404);
    // Health, readiness and the OpenAPI document need no key.
    expect((await call(server, '/health')).status).toBe(200);
    expect((await call(server, '/ready')).body).toEqual({ status: 'ready', checks: { gateway: 'ok' } });
    expect((await call(server, '/openapi.json')).status).toBe(200);
  });

  it('reads keys from BATON_API_KEYS (short form and JSON) and refuses bad configurations', () => {
    expect(keysFromEnv(`${ACME}=acme,${GLOBEX}`)).toEqual([{ key: ACME, tenant: 'acme' }, { key: GLOBEX }]);
    const config = loadServeConfig({
      env: { BATON_API_KEYS: JSON.stringify([{ key: ACME, tenant: 'acme' }]) },
    });
    expect(config.keys[0]).toMatchObject({ key: ACME, tenant: 'acme' });
    expect(() => loadServeConfig({ env: { BATON_API_KEYS: 'short=acme' } })).toThrow(/at least 16/);
    expect(() => loadServeConfig({ env: { BATON_API_KEYS: `${ACME}=bad.tenant` } })).toThrow(/tenant/);
    expect(() => loadServeConfig({ overrides: { maxBodyBytes: -1 } })).toThrow(/maxBodyBytes/);
  });
});

describe('rate limits', () => {
  it('429 with Retry-After once a key spent its burst; other keys are not affected', async () => {
    const server = await startTestGateway({
      config: {
        keys: [
          { id: 'tight', key: ACME, tenant: 'acme', rateLimit: { perSecond: 0.2, burst: 3 } },
          { id: 'free', key: GLOBEX, tenant: 'globex' },
        ],
      },
    });
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 5; i++) {
      const reply = await call(server, '/v1/teams', { key: ACME });
      statuses.push(reply.status);
      if (reply.status === 429) limited ??= reply;
    }
    // 3 in the burst; at 0.2 per second the next token is 5 s away, far beyond this loop on any machine.
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(limited?.body.error).toMatchObject({ code: 'RATE_LIMITED', category: 'limit', retryable: true });
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited?.body.error.details.retryAfterMs).toBeGreaterThan(0);
    expect((await call(server, '/v1/teams', { key: GLOBEX })).status).toBe(200);
  });
});

describe('request size limit', () => {
  it('413 for a body over the limit, with or without a content-length', async () => {
    const server = await startTestGateway({ config: { maxBodyBytes: 1_024 } });
    const big = { agent: 'echo', input: { text: 'x'.repeat(2_000) } };
    const reply = await call(server, '/v1/runs', { body: big });
    expect(reply.status).toBe(413);
    expect(reply.body.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { maxBytes: 1_024 } });

    // Chunked: no content-length to look at, so the limit is counted as the body streams in.
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL(`${server.url}/v1/runs`);
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      const text = JSON.stringify(big);
      req.write(text.slice(0, 1_000));
      req.end(text.slice(1_000));
    });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body).error.code).toBe('PAYLOAD_TOO_LARGE');

    const small = await call(server, '/v1/runs', { body: { agent: 'echo', input: { text: 'fits' } } });
    expect(small.status).toBe(200);
  });
});

describe('GET /openapi.json', () => {
  it('documents every route with the request and response schemas', async () => {
    const server = await startTestGateway();
    const { body } = await call(server, '/openapi.json');
    expect(body.openapi).toBe('3.1.0');
    expect(Object.keys(body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/runs',
        '/v1/runs/{id}',
        '/v1/runs/{id}/cancel',
        '/v1/agents',
        '/v1/teams',
        '/v1/approvals',
        '/v1/approvals/{runId}/{callId}/approve',
        '/v1/approvals/{runId}/{callId}/edit',
        '/v1/approvals/{runId}/{callId}/deny',
        '/health',
        '/ready',
      ]),
    );
    const create = body.paths['/v1/runs'].post;
    const request = create.requestBody.content['application/json'].schema;
    expect(Object.keys(request.properties)).toEqual(
      expect.arrayContaining(['team', 'agent', 'input', 'stream', 'async', 'webhook']),
    );
    expect(request.additionalProperties).toBe(false);
    expect(Object.keys(create.responses)).toEqual(
      expect.arrayContaining(['200', '202', '401', '404', '413', '422', '429']),
    );
    const error = create.responses['429'].content['application/json'].schema;
    expect(error.properties.error.required).toEqual(expect.arrayContaining(['code', 'message']));
  });
});
