import type Anthropic from '@anthropic-ai/sdk';
import { BatonError } from '../../errors.js';
import type { Model, ModelRequest, ModelResponse, ModelStreamEvent } from '../../model/types.js';
import { loadSdk } from '../load-sdk.js';
import type { SdkErrorClasses } from '../provider-errors.js';
import { withRetry } from '../retry.js';
import { cachedClient, type SdkCall, sdkCall, sdkRequest, sdkStream } from '../sdk-call.js';
import { newClient, nonEmpty } from '../shared.js';
import { DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_MS, type ProviderOptions } from '../types.js';
import { fromMessage } from './normalize.js';
import { type AnthropicThinking, type MessagesRequestSettings, toMessagesBody } from './request.js';
import { MessageStreamAssembler } from './stream.js';

type AnthropicModule = typeof import('@anthropic-ai/sdk');

export interface AnthropicOptions extends ProviderOptions {
  /** Extended thinking; its blocks come back in `reasoningParts` and are replayed on the next turn. */
  thinking?: AnthropicThinking;
  /** Mark the system prompt and the tool list as cacheable (`cache_control: ephemeral`). Default false. */
  promptCaching?: boolean;
  /**
   * Send `responseSchema` as `output_config.format` (structured outputs). Default true; turn off for
   * models without structured-output support (the run still validates the answer against its schema).
   */
  structuredOutput?: boolean;
}

/**
 * A Claude model over the Anthropic Messages API, through the official `@anthropic-ai/sdk` (loaded on the
 * first call). `max_tokens` is required by the API: it defaults to 4096 (plus the thinking budget).
 *
 * Failed calls are retried `maxRetries` times (default 2) by `withRetry`; the SDK's own retries are off.
 */
export function anthropic(model: string, options: AnthropicOptions = {}): Model {
  if (typeof model !== 'string' || model.trim() === '') {
    throw new BatonError(
      'CONFIG_INVALID',
      'anthropic(model): "model" must be a model id such as "claude-sonnet-4-6"',
    );
  }
  const thinking = options.thinking;
  if (
    thinking &&
    'budgetTokens' in thinking &&
    !(Number.isInteger(thinking.budgetTokens) && thinking.budgetTokens >= 1024)
  ) {
    throw new BatonError(
      'CONFIG_INVALID',
      `anthropic("${model}"): "thinking.budgetTokens" must be an integer ≥ 1024`,
    );
  }
  const adapter = new AnthropicMessagesModel(model, options.provider ?? 'anthropic', options);
  const retries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
  return retries > 0 ? withRetry(adapter, { ...options.retry, retries }) : adapter;
}

class AnthropicMessagesModel implements Model {
  readonly id: string;
  readonly provider: string;
  readonly #options: AnthropicOptions;
  readonly #settings: MessagesRequestSettings;
  readonly #timeoutMs: number;
  readonly #client = cachedClient(() => this.createClient());

  constructor(id: string, provider: string, options: AnthropicOptions) {
    this.id = id;
    this.provider = provider;
    this.#options = options;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#settings = {
      model: id,
      maxOutputTokens: options.maxOutputTokens,
      thinking: options.thinking,
      promptCaching: options.promptCaching ?? false,
      structuredOutput: options.structuredOutput ?? true,
      extraBody: options.extraBody,
    };
  }

  async generate(request: ModelRequest): Promise<ModelResponse> {
    const { client, sdk } = await this.#client();
    return sdkRequest(
      this.call(request.signal, sdk),
      (options) => client.messages.create(toMessagesBody(request, this.#settings), options),
      (message) => fromMessage(message, this.id, this.provider),
    );
  }

  async *stream(request: ModelRequest): AsyncIterable<ModelStreamEvent> {
    const { client, sdk } = await this.#client();
    yield* sdkStream(
      this.call(request.signal, sdk),
      (options) =>
        client.messages.create({ ...toMessagesBody(request, this.#settings), stream: true }, options),
      new MessageStreamAssembler(this.id, this.provider),
    );
  }

  private call(signal: AbortSignal | undefined, sdk: SdkErrorClasses): SdkCall {
    return sdkCall(this, { timeoutMs: this.#timeoutMs, prices: this.#options.prices }, sdk, signal);
  }

  private async createClient(): Promise<{ client: Anthropic; sdk: AnthropicModule }> {
    const sdk = await loadSdk<AnthropicModule>('@anthropic-ai/sdk', () => import('@anthropic-ai/sdk'));
    const env = process.env;
    const baseURL = this.#options.baseURL ?? nonEmpty(env.ANTHROPIC_BASE_URL);
    let apiKey = this.#options.apiKey ?? nonEmpty(env.ANTHROPIC_API_KEY);
    if (apiKey === undefined && nonEmpty(env.ANTHROPIC_AUTH_TOKEN) === undefined) {
      if (baseURL === undefined) {
        throw new BatonError(
          'MODEL_NOT_CONFIGURED',
          `anthropic("${this.id}") has no API key: set ANTHROPIC_API_KEY or pass { apiKey }`,
        );
      }
      // A gateway or local server may need no key; the SDK insists on a credential.
      apiKey = 'not-needed';
    }
    const client = newClient(
      `anthropic("${this.id}")`,
      () =>
        new sdk.Anthropic({
          ...(apiKey !== undefined ? { apiKey } : {}),
          baseURL: baseURL ?? null,
          defaultHeaders: this.#options.headers,
          maxRetries: 0,
          timeout: this.#timeoutMs,
          ...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
        }),
    );
    return { client, sdk };
  }
}
