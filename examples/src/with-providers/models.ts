import { type OfflineRole, offlineModel } from '@baton/agents';
import {
  BatonError,
  type FallbackInfo,
  type Model,
  modelFromEnv,
  type RetryInfo,
  type RetryOptions,
  route,
  withFallback,
  withRetry,
} from '@baton/core';

type Env = Record<string, string | undefined>;

/** The models this environment configures, best first: what `modelFromEnv` picks, then the others. */
export function configuredModels(env: Env): Model[] {
  // The providers' own retries are off (maxRetries: 0): withRetry below is the one retry policy.
  const quiet = { openai: { maxRetries: 0 }, anthropic: { maxRetries: 0 } };
  let primary: Model;
  try {
    primary = modelFromEnv({ env, ...quiet });
  } catch (error) {
    if (BatonError.is(error, 'MODEL_NOT_CONFIGURED')) return [];
    throw error;
  }
  const models = [primary];
  // With keys for both OpenAI and Anthropic, the one modelFromEnv did not pick becomes the fallback.
  if (primary.provider !== 'anthropic' && env.ANTHROPIC_API_KEY) {
    models.push(modelFromEnv({ env: { ANTHROPIC_API_KEY: env.ANTHROPIC_API_KEY }, ...quiet }));
  }
  if (primary.provider === 'anthropic' && env.OPENAI_API_KEY) {
    models.push(modelFromEnv({ env: { OPENAI_API_KEY: env.OPENAI_API_KEY }, ...quiet }));
  }
  return models;
}

export interface ResilientModelOptions {
  env: Env;
  retry?: RetryOptions;
  /** Told about every retry and every switch to the next model. */
  onEvent?: (line: string) => void;
}

/**
 * A model for one specialist role, made robust with the three combinators:
 * - `withRetry` around each provider: backoff with jitter, honouring `retry-after`;
 * - `withFallback` over the configured providers, then the offline model as the last resort, so an
 *   outage of one provider moves the call on instead of failing the team;
 * - `route`: with `BATON_CHEAP_MODEL` set, the steps that only pick the next tool call go to that cheaper
 *   model; planning (the first step) and the final answer stay on the strong chain.
 */
export function resilientModel(role: OfflineRole, options: ResilientModelOptions): Model {
  const say = options.onEvent ?? (() => {});
  const onRetry = (info: RetryInfo) =>
    say(
      `retry ${info.attempt} of ${info.model.provider}:${info.model.id} in ${Math.round(info.delayMs)} ms (${info.error.code})`,
    );
  const onFallback = (info: FallbackInfo) =>
    say(
      `${info.from.provider}:${info.from.id} failed (${info.error.code}): falling back to ${info.to.provider}:${info.to.id}`,
    );
  const chain = (models: readonly Model[]) =>
    withFallback(
      [...models.map((model) => withRetry(model, { ...options.retry, onRetry })), offlineModel(role)],
      {
        onFallback,
      },
    );

  const strong = chain(configuredModels(options.env));
  const cheapId = options.env.BATON_CHEAP_MODEL?.trim();
  if (!cheapId) return strong;
  const cheap = chain(configuredModels({ ...options.env, BATON_MODEL: cheapId }));
  return route({ default: strong, 'tool-selection': cheap });
}
