import type OpenAI from 'openai';
import { z } from 'zod';
import { abortReason, BatonError } from '../../errors.js';
import type { Embedder } from '../../memory/embedder.js';
import { backoffDelay, sleep } from '../../util/abort.js';
import { timerDelay } from '../../util/timers.js';
import { CallScope } from '../call-scope.js';
import { loadSdk } from '../load-sdk.js';
import { toProviderError } from '../provider-errors.js';
import { cachedClient } from '../sdk-call.js';
import { newClient, nonEmpty } from '../shared.js';
import { DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_MS, type ProviderOptions } from '../types.js';

type OpenAIModule = typeof import('openai');

export interface OpenAIEmbedderOptions
  extends Pick<ProviderOptions, 'apiKey' | 'baseURL' | 'headers' | 'timeoutMs' | 'fetch' | 'maxRetries'> {
  /** Shorter vectors from the `text-embedding-3` models (the API's `dimensions`). */
  dimensions?: number;
  /** Texts per request (default 256; the API takes up to 2048). */
  batchSize?: number;
  /**
   * `base64` (default for api.openai.com: a quarter of the bytes) or `float` (default elsewhere: many
   * OpenAI-compatible servers, Ollama among them, only send floats).
   */
  encoding?: 'base64' | 'float';
  /** The provider name in errors (default `openai`, or `openai-compatible` for another `baseURL`). */
  provider?: string;
}

const OFFICIAL_HOST = /^https?:\/\/api\.openai\.com(\/|$)/;

// The response is data from the network: check it before anything is stored or compared.
const responseSchema = z.object({
  data: z
    .array(
      z.object({
        index: z.number().int().nonnegative(),
        embedding: z.union([z.string(), z.array(z.number())]),
      }),
    )
    .min(1),
});

function decode(embedding: string | number[]): number[] {
  if (Array.isArray(embedding)) return embedding;
  const bytes = Buffer.from(embedding, 'base64');
  if (bytes.length % 4 !== 0) throw new Error('a base64 embedding is not a whole number of float32 values');
  const floats = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  return Array.from(floats);
}

/**
 * Embeddings over the OpenAI API through the official `openai` SDK (loaded on first use). With `baseURL`
 * it serves any OpenAI-compatible embeddings endpoint. Retryable failures (rate limits, 5xx, network) are
 * retried `maxRetries` times (default 2) with jittered backoff, honouring `retry-after`.
 */
export function openAIEmbedder(
  model = 'text-embedding-3-small',
  options: OpenAIEmbedderOptions = {},
): Embedder {
  if (typeof model !== 'string' || model.trim() === '') {
    throw new BatonError('CONFIG_INVALID', 'openAIEmbedder(model): "model" must be a model id');
  }
  const batchSize = options.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 2048) {
    throw new BatonError('CONFIG_INVALID', 'openAIEmbedder: "batchSize" must be an integer from 1 to 2048');
  }
  const baseURL = options.baseURL ?? nonEmpty(process.env.OPENAI_BASE_URL);
  const official = baseURL === undefined || OFFICIAL_HOST.test(baseURL);
  const provider = options.provider ?? (official ? 'openai' : 'openai-compatible');
  const encoding = options.encoding ?? (official ? 'base64' : 'float');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
  const label = `openAIEmbedder("${model}")`;

  const client = cachedClient(async (): Promise<{ client: OpenAI; sdk: OpenAIModule }> => {
    const sdk = await loadSdk<OpenAIModule>('openai', () => import('openai'));
    const apiKey =
      options.apiKey ?? nonEmpty(process.env.OPENAI_API_KEY) ?? (official ? undefined : 'not-needed');
    if (apiKey === undefined) {
      throw new BatonError(
        'MODEL_NOT_CONFIGURED',
        `${label} has no API key: set OPENAI_API_KEY, pass { apiKey }, or set { baseURL } for a compatible server`,
      );
    }
    const created = newClient(
      label,
      () =>
        new sdk.OpenAI({
          apiKey,
          baseURL: baseURL ?? null,
          defaultHeaders: options.headers,
          maxRetries: 0,
          timeout: timeoutMs,
          ...(options.fetch ? { fetch: options.fetch } : {}),
        }),
    );
    return { client: created, sdk };
  });

  async function once(batch: readonly string[], signal: AbortSignal | undefined): Promise<number[][]> {
    const { client: openai, sdk } = await client();
    const scope = new CallScope(signal, timeoutMs, `${provider} ${model}`);
    try {
      const body: OpenAI.EmbeddingCreateParams = { model, input: [...batch], encoding_format: encoding };
      if (options.dimensions !== undefined) body.dimensions = options.dimensions;
      const response: unknown = await openai.embeddings.create(body, {
        signal: scope.signal,
        maxRetries: 0,
        timeout: timerDelay(timeoutMs),
      });
      const parsed = responseSchema.safeParse(response);
      if (!parsed.success || parsed.data.data.length !== batch.length) {
        throw new BatonError(
          'PROVIDER_RESPONSE_INVALID',
          `${label}: the server sent an unreadable embeddings response`,
          {
            details: { expected: batch.length, issues: parsed.error?.issues.map((issue) => issue.message) },
          },
        );
      }
      const vectors = [...parsed.data.data]
        .sort((a, b) => a.index - b.index)
        .map((item) => decode(item.embedding));
      if (vectors.some((vector) => vector.length === 0 || vector.some((x) => !Number.isFinite(x)))) {
        throw new BatonError(
          'PROVIDER_RESPONSE_INVALID',
          `${label}: the server sent an empty or non-finite vector`,
        );
      }
      return vectors;
    } catch (error) {
      throw toProviderError(error, { provider, model, sdk, scope });
    } finally {
      scope.dispose();
    }
  }

  async function withRetries(batch: readonly string[], signal: AbortSignal | undefined): Promise<number[][]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await once(batch, signal);
      } catch (error) {
        if (signal?.aborted) throw abortReason(signal);
        if (!(error instanceof BatonError) || !error.retryable || attempt > retries) throw error;
        const retryAfter = error.details?.retryAfterMs;
        const delay =
          typeof retryAfter === 'number' && retryAfter >= 0 ? retryAfter : backoffDelay(attempt, 500, 20_000);
        if (delay > 60_000) throw error;
        await sleep(delay, signal);
      }
    }
  }

  return {
    id: model,
    async embed(texts, embedOptions = {}) {
      if (!Array.isArray(texts) || texts.some((text) => typeof text !== 'string')) {
        throw new BatonError('INPUT_INVALID', `${label}: embed() takes an array of strings`);
      }
      const vectors: number[][] = [];
      for (let start = 0; start < texts.length; start += batchSize) {
        // Empty strings are refused by the API; they embed as nothing in particular.
        const batch = texts.slice(start, start + batchSize).map((text) => (text.trim() === '' ? ' ' : text));
        vectors.push(...(await withRetries(batch, embedOptions.signal)));
      }
      return vectors;
    },
  };
}
