/**
 * Read-only SQL: a guard for a tool that runs SQL, letting through only statements that read.
 *
 * Two layers, both of which must agree:
 * 1. A tokenizer for each lexical dialect in play (comments, nested comments, string literals with ''
 *    and, where the dialect has them, backslash escapes, E'' strings, dollar quotes, quoted identifiers,
 *    MySQL's executable comments `/*! ... *\/` and its `-- ` rule). Every statement must start with
 *    SELECT, WITH, VALUES or TABLE; no keyword that writes (INSERT, UPDATE, DELETE, MERGE, DROP, ALTER,
 *    CREATE, GRANT, REVOKE, TRUNCATE, COPY, CALL, EXECUTE, INTO, LOCK, ...) may appear outside literals and
 *    comments; no row locks (FOR UPDATE / FOR SHARE); no function with side effects (`nextval`,
 *    `set_config`, `dblink_exec`, `query_to_xml`, `lo_import`, `load_extension`, ...). With `dialect: 'any'`
 *    the text is read by the PostgreSQL, MySQL and SQLite rules in turn, so a string that one of them
 *    ends early (`'a\' ; DROP TABLE t; -- '`) cannot hide a statement from the others.
 * 2. For PostgreSQL (the default), the real PostgreSQL parser (libpg-query, WASM, loaded on first use):
 *    every statement must be a SelectStmt, with no INTO, no locking clause, no data-modifying CTE (no
 *    other *Stmt node anywhere in the tree) and no denied function call.
 *
 * Whatever cannot be read (unterminated literal, a parse error, too long) is not read-only: the guard
 * fails closed.
 */
import { loadSdk } from '../providers/load-sdk.js';
import { argumentsToCheck, type ToolArgumentGuardOptions, toolNames } from './allow-list.js';
import { type Guard, type GuardContext, type GuardStage, type GuardVerdict, PASS } from './types.js';
import { messageOf, parsePath, preview } from './walk.js';

export type SqlDialect = 'postgres' | 'mysql' | 'sqlite' | 'any';

export interface ReadOnlySqlOptions {
  /** Default `postgres` (tokenizer + the PostgreSQL parser). `mysql`, `sqlite`: that tokenizer. `any`: all three tokenizers. */
  dialect?: SqlDialect;
  /** More functions to refuse, besides `DEFAULT_DENIED_SQL_FUNCTIONS` (names compared case-insensitively). */
  deniedFunctions?: readonly string[];
  /** Longest SQL text checked (default 100,000 characters); longer is refused. */
  maxLength?: number;
}

export type SqlCheck = { readOnly: true; statements: number } | { readOnly: false; reason: string };

/** Keywords that only appear in statements that write, lock or run code. */
const WRITE_WORDS = new Set([
  'INSERT',
  'UPDATE',
  'DELETE',
  'MERGE',
  'UPSERT',
  'DROP',
  'ALTER',
  'CREATE',
  'GRANT',
  'REVOKE',
  'TRUNCATE',
  'COPY',
  'CALL',
  'EXEC',
  'EXECUTE',
  'INTO',
  'LOCK',
  'VACUUM',
  'REINDEX',
  'REFRESH',
  'OUTFILE',
  'DUMPFILE',
]);

const START_WORDS = new Set(['SELECT', 'WITH', 'VALUES', 'TABLE']);

/** Functions with side effects (writes, locks, session changes, server files, other connections). */
export const DEFAULT_DENIED_SQL_FUNCTIONS: readonly string[] = Object.freeze([
  // PostgreSQL
  'nextval',
  'setval',
  'set_config',
  'pg_terminate_backend',
  'pg_cancel_backend',
  'pg_reload_conf',
  'pg_rotate_logfile',
  'pg_switch_wal',
  'pg_create_restore_point',
  'pg_promote',
  'pg_advisory_lock',
  'pg_advisory_lock_shared',
  'pg_advisory_xact_lock',
  'pg_advisory_xact_lock_shared',
  'pg_try_advisory_lock',
  'pg_try_advisory_lock_shared',
  'pg_try_advisory_xact_lock',
  'pg_try_advisory_xact_lock_shared',
  'pg_notify',
  'pg_logical_emit_message',
  'pg_create_logical_replication_slot',
  'pg_create_physical_replication_slot',
  'pg_drop_replication_slot',
  'pg_read_file',
  'pg_read_binary_file',
  'pg_ls_dir',
  'pg_stat_file',
  'pg_file_write',
  'lo_import',
  'lo_export',
  'lo_create',
  'lo_creat',
  'lo_unlink',
  'lo_put',
  'lo_from_bytea',
  'dblink',
  'dblink_exec',
  'dblink_connect',
  'dblink_send_query',
  'query_to_xml',
  'query_to_xmlschema',
  'query_to_xml_and_xmlschema',
  'cursor_to_xml',
  // MySQL
  'load_file',
  'get_lock',
  'release_lock',
  'sys_exec',
  'sys_eval',
  // SQLite
  'load_extension',
  'writefile',
  'readfile',
  'edit',
  'fts3_tokenizer',
  // SQL Server
  'xp_cmdshell',
  'sp_executesql',
  'openrowset',
  'opendatasource',
  'openquery',
]);

