/**
 * Helpers the built-in guards share: walking the strings inside a value (a tool result is often JSON),
 * reading a path into tool arguments, and short, bounded previews for reasons.
 */

/** Deeper than this, a value is not walked: the guard fails closed instead (a trip, never a throw). */
export const MAX_DEPTH = 64;

export class TooDeepError extends Error {
  constructor() {
    super(`the value is nested deeper than ${MAX_DEPTH} levels`);
  }
}

/** A place inside a value: object keys and array indexes. */
export type ValuePath = readonly (string | number)[];

type Visit = (text: string, path: ValuePath, isKey: boolean) => string | undefined;

/**
 * Visits every string inside `value` (the value itself, array elements, object keys and property
 * values, at any depth) and rebuilds the containers whose strings `visit` replaced; untouched parts
 * keep their identity. An object met twice is walked once, and both places get its rebuilt form (a
 * cycle back to an object still being walked keeps the original). Throws `TooDeepError` past `MAX_DEPTH`.
 */
export function mapStrings(value: unknown, visit: Visit): { value: unknown; changed: boolean } {
  // A lone string (an input, an answer) is the common case: visit it without the walker's bookkeeping.
  if (typeof value === 'string') {
    const replaced = visit(value, [], false);
    return replaced === undefined || replaced === value
      ? { value, changed: false }
      : { value: replaced, changed: true };
  }
  if (typeof value !== 'object' || value === null) return { value, changed: false };
  const walk = new Walk(visit);
  const result = walk.value(value, 0);
  return { value: result, changed: walk.changed };
}

/** One walk of `mapStrings`: its state, and no closure per container. */
class Walk {
  changed = false;
  readonly #visit: Visit;
  readonly #path: (string | number)[] = [];
  /**
   * Each object walked, with what replaces it (itself while it is being walked, or when unchanged).
   * Made at the second object: a flat value (tool arguments, most results) has one.
   */
  #walked: Map<object, unknown> | undefined;
  #first: object | undefined;
  #firstResult: unknown;

  constructor(visit: Visit) {
    this.#visit = visit;
  }

  value(current: unknown, depth: number): unknown {
    if (typeof current === 'string') {
      const replaced = this.#visit(current, this.#path, false);
      if (replaced === undefined || replaced === current) return current;
      this.changed = true;
      return replaced;
    }
    if (typeof current !== 'object' || current === null) return current;
    if (current === this.#first) return this.#firstResult;
    if (this.#walked?.has(current)) return this.#walked.get(current);
    if (depth >= MAX_DEPTH) throw new TooDeepError();
    if (this.#first === undefined) {
      this.#first = current;
      this.#firstResult = current;
    } else {
      this.#walked ??= new Map();
      this.#walked.set(current, current);
    }
    const result = Array.isArray(current)
      ? this.#array(current, depth)
      : isWalkable(current)
        ? this.#object(current as Record<string, unknown>, depth)
        : current;
    if (result !== current) {
      if (current === this.#first) this.#firstResult = result;
      else this.#walked?.set(current, result);
    }
    return result;
  }

  #array(current: unknown[], depth: number): unknown {
    const path = this.#path;
    let copy: unknown[] | undefined;
    for (let index = 0; index < current.length; index++) {
      path.push(index);
      const next = this.value(current[index], depth + 1);
      path.pop();
      if (next !== current[index]) {
        copy ??= current.slice();
        copy[index] = next;
      }
    }
    return copy ?? current;
  }

  #object(current: Record<string, unknown>, depth: number): unknown {
    const path = this.#path;
    let copy: Record<string, unknown> | undefined;
    const keys = Object.keys(current);
    for (const key of keys) {
      const item = current[key];
      path.push(key);
      const newKey = this.#visit(key, path, true);
      const next = this.value(item, depth + 1);
      path.pop();
      const renamed = newKey !== undefined && newKey !== key;
      if (next !== item || renamed) {
        copy ??= Object.fromEntries(Object.entries(current));
        if (renamed) {
          this.changed = true;
          delete copy[key];
          copy[uniqueKey(copy, newKey)] = next;
        } else {
          copy[key] = next;
        }
      }
    }
    return copy ?? current;
  }
}

const NO_MATCHES: readonly RegExpExecArray[] = Object.freeze([]);

/**
 * Every match of the global regex `pattern` in `text`, as `[...text.matchAll(pattern)]` would list them.
 * matchAll copies the regex on every call, and on the short texts of a typical step that copy cost more
 * than the search: the detectors run a few dozen patterns per string. The list is complete before the
 * caller looks at it, so the caller may use `pattern` again (lastIndex is left at 0).
 */
export function allMatches(pattern: RegExp, text: string): readonly RegExpExecArray[] {
  // Without /g, exec ignores lastIndex and this would never end (matchAll throws too).
  if (!pattern.global) throw new TypeError(`allMatches needs a global regex, got ${pattern}`);
  pattern.lastIndex = 0;
  let match = pattern.exec(text);
  if (match === null) return NO_MATCHES;
  const found: RegExpExecArray[] = [];
  const unicode = pattern.unicode || pattern.flags.includes('v');
  while (match !== null) {
    found.push(match);
    // An empty match moves on by one character (a code point with /u), as matchAll does.
    if (match[0].length === 0) {
      const at = pattern.lastIndex;
      const code = text.charCodeAt(at);
      const next = text.charCodeAt(at + 1);
      const pair = code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff;
      pattern.lastIndex = at + (unicode && pair ? 2 : 1);
    }
    match = pattern.exec(text);
  }
  pattern.lastIndex = 0;
  return found;
}

/** Plain objects and class instances with own data; not Dates, Maps, buffers, typed arrays... */
function isWalkable(value: object): boolean {
  if (value instanceof Date || value instanceof RegExp || ArrayBuffer.isView(value)) return false;
  if (value instanceof Map || value instanceof Set || value instanceof ArrayBuffer) return false;
  return true;
}

function uniqueKey(target: Record<string, unknown>, key: string): string {
  if (!Object.hasOwn(target, key)) return key;
  for (let n = 2; ; n++) {
    const candidate = `${key}_${n}`;
    if (!Object.hasOwn(target, candidate)) return candidate;
  }
}

const SAFE_KEY = /^[A-Za-z_$][\w$-]{0,39}$/;

/**
 * A path for notes and reasons, e.g. `results[2].email`. Keys that do not look like identifiers (they
 * might hold the sensitive text themselves) are shown as `[key]`.
 */
export function formatPath(path: ValuePath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (SAFE_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += '[key]';
  }
  return out === '' ? '(value)' : out;
}

/** A short, single-line preview of a value for a reason: JSON, at most `max` characters. */
export function preview(value: unknown, max = 60): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = Object.prototype.toString.call(value);
  }
  if (text.length <= max) return text;
  return `${text.slice(0, max - 1)}…`;
}

