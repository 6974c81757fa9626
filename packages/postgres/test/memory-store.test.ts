import { randomBytes } from 'node:crypto';
import { BatonError, type MemorySubject } from '@baton/core';
import { type MemoryStoreFactory, memoryStoreConformance } from '@baton/core/testing';
import { type PostgresMemoryStore, postgresMemoryStore } from '@baton/postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The machine's PostgreSQL (CI has it): a test that cannot reach it fails, it is never skipped. */
const CONNECTION = process.env.BATON_TEST_POSTGRES ?? 'postgresql://postgres@127.0.0.1:5432/test';
/** This file's own schema, dropped at the end: files running at once never share tables. */
const SCHEMA = `baton_mem_${randomBytes(5).toString('hex')}`;

let admin: pg.Pool;
const stores: PostgresMemoryStore[] = [];

beforeAll(async () => {
  admin = new pg.Pool({ connectionString: CONNECTION, max: 4 });
  admin.on('error', () => undefined);
  try {
    await admin.query('SELECT 1');
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${CONNECTION} (${(error as Error).message}). These tests need it: ` +
        'start it (pg_ctlcluster 15 main start) or point BATON_TEST_POSTGRES at one.',
    );
  }
});
afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()));
  await admin?.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`).catch(() => undefined);
  await admin?.end();
});

async function open(schema = SCHEMA): Promise<PostgresMemoryStore> {
  const store = await postgresMemoryStore({ connectionString: CONNECTION, schema, maxConnections: 4 });
  stores.push(store);
  return store;
}

/** Whether this server can give vector search: the suite then runs its vector case too. */
async function vectorAvailable(): Promise<boolean> {
  const found = await admin.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'vector'`);
  return (found.rowCount ?? 0) > 0;
}

/**
 * Every row of the subject in every table of the schema, read with plain SELECTs: records, earlier
 * versions and vectors (the opt-out row is not residue).
 */
async function residue(subject: MemorySubject, schema = SCHEMA): Promise<string[]> {
  const found: string[] = [];
  const tables = await admin.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name LIKE 'memory_%'
       AND table_name NOT IN ('memory_opt_outs', 'memory_settings')`,
    [schema],
  );
  for (const { table_name } of tables.rows) {
    const rows = await admin.query<{ scope: string; key: string }>(
      `SELECT scope, key FROM "${schema}"."${table_name}" WHERE tenant = $1 AND user_id = $2`,
      [subject.tenant, subject.user],
    );
    for (const row of rows.rows) found.push(`${table_name} ${row.scope} ${row.key}`);
  }
  return found;
}

describe('memory store conformance: postgresMemoryStore', () => {
  const factory: MemoryStoreFactory = {
    name: 'postgresMemoryStore',
    async open() {
      const store = await postgresMemoryStore({
        connectionString: CONNECTION,
        schema: SCHEMA,
        maxConnections: 4,
      });
      return { store, residue: (subject) => residue(subject), close: () => store.close() };
    },
  };
  beforeAll(async () => {
    factory.vectors = await vectorAvailable();
  });
  for (const testCase of memoryStoreConformance) {
    it(testCase.name, () => testCase.run(factory));
  }
});

// The same suite on a store that never touches pgvector: what a server without the extension gets.
describe('memory store conformance: postgresMemoryStore without vectors', () => {
  const factory: MemoryStoreFactory = {
    name: 'postgresMemoryStore (vectors: false)',
    vectors: false,
    async open() {
      const store = await postgresMemoryStore({
        connectionString: CONNECTION,
        schema: SCHEMA,
        maxConnections: 4,
        vectors: false,
      });
      return { store, residue: (subject) => residue(subject), close: () => store.close() };
    },
  };
  for (const testCase of memoryStoreConformance) {
    it(testCase.name, () => testCase.run(factory));
  }
});

const tenant = () => `t-${randomBytes(5).toString('hex')}`;