// ---------------------------------------------------------------------------------------------------
// The tokenizer.

type LexMode = 'postgres' | 'mysql' | 'sqlite';

interface Token {
  type: 'word' | 'punct' | 'literal';
  /** Upper case for words, the character for punctuation. */
  text: string;
}

const MODES: Record<SqlDialect, readonly LexMode[]> = {
  postgres: ['postgres'],
  mysql: ['mysql'],
  sqlite: ['sqlite'],
  any: ['postgres', 'mysql', 'sqlite'],
};

function isWordStart(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95 || code >= 0x80;
}

function isWordPart(code: number, mode: LexMode): boolean {
  return isWordStart(code) || (code >= 48 && code <= 57) || (code === 36 && mode !== 'sqlite');
}

function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13) || code === 0xa0 || code === 0xfeff;
}

class LexError extends Error {}

/** Reads a quoted run from `start` (at the opening quote); returns the index after the closing quote. */
function quoted(sql: string, start: number, quote: string, backslash: boolean, what: string): number {
  let index = start + 1;
  while (index < sql.length) {
    const char = sql[index];
    if (backslash && char === '\\') {
      index += 2;
      continue;
    }
    if (char === quote) {
      if (sql[index + 1] === quote) {
        index += 2;
        continue;
      }
      return index + 1;
    }
    index++;
  }
  throw new LexError(`unterminated ${what}`);
}

/** Splits `sql` into tokens by `mode`'s lexical rules; literals and comments are not code. */
export function tokenizeSql(sql: string, mode: LexMode): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  let executable = 0; // MySQL /*! ... */ comments whose content is code
  while (index < sql.length) {
    const code = sql.charCodeAt(index);
    const char = sql[index] as string;
    const next = sql[index + 1];
    if (isSpace(code)) {
      index++;
      continue;
    }
    // Comments.
    if (char === '-' && next === '-') {
      const after = sql.charCodeAt(index + 2);
      if (mode !== 'mysql' || Number.isNaN(after) || isSpace(after) || after < 32) {
        const end = sql.indexOf('\n', index);
        index = end === -1 ? sql.length : end + 1;
        continue;
      }
    }
    if (char === '#' && mode === 'mysql') {
      const end = sql.indexOf('\n', index);
      index = end === -1 ? sql.length : end + 1;
      continue;
    }
    if (char === '/' && next === '*') {
      if (
        mode === 'mysql' &&
        (sql[index + 2] === '!' || (sql[index + 2] === 'M' && sql[index + 3] === '!'))
      ) {
        index += sql[index + 2] === '!' ? 3 : 4;
        while (index < sql.length && sql.charCodeAt(index) >= 48 && sql.charCodeAt(index) <= 57) index++;
        executable++;
        continue;
      }
      index = blockComment(sql, index, mode === 'postgres');
      continue;
    }
    if (char === '*' && next === '/' && executable > 0) {
      executable--;
      index += 2;
      continue;
    }
    // Literals and quoted identifiers.
    if (char === "'") {
      const backslash = mode === 'mysql' || isEscapeStringPrefix(sql, index, tokens, mode);
      index = quoted(sql, index, "'", backslash, 'string literal');
      tokens.push({ type: 'literal', text: "'" });
      continue;
    }
    if (char === '"') {
      index = quoted(sql, index, '"', mode === 'mysql', 'quoted identifier or string');
      tokens.push({ type: 'literal', text: '"' });
      continue;
    }
    if (char === '`' && mode !== 'postgres') {
      index = quoted(sql, index, '`', false, 'quoted identifier');
      tokens.push({ type: 'literal', text: '`' });
      continue;
    }
    if (char === '[' && mode === 'sqlite') {
      const end = sql.indexOf(']', index + 1);
      if (end === -1) throw new LexError('unterminated [identifier]');
      index = end + 1;
      tokens.push({ type: 'literal', text: '[' });
      continue;
    }
    if (char === '$' && mode === 'postgres') {
      const dollar = /\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;
      dollar.lastIndex = index;
      const open = dollar.exec(sql);
      if (open) {
        const end = sql.indexOf(open[0], index + open[0].length);
        if (end === -1) throw new LexError('unterminated dollar-quoted string');
        index = end + open[0].length;
        tokens.push({ type: 'literal', text: '$' });
        continue;
      }
    }
    if (isWordStart(code)) {
      let end = index + 1;
      while (end < sql.length && isWordPart(sql.charCodeAt(end), mode)) end++;
      tokens.push({ type: 'word', text: sql.slice(index, end).toUpperCase() });
      index = end;
      continue;
    }
    if (code >= 48 && code <= 57) {
      let end = index + 1;
      while (end < sql.length && /[0-9A-Za-z_.]/.test(sql[end] as string)) end++;
      tokens.push({ type: 'literal', text: '0' });
      index = end;
      continue;
    }
    tokens.push({ type: 'punct', text: char });
    index++;
  }
  if (executable > 0) throw new LexError('unterminated /*! comment');
  return tokens;
}

