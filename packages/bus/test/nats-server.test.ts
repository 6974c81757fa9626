import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { NatsBus } from '@baton/bus';
import { findNatsServer, isProcessAlive, startNatsServer } from '@baton/bus/testing';
import { describe, expect, it } from 'vitest';

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('startNatsServer', () => {
  it('finds the binary, starts on a free port, restarts on the same port and store, and cleans up', async () => {
    expect(findNatsServer()).toMatch(/nats-server$/);
    const server = await startNatsServer({ jetstream: true, readyTimeoutMs: 30_000 });
    const [other] = await Promise.all([startNatsServer({ readyTimeoutMs: 30_000 })]);
    try {
      expect(server.port).not.toBe(other?.port);
      expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
      expect(server.storeDir && existsSync(server.storeDir)).toBe(true);
      const bus = await NatsBus.connect({ servers: server.url, reconnectTimeWaitMs: 50 });
      const firstPid = server.pid;
      await server.restart();
      expect(server.pid).not.toBe(firstPid);
      expect(isProcessAlive(firstPid)).toBe(false);
      expect(await portOpen(server.port)).toBe(true);
      await bus.close();
      await server.kill('SIGKILL');
      expect(await portOpen(server.port)).toBe(false);
      expect(server.storeDir && existsSync(server.storeDir)).toBe(true);
      await server.restart();
      expect(await portOpen(server.port)).toBe(true);
    } finally {
      await server.stop();
      await other?.stop();
    }
    expect(isProcessAlive(server.pid)).toBe(false);
    expect(server.storeDir && existsSync(server.storeDir)).toBe(false);
    expect(await portOpen(server.port)).toBe(false);
  });
});
