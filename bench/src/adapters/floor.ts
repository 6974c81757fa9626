// The floor: a bare hand-written agent loop with zod validation of the tool arguments, on the same
// workload (../workload.ts). No limits, events, tracing or budgets: what "nothing but the loop" costs.
import { z } from 'zod';
import { FINAL_TEXT, type Probe, TOOL_NAME, TOOL_OUTPUT, type Workload } from '../workload.js';

interface Call {
  id: string;
  name: string;
  args: unknown;
}
type Message =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; calls: Call[] }
  | { role: 'tool'; callId: string; content: string };
interface Tool {
  input: z.ZodType;
  execute(input: unknown): Promise<unknown>;
}

async function agentLoop(
  model: (messages: Message[]) => Promise<{ text: string; calls: Call[] }>,
  tools: Map<string, Tool>,
  input: string,
  maxSteps = 10,
): Promise<string> {
  const messages: Message[] = [{ role: 'user', content: input }];
  for (let step = 0; step < maxSteps; step++) {
    const reply = await model(messages);
    messages.push({ role: 'assistant', content: reply.text, calls: reply.calls });
    if (reply.calls.length === 0) return reply.text;
    for (const call of reply.calls) {
      const tool = tools.get(call.name);
      const args = tool?.input.safeParse(call.args);
      let content: string;
      if (!tool || !args) content = `Unknown tool ${call.name}; valid: ${[...tools.keys()].join(', ')}`;
      else if (!args.success) content = `Invalid arguments: ${args.error.message}`;
      else content = JSON.stringify(await tool.execute(args.data));
      messages.push({ role: 'tool', callId: call.id, content });
    }
  }
  throw new Error(`no answer within ${maxSteps} steps`);
}

export default function create(probe: Probe): Workload {
  let callIds = 0;
  const model = async (messages: Message[]) => {
    probe.modelCalls++;
    if (messages.at(-1)?.role === 'tool') {
      if (probe.hold) {
        probe.arrived++;
        await probe.hold;
      }
      return { text: FINAL_TEXT, calls: [] };
    }
    return { text: '', calls: [{ id: `call_${++callIds}`, name: TOOL_NAME, args: {} }] };
  };
  const noop: Tool = {
    input: z.object({}),
    execute: async () => {
      probe.toolCalls++;
      return TOOL_OUTPUT;
    },
  };
  const tools = new Map([[TOOL_NAME, noop]]);
  return { framework: 'floor', version: '-', runOnce: () => agentLoop(model, tools, 'go') };
}
