import { describe, expect, it } from 'vitest';
import { isLoopback } from '../src/index.js';
import { call, startTestGateway } from './helpers.js';

// Only loopback traffic here: the checks read the bound address, they never dial another interface.

describe('binding', () => {
  it('with no API keys it listens on 127.0.0.1 only, and refuses any other address', async () => {
    const server = await startTestGateway();
    expect(server.gateway.open).toBe(true);
    expect(server.host).toBe('127.0.0.1');
    expect((await call(server, '/health')).body).toEqual({ status: 'ok' });
    await expect(startTestGateway({ host: '0.0.0.0' })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('only listens on loopback'),
    });
    await expect(startTestGateway({ host: '::' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('with API keys it listens where it is told', async () => {
    const server = await startTestGateway({
      host: '0.0.0.0',
      config: { keys: [{ key: 'bind-test-key-0123456789', tenant: 'acme' }] },
    });
    expect(server.gateway.open).toBe(false);
    expect(server.host).toBe('0.0.0.0');
    // Reached through loopback, which a wildcard address includes.
    const reply = await call({ url: `http://127.0.0.1:${server.port}` }, '/v1/teams', {
      key: 'bind-test-key-0123456789',
    });
    expect(reply.status).toBe(200);
  });

  it('knows the loopback addresses', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', '127.0.0.1.evil.example'].some(isLoopback)).toBe(
      false,
    );
  });
});
