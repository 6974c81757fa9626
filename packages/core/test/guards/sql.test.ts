import { checkReadOnlySql, readOnlySqlGuard, type SqlDialect } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { check, expectVerdict, prng, randomText } from './helpers.js';

const readOnly = async (sql: string, dialect: SqlDialect = 'postgres') =>
  (await checkReadOnlySql(sql, { dialect })).readOnly;

describe('checkReadOnlySql', () => {
  it('accepts reads: SELECT, WITH … SELECT, VALUES, TABLE, several statements, any case', async () => {
    for (const sql of [
      'SELECT 1',
      "select * from users where name = 'O''Brien';",
      "WITH recent AS (SELECT * FROM orders WHERE day > now() - interval '7 days') SELECT count(*) FROM recent",
      'WITH RECURSIVE t(n) AS (VALUES (1) UNION ALL SELECT n + 1 FROM t WHERE n < 5) SELECT * FROM t',
      '(SELECT 1) UNION (SELECT 2)',
      'VALUES (1, 2), (3, 4)',
      'TABLE users',
      'SeLeCt 1; select 2;',
      "SELECT replace(name, 'a', 'b'), upper(email) FROM t",
      'SELECT "delete", \'; DROP TABLE t; --\' FROM t /* ; delete from t */ -- drop table t',
      'SELECT * FROM t /* nested /* comment */ DROP TABLE x */',
      'SELECT $$; DROP TABLE t; $$',
      "SELECT E'\\'; DROP TABLE t; --'",
    ]) {
      expect({ sql, result: await checkReadOnlySql(sql) }).toMatchObject({ result: { readOnly: true } });
    }
  });

  it('refuses writes, DDL, privileges and code, whatever the case or the comments', async () => {
    for (const sql of [
      'INSERT INTO t VALUES (1)',
      'update t set a = 1',
      'DELETE FROM t',
      'MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE',
      'DROP TABLE users',
      'ALTER TABLE t ADD COLUMN c int',
      'CREATE TABLE x (a int)',
      'GRANT ALL ON t TO public',
      'TRUNCATE t',
      "COPY t TO PROGRAM 'rm -rf /'",
      'CALL cleanup()',
      'SELECT 1; DROP TABLE users',
      'sElEcT 1; dElEtE from t',
      'SELECT 1 -- harmless\n; DELETE FROM t',
      'SELECT 1 /* x */; /* y */ DROP TABLE t',
      'SELECT 1; COMMIT; DROP TABLE t',
      'EXPLAIN ANALYZE DELETE FROM t',
      'DO $$ BEGIN DELETE FROM t; END $$',
      'SET ROLE admin',
      "SELECT E'\\\\'; DROP TABLE t; --'",
    ]) {
      expect({ sql, readOnly: await readOnly(sql) }).toEqual({ sql, readOnly: false });
    }
  });

  it('refuses SELECT … INTO, data-modifying CTEs, row locks and functions with side effects', async () => {
    for (const sql of [
      'SELECT * INTO backup FROM users',
      'WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d',
      'WITH u AS (UPDATE t SET a = 1 RETURNING *) SELECT count(*) FROM u',
      'WITH i AS (INSERT INTO t VALUES (1) RETURNING id) SELECT id FROM i',
      'SELECT * FROM t FOR UPDATE',
      'SELECT * FROM t FOR SHARE',
      'select * from t for no key update',
      "SELECT nextval('invoice_seq')",
      "SELECT pg_catalog.set_config('role', 'admin', false)",
      "SELECT query_to_xml('delete from t', true, true, '')",
      "SELECT lo_import('/etc/passwd')",
      "SELECT dblink_exec('host=x', 'DROP TABLE t')",
      'SELECT pg_terminate_backend(42)',
    ]) {
      expect({ sql, readOnly: await readOnly(sql) }).toEqual({ sql, readOnly: false });
    }
  });

  it('the PostgreSQL parser catches what the tokens hide', async () => {
    // A quoted function name is a literal to the tokenizer, a call to PostgreSQL.
    expect(await checkReadOnlySql('SELECT "nextval"(\'s\')')).toEqual({
      readOnly: false,
      reason: 'statement 1 calls nextval(), which has side effects',
    });
    expect(await readOnly('SELECT U&"\\006Eextval"(\'s\')')).toBe(false);
    // Not PostgreSQL: refused rather than guessed.
    expect(await checkReadOnlySql('SELECT * FROM `users`')).toMatchObject({
      readOnly: false,
      reason: expect.stringContaining('not valid PostgreSQL'),
    });
    expect(await readOnly('SELEC 1')).toBe(false);
  });

  it('with dialect "any", a literal that one dialect ends early cannot hide a statement from it', async () => {
    // MySQL ends the first string at the second quote only; PostgreSQL sees two strings.
    const backslash = "SELECT 'a\\' , ' ; DROP TABLE t; -- '";
    expect(await readOnly(backslash, 'postgres')).toBe(true);
    expect(await readOnly(backslash, 'mysql')).toBe(false);
    expect(await readOnly(backslash, 'any')).toBe(false);
    // MySQL needs a space after --; /*! ... */ is code there; $$ quotes only in PostgreSQL.
    expect(await readOnly('SELECT 1 --; DROP TABLE t', 'postgres')).toBe(true);
    expect(await readOnly('SELECT 1 --; DROP TABLE t', 'any')).toBe(false);
    expect(await readOnly('SELECT 1 /*! ; DROP TABLE t */', 'postgres')).toBe(true);
    expect(await readOnly('SELECT 1 /*!50000 ; DROP TABLE t */', 'mysql')).toBe(false);
    expect(await readOnly('SELECT 1 # comment\n; DROP TABLE t', 'mysql')).toBe(false);
    expect(await readOnly('SELECT $$; DROP TABLE t; $$', 'any')).toBe(false);
    // SQLite comments do not nest.
    expect(await readOnly('SELECT 1 /* a /* b */ DROP TABLE x */', 'sqlite')).toBe(false);
    expect(await readOnly('SELECT * FROM `users` LIMIT 5, 10', 'mysql')).toBe(true);
    expect(await readOnly('SELECT * FROM [users]', 'sqlite')).toBe(true);
    expect(await readOnly('REPLACE INTO t VALUES (1)', 'mysql')).toBe(false);
  });

  it('refuses what it cannot read', async () => {
    for (const sql of [
      "SELECT 'abc",
      'SELECT "abc',
      '/* SELECT 1',
      'SELECT $x$ abc',
      '',
      '   -- only a comment',
      ';;',
    ]) {
      expect({ sql, readOnly: await readOnly(sql, 'any') }).toEqual({ sql, readOnly: false });
    }
    expect(await checkReadOnlySql('SELECT 1', { maxLength: 4 })).toMatchObject({ readOnly: false });
    expect(await checkReadOnlySql(42 as never)).toEqual({
      readOnly: false,
      reason: 'the SQL is not a string',
    });
    expect(await checkReadOnlySql('SELECT 1\u0000; DROP TABLE t')).toMatchObject({ readOnly: false });
    expect(await checkReadOnlySql('SELECT my_func(1)', { deniedFunctions: ['MY_FUNC'] })).toMatchObject({
      readOnly: false,
    });
  });
});

