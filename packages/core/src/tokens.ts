import { Buffer } from 'node:buffer';

/**
 * Token counting with a real BPE tokenizer (gpt-tokenizer, o200k_base: the encoding of current OpenAI
 * models and a close proxy for others). It loads lazily (~100 ms, ~35 MB) and only when a text could
 * exceed the limit: no token is shorter than one UTF-8 byte, so a text of at most N bytes fits N tokens.
 */
type Tokenizer = typeof import('gpt-tokenizer/encoding/o200k_base');

let tokenizer: Tokenizer | undefined;
let loading: Promise<Tokenizer> | undefined;

export function loadTokenizer(): Promise<Tokenizer> {
  if (tokenizer) return Promise.resolve(tokenizer);
  loading ??= import('gpt-tokenizer/encoding/o200k_base').then((module) => {
    tokenizer = module;
    return module;
  });
  return loading;
}

export async function countTokens(text: string): Promise<number> {
  if (text.length === 0) return 0;
  const encoder = await loadTokenizer();
  if (!hasLongRun(text)) return encoder.countTokens(text);
  let total = 0;
  for (const piece of pieces(text)) total += encoder.countTokens(piece);
  return total;
}

/**
 * The BPE merge step is quadratic in the length of one pre-tokenized word, and a word is any run without
 * whitespace: 100 KB of base64 in a tool result took ~10 s to count. Texts with such runs are counted in
 * pieces that cut long runs every RUN_PIECE characters (a token never spans that far in practice, so the
 * count is off by at most a token per cut).
 */
const RUN_PIECE = 256;

/** True when the text has a run of more than RUN_PIECE characters without whitespace; one linear pass. */
function hasLongRun(text: string): boolean {
  if (text.length <= RUN_PIECE) return false;
  let run = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === 32 || code === 10 || code === 9 || code === 13) run = 0;
    else if (++run > RUN_PIECE) return true;
  }
  return false;
}

function* pieces(text: string): Generator<string> {
  let start = 0;
  let run = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    // Whitespace ends a run; so does a cut inside a long one (never between surrogate halves).
    if (code === 32 || code === 10 || code === 9 || code === 13) run = 0;
    else if (++run > RUN_PIECE && !(code >= 0xdc00 && code <= 0xdfff)) {
      yield text.slice(start, index);
      start = index;
      run = 1;
    }
  }
  if (start < text.length) yield text.slice(start);
}

/** Counts when the tokenizer is loaded, estimates (bytes / 4) otherwise: for hot paths that must not wait. */
export function estimateTokens(text: string): number {
  if (tokenizer) return tokenizer.countTokens(text);
  return Math.ceil(Buffer.byteLength(text) / 4);
}

export interface Truncated {
  text: string;
  truncated: boolean;
  /** Tokens in the original text (exact when truncated, else at most this many). */
  tokens: number;
}

/** Cuts `text` to at most `maxTokens` tokens, on a token boundary. */
export async function truncateToTokens(text: string, maxTokens: number): Promise<Truncated> {
  const bytes = Buffer.byteLength(text);
  if (bytes <= maxTokens) return { text, truncated: false, tokens: bytes };
  const encoder = await loadTokenizer();
  if (!hasLongRun(text)) {
    if (encoder.isWithinTokenLimit(text, maxTokens) !== false) {
      return { text, truncated: false, tokens: encoder.countTokens(text) };
    }
    const tokens = encoder.encode(text);
    return { text: encoder.decode(tokens.slice(0, maxTokens)), truncated: true, tokens: tokens.length };
  }
  // Piece by piece (see `pieces`): keep whole pieces while they fit, cut the first one that does not.
  let kept = '';
  let used = 0;
  let total = 0;
  let cut = false;
  for (const piece of pieces(text)) {
    const count = encoder.countTokens(piece);
    total += count;
    if (cut) continue;
    if (used + count <= maxTokens) {
      kept += piece;
      used += count;
    } else {
      kept += encoder.decode(encoder.encode(piece).slice(0, maxTokens - used));
      cut = true;
    }
  }
  return cut ? { text: kept, truncated: true, tokens: total } : { text, truncated: false, tokens: total };
}