/** PostgreSQL's E'...' (and e'...') strings take backslash escapes. */
function isEscapeStringPrefix(sql: string, quote: number, tokens: Token[], mode: LexMode): boolean {
  if (mode !== 'postgres' || quote === 0) return false;
  const previous = sql[quote - 1];
  if (previous !== 'E' && previous !== 'e') return false;
  const last = tokens.at(-1);
  return last?.type === 'word' && last.text === 'E';
}

function blockComment(sql: string, start: number, nested: boolean): number {
  let depth = 0;
  let index = start;
  while (index < sql.length) {
    if (sql[index] === '/' && sql[index + 1] === '*') {
      depth = nested ? depth + 1 : 1;
      index += 2;
      continue;
    }
    if (sql[index] === '*' && sql[index + 1] === '/') {
      depth--;
      index += 2;
      if (depth === 0) return index;
      continue;
    }
    index++;
  }
  throw new LexError('unterminated /* comment');
}

function lexicalCheck(sql: string, mode: LexMode, denied: ReadonlySet<string>): SqlCheck {
  let tokens: Token[];
  try {
    tokens = tokenizeSql(sql, mode);
  } catch (error) {
    if (error instanceof LexError) return { readOnly: false, reason: `${error.message} (${mode} rules)` };
    throw error;
  }
  const statements: Token[][] = [[]];
  for (const token of tokens) {
    if (token.type === 'punct' && token.text === ';') statements.push([]);
    else (statements.at(-1) as Token[]).push(token);
  }
  let count = 0;
  for (const statement of statements) {
    if (statement.length === 0) continue;
    count++;
    const first = statement.find((token) => !(token.type === 'punct' && token.text === '('));
    if (first?.type !== 'word' || !START_WORDS.has(first.text)) {
      const what = first?.type === 'word' ? first.text : 'something else';
      return {
        readOnly: false,
        reason: `statement ${count} starts with ${what}, not SELECT/WITH/VALUES/TABLE`,
      };
    }
    for (let index = 0; index < statement.length; index++) {
      const token = statement[index] as Token;
      if (token.type !== 'word') continue;
      const following = statement[index + 1];
      const isCall = following?.type === 'punct' && following.text === '(';
      if (isCall && denied.has(token.text.toLowerCase())) {
        return {
          readOnly: false,
          reason: `statement ${count} calls ${token.text.toLowerCase()}(), which has side effects`,
        };
      }
      if (WRITE_WORDS.has(token.text)) {
        return { readOnly: false, reason: `statement ${count} contains ${token.text}` };
      }
      if (token.text === 'REPLACE' && !isCall) {
        return { readOnly: false, reason: `statement ${count} contains REPLACE` };
      }
      if (
        token.text === 'FOR' &&
        following?.type === 'word' &&
        ['SHARE', 'KEY', 'NO'].includes(following.text)
      ) {
        return { readOnly: false, reason: `statement ${count} locks rows (FOR ${following.text} ...)` };
      }
    }
  }
  if (count === 0) return { readOnly: false, reason: 'no SQL statement' };
  return { readOnly: true, statements: count };
}