describe('readOnlySqlGuard', () => {
  const guard = readOnlySqlGuard({ tool: 'query', path: 'sql' });

  it('passes read-only SQL and trips at toolInput naming the tool, the path and the SQL', async () => {
    expect(await check(guard, { sql: 'SELECT * FROM orders LIMIT 10' }, 'toolInput', 'query')).toEqual({
      action: 'pass',
    });
    const verdict = await check(guard, { sql: 'SELECT 1; DROP TABLE orders' }, 'toolInput', 'query');
    expect(verdict).toEqual({
      action: 'trip',
      reason:
        'read-only-sql: tool "query" argument "sql" = "SELECT 1; DROP TABLE orders" is not read-only SQL: statement 2 starts with DROP, not SELECT/WITH/VALUES/TABLE',
      findings: [
        { kind: 'sql_write', note: 'sql: statement 2 starts with DROP, not SELECT/WITH/VALUES/TABLE' },
      ],
    });
  });

  it('checks arrays element-wise, refuses non-strings, ignores other tools', async () => {
    const batch = readOnlySqlGuard({ tool: ['query', 'batch'], path: 'statements', dialect: 'any' });
    expect(await check(batch, { statements: ['SELECT 1', 'SELECT 2'] }, 'toolInput', 'batch')).toEqual({
      action: 'pass',
    });
    const verdict = await check(batch, { statements: ['SELECT 1', 'DELETE FROM t'] }, 'toolInput', 'batch');
    expect(verdict).toMatchObject({ action: 'trip', reason: expect.stringContaining('"statements[1]"') });
    expect(await check(guard, { sql: { text: 'SELECT 1' } }, 'toolInput', 'query')).toMatchObject({
      action: 'trip',
      reason: expect.stringContaining('not a string'),
    });
    expect(await check(guard, { sql: 'DROP TABLE t' }, 'toolInput', 'other')).toEqual({ action: 'pass' });
    const long = await check(
      guard,
      { sql: `SELECT 1; DROP TABLE t; ${'-- x'.repeat(100)}` },
      'toolInput',
      'query',
    );
    if (long.action === 'trip') expect(long.reason.length).toBeLessThan(300);
  });

  it('never throws on random input (fuzz), and stays quick on 100 KB', async () => {
    const random = prng(42);
    const any = readOnlySqlGuard({ tool: 'query', path: 'sql', dialect: 'any' });
    for (let round = 0; round < 300; round++) {
      const sql = randomText(random, 40);
      expectVerdict(await check(guard, { sql }, 'toolInput', 'query'));
      expectVerdict(await check(any, { sql }, 'toolInput', 'query'));
    }
    const big = `SELECT ${Array.from({ length: 10_000 }, (_, index) => `c${index}`).join(', ')} FROM t`;
    for (const sql of [
      big,
      '/*'.repeat(50_000),
      "'".repeat(100_000),
      `SELECT ${'('.repeat(20_000)}1${')'.repeat(20_000)}`,
    ]) {
      const start = performance.now();
      expectVerdict(await check(any, { sql }, 'toolInput', 'query'));
      expectVerdict(await check(guard, { sql }, 'toolInput', 'query'));
      expect(performance.now() - start).toBeLessThan(5_000);
    }
  });
});
