// Baton on the benchmark workload (../workload.ts): defineAgent + scriptedModel (a function of the
// conversation) + one no-op defineTool, through run() from @baton/core with default limits and options.
import { readFileSync } from 'node:fs';
import { defineAgent, defineTool, run } from '@baton/core';
import { type ScriptedReply, scriptedModel } from '@baton/core/testing';
import { z } from 'zod';
import { FINAL_TEXT, type Probe, TOOL_NAME, TOOL_OUTPUT, type Workload } from '../workload.js';

export default function create(probe: Probe): Workload {
  // recordRequests: false — a benchmark must not keep every request (a real model keeps nothing).
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
      return { toolCalls: [{ name: TOOL_NAME }] };
    },
    { recordRequests: false },
  );

  const noop = defineTool({
    name: TOOL_NAME,
    description: 'Does nothing.',
    input: z.object({}),
    execute: () => {
      probe.toolCalls++;
      return TOOL_OUTPUT;
    },
  });
  const agent = defineAgent({
    name: 'bench',
    description: 'The benchmark agent: one tool call, then an answer.',
    instructions: 'Call noop once, then answer.',
    model,
    tools: [noop],
  });

  return {
    framework: 'baton',
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
  // @baton/core's entry is <package>/dist/index.js; its manifest sits one folder up.
  const manifest = new URL('../package.json', import.meta.resolve('@baton/core'));
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}
