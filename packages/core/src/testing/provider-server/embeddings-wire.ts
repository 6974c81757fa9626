import type { JsonBody, RenderContext } from './render.js';
import type { EmbeddingsReply } from './types.js';

/**
 * A deterministic stand-in for a real embedding: every word hashed (FNV-1a) into one of `dims` buckets,
 * then L2-normalized. Texts sharing words are near, texts sharing none are orthogonal — enough to test
 * vector recall end to end without a model.
 */
export function hashedEmbedding(text: string, dims = 64): number[] {
  const vector = new Array<number>(dims).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    let hash = 0x811c9dc5;
    for (let i = 0; i < word.length; i++) hash = Math.imul(hash ^ word.charCodeAt(i), 0x01000193) >>> 0;
    vector[hash % dims] = (vector[hash % dims] as number) + 1;
  }
  const norm = Math.hypot(...vector);
  return norm === 0 ? vector : vector.map((x) => x / norm);
}

function inputsOf(body: Record<string, unknown>): string[] {
  const input = body.input;
  if (typeof input === 'string') return [input];
  if (Array.isArray(input))
    return input.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
  return [];
}

// What the official SDK asks for by default: little-endian float32, base64-encoded.
function base64Floats(vector: readonly number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString('base64');
}

/** An embeddings response for `body.input`, as floats or base64 float32 per `body.encoding_format`. */
export function openaiEmbeddingsJson(
  reply: EmbeddingsReply,
  context: RenderContext,
  body: Record<string, unknown>,
): JsonBody {
  const inputs = inputsOf(body);
  const dims = reply.dimensions ?? (typeof body.dimensions === 'number' ? body.dimensions : 64);
  const vectors = reply.vectors ?? inputs.map((text) => hashedEmbedding(text, dims));
  const base64 = body.encoding_format === 'base64';
  const data = vectors.map((vector, index) => ({
    object: 'embedding',
    index,
    embedding: base64 ? base64Floats(vector) : vector,
  }));
  const promptTokens = reply.promptTokens ?? inputs.reduce((sum, text) => sum + text.split(/\s+/).length, 0);
  const model = reply.model ?? (context.model === 'unknown-model' ? 'text-embedding-3-small' : context.model);
  return {
    status: 200,
    body: JSON.stringify({
      object: 'list',
      data,
      model,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    }),
  };
}
