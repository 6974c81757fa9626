import { describe, expect, it } from 'vitest';
import { exceedsJsonDepth, jsonDepth } from '../src/depth.js';
import { MAX_ENVELOPE_DEPTH } from '../src/envelope.js';

/** The obvious character-by-character scanner, to hold the fast one against. */
function referenceDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (inString) {
      if (char === '\\') index++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '[' || char === '{') max = Math.max(max, ++depth);
    else if ((char === ']' || char === '}') && depth > 0) depth--;
  }
  return max;
}

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('jsonDepth', () => {
  it('measures bracket nesting of objects and arrays', () => {
    expect(jsonDepth('')).toBe(0);
    expect(jsonDepth('1')).toBe(0);
    expect(jsonDepth('"text"')).toBe(0);
    expect(jsonDepth('[]')).toBe(1);
    expect(jsonDepth('{"a":[1,{"b":[2]}],"c":{}}')).toBe(4);
    expect(jsonDepth(JSON.stringify({ a: { b: { c: { d: [1, [2, [3]]] } } } }))).toBe(7);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    expect(jsonDepth(JSON.stringify(['[[[[{{{{', '}}]]']))).toBe(1);
    expect(jsonDepth(JSON.stringify({ '[[[': '{{{', '"[': '\\"{{' }))).toBe(1);
    // A string ending in backslashes: the quote after an even run closes the string.
    expect(jsonDepth(JSON.stringify(['\\', '[[', '\\\\', '{{', '\\"[']))).toBe(1);
    expect(jsonDepth(JSON.stringify([['\\'], [['\\\\"']]]))).toBe(3);
    expect(jsonDepth('["\\\\\\"[[[[", [[1]]]')).toBe(3);
  });

  it('agrees with a plain scanner on generated JSON and on garbage', () => {
    const alphabet = ['[', ']', '{', '}', '"', '\\', ',', ':', 'a', '1', ' ', '\ud800', '\udc00', 'é'];
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 3_000; round++) {
      let text = '';
      const length = Math.floor(random() * 80);
      for (let index = 0; index < length; index++) text += alphabet[Math.floor(random() * alphabet.length)];
      expect(jsonDepth(text), JSON.stringify(text)).toBe(referenceDepth(text));
    }
    const value = { list: [1, 'x[', { deep: [[['"]}']]], quote: '\\"' }], ok: true };
    const text = JSON.stringify(value);
    expect(jsonDepth(text)).toBe(referenceDepth(text));
  });

  it('stops as soon as the nesting passes the bound', () => {
    expect(jsonDepth(nested(1_000), 10)).toBe(11);
    expect(jsonDepth(nested(10), 10)).toBe(10);
  });

  it('never throws: unterminated strings, lone surrogates, unbalanced brackets, huge depth', () => {
    const inputs = [
      '"[[[',
      '["\\',
      '\\"[[',
      ']]]]}}}}[',
      '\ud800[\udfff{',
      '"\ud800"[',
      '[[[[',
      nested(100_000),
      `{"v":${'{"v":'.repeat(6_000)}1${'}'.repeat(6_000)}}`,
      '\u0000[\u0000',
    ];
    for (const input of inputs) expect(() => jsonDepth(input)).not.toThrow();
    expect(jsonDepth('"[[[')).toBe(0);
    expect(jsonDepth(']]]]}}}}[')).toBe(1);
    expect(jsonDepth('\ud800[\udfff{')).toBe(2);
    expect(jsonDepth(nested(100_000))).toBe(100_000);
    expect(jsonDepth(undefined as unknown as string)).toBe(0);
  });
});

describe('exceedsJsonDepth', () => {
  it('passes exactly at the limit and fails one past it', () => {
    expect(exceedsJsonDepth(nested(MAX_ENVELOPE_DEPTH), MAX_ENVELOPE_DEPTH)).toBe(false);
    expect(exceedsJsonDepth(nested(MAX_ENVELOPE_DEPTH + 1), MAX_ENVELOPE_DEPTH)).toBe(true);
    expect(exceedsJsonDepth(nested(3), 3)).toBe(false);
    expect(exceedsJsonDepth(nested(4), 3)).toBe(true);
  });

  it('skips text too short to be too deep, and still catches the shortest text that is', () => {
    expect(exceedsJsonDepth('[[[', 3)).toBe(false);
    expect(exceedsJsonDepth('[[[[', 3)).toBe(true);
    expect(exceedsJsonDepth('', 0)).toBe(false);
    expect(exceedsJsonDepth('[', 0)).toBe(true);
  });

  it('tells wide from deep: many brackets side by side are one level', () => {
    expect(exceedsJsonDepth(JSON.stringify(Array(10_000).fill({ a: [] })), 3)).toBe(false);
    expect(exceedsJsonDepth(JSON.stringify(Array(10_000).fill({ a: [[]] })), 3)).toBe(true);
  });

  it('does not count brackets in strings toward the limit', () => {
    const text = JSON.stringify({ text: '['.repeat(10_000), quoted: `\\"${'{'.repeat(10_000)}` });
    expect(exceedsJsonDepth(text, 2)).toBe(false);
  });

  it('is fast on a large message of text (strings are skipped, not walked)', () => {
    const text = JSON.stringify({
      v: 1,
      payload: { items: Array.from({ length: 2_000 }, () => 'x'.repeat(500)) },
    });
    const started = performance.now();
    for (let round = 0; round < 20; round++) exceedsJsonDepth(text, MAX_ENVELOPE_DEPTH);
    // A megabyte, twenty times: linear and string-skipping is a few ms; a generous bound for a busy machine.
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
