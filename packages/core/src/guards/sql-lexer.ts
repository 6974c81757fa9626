/**
 * The SQL tokenizer of the read-only SQL guard (sql.ts), one lexical dialect at a time: comments, nested
 * comments, string literals with '' and, where the dialect has them, backslash escapes, E'' strings,
 * dollar quotes, quoted identifiers, MySQL's executable comments `/*! ... *\/` and its `-- ` rule. Its
 * check is the first of the guard's two layers: every statement starts with SELECT, WITH, VALUES or
 * TABLE, no keyword that writes, no row lock, no denied function.
 */

export type SqlDialect = 'postgres' | 'mysql' | 'sqlite' | 'any';

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

export type LexMode = 'postgres' | 'mysql' | 'sqlite';

interface Token {
  type: 'word' | 'punct' | 'literal';
  /** Upper case for words, the character for punctuation. */
  text: string;
}

/** The lexical rules each dialect is read by (`any`: all three, so none can hide a statement). */
export const MODES: Record<SqlDialect, readonly LexMode[]> = {
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

/** The first layer's verdict on `sql` by `mode`'s rules. */
export function lexicalCheck(sql: string, mode: LexMode, denied: ReadonlySet<string>): SqlCheck {
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
