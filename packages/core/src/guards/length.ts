/**
 * Input length limits: characters (Unicode code points) and tokens (counted with the real tokenizer,
 * o200k_base, see tokens.ts). A text of at most N UTF-8 bytes holds at most N tokens, so the tokenizer
 * loads only for a text that could be over the limit, and counting stops once it is (see
 * `countTokensUpTo` for how long runs without whitespace are kept linear).
 */
import { Buffer } from 'node:buffer';
import { BatonError } from '../errors.js';
import { countTokens, loadTokenizer } from '../tokens.js';
import { type Guard, type GuardStage, type GuardVerdict, PASS } from './types.js';
import { describeValue, messageOf } from './walk.js';

export interface LengthGuardOptions {
  /** Most characters (code points) allowed. */
  maxChars?: number;
  /** Most tokens allowed (o200k_base). */
  maxTokens?: number;
  /** Default `length`. */
  name?: string;
  stages?: readonly GuardStage[];
}

/** The text a length limit applies to: a string as it is, anything else as the JSON a model would read. */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function codePoints(text: string, stopAfter: number): number {
  // Code points never outnumber UTF-16 units: a text that short is within the limit.
  if (text.length <= stopAfter) return text.length;
  let count = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) index++;
    }
    count++;
  }
  return count;
}

const format = (n: number) => n.toLocaleString('en-US');

/** Slices counted one at a time: see `countTokensUpTo`. */
const SLICE = 1_024;

/**
 * Tokens in `text`, counted slice by slice and only until the count passes `limit` (`complete: false`
 * then). The BPE tokenizer is quadratic on a long run without whitespace (100 KB of one letter takes
 * seconds, 1 MB minutes), so the text is cut into slices of at most 1,024 characters, at a whitespace
 * when the slice has one in its second half. A cut can change how the tokens at it merge, so the count
 * is within about one token per slice of the tokenizer's (7,350 against 7,345 on 20 KB of JSON): close
 * enough for a limit, and bounded in time whatever the text.
 */
export async function countTokensUpTo(
  text: string,
  limit: number,
): Promise<{ tokens: number; complete: boolean }> {
  if (text.length <= SLICE) return { tokens: await countTokens(text), complete: true };
  const tokenizer = await loadTokenizer();
  let tokens = 0;
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + SLICE);
    if (end < text.length) {
      let cut = end;
      while (cut > start + SLICE / 2 && !/\s/.test(text[cut] as string)) cut--;
      if (cut > start + SLICE / 2) end = cut;
      // Do not split a surrogate pair.
      const code = text.charCodeAt(end - 1);
      if (code >= 0xd800 && code <= 0xdbff) end--;
    }
    tokens += tokenizer.countTokens(text.slice(start, end));
    start = end;
    if (tokens > limit && start < text.length) return { tokens, complete: false };
  }
  return { tokens, complete: true };
}

/**
 * Whether `text` is at most `limit` UTF-8 bytes. A UTF-16 unit is at most 3 bytes (a surrogate pair is
 * 4 bytes for 2 units), so a text of at most limit / 3 units needs no count.
 */
function fewerBytesThan(text: string, limit: number): boolean {
  if (text.length * 3 <= limit) return true;
  return Buffer.byteLength(text) <= limit;
}

function checkLimit(limit: number | undefined, label: string): void {
  if (limit === undefined) return;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new BatonError(
      'CONFIG_INVALID',
      `lengthGuard: "${label}" must be a whole number ≥ 0, got ${limit}`,
    );
  }
}

/**
 * A guard that trips when the value is longer than `maxChars` characters or `maxTokens` tokens. A
 * string is measured as it is; any other value as its JSON. Configuration errors throw at creation.
 */
export function lengthGuard(options: LengthGuardOptions): Guard {
  const { maxChars, maxTokens } = options;
  checkLimit(maxChars, 'maxChars');
  checkLimit(maxTokens, 'maxTokens');
  if (maxChars === undefined && maxTokens === undefined) {
    throw new BatonError('CONFIG_INVALID', 'lengthGuard: set "maxChars", "maxTokens" or both');
  }
  const name = options.name ?? 'length';
  const countAndJudge = async (text: string, what: string, limit: number): Promise<GuardVerdict> => {
    try {
      const counted = await countTokensUpTo(text, limit);
      if (counted.tokens <= limit) return PASS;
      const amount = `${counted.complete ? '' : 'more than '}${format(counted.complete ? counted.tokens : limit)}`;
      return {
        action: 'trip',
        reason: `${name}: ${what} has ${amount} tokens, over the limit of ${format(limit)}`,
        findings: [
          {
            kind: 'length',
            note: `${counted.complete ? '' : '> '}${counted.tokens} tokens > ${limit}`,
          },
        ],
      };
    } catch (error) {
      return { action: 'trip', reason: `${name}: could not count tokens (${messageOf(error)})` };
    }
  };
  return {
    name,
    ...(options.stages ? { stages: options.stages } : {}),
    // Synchronous unless the tokenizer must count: a text of at most maxTokens UTF-8 bytes cannot hold
    // more tokens than that, which settles most checks without loading or running it.
    check(value: unknown, context): GuardVerdict | Promise<GuardVerdict> {
      const text = textOf(value);
      if (maxChars !== undefined) {
        const chars = codePoints(text, maxChars);
        if (chars > maxChars) {
          return {
            action: 'trip',
            reason: `${name}: ${describeValue(context)} has ${format(chars)} characters, over the limit of ${format(maxChars)}`,
            findings: [{ kind: 'length', note: `${chars} characters > ${maxChars}` }],
          };
        }
      }
      if (maxTokens !== undefined && !fewerBytesThan(text, maxTokens)) {
        return countAndJudge(text, describeValue(context), maxTokens);
      }
      return PASS;
    },
  };
}