describe('postgresMemoryStore', () => {
  it('creates its schema on open, once, even when processes open it at the same time', async () => {
    const schema = `baton_mem_${randomBytes(5).toString('hex')}`;
    try {
      const opened = await Promise.all([open(schema), open(schema), open(schema)]);
      const tables = await admin.query<{ table_name: string }>(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
        [schema],
      );
      expect(tables.rows.map((row) => row.table_name)).toEqual(
        expect.arrayContaining(['memory_history', 'memory_opt_outs', 'memory_records', 'memory_settings']),
      );
      const ns = { tenant: tenant(), user: 'ada' };
      await opened[0]?.put(ns, 'k', 'written by the first');
      expect((await opened[2]?.get(ns, 'k'))?.value).toBe('written by the first');
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });

  it('says whether vector search is on, and why not; embeddings are accepted either way', async () => {
    const store = await open();
    expect(store.vectorSearch).toBe(await vectorAvailable());
    if (!store.vectorSearch) expect(store.vectorNote).toMatch(/pgvector|vector/);
    const ns = { tenant: tenant(), user: 'bob' };
    await store.put(ns, 'cat', 'feline companion', { embedding: [1, 0, 0] });
    await store.put(ns, 'dog', 'canine companion', { embedding: [0, 1, 0] });
    await store.put(ns, 'zero', 'a zero vector', { embedding: [0, 0, 0] });
    const hits = await store.search(ns, 'feline', { embedding: [1, 0, 0] });
    expect(hits[0]?.record.key).toBe('cat');
    if (store.vectorSearch) {
      // No shared word: the vector alone finds it; other lengths and zero vectors are not compared.
      expect((await store.search(ns, 'puppy', { embedding: [0, 0.9, 0.1] }))[0]?.record.key).toBe('dog');
      expect(
        (await store.search(ns, 'companion', { embedding: [1, 0] })).map((hit) => hit.record.key).sort(),
      ).toEqual(['cat', 'dog']);
      expect(await store.search(ns, 'nothing', { embedding: [0, 0, 0] })).toEqual([]);
      const rows = await admin.query(
        `SELECT count(*)::int AS n FROM "${SCHEMA}".memory_vectors WHERE tenant = $1`,
        [ns.tenant],
      );
      expect(rows.rows[0]).toEqual({ n: 3 });
      await store.put(ns, 'cat', 'feline companion, no embedding now');
      expect(
        (await store.search(ns, 'puppy', { embedding: [1, 0, 0] })).map((hit) => hit.record.key),
      ).toEqual([]);
    }
    const off = await postgresMemoryStore({ connectionString: CONNECTION, schema: SCHEMA, vectors: false });
    stores.push(off);
    expect(off.vectorSearch).toBe(false);
    expect(off.vectorNote).toMatch(/turned off/);
  });

  it('ranks with full-text search: stemming, stop words and prefixes', async () => {
    const store = await open();
    const ns = { tenant: tenant(), user: 'cy' };
    await store.put(ns, 'trains', 'Prefers travelling by night trains');
    await store.put(ns, 'deploy', 'Deployment goes to the staging cluster');
    await store.put(ns, 'noise', 'The and of which does');
    expect((await store.search(ns, 'train travel')).map((hit) => hit.record.key)).toEqual(['trains']);
    expect((await store.search(ns, 'deploy')).map((hit) => hit.record.key)).toEqual(['deploy']);
    expect(await store.search(ns, 'the of which')).toEqual([]);
    expect(await store.search(ns, "'; DROP TABLE memory_records; --")).toEqual([]);
    expect((await store.list(ns)).length).toBe(3);
  });

  it('forgetSubject is one transaction: a failure half-way leaves everything in place', async () => {
    const schema = `baton_mem_${randomBytes(5).toString('hex')}`;
    try {
      const store = await open(schema);
      const subject = { tenant: tenant(), user: 'dee' };
      await store.put(subject, 'a', 'one');
      await store.put(subject, 'a', 'two');
      // Make the last DELETE of the erasure fail: history and vectors go first, then records refuse.
      await admin.query(
        `CREATE FUNCTION "${schema}".refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$`,
      );
      await admin.query(
        `CREATE TRIGGER refuse BEFORE DELETE ON "${schema}".memory_records FOR EACH ROW EXECUTE FUNCTION "${schema}".refuse()`,
      );
      await expect(store.forgetSubject(subject)).rejects.toSatisfy((error: unknown) =>
        BatonError.is(error, 'MEMORY_UNAVAILABLE'),
      );
      expect((await residue(subject, schema)).sort()).toEqual([
        'memory_history default a',
        'memory_records default a',
      ]);
      expect((await store.history(subject, 'a')).map((record) => record.value)).toEqual(['one']);
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });

  it('refuses bad options and a text search configuration other than the schema’s', async () => {
    const bad = (options: Parameters<typeof postgresMemoryStore>[0]) =>
      expect(postgresMemoryStore(options)).rejects.toSatisfy((error: unknown) =>
        BatonError.is(error, 'CONFIG_INVALID'),
      );
    await bad({ connectionString: CONNECTION, schema: 'bad"; DROP SCHEMA public; --' });
    await bad({ connectionString: CONNECTION, textSearch: "english'::regconfig" });
    await bad({ schema: SCHEMA });
    await open();
    await bad({ connectionString: CONNECTION, schema: SCHEMA, textSearch: 'simple' });
  });

  it('an unreachable server is MEMORY_UNAVAILABLE with a hint, not a hang', async () => {
    await expect(
      postgresMemoryStore({ connectionString: 'postgresql://postgres@127.0.0.1:1/test', schema: SCHEMA }),
    ).rejects.toSatisfy(
      (error: unknown) => BatonError.is(error, 'MEMORY_UNAVAILABLE') && error.hint !== undefined,
    );
  });

  it('a caller’s pool is borrowed, not ended, by close()', async () => {
    const pool = new pg.Pool({ connectionString: CONNECTION, max: 2 });
    try {
      const store = await postgresMemoryStore({ pool, schema: SCHEMA });
      await store.close();
      await expect(store.get({ tenant: tenant() }, 'k')).rejects.toSatisfy((error: unknown) =>
        BatonError.is(error, 'MEMORY_UNAVAILABLE'),
      );
      expect((await pool.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 });
    } finally {
      await pool.end();
    }
  });

  it('rows edited by hand into something that is not a record are refused, not handed on', async () => {
    const store = await open();
    const ns = { tenant: tenant(), user: 'eve' };
    await store.put(ns, 'k', 'fine');
    await admin.query(
      `UPDATE "${SCHEMA}".memory_records SET provenance = '"not an object"' WHERE tenant = $1`,
      [ns.tenant],
    );
    await expect(store.get(ns, 'k')).rejects.toSatisfy((error: unknown) => BatonError.is(error, 'INTERNAL'));
  });
});
