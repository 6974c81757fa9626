import { batonToolName, mcpServer, riskOf } from '@baton/mcp';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';

const tool = (annotations?: Tool['annotations']): Tool => ({
  name: 't',
  inputSchema: { type: 'object' },
  ...(annotations ? { annotations } : {}),
});

describe('tool names', () => {
  it('keeps a valid name readable, and hashes one that needs changing', () => {
    expect(batonToolName('fs', 'read_file')).toBe('fs__read_file');
    const dotted = batonToolName('gh', 'issues.create');
    expect(dotted).toMatch(/^gh__issues_create_[0-9a-f]{6}$/);
    // Depends on the tool's own name only: the same every time, different from its look-alike.
    expect(batonToolName('gh', 'issues.create')).toBe(dotted);
    expect(batonToolName('gh', 'issues_create')).toBe('gh__issues_create');
    const long = batonToolName('server', 'x'.repeat(100));
    expect(long.length).toBeLessThanOrEqual(64);
    expect(long).toMatch(/^[a-zA-Z0-9_-]+$/);
    expect(batonToolName('s', 'écrire')).toMatch(/^s__[a-zA-Z0-9_-]+$/);
  });
});

describe('risk', () => {
  it('reads annotations only for a trusted server, as the spec defines them', () => {
    expect(riskOf(tool({ readOnlyHint: true }), false, undefined)).toBe('write');
    expect(riskOf(tool({ destructiveHint: true }), false, undefined)).toBe('write');
    expect(riskOf(tool({ readOnlyHint: true }), true, undefined)).toBe('read');
    expect(riskOf(tool({ readOnlyHint: false, destructiveHint: false }), true, undefined)).toBe('write');
    // Not read-only, and not said to be harmless: the spec's default is destructive.
    expect(riskOf(tool(), true, undefined)).toBe('destructive');
    expect(riskOf(tool({ destructiveHint: true }), true, undefined)).toBe('destructive');
    // The user's own word wins either way.
    expect(riskOf(tool({ destructiveHint: true }), false, { risk: 'read' })).toBe('read');
  });
});

describe('configuration', () => {
  it('is checked where it enters, naming the field', () => {
    const stdio = { stdio: { command: 'node' } };
    expect(() => mcpServer({ name: 'has space', transport: stdio })).toThrow(/"name"/);
    expect(() => mcpServer({ name: 'ok', transport: { http: { url: 'ftp://x' } } })).toThrow(/transport/);
    expect(() => mcpServer({ name: 'ok', transport: stdio, timeoutMs: -1 })).toThrow(/"timeoutMs"/);
    expect(() =>
      mcpServer({ name: 'ok', transport: stdio, reconnect: { initialDelayMs: 10, maxDelayMs: 1 } }),
    ).toThrow(/reconnect/);
    try {
      mcpServer({ name: 'ok', transport: stdio, overrides: { x: { risk: 'maybe' as 'read' } } });
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'CONFIG_INVALID', details: { field: 'overrides.x.risk' } });
    }
  });

  it('does not connect until asked', () => {
    const server = mcpServer({ name: 'lazy', transport: { stdio: { command: 'does-not-exist' } } });
    expect(server.state).toBe('idle');
    expect(server.tools()).toEqual([]);
  });
});
