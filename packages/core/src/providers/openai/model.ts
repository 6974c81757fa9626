import type OpenAI from 'openai';
import { BatonError } from '../../errors.js';
import type { Model, ModelRequest, ModelResponse, ModelStreamEvent } from '../../model/types.js';
import { loadSdk } from '../load-sdk.js';
import type { SdkErrorClasses } from '../provider-errors.js';
import { withRetry } from '../retry.js';
import { cachedClient, type SdkCall, sdkCall, sdkRequest, sdkStream } from '../sdk-call.js';
import { newClient, nonEmpty } from '../shared.js';
import { DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_MS, type ProviderOptions } from '../types.js';
import { fromCompletion } from './normalize.js';
import { type ChatRequestSettings, toChatBody } from './request.js';
import { ChatStreamAssembler } from './stream.js';

type OpenAIModule = typeof import('openai');

export interface OpenAIOptions extends ProviderOptions {
  /**
   * `openai` (default for api.openai.com) applies OpenAI's own rules: a required key, `max_completion_tokens`,
   * strict tools, no temperature for reasoning models. Any other name (default `openai-compatible` for
   * another `baseURL`) speaks the common dialect. Set `openai` for a gateway in front of api.openai.com.
   */
  provider?: string;
  organization?: string;
  project?: string;
  /**
   * Send `strict: true` on tools whose schema satisfies strict mode (`ToolSpec.strict`). Default: on for
   * api.openai.com, off for other servers (many reject or ignore the field).
   */
  strictTools?: boolean;
}

const OFFICIAL_HOST = /^https?:\/\/api\.openai\.com(\/|$)/;

/**
 * A model served over the OpenAI Chat Completions API, through the official `openai` SDK (loaded on the
 * first call). With `baseURL` it speaks to any OpenAI-compatible server: Ollama, vLLM, llama.cpp,
 * LM Studio, Groq, xAI, Mistral, OpenRouter... (`apiKey` is then optional).
 *
 * Failed calls are retried `maxRetries` times (default 2) by `withRetry`; the SDK's own retries are off.
 */
export function openai(model: string, options: OpenAIOptions = {}): Model {
  if (typeof model !== 'string' || model.trim() === '') {
    throw new BatonError(
      'CONFIG_INVALID',
      'openai(model): "model" must be a model id such as "gpt-4.1-mini"',
    );
  }
  const baseURL = options.baseURL ?? nonEmpty(process.env.OPENAI_BASE_URL);
  const provider =
    options.provider ??
    (baseURL === undefined || OFFICIAL_HOST.test(baseURL) ? 'openai' : 'openai-compatible');
  // OpenAI's own rules (max_completion_tokens, strict tools, a required key) apply when the provider is
  // OpenAI: api.openai.com, or a gateway in front of it declared with { provider: 'openai' }.
  const official = provider === 'openai';
  const adapter = new OpenAIChatModel(model, provider, baseURL, official, options);
  const retries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
  return retries > 0 ? withRetry(adapter, { ...options.retry, retries }) : adapter;
}

class OpenAIChatModel implements Model {
  readonly id: string;
  readonly provider: string;
  readonly #baseURL: string | undefined;
  readonly #options: OpenAIOptions;
  readonly #settings: ChatRequestSettings;
  readonly #timeoutMs: number;
  readonly #client = cachedClient(() => this.createClient());

  constructor(
    id: string,
    provider: string,
    baseURL: string | undefined,
    official: boolean,
    options: OpenAIOptions,
  ) {
    this.id = id;
    this.provider = provider;
    this.#baseURL = baseURL;
    this.#options = options;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#settings = {
      model: id,
      official,
      strictTools: options.strictTools ?? official,
      maxOutputTokens: options.maxOutputTokens,
      extraBody: options.extraBody,
    };
  }

  async generate(request: ModelRequest): Promise<ModelResponse> {
    const { client, sdk } = await this.#client();
    return sdkRequest(
      this.call(request.signal, sdk),
      (options) => client.chat.completions.create(toChatBody(request, this.#settings), options),
      (completion) => fromCompletion(completion, this.id, this.provider),
    );
  }

  async *stream(request: ModelRequest): AsyncIterable<ModelStreamEvent> {
    const { client, sdk } = await this.#client();
    const body = {
      ...toChatBody(request, this.#settings),
      stream: true as const,
      stream_options: { include_usage: true },
    };
    yield* sdkStream(
      this.call(request.signal, sdk),
      (options) => client.chat.completions.create(body, options),
      new ChatStreamAssembler(this.id, this.provider),
    );
  }

  private call(signal: AbortSignal | undefined, sdk: SdkErrorClasses): SdkCall {
    return sdkCall(this, { timeoutMs: this.#timeoutMs, prices: this.#options.prices }, sdk, signal);
  }

  private async createClient(): Promise<{ client: OpenAI; sdk: OpenAIModule }> {
    const sdk = await loadSdk<OpenAIModule>('openai', () => import('openai'));
    // Local OpenAI-compatible servers usually need no key; the SDK insists on one.
    const apiKey =
      this.#options.apiKey ??
      nonEmpty(process.env.OPENAI_API_KEY) ??
      (this.#settings.official ? undefined : 'not-needed');
    if (apiKey === undefined) {
      throw new BatonError(
        'MODEL_NOT_CONFIGURED',
        `openai("${this.id}") has no API key: set OPENAI_API_KEY, pass { apiKey }, or set OPENAI_BASE_URL / { baseURL } for an OpenAI-compatible server`,
      );
    }
    const client = newClient(
      `openai("${this.id}")`,
      () =>
        new sdk.OpenAI({
          apiKey,
          baseURL: this.#baseURL ?? null,
          organization: this.#options.organization ?? null,
          project: this.#options.project ?? null,
          defaultHeaders: this.#options.headers,
          maxRetries: 0,
          timeout: this.#timeoutMs,
          ...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
        }),
    );
    return { client, sdk };
  }
}
