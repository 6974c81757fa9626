/**
 * Bounded renderings of values that came off the wire, for error messages and dead letters. An error
 * message is copied into replies, logs and dead letters, so quoting an attacker's value whole would turn
 * one large or deep message into many: everything quoted from outside goes through here.
 */

/** Longest quoted string, in UTF-16 units, before it is cut. */
export const QUOTE_LIMIT = 64;

/** `text` cut to `max` units, with a marker saying how much was left out. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/**
 * A short, safe description of any value: primitives as JSON (strings cut at `max`), containers by kind
 * only. Never recursive, never throws.
 */
export function quote(value: unknown, max = QUOTE_LIMIT): string {
  switch (typeof value) {
    case 'string':
      return value.length <= max
        ? JSON.stringify(value)
        : `${JSON.stringify(value.slice(0, max))}… (${value.length} characters)`;
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return truncate(`${value}n`, max);
    case 'undefined':
      return 'undefined';
    case 'object':
      if (value === null) return 'null';
      return Array.isArray(value) ? `an array of ${value.length}` : 'an object';
    default:
      return `a ${typeof value}`;
  }
}

/** The value itself when it is a short primitive (safe to keep in error details), else its description. */
export function boundedPrimitive(value: unknown, max = QUOTE_LIMIT): string | number | boolean | null {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string' && value.length <= max) return value;
  return quote(value, max);
}