// ---------------------------------------------------------------------------------------------------
// The PostgreSQL parser.

type PgQuery = typeof import('libpg-query');

/** The parser once its WASM module is initialized: from then on a check needs no await. */
let parserReady: PgQuery | undefined;

async function loadParser(): Promise<PgQuery> {
  const parser = await loadSdk<PgQuery>('libpg-query', () => import('libpg-query'));
  await parser.loadModule();
  parserReady = parser;
  return parser;
}

function parserCheck(tree: unknown, denied: ReadonlySet<string>): SqlCheck {
  const statements = (tree as { stmts?: { stmt?: Record<string, unknown> }[] }).stmts ?? [];
  let count = 0;
  for (const entry of statements) {
    count++;
    const kind = Object.keys(entry.stmt ?? {})[0];
    if (kind !== 'SelectStmt') {
      return { readOnly: false, reason: `statement ${count} is ${kind ?? 'empty'}, not a SELECT` };
    }
    const found = findUnsafeNode(entry.stmt, denied);
    if (found) return { readOnly: false, reason: `statement ${count} ${found}` };
  }
  if (count === 0) return { readOnly: false, reason: 'no SQL statement' };
  return { readOnly: true, statements: count };
}

/** Walks a parse tree (iteratively: trees can be deep) for anything that writes. */
function findUnsafeNode(root: unknown, denied: ReadonlySet<string>): string | undefined {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (const item of node) stack.push(item);
      continue;
    }
    if (typeof node !== 'object' || node === null) continue;
    // for...in over a parsed JSON object: its own keys, without an entries array per node.
    for (const key in node) {
      if (!Object.hasOwn(node, key)) continue;
      const value = (node as Record<string, unknown>)[key];
      if (key.endsWith('Stmt') && key !== 'SelectStmt')
        return `contains a ${key} (a data-modifying statement)`;
      if (key === 'SelectStmt' && typeof value === 'object' && value !== null) {
        const select = value as { intoClause?: unknown; lockingClause?: unknown };
        if (select.intoClause) return 'is a SELECT ... INTO (it creates a table)';
        if (select.lockingClause) return 'locks rows (FOR UPDATE / FOR SHARE)';
      }
      if (key === 'FuncCall' && typeof value === 'object' && value !== null) {
        const names = (value as { funcname?: { String?: { sval?: string } }[] }).funcname ?? [];
        const last = names.at(-1)?.String?.sval?.toLowerCase();
        if (last && denied.has(last)) return `calls ${last}(), which has side effects`;
      }
      if (typeof value === 'object' && value !== null) stack.push(value);
    }
  }
  return undefined;
}

const DEFAULT_DENIED: ReadonlySet<string> = new Set(DEFAULT_DENIED_SQL_FUNCTIONS);
const DENIED_SETS = new WeakMap<readonly string[], ReadonlySet<string>>();

/** The functions refused, made once per list (a guard checks with the same options every time). */
function deniedOf(extra: readonly string[] | undefined): ReadonlySet<string> {
  if (extra === undefined || extra.length === 0) return DEFAULT_DENIED;
  let set = DENIED_SETS.get(extra);
  if (!set) {
    set = new Set([...DEFAULT_DENIED_SQL_FUNCTIONS, ...extra].map((name) => name.toLowerCase()));
    DENIED_SETS.set(extra, set);
  }
  return set;
}

/**
 * The verdict on `sql` when it can be reached without waiting — always, except for PostgreSQL before its
 * parser has loaded (then undefined, and `checkReadOnlySql` loads it).
 */
