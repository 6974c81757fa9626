import type { Usage } from './types.js';

export function emptyUsage(): Usage {
  return { inputTokens: 0, outputTokens: 0 };
}

export function totalTokens(usage: Usage): number {
  return usage.inputTokens + usage.outputTokens;
}

/** Adds `extra` into `into` (mutating) and returns it; optional counters are only kept when either side has them. */
export function addUsage(into: Usage, extra: Usage | undefined): Usage {
  if (!extra) return into;
  into.inputTokens += extra.inputTokens;
  into.outputTokens += extra.outputTokens;
  if (extra.cachedInputTokens !== undefined) {
    into.cachedInputTokens = (into.cachedInputTokens ?? 0) + extra.cachedInputTokens;
  }
  if (extra.cacheCreationInputTokens !== undefined) {
    into.cacheCreationInputTokens = (into.cacheCreationInputTokens ?? 0) + extra.cacheCreationInputTokens;
  }
  if (extra.reasoningTokens !== undefined) {
    into.reasoningTokens = (into.reasoningTokens ?? 0) + extra.reasoningTokens;
  }
  return into;
}
