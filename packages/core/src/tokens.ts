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
  return (await loadTokenizer()).countTokens(text);
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
  if (encoder.isWithinTokenLimit(text, maxTokens) !== false) {
    return { text, truncated: false, tokens: encoder.countTokens(text) };
  }
  const tokens = encoder.encode(text);
  return { text: encoder.decode(tokens.slice(0, maxTokens)), truncated: true, tokens: tokens.length };
}