function checkNow(
  sql: string,
  options: ReadOnlySqlOptions,
  parser: PgQuery | undefined,
): SqlCheck | undefined {
  if (typeof sql !== 'string') return { readOnly: false, reason: 'the SQL is not a string' };
  const maxLength = options.maxLength ?? 100_000;
  if (sql.length > maxLength) {
    return { readOnly: false, reason: `the SQL is ${sql.length} characters, over the ${maxLength} checked` };
  }
  const dialect = options.dialect ?? 'postgres';
  try {
    const denied = deniedOf(options.deniedFunctions);
    let result: SqlCheck = { readOnly: false, reason: 'no SQL statement' };
    for (const mode of MODES[dialect] ?? MODES.any) {
      result = lexicalCheck(sql, mode, denied);
      if (!result.readOnly) return result;
    }
    if (dialect !== 'postgres') return result;
    if (!parser) return undefined;
    let tree: unknown;
    try {
      tree = parser.parseSync(sql);
    } catch (error) {
      return { readOnly: false, reason: `not valid PostgreSQL (${messageOf(error)})` };
    }
    return parserCheck(tree, denied);
  } catch (error) {
    return { readOnly: false, reason: `could not check the SQL (${messageOf(error)})` };
  }
}

/**
 * Whether `sql` only reads: one or more SELECT / WITH … SELECT / VALUES / TABLE statements and nothing
 * that writes, locks or runs code (see the module comment). Never throws: what cannot be checked is
 * `readOnly: false` with the reason.
 */
export async function checkReadOnlySql(sql: string, options: ReadOnlySqlOptions = {}): Promise<SqlCheck> {
  const now = checkNow(sql, options, parserReady);
  if (now) return now;
  let parser: PgQuery;
  try {
    parser = await loadParser();
  } catch (error) {
    return { readOnly: false, reason: `could not check the SQL (${messageOf(error)})` };
  }
  return checkNow(sql, options, parser) as SqlCheck;
}

export interface ReadOnlySqlGuardOptions extends ToolArgumentGuardOptions, ReadOnlySqlOptions {}

const STAGES: readonly GuardStage[] = Object.freeze(['toolInput']);

/**
 * A guard that lets a SQL tool run only read-only SQL: `readOnlySqlGuard({ tool: 'query', path: 'sql' })`.
 * The value at `path` must be a string (or an array of strings, each checked); anything else trips.
 */
export function readOnlySqlGuard(options: ReadOnlySqlGuardOptions): Guard {
  const name = options.name ?? 'read-only-sql';
  const tools = toolNames(options, 'readOnlySqlGuard');
  const path = parsePath(options.path);
  const pathText = typeof options.path === 'string' ? options.path : options.path.join('.');
  const verdictOn = (item: { value: unknown; path: string }, check: SqlCheck, tool: string): GuardVerdict => {
    if (check.readOnly) return PASS;
    return {
      action: 'trip',
      reason: `${name}: tool "${tool}" argument "${item.path}" = ${preview(item.value, 80)} is not read-only SQL: ${check.reason}`,
      findings: [{ kind: 'sql_write', note: `${item.path}: ${check.reason}` }],
    };
  };
  return {
    name,
    stages: STAGES,
    // Synchronous once the parser has loaded (a check per tool call, often on every step).
    check(value: unknown, context: GuardContext): GuardVerdict | Promise<GuardVerdict> {
      const found = argumentsToCheck(options, tools, value, context, path);
      if (found === undefined) return PASS;
      const tool = context.tool as string;
      if ('trip' in found) return { action: 'trip', reason: `${name}: tool "${tool}": ${found.trip}` };
      if (found.length === 0) {
        if (!options.required) return PASS;
        return { action: 'trip', reason: `${name}: tool "${tool}" was called without "${pathText}"` };
      }
      for (const [index, item] of found.entries()) {
        if (typeof item.value !== 'string') {
          return verdictOn(item, { readOnly: false, reason: 'not a string' }, tool);
        }
        const check = checkNow(item.value, options, parserReady);
        if (check === undefined) return checkRest(found.slice(index), options, tool, verdictOn);
        if (!check.readOnly) return verdictOn(item, check, tool);
      }
      return PASS;
    },
  };
}

/** The rest of the values, once the parser has loaded. */
async function checkRest(
  items: { value: unknown; path: string }[],
  options: ReadOnlySqlOptions,
  tool: string,
  verdictOn: (item: { value: unknown; path: string }, check: SqlCheck, tool: string) => GuardVerdict,
): Promise<GuardVerdict> {
  for (const item of items) {
    const check =
      typeof item.value === 'string'
        ? await checkReadOnlySql(item.value, options)
        : ({ readOnly: false, reason: 'not a string' } as const);
    if (!check.readOnly) return verdictOn(item, check, tool);
  }
  return PASS;
}
