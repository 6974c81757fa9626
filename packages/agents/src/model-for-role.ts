import { type Model, type ModelFromEnvOptions, modelFromEnv } from '@baton/core';
import { type OfflineModelOptions, type OfflineRole, offlineModel } from './offline/model.js';

export interface ModelForRoleOptions extends Omit<ModelFromEnvOptions, 'fallback'> {
  /** Options of the offline model used when no provider is configured. */
  offline?: OfflineModelOptions;
}

/**
 * The model a specialist uses by default: a real provider when the environment configures one
 * (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`, or `OPENAI_BASE_URL` with `BATON_MODEL`; see `modelFromEnv`),
 * otherwise the offline model for `role`, so the same team runs with or without an API key.
 * `BATON_MODEL=offline` forces the offline model even when a key is set.
 */
export function modelForRole(role: OfflineRole, options: ModelForRoleOptions = {}): Model {
  const { offline, ...fromEnv } = options;
  const env = options.env ?? process.env;
  if (env.BATON_MODEL?.trim().toLowerCase() === 'offline') return offlineModel(role, offline);
  return modelFromEnv({ ...fromEnv, fallback: () => offlineModel(role, offline) });
}
