// @mastra/core on the benchmark workload (bench/src/workload.ts): an Agent on the AI SDK's
// MockLanguageModelV2 answering from the prompt (tool call, then text), one no-op tool.
import { Agent } from '@mastra/core/agent';
import { createTool } from '@mastra/core/tools';
import { MockLanguageModelV2 } from 'ai/test';
import { z } from 'zod';
import { installedVersion } from './installed.mjs';

const usage = { inputTokens: 10, outputTokens: 5, totalTokens: 15 };

export default function create(probe) {
  let callIds = 0;
  const model = new MockLanguageModelV2({
    doGenerate: async ({ prompt }) => {
      // The mock records every call for assertions; a benchmark must not keep them (a real model does not).
      model.doGenerateCalls.length = 0;
      probe.modelCalls++;
      if (prompt.at(-1)?.role === 'tool') {
        if (probe.hold) {
          probe.arrived++;
          await probe.hold;
        }
        return { content: [{ type: 'text', text: 'done' }], finishReason: 'stop', usage, warnings: [] };
      }
      const toolCall = { type: 'tool-call', toolCallId: `call_${++callIds}`, toolName: 'noop', input: '{}' };
      return { content: [toolCall], finishReason: 'tool-calls', usage, warnings: [] };
    },
  });

  const noop = createTool({
    id: 'noop',
    description: 'Does nothing.',
    inputSchema: z.object({}),
    execute: async () => {
      probe.toolCalls++;
      return 'ok';
    },
  });
  const agent = new Agent({
    name: 'bench',
    instructions: 'Call noop once, then answer.',
    model,
    tools: { noop },
  });

  return {
    framework: '@mastra/core',
    version: installedVersion('@mastra/core'),
    runOnce: async () => (await agent.generate('go')).text,
  };
}
