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
import {
  type ArgumentValue,
  argumentsToCheck,
  type ToolArgumentGuardOptions,
  toolNames,
} from './allow-list.js';
import { lexicalCheck, MODES, type SqlCheck, type SqlDialect } from './sql-lexer.js';
import { loadParser, type PgQuery, parserCheck, readyParser } from './sql-parser.js';
import { type Guard, type GuardContext, type GuardStage, type GuardVerdict, PASS } from './types.js';
import { formatPath, messageOf, parsePath, preview } from './walk.js';

export type { SqlCheck, SqlDialect } from './sql-lexer.js';

export interface ReadOnlySqlOptions {
  /** Default `postgres` (tokenizer + the PostgreSQL parser). `mysql`, `sqlite`: that tokenizer. `any`: all three tokenizers. */
  dialect?: SqlDialect;
  /** More functions to refuse, besides `DEFAULT_DENIED_SQL_FUNCTIONS` (names compared case-insensitively). */
  deniedFunctions?: readonly string[];
  /** Longest SQL text checked (default 100,000 characters); longer is refused. */
  maxLength?: number;
}

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
  const now = checkNow(sql, options, readyParser());
  if (now) return now;
  let parser: PgQuery;
  try {
    parser = await loadParser();
  } catch (error) {
    return { readOnly: false, reason: `could not check the SQL (${messageOf(error)})` };
  }
  return checkNow(sql, options, parser) as SqlCheck;
}

/** How many read-only texts a guard remembers, and the longest it remembers. */
const REMEMBERED_TEXTS = 256;
const REMEMBERED_MAX_LENGTH = 4_096;

/**
 * The SQL texts a guard found read-only, so that a query it is shown again (the same tool call on
 * every step, a query with parameters) is not tokenized and parsed again: the PostgreSQL parse (a tree
 * built as JSON in WASM, then parsed again in JS) was most of what the guards cost per step. A verdict
 * depends only on the text and the guard's options, which never change, so remembering one changes no
 * verdict. Only passes are kept: they are what repeats, and a refusal stops the call anyway. Bounded in
 * entries and length; the oldest goes first.
 */
class ReadOnlyTexts {
  readonly #texts = new Set<string>();

  has(sql: string): boolean {
    return this.#texts.has(sql);
  }

  add(sql: string): void {
    if (sql.length > REMEMBERED_MAX_LENGTH) return;
    if (this.#texts.size >= REMEMBERED_TEXTS) {
      for (const oldest of this.#texts) {
        this.#texts.delete(oldest);
        break;
      }
    }
    this.#texts.add(sql);
  }
}

export interface ReadOnlySqlGuardOptions extends ToolArgumentGuardOptions, ReadOnlySqlOptions {}

const STAGES: readonly GuardStage[] = Object.freeze(['toolInput']);

type VerdictOn = (item: ArgumentValue, check: SqlCheck, tool: string) => GuardVerdict;

/**
 * A guard that lets a SQL tool run only read-only SQL: `readOnlySqlGuard({ tool: 'query', path: 'sql' })`.
 * The value at `path` must be a string (or an array of strings, each checked); anything else trips.
 */
export function readOnlySqlGuard(options: ReadOnlySqlGuardOptions): Guard {
  const name = options.name ?? 'read-only-sql';
  const tools = toolNames(options, 'readOnlySqlGuard');
  const path = parsePath(options.path);
  const pathText = typeof options.path === 'string' ? options.path : options.path.join('.');
  const readOnly = new ReadOnlyTexts();
  const verdictOn: VerdictOn = (item, check, tool) => {
    if (check.readOnly) return PASS;
    const at = formatPath(item.path);
    return {
      action: 'trip',
      reason: `${name}: tool "${tool}" argument "${at}" = ${preview(item.value, 80)} is not read-only SQL: ${check.reason}`,
      findings: [{ kind: 'sql_write', note: `${at}: ${check.reason}` }],
    };
  };
  return {
    name,
    stages: STAGES,
    // Synchronous once the parser has loaded (a check per tool call, often on every step).
    check(value: unknown, context: GuardContext): GuardVerdict | Promise<GuardVerdict> {
      const found = argumentsToCheck(tools, value, context, path);
      if (found === undefined) return PASS;
      const tool = context.tool as string;
      if ('trip' in found) return { action: 'trip', reason: `${name}: tool "${tool}": ${found.trip}` };
      if (found.length === 0) {
        if (!options.required) return PASS;
        return { action: 'trip', reason: `${name}: tool "${tool}" was called without "${pathText}"` };
      }
      for (let index = 0; index < found.length; index++) {
        const item = found[index] as ArgumentValue;
        if (typeof item.value !== 'string') {
          return verdictOn(item, { readOnly: false, reason: 'not a string' }, tool);
        }
        if (readOnly.has(item.value)) continue;
        const check = checkNow(item.value, options, readyParser());
        if (check === undefined) return checkRest(found.slice(index), options, tool, verdictOn, readOnly);
        if (!check.readOnly) return verdictOn(item, check, tool);
        readOnly.add(item.value);
      }
      return PASS;
    },
  };
}

/** The rest of the values, once the parser has loaded. */
async function checkRest(
  items: ArgumentValue[],
  options: ReadOnlySqlOptions,
  tool: string,
  verdictOn: VerdictOn,
  readOnly: ReadOnlyTexts,
): Promise<GuardVerdict> {
  for (const item of items) {
    if (typeof item.value !== 'string')
      return verdictOn(item, { readOnly: false, reason: 'not a string' }, tool);
    const check = await checkReadOnlySql(item.value, options);
    if (!check.readOnly) return verdictOn(item, check, tool);
    readOnly.add(item.value);
  }
  return PASS;
}
