// Model providers (OpenAI, Anthropic, any OpenAI-compatible server), combinators and modelFromEnv.
export { type AnthropicOptions, anthropic } from './anthropic/model.js';
export type { AnthropicThinking } from './anthropic/request.js';
export {
  DEFAULT_ANTHROPIC_MODEL,
  DEFAULT_OPENAI_MODEL,
  type ModelFromEnvOptions,
  modelFromEnv,
} from './env.js';
export { type FallbackInfo, type FallbackOptions, isFallbackError, withFallback } from './fallback.js';
export { type OpenAIEmbedderOptions, openAIEmbedder } from './openai/embedder.js';
export { type OpenAIOptions, openai } from './openai/model.js';
export { retryAfterFromHeaders } from './provider-errors.js';
export { type RetryInfo, type RetryOptions, withRetry } from './retry.js';
export { type RoutedModel, type RouteTable, route } from './route.js';
export { parseToolArguments } from './shared.js';
export type { FetchFunction, ProviderOptions } from './types.js';