/**
 * Parses a path into tool arguments: `to`, `message.recipients`, `recipients[*].email`, `rows[0]`.
 * Segments are object keys, numeric indexes or `*` (every element of an array).
 */
export function parsePath(path: string | readonly (string | number)[]): (string | number)[] {
  if (typeof path !== 'string') return [...path];
  const segments: (string | number)[] = [];
  for (const part of path.split('.')) {
    const match = /^([^[\]]*)((?:\[[^\]]*\])*)$/.exec(part);
    if (!match) {
      segments.push(part);
      continue;
    }
    if (match[1]) segments.push(match[1]);
    for (const index of (match[2] ?? '').matchAll(/\[([^\]]*)\]/g)) {
      const inner = index[1] ?? '';
      segments.push(/^\d+$/.test(inner) ? Number(inner) : inner === '' ? '*' : inner);
    }
  }
  return segments.filter((segment) => segment !== '');
}

/**
 * The values found at `path` inside `root`, with their concrete paths. Arrays met on the way are
 * entered element-wise when the next segment is not an index (and so is an array at the end), so
 * `to` covers `{ to: 'a' }` and `{ to: ['a', 'b'] }`. A path is copied only for a value found: a tool
 * call is checked on every step, and most paths lead to one value or none.
 */
export function valuesAt(
  root: unknown,
  path: readonly (string | number)[],
): { value: unknown; path: ValuePath }[] {
  const direct = plainValueAt(root, path);
  if (direct !== MIXED) return direct === undefined ? [] : [{ value: direct.value, path }];
  const found: { value: unknown; path: ValuePath }[] = [];
  collect(root, path, 0, [], 0, found);
  return found;
}

const MIXED = Symbol('mixed');

/**
 * The common case of `valuesAt`: keys only, through objects only (`region`, `message.to`), where at most
 * one value is found and its path is `path` itself. MIXED when an array, an index or `*` is met (then
 * `collect` walks it); undefined when nothing is there.
 */
function plainValueAt(
  root: unknown,
  path: readonly (string | number)[],
): { value: unknown } | undefined | typeof MIXED {
  if (path.length > MAX_DEPTH) return MIXED;
  let current = root;
  for (const segment of path) {
    if (typeof segment !== 'string' || segment === '*' || Array.isArray(current)) return MIXED;
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return Array.isArray(current) ? MIXED : { value: current };
}

function collect(
  current: unknown,
  path: readonly (string | number)[],
  index: number,
  at: (string | number)[],
  depth: number,
  found: { value: unknown; path: ValuePath }[],
): void {
  if (depth > MAX_DEPTH) throw new TooDeepError();
  if (index === path.length) {
    if (Array.isArray(current)) {
      for (let position = 0; position < current.length; position++) {
        at.push(position);
        collect(current[position], path, index, at, depth + 1, found);
        at.pop();
      }
    } else {
      found.push({ value: current, path: at.slice() });
    }
    return;
  }
  const segment = path[index] as string | number;
  if (Array.isArray(current)) {
    if (typeof segment === 'number') {
      if (segment < current.length) {
        at.push(segment);
        collect(current[segment], path, index + 1, at, depth + 1, found);
        at.pop();
      }
      return;
    }
    const next = segment === '*' ? index + 1 : index;
    for (let position = 0; position < current.length; position++) {
      at.push(position);
      collect(current[position], path, next, at, depth + 1, found);
      at.pop();
    }
    return;
  }
  if (typeof current !== 'object' || current === null) return;
  const key = String(segment);
  if (!Object.hasOwn(current, key)) return;
  at.push(key);
  collect((current as Record<string, unknown>)[key], path, index + 1, at, depth + 1, found);
  at.pop();
}

/** What a guard checked, for its reason: `the input`, `the arguments of tool "send_email"`, ... */
export function describeValue(context: { stage?: string; tool?: string } | undefined): string {
  const tool = context?.tool === undefined ? 'the tool' : `tool "${context.tool}"`;
  switch (context?.stage) {
    case 'input':
      return 'the input';
    case 'output':
      return 'the output';
    case 'toolInput':
      return `the arguments of ${tool}`;
    case 'toolOutput':
      return `the result of ${tool}`;
    case 'memoryWrite':
      return 'the memory record';
    default:
      return 'the value';
  }
}

/** The message of anything thrown, bounded. */
export function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}
