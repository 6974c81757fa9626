import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NatsBus, natsAuditSink } from '@baton/bus';
import { type NatsServer, startNatsServer } from '@baton/bus/testing';
import { type AuditHead, createAuditLog, memoryAuditSink } from '@baton/core';
import { sampleAuditEvents } from '@baton/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

const cwd = mkdtempSync(join(tmpdir(), 'baton-audit-cli-'));
const file = join(cwd, 'audit.jsonl');
const keyFile = join(cwd, 'audit.pub.pem');
const headFile = join(cwd, 'latest-head.json');
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
let lines: string[] = [];
/** No key from the machine running the tests. */
const env = { BATON_AUDIT_PUBLIC_KEY: undefined };

/** The same log with `change` applied to its lines, in a file of its own. */
async function tampered(name: string, change: (lines: string[]) => string[]): Promise<string> {
  const path = join(cwd, name);
  await writeFile(path, `${change([...lines]).join('\n')}\n`);
  return path;
}

beforeAll(async () => {
  // The memory sink stores exactly the lines the file sink writes, without 1,000 fsyncs.
  const sink = memoryAuditSink();
  let latest: AuditHead | undefined;
  const log = createAuditLog({
    sink,
    signingKey: privateKey,
    onHead: (head) => {
      latest = head;
    },
  });
  for (const event of sampleAuditEvents(1_000)) await log.record(event);
  await log.close();
  lines = sink.lines;
  await writeFile(file, `${lines.join('\n')}\n`);
  await writeFile(keyFile, publicPem);
  await writeFile(headFile, JSON.stringify({ head: latest }));
});
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

const recordLine = (seq: number) => lines.findIndex((line) => line.startsWith(`{"v":1,"seq":${seq},`));

describe('baton audit verify', () => {
  it('a good file: exit 0, how many records and where the signatures end', async () => {
    const { code, stdout, stderr } = await runCli(['audit', 'verify', file, '--public-key', keyFile], {
      cwd,
      env,
    });
    expect(stderr).toBe('');
    expect(stdout).toBe('ok: 1000 records, last signed head at seq 1000\n');
    expect(code).toBe(0);
  });

  it('a tampered file: exit 5 and the first broken link (key from the file, or from the environment)', async () => {
    const modified = await tampered('modified.jsonl', (all) => {
      const index = recordLine(412);
      all[index] = (all[index] as string).replace('"agent":"researcher"', '"agent":"someone-else"');
      return all;
    });
    const deleted = await tampered('deleted.jsonl', (all) =>
      all.filter((_, index) => index !== recordLine(300)),
    );
    const [first, second] = await Promise.all([
      runCli(['audit', 'verify', modified, '--public-key', keyFile], { cwd, env }),
      runCli(['audit', 'verify', deleted], { cwd, env: { BATON_AUDIT_PUBLIC_KEY: publicPem } }),
    ]);
    expect(first.stdout).toBe('broken at seq 412: hash does not match (record modified)\n');
    expect(first.code).toBe(5);
    expect(second.stdout).toBe('broken at seq 300: record 300 is missing (deleted)\n');
    expect(second.code).toBe(5);
  });

  it('a cut tail: seen by the latest head kept apart; and --json for programs', async () => {
    const cut = await tampered('cut.jsonl', (all) => all.slice(0, recordLine(951)));
    const [withHead, json] = await Promise.all([
      runCli(['audit', 'verify', cut, '--public-key', keyFile, '--latest-head', headFile], { cwd, env }),
      runCli(['audit', 'verify', cut, '--public-key', keyFile, '--min-records', '1000', '--json'], {
        cwd,
        env,
      }),
    ]);
    expect(withHead.stdout).toBe(
      'broken at seq 951: the log ends at seq 950 but seq 1000 was signed (tail truncated)\n',
    );
    expect(withHead.code).toBe(5);
    expect(JSON.parse(json.stdout)).toEqual({
      ok: false,
      brokenAt: 951,
      problem: 'truncated',
      reason: 'the log ends at seq 950 but 1000 records were expected (tail truncated)',
    });
    expect(json.code).toBe(5);
  });

  it('no key is a usage error with a hint; --unsigned checks the chain alone', async () => {
    const [noKey, unsigned, missing] = await Promise.all([
      runCli(['audit', 'verify', file], { cwd, env }),
      runCli(['audit', 'verify', file, '--unsigned'], { cwd, env }),
      runCli(['audit', 'verify', join(cwd, 'nope.jsonl'), '--unsigned'], { cwd, env }),
    ]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('error: verify needs the public key that checks the signed heads');
    expect(noKey.stderr).toContain('hint: Pass --public-key <pem file> or set BATON_AUDIT_PUBLIC_KEY');
    expect(unsigned.stdout).toBe('ok: 1000 records (chain only: signed heads not checked)\n');
    expect(unsigned.code).toBe(0);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`error: No audit log at ${join(cwd, 'nope.jsonl')}`);
  });
});

describe('baton audit show', () => {
  it('prints the records of a run, one per line; --last keeps the end', async () => {
    const { code, stdout } = await runCli(['audit', 'show', file, '--run', 'run-3', '--last', '3'], {
      cwd,
      env,
    });
    expect(code).toBe(0);
    const shown = stdout.trimEnd().split('\n');
    expect(shown).toHaveLength(3);
    expect(shown.map((line) => line.slice(0, 4))).toEqual(['#73 ', '#74 ', '#75 ']);
    expect(shown.every((line) => line.includes('researcher run=run-3'))).toBe(true);
    expect(shown[0]).toMatch(
      /approval\.decision\s+researcher run=run-3 {2}send_email approve by ops@example call=call-73 args=/,
    );
    expect(shown[2]).toMatch(
      /tool\.call\s+researcher run=run-3 {2}web_search ok call=call-75 args=\{"query":"topic 75".* {2}tenant=tenant-0 user=user-0$/,
    );
  });
});

describe('baton audit verify on a JetStream stream', () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer({ jetstream: true });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('reads the stream of a namespace: ok, or a clear error for a namespace with none (exit 3)', async () => {
    const bus = await NatsBus.connect({ servers: server.url, name: 'audit-cli-test' });
    const log = createAuditLog({
      sink: natsAuditSink(bus, { namespace: 'acme' }),
      signingKey: privateKey,
      signEvery: 10,
    });
    for (const event of sampleAuditEvents(25)) await log.record(event);
    await log.close();
    await bus.close();
    const [ok, none] = await Promise.all([
      runCli(['audit', 'verify', server.url, '--namespace', 'acme', '--public-key', keyFile], { cwd, env }),
      runCli(['audit', 'verify', '--nats', server.url, '--namespace', 'nobody', '--public-key', keyFile], {
        cwd,
        env,
      }),
    ]);
    expect(ok.stdout).toBe('ok: 25 records, last signed head at seq 25\n');
    expect(ok.code).toBe(0);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain('error: There is no audit stream BATON_nobody_AUDIT');
  });
});
