import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NatsBus, natsMemoryStore } from '@baton/bus';
import { type NatsServer, startNatsServer } from '@baton/bus/testing';
import { fileMemoryStore, MEMORY_FILE, type MemoryRecord } from '@baton/core';
import { postgresMemoryStore } from '@baton/postgres';
import { Kvm } from '@nats-io/kv';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

const cwd = mkdtempSync(join(tmpdir(), 'baton-memory-cli-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));
/** No NATS server from the machine running the tests: without flags the CLI must use the files. */
const FILES = { NATS_URL: undefined };
/**
 * Each case starts several CLI processes (Node and tsx, seconds each on a loaded machine): generous
 * limits, since what is tested is the output, not the speed.
 */
const SLOW = { timeout: 300_000 };
const cli = (args: readonly string[], env: Record<string, string | undefined> = FILES) =>
  runCli(args, { cwd, env, timeoutMs: 150_000 });

const ada = { tenant: 'default', user: 'ada' };
const adaChef = { ...ada, scope: 'agent:chef' };
const bob = { tenant: 'default', user: 'bob' };

/** What the library wrote before the CLI looks: two scopes, a history, an episode, and another user. */
async function seed(store: {
  put: (ns: typeof ada, key: string, value: string, options?: object) => Promise<MemoryRecord>;
}) {
  await store.put(ada, 'units', 'Ada prefers imperial units', {
    provenance: { source: 'user', trusted: true },
  });
  await store.put(ada, 'units', 'Ada prefers metric units (grams, °C)', {
    provenance: { source: 'agent', trusted: false, runId: 'run-7', agent: 'assistant', sessionId: 's-2' },
    metadata: { agent: 'assistant' },
  });
  await store.put(adaChef, 'diet', 'Ada is vegetarian');
  await store.put(ada, 'episode:run-7', 'Task: plan dinner\nOutcome: completed', { kind: 'episode' });
  await store.put(bob, 'units', 'Bob prefers imperial units');
}

describe('baton memory on the file store', SLOW, () => {
  const dir = join(cwd, '.baton', 'memory');
  const file = join(dir, MEMORY_FILE);

  beforeAll(async () => {
    await seed(fileMemoryStore({ dir }));
  });

  it('list: every scope of the user by default, one scope or kind on request, JSON too', async () => {
    const [all, facts, json, tenantWide] = await Promise.all([
      cli(['memory', 'list', '--user', 'ada']),
      cli(['memory', 'list', '--user', 'ada', '--scope', 'default', '--kind', 'fact']),
      cli(['memory', 'list', '--user', 'ada', '--json']),
      cli(['memory', 'list']),
    ]);
    expect(all.stderr).toBe('');
    expect(all.code).toBe(0);
    expect(all.stdout).toContain(`Memory of tenant default · user ada (every scope) in ${dir}:`);
    expect(all.stdout).toMatch(/scope\s+key\s+kind\s+v\s+source\s+updated\s+expires\s+value/);
    expect(all.stdout).toMatch(/default\s+units\s+fact\s+2\s+agent\s+\d+s ago\s+never\s+Ada prefers metric/);
    expect(all.stdout).toMatch(/agent:chef\s+diet\s+fact\s+1\s+agent/);
    expect(all.stdout).toMatch(/default\s+episode:run-7\s+episode\s+1/);
    expect(all.stdout).not.toContain('Bob');
    expect(all.stdout).toMatch(/Show one: .* memory show \S+ --user ada/);

    expect(facts.stdout).toContain('Fact records of tenant default · user ada · scope default');
    expect(facts.stdout).toContain('units');
    expect(facts.stdout).not.toContain('episode:run-7');
    expect(facts.stdout).not.toContain('diet');

    const listed = JSON.parse(json.stdout) as MemoryRecord[];
    expect(listed.map((record) => `${record.namespace.scope}/${record.key}`).sort()).toEqual([
      'agent:chef/diet',
      'default/episode:run-7',
      'default/units',
    ]);
    expect(tenantWide.stdout).toContain('No memory of tenant default (tenant-wide) · scope default');
  });

  it('show: the record with its provenance and its earlier versions', async () => {
    const [text, json, missing] = await Promise.all([
      cli(['memory', 'show', 'units', '--user', 'ada']),
      cli(['memory', 'show', 'diet', '--user', 'ada', '--scope', 'agent:chef', '--json']),
      cli(['memory', 'show', 'diet', '--user', 'ada']),
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Namespace:  tenant default · user ada · scope default');
    expect(text.stdout).toContain('Version:    2');
    expect(text.stdout).toContain('Provenance: agent, untrusted · run run-7 · agent assistant · session s-2');
    expect(text.stdout).toContain('Metadata:   agent=assistant');
    expect(text.stdout).toMatch(/Value:\n {2}Ada prefers metric units \(grams, °C\)/);
    expect(text.stdout).toMatch(
      /History \(1 earlier version, oldest first\):\n {2}v1 .* user, trusted\n {6}Ada prefers imperial units/,
    );
    expect(JSON.parse(json.stdout)).toMatchObject({
      record: { key: 'diet', namespace: adaChef, value: 'Ada is vegetarian' },
      history: [],
    });
    // Not in the default scope: a usage error that says how to list them.
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('error: No memory "diet" of tenant default · user ada · scope default');
    expect(missing.stderr).toMatch(/hint: List them: .* memory list --user ada/);
  });

  it('export: everything of the user, every version, to a new owner-only file; never over one', async () => {
    const out = join(cwd, 'ada-export.json');
    const first = await cli(['memory', 'export', '--user', 'ada', '--out', out]);
    expect(first.stderr).toBe('');
    expect(first.stdout).toBe(`Exported 3 memories (4 versions) of user ada in tenant default to ${out}.\n`);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const exported = JSON.parse(readFileSync(out, 'utf8'));
    expect(exported).toMatchObject({
      format: 'baton-memory-export',
      subject: ada,
      backend: 'file',
      optedOut: false,
      counts: { memories: 3, versions: 4 },
    });
    const units = exported.memories.find((entry: { record: MemoryRecord }) => entry.record.key === 'units');
    expect(units.history.map((record: MemoryRecord) => record.value)).toEqual(['Ada prefers imperial units']);
    expect(JSON.stringify(exported)).not.toContain('Bob');

    const again = await cli(['memory', 'export', '--user', 'ada', '--out', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('exists already');
  });

  it('forget: one key, then the whole user — gone from the file itself, and nobody else touched', async () => {
    const one = await cli(['memory', 'forget', '--user', 'ada', '--key', 'units']);
    expect(one.stdout).toBe(
      'Forgot 1 record: "units" of tenant default · user ada · scope default, with its history.\n',
    );
    const raw = readFileSync(file, 'utf8');
    expect(raw).not.toContain('metric units');
    expect(raw).not.toContain('Ada prefers imperial');

    const all = await cli(['memory', 'forget', '--user', 'ada', '--json']);
    expect(JSON.parse(all.stdout)).toEqual({ forgotten: 2, subject: ada });

    // The backend read directly: the snapshot holds bob's record and nothing of ada's.
    const after = readFileSync(file, 'utf8');
    for (const gone of ['Ada is vegetarian', 'plan dinner', '"ada"']) expect(after).not.toContain(gone);
    expect(after).toContain('Bob prefers imperial units');
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    const store = fileMemoryStore({ dir });
    expect(await store.exportSubject(ada)).toEqual([]);
    expect((await store.get(bob, 'units'))?.value).toBe('Bob prefers imperial units');

    const nothing = await cli(['memory', 'forget', '--user', 'ada']);
    expect(nothing.stdout).toBe(
      'Forgot 0 records of user ada in tenant default (every scope, with their history).\n',
    );
  });

  it('opt-out erases and refuses the library’s next write; opt-in allows it again', async () => {
    const out = await cli(['memory', 'opt-out', '--user', 'bob']);
    expect(out.stdout).toContain('User bob in tenant default opted out: 1 record erased');
    const store = fileMemoryStore({ dir });
    await expect(store.put(bob, 'units', 'again')).rejects.toMatchObject({ code: 'MEMORY_OPTED_OUT' });
    expect(readFileSync(file, 'utf8')).not.toContain('Bob prefers');
    const listed = await cli(['memory', 'list', '--user', 'bob']);
    expect(listed.stdout).toContain('User bob opted out of memory');
    await cli(['memory', 'opt-in', '--user', 'bob']);
    expect((await store.put(bob, 'units', 'again')).version).toBe(1);
  });

  it('usage errors exit 2; a damaged file exits 1 and names it; the file is left alone', async () => {
    const damagedDir = join(cwd, 'damaged');
    await fileMemoryStore({ dir: damagedDir }).put(ada, 'k', 'value');
    const damagedFile = join(damagedDir, MEMORY_FILE);
    const damaged = readFileSync(damagedFile, 'utf8').replace('value', 'VALUE');
    writeFileSync(damagedFile, damaged);
    const [two, noUser, badTenant, scopeAlone, corrupt] = await Promise.all([
      cli(['memory', 'list', '--dir', dir, '--postgres', 'postgresql://x']),
      cli(['memory', 'forget']),
      cli(['memory', 'list', '--tenant', '', '--user', 'ada']),
      cli(['memory', 'forget', '--user', 'ada', '--scope', 'x']),
      cli(['memory', 'forget', '--user', 'ada', '--dir', damagedDir]),
    ]);
    expect(two.code).toBe(2);
    expect(two.stderr).toContain('Give one of --dir, --postgres, not several');
    expect(noUser.code).toBe(2);
    expect(noUser.stderr).toContain("required option '--user <id>' not specified");
    expect(badTenant.code).toBe(2);
    expect(badTenant.stderr).toContain('--tenant is not valid');
    expect(scopeAlone.code).toBe(2);
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr).toContain(`The memory file ${damagedFile} is unreadable`);
    expect(corrupt.stderr).toContain('hint: Restore it from a backup');
    expect(readFileSync(damagedFile, 'utf8')).toBe(damaged);
  });
});

describe('baton memory on NATS KV', SLOW, () => {
  let server: NatsServer;
  let bus: NatsBus;
  const namespace = 'kitchen';
  const bucket = `BATON_${namespace}_MEMORY`;
  const chef = { tenant: namespace, user: 'ada' };

  beforeAll(async () => {
    server = await startNatsServer({ jetstream: true, readyTimeoutMs: 30_000 });
    bus = await NatsBus.connect({ servers: server.url, name: 'memory-cli-test' });
    const store = await natsMemoryStore(bus, { namespace });
    await store.put(chef, 'units', 'Ada prefers imperial units');
    await store.put(chef, 'units', 'Ada prefers metric units');
    await store.put({ ...chef, scope: 'agent:chef' }, 'diet', 'Ada is vegetarian');
    await store.put({ tenant: namespace, user: 'bob' }, 'units', 'Bob prefers imperial units');
    await store.close();
  });
  afterAll(async () => {
    await bus?.close();
    await server?.stop();
  });

  /** Every message the bucket holds that names ada, earlier versions included, read with the KV API. */
  async function adaInBucket(): Promise<string[]> {
    const kv = await new Kvm(bus.connection).open(bucket);
    const found: string[] = [];
    for await (const entry of await kv.history({ key: 'r.>' })) {
      if (entry.operation === 'PUT' && entry.string().includes('"user":"ada"')) found.push(entry.key);
    }
    return found;
  }

  it('NATS_URL is honoured; the tenant defaults to the namespace; forget erases from the bucket', async () => {
    const env = { NATS_URL: server.url };
    const [list, show] = await Promise.all([
      cli(['memory', 'list', '--namespace', namespace, '--user', 'ada'], env),
      cli(['memory', 'show', 'units', '--namespace', namespace, '--user', 'ada'], env),
    ]);
    expect(list.stderr).toBe('');
    expect(list.stdout).toContain(
      `Memory of tenant kitchen · user ada (every scope) in NATS ${server.url} (namespace kitchen):`,
    );
    expect(list.stdout).toMatch(/default\s+units\s+fact\s+2/);
    expect(list.stdout).toMatch(/agent:chef\s+diet\s+fact\s+1/);
    expect(list.stdout).toMatch(/Show one: .* memory show \S+ --user ada .*--nats \S+ --namespace kitchen/);
    expect(show.stdout).toMatch(/History \(1 earlier version, oldest first\):\n.*\n {6}Ada prefers imperial/);
    expect((await adaInBucket()).length).toBe(3);

    const forget = await cli([
      'memory',
      'forget',
      '--nats',
      server.url,
      '--namespace',
      namespace,
      '--user',
      'ada',
    ]);
    expect(forget.stdout).toBe(
      'Forgot 2 records of user ada in tenant kitchen (every scope, with their history).\n',
    );
    expect(await adaInBucket()).toEqual([]);
    const store = await natsMemoryStore(bus, { namespace });
    expect((await store.get({ tenant: namespace, user: 'bob' }, 'units'))?.value).toBe(
      'Bob prefers imperial units',
    );
    await store.close();
  });

  it('an unreachable server exits 3 at once', async () => {
    const result = await cli(['memory', 'list', '--user', 'ada', '--nats', 'nats://127.0.0.1:1']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('Cannot reach NATS at nats://127.0.0.1:1');
  });
});

describe('baton memory on PostgreSQL', SLOW, () => {
  /** The machine's PostgreSQL, as packages/postgres's tests use it: never skipped. */
  const connection = process.env.BATON_TEST_POSTGRES ?? 'postgresql://postgres@127.0.0.1:5432/test';
  const schema = `baton_cli_${randomBytes(5).toString('hex')}`;
  let admin: pg.Pool;

  beforeAll(async () => {
    admin = new pg.Pool({ connectionString: connection, max: 2 });
    admin.on('error', () => undefined);
    const store = await postgresMemoryStore({ connectionString: connection, schema, maxConnections: 2 });
    await seed(store);
    await store.close();
  });
  afterAll(async () => {
    await admin?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin?.end();
  });

  it('list and forget with --postgres --schema; the rows are gone from every table', async () => {
    const flags = ['--postgres', connection, '--schema', schema];
    const list = await cli(['memory', 'list', '--user', 'ada', ...flags]);
    expect(list.stderr).toBe('');
    expect(list.stdout).toContain(`(schema ${schema}):`);
    expect(list.stdout).toMatch(/default\s+units\s+fact\s+2/);
    const forget = await cli(['memory', 'forget', '--user', 'ada', ...flags]);
    expect(forget.stdout).toBe(
      'Forgot 3 records of user ada in tenant default (every scope, with their history).\n',
    );
    const rows = async (table: string) =>
      (await admin.query(`SELECT count(*)::int AS n FROM "${schema}"."${table}" WHERE user_id = 'ada'`))
        .rows[0].n;
    expect(await rows('memory_records')).toBe(0);
    expect(await rows('memory_history')).toBe(0);
    expect(
      (await admin.query(`SELECT count(*)::int AS n FROM "${schema}"."memory_records" WHERE user_id = 'bob'`))
        .rows[0].n,
    ).toBe(1);
  });
});
