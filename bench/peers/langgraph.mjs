// @langchain/langgraph on the benchmark workload (bench/src/workload.ts): `createReactAgent` with a fake
// chat model that supports `bindTools` and answers from the conversation (tool call, then final message),
// one no-op tool.
import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessage, ToolMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { createReactAgent } from '@langchain/langgraph/prebuilt';
import { z } from 'zod';
import { installedVersion } from './installed.mjs';

class FakeToolCallingChatModel extends BaseChatModel {
  #probe;
  #callIds = 0;

  constructor(probe) {
    super({});
    this.#probe = probe;
  }

  _llmType() {
    return 'bench-fake';
  }

  bindTools() {
    return this;
  }

  async _generate(messages) {
    this.#probe.modelCalls++;
    if (ToolMessage.isInstance(messages.at(-1))) {
      if (this.#probe.hold) {
        this.#probe.arrived++;
        await this.#probe.hold;
      }
      return { generations: [{ text: 'done', message: new AIMessage('done') }] };
    }
    const toolCall = { id: `call_${++this.#callIds}`, name: 'noop', args: {}, type: 'tool_call' };
    return { generations: [{ text: '', message: new AIMessage({ content: '', tool_calls: [toolCall] }) }] };
  }
}

export default function create(probe) {
  const noop = tool(
    async () => {
      probe.toolCalls++;
      return 'ok';
    },
    { name: 'noop', description: 'Does nothing.', schema: z.object({}) },
  );
  const agent = createReactAgent({
    llm: new FakeToolCallingChatModel(probe),
    tools: [noop],
    prompt: 'Call noop once, then answer.',
  });

  return {
    framework: '@langchain/langgraph',
    version: installedVersion('@langchain/langgraph'),
    runOnce: async () => {
      const state = await agent.invoke({ messages: [{ role: 'user', content: 'go' }] });
      return state.messages.at(-1).content;
    },
  };
}
