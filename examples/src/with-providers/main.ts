/**
 * Real providers: OpenAI (OPENAI_API_KEY), Anthropic (ANTHROPIC_API_KEY) or any OpenAI-compatible
 * server such as Ollama, vLLM or LM Studio (OPENAI_BASE_URL with BATON_MODEL) — whichever the
 * environment provides — behind withRetry, withFallback and route (see models.ts). With nothing set it
 * says what to set and runs the same team offline.
 *
 *   OPENAI_BASE_URL=http://localhost:11434/v1 BATON_MODEL=llama3.1 node examples/dist/with-providers/main.js
 */
import { researcher, reviewer, writer } from '@baton/agents';
import { type AgentLike, EventHub, type RetryOptions } from '@baton/core';
import type { TeamResult } from '@baton/supervisor';
import {
  DEFAULT_TOPIC,
  formatTeamResult,
  printTeamProgress,
  type ResearchReport,
  researchTeam,
  type TeamRunEvent,
} from '@baton/teams';
import { batonCommand, type ExampleOutput, runExample, writers } from '../support/main.js';
import { configuredModels, resilientModel } from './models.js';

export interface ProvidersExampleOptions extends ExampleOutput {
  topic?: string;
  /** Where the provider settings are read from; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Backoff of the retries (tests make it short). */
  retry?: RetryOptions;
}

const SETUP = [
  'No model provider is configured, so this runs on the offline model. To use a real one, set one of:',
  '  OPENAI_API_KEY=sk-...                                   OpenAI (default model gpt-4.1-mini)',
  '  ANTHROPIC_API_KEY=sk-ant-...                            Anthropic (default model claude-sonnet-4-6)',
  '  OPENAI_BASE_URL=http://localhost:11434/v1 BATON_MODEL=llama3.1',
  '                                                          an OpenAI-compatible server (Ollama, vLLM, LM Studio)',
  'Optional: BATON_MODEL=<provider:id> picks the model; BATON_CHEAP_MODEL=<id> routes tool-picking steps to a cheaper one.',
].join('\n');

export async function main(options: ProvidersExampleOptions = {}): Promise<TeamResult<ResearchReport>> {
  const { out, progress } = writers(options);
  const env = options.env ?? process.env;
  const configured = configuredModels(env);
  if (configured.length === 0) out(SETUP);
  else {
    out('Model chain for every specialist (each with retries):');
    for (const model of configured) out(`  ${model.provider}:${model.id}`);
    out('  then the offline model, as the last resort');
    if (env.BATON_CHEAP_MODEL) out(`Tool-picking steps are routed to ${env.BATON_CHEAP_MODEL}.`);
  }
  out('');

  // The same specialists as everywhere else, with the resilient model instead of the default one.
  const modelOptions = {
    env,
    onEvent: (line: string) => progress(`[model] ${line}`),
    ...(options.retry ? { retry: options.retry } : {}),
  };
  const specialists: Record<string, () => AgentLike> = {
    researcher: () => researcher({ model: resilientModel('researcher', modelOptions) }),
    writer: () => writer({ model: resilientModel('writer', modelOptions) }),
    reviewer: () => reviewer({ model: resilientModel('reviewer', modelOptions) }),
  };
  const team = researchTeam({ members: (name) => (specialists[name] as () => AgentLike)() });

  const events = new EventHub<TeamRunEvent>();
  printTeamProgress(events, { write: progress });
  const result = await team.run({ topic: options.topic ?? DEFAULT_TOPIC }, { events });
  out(formatTeamResult(result, { traceHint: `${batonCommand()} trace ${result.traceId}` }));
  return result;
}

runExample(import.meta.url, 'with-providers', () => main({ topic: process.argv[2] ?? DEFAULT_TOPIC }));
