import { createGateway, type Gateway } from '@baton/serve';
import { afterEach, describe, expect, it } from 'vitest';

const OWN = 'console-own-key-0123456789abcdef';
const OTHER = 'console-other-key-0123456789abcdef';

let gateway: Gateway | undefined;

afterEach(async () => {
  await gateway?.close({ graceMs: 0 });
  gateway = undefined;
});

describe('the console on the gateway (/ui)', () => {
  it('serves the pages at /ui/ and the API under /ui/api when the gateway is open', async () => {
    gateway = await createGateway({});
    const bare = await gateway.app.request('/ui');
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/ui/');
    const page = await gateway.app.request('/ui/');
    expect(page.headers.get('content-type')).toContain('text/html');
    const health = await gateway.app.request('/ui/api/health');
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', approvals: true, canStart: false });
    expect((await gateway.app.request('/ui/api/approvals')).status).toBe(200);
    // The gateway's own routes are untouched.
    expect((await gateway.app.request('/health')).status).toBe(200);
  });

  it("needs a key of the gateway's namespace when keys are configured", async () => {
    gateway = await createGateway({
      config: {
        keys: [
          { id: 'own', key: OWN, tenant: 'default' },
          { id: 'other', key: OTHER, tenant: 'globex' },
        ],
      },
    });
    expect((await gateway.app.request('/ui/api/runs')).status).toBe(401);
    const other = await gateway.app.request('/ui/api/runs', {
      headers: { authorization: `Bearer ${OTHER}` },
    });
    expect(other.status).toBe(401);
    const own = await gateway.app.request('/ui/api/runs', { headers: { authorization: `Bearer ${OWN}` } });
    expect(own.status).toBe(200);
    expect(await own.json()).toHaveProperty('runs');
  });
});
