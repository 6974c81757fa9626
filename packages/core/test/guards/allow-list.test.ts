import { allowListGuard, BatonError } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { check, expectVerdict, prng, randomValue } from './helpers.js';

const recipients = allowListGuard({
  tool: 'send_email',
  path: 'to',
  values: ['ops@example.com', 'ceo@example.com'],
  ignoreCase: true,
});

describe('allowListGuard', () => {
  it('lets allowed values through, element by element', async () => {
    expect(await check(recipients, { to: 'ops@example.com' }, 'toolInput', 'send_email')).toEqual({
      action: 'pass',
    });
    expect(
      await check(recipients, { to: [' OPS@example.com', 'ceo@example.com'] }, 'toolInput', 'send_email'),
    ).toEqual({
      action: 'pass',
    });
  });

  it('trips at toolInput naming the tool, the path and the value', async () => {
    const verdict = await check(
      recipients,
      { to: ['ops@example.com', 'eve@evil.example'] },
      'toolInput',
      'send_email',
    );
    expect(verdict).toEqual({
      action: 'trip',
      reason: 'allow-list: tool "send_email" argument "to[1]" = "eve@evil.example" is not in the allow-list',
      findings: [{ kind: 'allow_list', note: 'to[1] is not in the allow-list' }],
    });
    const nested = await check(
      recipients,
      { to: [{ address: 'ops@example.com' }] },
      'toolInput',
      'send_email',
    );
    expect(nested.action).toBe('trip');
    if (nested.action === 'trip')
      expect(nested.reason).toContain('"to[0]" = {"address":"ops@example.com"} is not a plain value');
  });

  it('bounds the value it shows', async () => {
    const verdict = await check(
      recipients,
      { to: `${'x'.repeat(500)}@evil.example` },
      'toolInput',
      'send_email',
    );
    expect(verdict.action).toBe('trip');
    if (verdict.action === 'trip') expect(verdict.reason.length).toBeLessThan(200);
  });

  it('follows paths through objects and arrays', async () => {
    const guard = allowListGuard({
      tool: ['deploy', 'scale'],
      path: 'targets[*].region',
      values: ['eu-west-1', 'us-east-1'],
    });
    const args = { targets: [{ region: 'eu-west-1' }, { region: 'ap-south-1' }] };
    const verdict = await check(guard, args, 'toolInput', 'scale');
    expect(verdict.action).toBe('trip');
    if (verdict.action === 'trip') expect(verdict.reason).toContain('"targets[1].region" = "ap-south-1"');
    expect(await check(guard, { targets: [{ region: 'us-east-1' }] }, 'toolInput', 'deploy')).toEqual({
      action: 'pass',
    });
    const strict = allowListGuard({
      tool: 'scale',
      path: ['config', 'tier'],
      values: [1, 2],
      required: true,
    });
    expect(await check(strict, { config: { tier: 2 } }, 'toolInput', 'scale')).toEqual({ action: 'pass' });
    expect(await check(strict, { config: { tier: '2' } }, 'toolInput', 'scale')).toMatchObject({
      action: 'trip',
    });
    expect(await check(strict, {}, 'toolInput', 'scale')).toMatchObject({
      action: 'trip',
      reason: 'allow-list: tool "scale" was called without "config.tier"',
    });
  });

  it('ignores other tools, other stages and absent optional values; is case-sensitive by default', async () => {
    expect(await check(recipients, { to: 'eve@evil.example' }, 'toolInput', 'search')).toEqual({
      action: 'pass',
    });
    expect(await check(recipients, { to: 'eve@evil.example' }, 'toolOutput', 'send_email')).toEqual({
      action: 'pass',
    });
    expect(await check(recipients, { subject: 'hi' }, 'toolInput', 'send_email')).toEqual({ action: 'pass' });
    const exact = allowListGuard({ tool: 'open', path: 'file', values: ['README.md'] });
    expect((await check(exact, { file: 'readme.md' }, 'toolInput', 'open')).action).toBe('trip');
  });

  it('rejects bad configuration at creation', () => {
    expect(() => allowListGuard({ tool: '', path: 'to', values: [] })).toThrow(BatonError);
    expect(() => allowListGuard({ tool: 'x', path: '', values: [] })).toThrow(/path/);
    expect(() => allowListGuard({ tool: 'x', path: 'to', values: undefined as never })).toThrow(/values/);
  });

  it('never throws on random arguments (fuzz), and trips on very deep ones', async () => {
    const random = prng(5);
    for (let round = 0; round < 300; round++) {
      expectVerdict(await check(recipients, { to: randomValue(random) }, 'toolInput', 'send_email'));
      expectVerdict(await check(recipients, randomValue(random), 'toolInput', 'send_email'));
    }
    let deep: unknown = 'ops@example.com';
    for (let level = 0; level < 100; level++) deep = [deep];
    expect((await check(recipients, { to: deep }, 'toolInput', 'send_email')).action).toBe('trip');
  });
});
