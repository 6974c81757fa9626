/**
 * Nesting depth of JSON text, measured without parsing it. JSON.parse in V8 is iterative and accepts any
 * depth, but everything after it that walks the value (JSON.stringify, zod, structured clone, a user's
 * handler) is recursive and overflows the stack somewhere past a few thousand levels. Measuring the text
 * first is the only check that costs no recursion, so a decoder can refuse hostile nesting before it
 * exists as a value.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * The deepest bracket nesting of `text` (`{}` and `[]`, outside string literals), or `stopAbove + 1` as
 * soon as the nesting passes `stopAbove` (the rest is not read). Linear in the text, no recursion, no
 * allocation; never throws, whatever the text (invalid JSON, unterminated strings, lone surrogates):
 * unbalanced brackets are JSON.parse's to reject, this only bounds what JSON.parse will build.
 */
export function jsonDepth(text: string, stopAbove = Number.POSITIVE_INFINITY): number {
  if (typeof text !== 'string') return 0;
  const length = text.length;
  let depth = 0;
  let max = 0;
  let index = 0;
  while (index < length) {
    const code = text.charCodeAt(index);
    if (code === QUOTE) {
      // Most of a message is string content: indexOf skips it far faster than a loop over each unit.
      index = closingQuote(text, index + 1);
      if (index < 0) return max;
    } else if (code === OPEN_ARRAY || code === OPEN_OBJECT) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > stopAbove) return max;
      }
    } else if ((code === CLOSE_ARRAY || code === CLOSE_OBJECT) && depth > 0) {
      depth--;
    }
    index++;
  }
  return max;
}

/**
 * True when `text` nests deeper than `limit`. Every level takes an opening bracket, so text with at most
 * `limit` of them (counted anywhere, strings included) cannot: that count is a few indexOf calls, ten
 * times cheaper than the scan, and settles almost every real message, which this runs on as it arrives.
 */
export function exceedsJsonDepth(text: string, limit: number): boolean {
  if (typeof text !== 'string' || text.length <= limit) return false;
  if (!hasMoreOpenings(text, limit)) return false;
  return jsonDepth(text, limit) > limit;
}

/** True when `text` holds more than `limit` opening brackets, in strings or not. */
function hasMoreOpenings(text: string, limit: number): boolean {
  let count = 0;
  for (let at = text.indexOf('{'); at >= 0; at = text.indexOf('{', at + 1)) if (++count > limit) return true;
  for (let at = text.indexOf('['); at >= 0; at = text.indexOf('[', at + 1)) if (++count > limit) return true;
  return false;
}

/** Index of the quote closing a string whose content starts at `from`; -1 when it is never closed. */
function closingQuote(text: string, from: number): number {
  let search = from;
  for (;;) {
    const quote = text.indexOf('"', search);
    if (quote < 0) return -1;
    // An odd run of backslashes before the quote escapes it. Each run is counted once, by the quote
    // right after it, so the scan stays linear.
    let backslashes = 0;
    let before = quote - 1;
    while (before >= from && text.charCodeAt(before) === BACKSLASH) {
      backslashes++;
      before--;
    }
    if (backslashes % 2 === 0) return quote;
    search = quote + 1;
  }
}
