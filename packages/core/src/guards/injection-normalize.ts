/**
 * The normalization of text before the injection rules read it (injection.ts), keeping a map back to
 * the original offsets: zero-width and other invisible characters are dropped (and counted), Unicode tag
 * characters (the "ASCII smuggling" trick) are decoded into a hidden text, bidi controls are dropped, NFKC
 * folds full-width and mathematical letters, and Cyrillic/Greek look-alikes become Latin letters (a match
 * that needed one is evidence of obfuscation).
 */

const INVISIBLE = new Set([
  0x200b, 0x200c, 0x200d, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xfeff, 0x00ad, 0x180e,
]);
const BIDI = new Set([
  0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069,
]);

/** Cyrillic and Greek letters that look like Latin ones. */
const HOMOGLYPHS: Record<string, string> = {
  а: 'a',
  в: 'b',
  е: 'e',
  ё: 'e',
  к: 'k',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  с: 'c',
  т: 't',
  у: 'y',
  х: 'x',
  і: 'i',
  ї: 'i',
  ј: 'j',
  ѕ: 's',
  ԁ: 'd',
  ԛ: 'q',
  ԝ: 'w',
  ӏ: 'l',
  ɡ: 'g',
  ο: 'o',
  ν: 'v',
  α: 'a',
  ι: 'i',
  κ: 'k',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  ε: 'e',
};

export interface Normalized {
  /** Lower case, folded, invisible characters removed. */
  text: string;
  /**
   * `map[i]` is the offset in the original text of `text[i]`; `map[text.length]` is the original length.
   * Undefined when the offsets are the same (an ASCII text, only lower-cased).
   */
  map: Int32Array | undefined;
  /** 1 where a look-alike letter was replaced; undefined when none was. */
  lookalike: Uint8Array | undefined;
  invisibleInWords: number;
  bidi: number;
  /** Text hidden in Unicode tag characters (U+E0000–U+E007F), decoded. */
  tagText: string;
}

function isLetter(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90);
}

const NON_ASCII = /[\u0080-\uffff]/g;
const ANY_NON_ASCII = /[\u0080-\uffff]/;

/** Whether `text` is ASCII only: then its normalization is its lower case, with the same offsets. */
export function isAscii(text: string): boolean {
  return !ANY_NON_ASCII.test(text);
}

const FOLDED = new Map<number, { folded: string; glyph: boolean }>();

/** A non-ASCII character lower-cased, NFKC-folded and, for a look-alike, its Latin letter (cached). */
function fold(code: number): { folded: string; glyph: boolean } {
  let entry = FOLDED.get(code);
  if (!entry) {
    const lower = String.fromCodePoint(code).toLowerCase();
    const glyph = HOMOGLYPHS[lower];
    entry = { folded: glyph ?? lower.normalize('NFKC').toLowerCase(), glyph: glyph !== undefined };
    if (FOLDED.size >= 8192) FOLDED.clear();
    FOLDED.set(code, entry);
  }
  return entry;
}

export function normalizeForInjection(input: string): Normalized {
  return isAscii(input) ? asciiNormalized(input.toLowerCase()) : foldText(input);
}

/**
 * An ASCII text's normalization, from its lower case: the offsets are the same, and there is nothing else
 * to fold. (The typed arrays and parts of `foldText` were a third of what checking a short text cost.)
 */
export function asciiNormalized(lower: string): Normalized {
  return { text: lower, map: undefined, lookalike: undefined, invisibleInWords: 0, bidi: 0, tagText: '' };
}

/** The normalization of a text with non-ASCII characters, folded one by one. */
function foldText(input: string): Normalized {
  let map = new Int32Array(input.length + 1);
  const parts: string[] = [];
  const lookalikeIndexes: number[] = [];
  let invisibleInWords = 0;
  let bidi = 0;
  let tagText = '';
  let length = 0;
  const emit = (unit: string, origin: number, lookalike: boolean) => {
    if (length + 1 >= map.length) {
      const grown = new Int32Array(map.length * 2 + 16);
      grown.set(map);
      map = grown;
    }
    parts.push(unit);
    if (lookalike) lookalikeIndexes.push(length);
    map[length++] = origin;
  };
  let cursor = 0;
  NON_ASCII.lastIndex = 0;
  // ASCII runs are lower-cased whole; only the other characters are looked at one by one.
  for (let match = NON_ASCII.exec(input); ; match = NON_ASCII.exec(input)) {
    const runEnd = match ? match.index : input.length;
    if (runEnd > cursor) {
      const run = input.slice(cursor, runEnd).toLowerCase();
      if (length + run.length + 1 >= map.length) {
        const grown = new Int32Array(Math.max(map.length * 2, length + run.length + 16));
        grown.set(map);
        map = grown;
      }
      parts.push(run);
      for (let offset = 0; offset < run.length; offset++) map[length++] = cursor + offset;
    }
    if (!match) break;
    const index = match.index;
    const code = input.codePointAt(index) as number;
    const width = code > 0xffff ? 2 : 1;
    if (INVISIBLE.has(code)) {
      if (isLetter(input.charCodeAt(index - 1)) || isLetter(input.charCodeAt(index + 1))) invisibleInWords++;
    } else if (BIDI.has(code)) {
      bidi++;
    } else if (code >= 0xe0000 && code <= 0xe007f) {
      if (code >= 0xe0020 && code <= 0xe007e) tagText += String.fromCharCode(code - 0xe0000);
    } else {
      const { folded, glyph } = fold(code);
      for (let offset = 0; offset < folded.length; offset++) emit(folded[offset] as string, index, glyph);
    }
    cursor = index + width;
    NON_ASCII.lastIndex = cursor;
  }
  if (length + 1 >= map.length) {
    const grown = new Int32Array(length + 1);
    grown.set(map.subarray(0, length));
    map = grown;
  }
  map[length] = input.length;
  const lookalike = new Uint8Array(length);
  for (const position of lookalikeIndexes) lookalike[position] = 1;
  return { text: parts.join(''), map, lookalike, invisibleInWords, bidi, tagText };
}
