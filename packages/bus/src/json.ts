/**
 * JSON.stringify for plain data, faster on text. Node 20's JSON.stringify checks every character of a
 * string for escaping one at a time (~2 ns per character); a regular expression tells in a third of that
 * whether a string needs escaping at all, and most text crossing the bus (prompts, drafts, reports)
 * does not. The output is byte for byte what JSON.stringify returns: anything this writer does not
 * handle exactly (toJSON, class instances, Dates, BigInt, cycles, strings that need escaping) makes it
 * hand the value, or the whole document, to JSON.stringify.
 */

/** No control character, quote, backslash or surrogate: JSON.stringify would write it as it is. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what JSON escapes.
const VERBATIM = /^[^\x00-\x1f"\\\ud800-\udfff]*$/;

/** Deeper than this, JSON.stringify takes over (and reports a cycle if there is one). */
const MAX_DEPTH = 64;

/** Returned by `write` when JSON.stringify must serialize the whole document. */
const BAIL = null;

/** True when the JSON of `value` is the string itself between quotes. */
export function isVerbatim(value: string): boolean {
  return VERBATIM.test(value);
}

/** A number as JSON.stringify writes it: non-finite numbers become null. */
export function jsonNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

export function jsonString(value: string): string {
  return VERBATIM.test(value) ? `"${value}"` : JSON.stringify(value);
}

/**
 * Exactly `JSON.stringify(value)` (including `undefined` for what has no JSON form, and the same
 * TypeError for cycles and BigInt).
 */
export function toJson(value: unknown): string | undefined {
  const written = write(value, 0);
  return written === BAIL ? JSON.stringify(value) : written;
}

/** JSON of `value`; undefined when it has no JSON form (skipped in objects); BAIL when unsure. */
function write(value: unknown, depth: number): string | undefined | typeof BAIL {
  switch (typeof value) {
    case 'string':
      return jsonString(value);
    case 'number':
      return jsonNumber(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      if (depth >= MAX_DEPTH) return BAIL;
      return Array.isArray(value) ? writeArray(value, depth + 1) : writeObject(value, depth + 1);
    case 'bigint':
      return BAIL;
    default:
      // undefined, functions and symbols have no JSON form.
      return undefined;
  }
}

function writeArray(array: readonly unknown[], depth: number): string | typeof BAIL {
  if (typeof (array as { toJSON?: unknown }).toJSON === 'function') return BAIL;
  let out = '[';
  for (let index = 0; index < array.length; index++) {
    const item = write(array[index], depth);
    if (item === BAIL) return BAIL;
    out += index === 0 ? (item ?? 'null') : `,${item ?? 'null'}`;
  }
  return `${out}]`;
}

function writeObject(object: object, depth: number): string | typeof BAIL {
  const prototype: unknown = Object.getPrototypeOf(object);
  if (prototype !== Object.prototype && prototype !== null) return BAIL;
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') return BAIL;
  let out = '';
  const record = object as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const item = write(record[key], depth);
    if (item === BAIL) return BAIL;
    if (item === undefined) continue;
    out += `${out === '' ? '' : ','}${jsonString(key)}:${item}`;
  }
  return `{${out}}`;
}
