// Baton on the benchmark workload (../workload.ts) with every built-in guard on every stage: the
// `security.guardOverheadUs` figure (issue 12). Same agent, model and loop as ./baton.ts; the differences
// are the guardrails and the tool call's two short string arguments, which the SQL and allow-list guards
// need something to check (without them those guards would pass without reading anything).
import { readFileSync } from 'node:fs';
import {
  type Agent,
  allowListGuard,
  defineAgent,
  defineTool,
  type Guard,
  type Guardrails,
  injectionGuard,
  keywordModeration,
  lengthGuard,
  moderationGuard,
  piiGuard,
  readOnlySqlGuard,
  run,
} from '@baton/core';
import { type ScriptedReply, scriptedModel } from '@baton/core/testing';
import { z } from 'zod';
import { FINAL_TEXT, type Probe, TOOL_NAME, TOOL_OUTPUT, type Workload } from '../workload.js';

/**
 * What the model asks for: a read-only query (parsed by the PostgreSQL parser) and an allowed region. The
 * same query on every run, as an agent with a query template sends it: readOnlySqlGuard parses it on the
 * first run and remembers it is read-only after that (the bench reports a new query's cost beside:
 * `sqlFirstSightUsPerCheck`, guards.ts).
 */
export const GUARDED_ARGS = Object.freeze({
  query: 'SELECT id, name FROM customers WHERE region = $1 LIMIT 10',
  region: 'eu-west',
});

/**
 * Every built-in guard, in the order a careful team would list them. Listed under every stage; the
 * tool-argument guards (allow-list, SQL) declare `toolInput` as their only stage and are skipped elsewhere.
 */
export function everyGuard(): Guard[] {
  return [
    lengthGuard({ maxChars: 20_000, maxTokens: 4_000 }),
    // PII and secrets: one piiGuard, which detects both by default (e-mail, phone, card, SSN, IBAN, IP
    // address, API keys, private keys, JWTs, high-entropy secrets).
    piiGuard(),
    allowListGuard({ tool: TOOL_NAME, path: 'region', values: ['eu-west', 'eu-central', 'us-east'] }),
    readOnlySqlGuard({ tool: TOOL_NAME, path: 'query', required: true }),
    moderationGuard({
      classifier: keywordModeration({
        categories: {
          violence: ['kill them', 'build a bomb'],
          competitors: ['AcmeCorp', 'Globex Industries'],
        },
      }),
    }),
    injectionGuard(),
  ];
}

export function everyStage(guards: readonly Guard[]): Guardrails {
  return { input: guards, output: guards, toolInput: guards, toolOutput: guards };
}

/** The guarded benchmark agent (exported so the harness can check its guards really run: guards.ts). */
export function guardedAgent(probe: Probe): Agent<string, string> {
  const model = scriptedModel(
    async (request): Promise<ScriptedReply> => {
      probe.modelCalls++;
      if (request.messages.at(-1)?.role === 'tool') {
        if (probe.hold) {
          probe.arrived++;
          await probe.hold;
        }
        return FINAL_TEXT;
      }
      return { toolCalls: [{ name: TOOL_NAME, args: GUARDED_ARGS }] };
    },
    { recordRequests: false },
  );

  const noop = defineTool({
    name: TOOL_NAME,
    description: 'Does nothing with a query and a region.',
    input: z.object({ query: z.string(), region: z.string() }),
    execute: () => {
      probe.toolCalls++;
      return TOOL_OUTPUT;
    },
  });
  return defineAgent({
    name: 'bench',
    description: 'The benchmark agent: one tool call, then an answer.',
    instructions: 'Call noop once, then answer.',
    model,
    tools: [noop],
    guardrails: everyStage(everyGuard()),
  });
}

export default function create(probe: Probe): Workload {
  const agent = guardedAgent(probe);
  return {
    framework: 'baton+guards',
    version: batonVersion(),
    runOnce: async () => {
      const result = await run(agent, 'go');
      if (result.status !== 'completed') {
        throw new Error(
          `baton run ended ${result.status}: ${result.error?.message ?? result.partial.summary}`,
        );
      }
      return String(result.output);
    },
  };
}

function batonVersion(): string {
  const manifest = new URL('../package.json', import.meta.resolve('@baton/core'));
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}
