// @openai/agents on the benchmark workload (bench/src/workload.ts): a fake Model implementing the SDK's
// Model interface (tool call, then final text), one no-op function tool, tracing disabled.
import { Agent, run, setTracingDisabled, tool, Usage } from '@openai/agents';
import { z } from 'zod';
import { installedVersion } from './installed.mjs';

export default function create(probe) {
  setTracingDisabled(true);
  let callIds = 0;
  const usage = () => new Usage({ requests: 1, input_tokens: 10, output_tokens: 5, total_tokens: 15 });

  const model = {
    async getResponse(request) {
      probe.modelCalls++;
      const input = Array.isArray(request.input) ? request.input : [];
      if (input.at(-1)?.type === 'function_call_result') {
        if (probe.hold) {
          probe.arrived++;
          await probe.hold;
        }
        const message = {
          type: 'message',
          role: 'assistant',
          status: 'completed',
          content: [{ type: 'output_text', text: 'done' }],
        };
        return { usage: usage(), output: [message] };
      }
      const callId = `call_${++callIds}`;
      const call = {
        type: 'function_call',
        callId,
        id: callId,
        name: 'noop',
        arguments: '{}',
        status: 'completed',
      };
      return { usage: usage(), output: [call] };
    },
    getStreamedResponse() {
      throw new Error('the benchmark only uses non-streamed runs');
    },
  };

  const noop = tool({
    name: 'noop',
    description: 'Does nothing.',
    parameters: z.object({}),
    execute: async () => {
      probe.toolCalls++;
      return 'ok';
    },
  });
  const agent = new Agent({
    name: 'bench',
    instructions: 'Call noop once, then answer.',
    model,
    tools: [noop],
  });

  return {
    framework: '@openai/agents',
    version: installedVersion('@openai/agents'),
    runOnce: async () => (await run(agent, 'go')).finalOutput,
  };
}
