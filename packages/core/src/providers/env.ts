import { BatonError } from '../errors.js';
import type { Model } from '../model/types.js';
import { type AnthropicOptions, anthropic } from './anthropic/model.js';
import { type OpenAIOptions, openai } from './openai/model.js';

export const DEFAULT_OPENAI_MODEL = 'gpt-4.1-mini';
export const DEFAULT_ANTHROPIC_MODEL = 'claude-sonnet-4-6';

export interface ModelFromEnvOptions {
  /** Used when no provider is configured (the agents package passes its offline model). */
  fallback?: Model | (() => Model);
  /** Where to read the variables; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Options for the provider that gets created (retries, timeouts, prices, ...). */
  openai?: OpenAIOptions;
  anthropic?: AnthropicOptions;
}

const SETUP =
  'Set OPENAI_API_KEY (OpenAI), ANTHROPIC_API_KEY (Anthropic), or OPENAI_BASE_URL with BATON_MODEL ' +
  '(an OpenAI-compatible server such as Ollama or vLLM); BATON_MODEL picks the model ' +
  '("openai:gpt-4.1", "anthropic:claude-sonnet-4-6" or a bare id).';

/**
 * The model the environment asks for:
 * - `BATON_MODEL` = `openai:<id>`, `anthropic:<id>` or a bare id (`claude-*` goes to Anthropic);
 * - `OPENAI_BASE_URL` → an OpenAI-compatible server (`OPENAI_API_KEY` optional, `BATON_MODEL` required);
 * - `OPENAI_API_KEY` → OpenAI (default `gpt-4.1-mini`); `ANTHROPIC_API_KEY` → Anthropic (default `claude-sonnet-4-6`);
 * - none of them → `options.fallback`, else `MODEL_NOT_CONFIGURED` saying what to set.
 */
export function modelFromEnv(options: ModelFromEnvOptions = {}): Model {
  const env = options.env ?? process.env;
  const read = (name: string) => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const openaiKey = read('OPENAI_API_KEY');
  const anthropicKey = read('ANTHROPIC_API_KEY');
  const baseURL = read('OPENAI_BASE_URL');
  const wanted = read('BATON_MODEL');

  const makeOpenAI = (id: string): Model => {
    if (!openaiKey && !baseURL) {
      throw notConfigured(
        `BATON_MODEL=${wanted} needs OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible server)`,
      );
    }
    const settings: OpenAIOptions = { ...options.openai };
    if (openaiKey && settings.apiKey === undefined) settings.apiKey = openaiKey;
    if (baseURL && settings.baseURL === undefined) settings.baseURL = baseURL;
    return openai(id, settings);
  };
  const makeAnthropic = (id: string): Model => {
    if (!anthropicKey) throw notConfigured(`BATON_MODEL=${wanted} needs ANTHROPIC_API_KEY`);
    const settings: AnthropicOptions = { ...options.anthropic };
    if (settings.apiKey === undefined) settings.apiKey = anthropicKey;
    return anthropic(id, settings);
  };

  if (wanted) {
    const colon = wanted.indexOf(':');
    const prefix = colon > 0 ? wanted.slice(0, colon).toLowerCase() : undefined;
    if (prefix === 'openai' || prefix === 'openai-compatible')
      return makeOpenAI(requireId(wanted.slice(colon + 1)));
    if (prefix === 'anthropic') return makeAnthropic(requireId(wanted.slice(colon + 1)));
    // A bare id (which may itself contain ':' as Ollama tags do, e.g. "llama3.1:8b").
    if (baseURL) return makeOpenAI(wanted);
    if (/^claude/i.test(wanted)) return makeAnthropic(wanted);
    if (openaiKey) return makeOpenAI(wanted);
    if (anthropicKey) return makeAnthropic(wanted);
    throw notConfigured(`BATON_MODEL=${wanted} is set but no provider is`);
  }
  if (baseURL) {
    throw notConfigured(
      'OPENAI_BASE_URL is set: also set BATON_MODEL to the model that server serves (for example BATON_MODEL=llama3.1)',
    );
  }
  if (openaiKey) return makeOpenAI(DEFAULT_OPENAI_MODEL);
  if (anthropicKey) return makeAnthropic(DEFAULT_ANTHROPIC_MODEL);
  if (options.fallback) return typeof options.fallback === 'function' ? options.fallback() : options.fallback;
  throw notConfigured('No model provider is configured');
}

function requireId(id: string): string {
  if (id.trim() === '')
    throw notConfigured('BATON_MODEL names a provider but no model (expected "provider:model-id")');
  return id.trim();
}

function notConfigured(what: string): BatonError {
  return new BatonError('MODEL_NOT_CONFIGURED', `${what}. ${SETUP}`, { hint: SETUP });
}
