/**
 * The second layer of the read-only SQL guard (sql.ts): the real PostgreSQL parser (libpg-query, WASM,
 * loaded on first use). Every statement must be a SelectStmt, with no INTO, no locking clause, no
 * data-modifying CTE (no other *Stmt node anywhere in the tree) and no denied function call.
 */
import { loadSdk } from '../providers/load-sdk.js';
import type { SqlCheck } from './sql-lexer.js';

export type PgQuery = typeof import('libpg-query');

/** The parser once its WASM module is initialized: from then on a check needs no await. */
let ready: PgQuery | undefined;

/** The parser if it has loaded, else undefined (then `loadParser`). */
export function readyParser(): PgQuery | undefined {
  return ready;
}

export async function loadParser(): Promise<PgQuery> {
  const parser = await loadSdk<PgQuery>('libpg-query', () => import('libpg-query'));
  await parser.loadModule();
  ready = parser;
  return parser;
}

/** The second layer's verdict on a parse tree. */
export function parserCheck(tree: unknown, denied: ReadonlySet<string>): SqlCheck {
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
