/**
 * The OpenAI moderation endpoint (`POST /v1/moderations`) as a `ModerationClassifier`, through the
 * official `openai` SDK, loaded on first use like the model providers (importing @baton/core does not
 * load it).
 */
import type OpenAI from 'openai';
import { BatonError } from '../errors.js';
import { loadSdk } from '../providers/load-sdk.js';
import { newClient, nonEmpty } from '../providers/shared.js';
import type { ModerationClassifier, ModerationResult } from './moderation.js';

type OpenAIModule = typeof import('openai');

/** The part of an OpenAI client this adapter uses (an `OpenAI` instance has it). */
export interface ModerationsClient {
  moderations: {
    create(
      body: { model?: string; input: string | string[] },
      options?: { signal?: AbortSignal; timeout?: number },
    ): PromiseLike<{ results: { flagged: boolean; category_scores: object }[] }>;
  };
}

export interface OpenAIModerationOptions {
  /** A client to use (an `OpenAI` instance); default: one built from the options below on first use. */
  client?: ModerationsClient | OpenAI;
  /** Default `omni-moderation-latest`. */
  model?: string;
  /** Default `OPENAI_API_KEY`. */
  apiKey?: string;
  /** Default `OPENAI_BASE_URL`, else api.openai.com. */
  baseURL?: string;
  /** Per request (default 10 s). */
  timeoutMs?: number;
  /** SDK retries of a failed request (default 1). */
  maxRetries?: number;
  /** Longer texts are sent as several inputs of this many characters (default 20,000); scores are the maxima. */
  chunkChars?: number;
}

function chunks(text: string, size: number): string[] {
  if (text.length <= size) return [text];
  const out: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + size);
    // Do not cut a surrogate pair.
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    out.push(text.slice(start, end));
    start = end;
  }
  return out;
}

/**
 * A moderation classifier backed by OpenAI's moderation models. Scores are OpenAI's `category_scores`
 * (`harassment`, `hate`, `illicit`, `self-harm`, `sexual`, `violence` and their subcategories); `flagged`
 * is OpenAI's verdict. Errors (no key, HTTP errors, timeouts) reject, and `moderationGuard` then trips.
 */
export function openAIModeration(options: OpenAIModerationOptions = {}): ModerationClassifier {
  const model = options.model ?? 'omni-moderation-latest';
  const timeout = options.timeoutMs ?? 10_000;
  const chunkChars = Math.max(1_000, options.chunkChars ?? 20_000);
  let client: Promise<ModerationsClient> | undefined = options.client
    ? Promise.resolve(options.client as ModerationsClient)
    : undefined;
  const getClient = () => {
    client ??= loadSdk<OpenAIModule>('openai', () => import('openai'))
      .then((sdk) =>
        newClient(
          'openAIModeration',
          () =>
            new sdk.default({
              apiKey: options.apiKey ?? nonEmpty(process.env.OPENAI_API_KEY),
              baseURL: options.baseURL ?? nonEmpty(process.env.OPENAI_BASE_URL),
              maxRetries: options.maxRetries ?? 1,
              timeout,
            }) as ModerationsClient,
        ),
      )
      .catch((error: unknown) => {
        client = undefined;
        throw error;
      });
    return client;
  };
  return {
    name: `openai:${model}`,
    async classify(text: string, signal?: AbortSignal): Promise<ModerationResult> {
      const sdkClient = await getClient();
      const input = chunks(String(text), chunkChars);
      const requestOptions: { signal?: AbortSignal; timeout: number } = { timeout };
      if (signal) requestOptions.signal = signal;
      const response = await sdkClient.moderations.create(
        { model, input: input.length === 1 ? (input[0] as string) : input },
        requestOptions,
      );
      const results = Array.isArray(response?.results) ? response.results : [];
      if (results.length === 0) {
        throw new BatonError('PROVIDER_RESPONSE_INVALID', 'OpenAI moderation returned no results');
      }
      const categories: Record<string, number> = {};
      let flagged = false;
      for (const result of results) {
        flagged ||= result.flagged === true;
        for (const [category, score] of Object.entries(result.category_scores ?? {})) {
          if (typeof score === 'number') categories[category] = Math.max(categories[category] ?? 0, score);
        }
      }
      return { flagged, categories };
    },
  };
}
