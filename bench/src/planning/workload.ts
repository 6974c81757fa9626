/**
 * The planning benchmark's workload: ten lookup tasks ("the <attribute> of these N services"), each needing
 * a search and a read per service, on a small knowledge base. The same agent instructions and tools run
 * twice — as ReAct, and as plan-and-execute — with scripted models that behave like the seed says each
 * strategy does: the ReAct model acts one call per step and wanders (now and then it re-searches something
 * it already found, in new words, learning nothing), the planner writes the whole plan at once (two of
 * its first plans are broken and fixed after validation refuses them) and answers from the results.
 * One document of the knowledge base is archived: reading it fails, in both modes.
 */
import {
  type Agent,
  countTokens,
  defineAgent,
  defineTool,
  type Model,
  type ModelRequest,
  type ModelResponse,
  type ModelStreamEvent,
  parseToolResult,
  ToolError,
} from '@baton/core';
import { z } from 'zod';

export interface PlanningTask {
  name: string;
  attribute: string;
  subjects: string[];
  /** The first plan of this task is broken (a forward reference, an unknown tool): validation refuses it. */
  brokenPlan?: 'forward_reference' | 'unknown_tool';
}

const ATTRIBUTES = ['uptime SLO', 'on-call team', 'p99 latency budget', 'data retention', 'owner'];
const SERVICES = [
  'billing',
  'search',
  'auth',
  'ledger',
  'mailer',
  'gateway',
  'catalog',
  'ingest',
  'reports',
  'payments',
];

/** Ten tasks of 3 to 8 services; task 3 and 7 start with a broken plan. */
export const TASKS: readonly PlanningTask[] = Array.from({ length: 10 }, (_, index) => {
  const count = 3 + (index % 6);
  const subjects = Array.from(
    { length: count },
    (_, offset) => SERVICES[(index + offset * 3) % SERVICES.length] as string,
  );
  const task: PlanningTask = {
    name: `t${index + 1}`,
    attribute: ATTRIBUTES[index % ATTRIBUTES.length] as string,
    subjects: [...new Set(subjects)],
  };
  if (index === 2) task.brokenPlan = 'forward_reference';
  if (index === 6) task.brokenPlan = 'unknown_tool';
  return task;
});

/** The fact a document states: deterministic, so success is checkable. */
export function factOf(subject: string, attribute: string): string {
  let hash = 0;
  for (const char of `${subject}/${attribute}`) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return `${attribute.split(' ')[0]}-${subject}-${(hash % 900) + 100}`;
}

const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, '-');
/** The archived document: reading it fails (ARCHIVED), so both modes have to read the other one. */
const ARCHIVED = `${slug('ledger')}-${slug(ATTRIBUTES[3] as string)}`;

export function toolsFor(task: PlanningTask, counter: { calls: number }) {
  const search = defineTool({
    name: 'search',
    description: 'Searches the service knowledge base. Returns the matching documents (id, title).',
    input: z.object({ query: z.string().min(2) }),
    output: z.object({ results: z.array(z.object({ id: z.string(), title: z.string() })) }),
    execute: ({ query }) => {
      counter.calls++;
      const subject = task.subjects.find((name) => query.toLowerCase().includes(name)) ?? '';
      return {
        results: subject
          ? [
              { id: `${subject}-${slug(task.attribute)}`, title: `${subject}: ${task.attribute}` },
              { id: `${subject}-runbook`, title: `${subject} runbook` },
            ]
          : [],
      };
    },
  });
  const read = defineTool({
    name: 'read',
    description: 'Reads a document of the knowledge base by id.',
    input: z.object({ id: z.string().min(1) }),
    execute: ({ id }) => {
      counter.calls++;
      if (id === ARCHIVED) throw new ToolError('ARCHIVED', `document ${id} is archived`);
      const subject = task.subjects.find((name) => id.startsWith(`${name}-`));
      if (!subject) throw new ToolError('NOT_FOUND', `no document ${id}`);
      return { id, text: `The ${task.attribute} of ${subject} is ${factOf(subject, task.attribute)}.` };
    },
  });
  return [search, read];
}

export const INSTRUCTIONS =
  'You answer questions about our services from the knowledge base. Search for each service, read the ' +
  'document that states what is asked, and answer with one line per service.';

export function taskText(task: PlanningTask): string {
  return `What is the ${task.attribute} of each of these services: ${task.subjects.join(', ')}?`;
}

/** Every fact of the task appears in the answer. */
export function succeeded(task: PlanningTask, output: unknown): boolean {
  const text = typeof output === 'string' ? output : JSON.stringify(output ?? '');
  return task.subjects.every((subject) => text.includes(factOf(subject, task.attribute)));
}

export interface Meter {
  calls: number;
  inputTokens: number;
  outputTokens: number;
}

/**
 * A scripted model whose usage is what a provider would bill: the request's messages and tool definitions
 * counted with the real tokenizer as input, the reply as output.
 */
export function meteredModel(
  id: string,
  meter: Meter,
  reply: (request: ModelRequest) => ModelResponse['text'] | { toolCalls: { name: string; args: unknown }[] },
): Model {
  async function generate(request: ModelRequest): Promise<ModelResponse> {
    const answer = reply(request);
    const text = typeof answer === 'string' ? answer : '';
    const calls = typeof answer === 'string' ? [] : answer.toolCalls;
    const step = request.messages.filter((message) => message.role === 'assistant').length;
    const toolCalls = calls.map((call, index) => ({
      id: `c${step}_${index}`,
      name: call.name,
      arguments: call.args,
    }));
    const input = await countTokens(
      JSON.stringify(request.messages) +
        JSON.stringify(request.tools ?? []) +
        JSON.stringify(request.responseSchema ?? ''),
    );
    const output = await countTokens(text + JSON.stringify(calls));
    meter.calls++;
    meter.inputTokens += input;
    meter.outputTokens += output;
    return {
      model: id,
      provider: 'scripted',
      text,
      toolCalls,
      finishReason: toolCalls.length > 0 ? 'tool-calls' : 'stop',
      usage: { inputTokens: input, outputTokens: output },
      costUsd: 0,
    };
  }
  return {
    id,
    provider: 'scripted',
    generate,
    async *stream(request: ModelRequest): AsyncIterable<ModelStreamEvent> {
      yield { type: 'response', response: await generate(request) };
    },
  };
}

/** What the conversation so far found: searched subjects, read documents (ok), failed reads. */
function findings(request: ModelRequest) {
  const results = new Map<string, { ok: boolean; data: unknown }>();
  for (const message of request.messages) {
    if (message.role !== 'tool') continue;
    const parsed = parseToolResult(message.content);
    if (parsed)
      results.set(message.toolCallId, {
        ok: parsed.result.ok,
        data: parsed.result.ok ? parsed.result.data : undefined,
      });
  }
  const calls: { name: string; args: Record<string, string>; ok: boolean; data: unknown }[] = [];
  for (const message of request.messages) {
    if (message.role !== 'assistant') continue;
    for (const call of message.toolCalls ?? []) {
      const result = results.get(call.id);
      calls.push({
        name: call.name,
        args: call.arguments as Record<string, string>,
        ok: result?.ok ?? false,
        data: result?.data,
      });
    }
  }
  return calls;
}

function answerFrom(request: ModelRequest, task: PlanningTask): string {
  const texts = findings(request)
    .filter((call) => call.name === 'read' && call.ok)
    .map((call) => (call.data as { text: string }).text);
  return task.subjects
    .map((subject) => texts.find((text) => text.includes(` of ${subject} is `)) ?? `${subject}: not found`)
    .join('\n');
}

/** A deterministic number in [0, 1) for a task and a step: the wandering's dice. */
function dice(task: PlanningTask, step: number): number {
  let hash = 2166136261;
  for (const char of `${task.name}:${step}`) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619) >>> 0;
  return (hash % 10_000) / 10_000;
}

/** How often the ReAct model drifts off: re-searches a service it already found, in other words. */
export const WANDER = 0.35;

/** The ReAct model: one call per step, in order, drifting now and then; it answers once it has read everything. */
export function reactReply(task: PlanningTask, wander: number) {
  return (request: ModelRequest) => {
    const step = request.messages.filter((message) => message.role === 'assistant').length;
    const calls = findings(request);
    const searched = task.subjects.filter((subject) =>
      calls.some((call) => call.name === 'search' && call.args.query?.includes(subject)),
    );
    const readOk = (subject: string) =>
      calls.some((call) => call.name === 'read' && call.ok && call.args.id?.startsWith(`${subject}-`));
    if (searched.length > 0 && dice(task, step) < wander) {
      const subject = searched[Math.floor(dice(task, step + 100) * searched.length)] as string;
      return {
        toolCalls: [
          {
            name: 'search',
            args: {
              query: `${subject} ${['details', 'overview', 'notes', 'info', 'summary'][step % 5]} (${step})`,
            },
          },
        ],
      };
    }
    const next = task.subjects.find((subject) => !searched.includes(subject));
    if (next) return { toolCalls: [{ name: 'search', args: { query: `${next} ${task.attribute}` } }] };
    for (const subject of task.subjects) {
      if (readOk(subject)) continue;
      const failed = calls.some(
        (call) => call.name === 'read' && !call.ok && call.args.id === `${subject}-${slug(task.attribute)}`,
      );
      return {
        toolCalls: [
          {
            name: 'read',
            args: { id: failed ? `${subject}-runbook` : `${subject}-${slug(task.attribute)}` },
          },
        ],
      };
    }
    return answerFrom(request, task);
  };
}

/** The planner: the whole plan at once (broken first when the task says so), re-plans reading the other document. */
export function planReply(task: PlanningTask) {
  return (request: ModelRequest) => {
    if (request.responseSchema?.name !== 'plan') return answerFrom(request, task);
    const last = [...request.messages].reverse().find((message) => message.role === 'user')?.content ?? '';
    if (last.includes('Part of the plan failed')) {
      const failed = [...last.matchAll(/- (r\d+) \(read\): ARCHIVED/g)].map((match) => match[1] as string);
      return JSON.stringify({
        goal: 'read the other documents',
        steps: failed.map((id) => {
          const index = Number(id.slice(1)) - 1;
          return {
            id: `${id}b`,
            use: 'read',
            input: { id: { $ref: `s${index + 1}.results.1.id` } },
            produces: 'the fact, from the runbook',
          };
        }),
      });
    }
    const searches = task.subjects.map((subject, index) => ({
      id: `s${index + 1}`,
      use: 'search',
      input: { query: `${subject} ${task.attribute}` },
      produces: `the documents on ${subject}`,
    }));
    const reads = task.subjects.map((subject, index) => ({
      id: `r${index + 1}`,
      use: 'read',
      input: { id: { $ref: `s${index + 1}.results.0.id` } },
      dependsOn: [`s${index + 1}`],
      produces: `the ${task.attribute} of ${subject}`,
    }));
    const refused = last.startsWith('That plan cannot run');
    if (!refused && task.brokenPlan === 'forward_reference') {
      return JSON.stringify({ goal: task.attribute, steps: [...reads, ...searches] });
    }
    if (!refused && task.brokenPlan === 'unknown_tool') {
      return JSON.stringify({
        goal: task.attribute,
        steps: [...searches, ...reads.map((step) => ({ ...step, use: 'lookup' }))],
      });
    }
    return JSON.stringify({ goal: task.attribute, steps: [...searches, ...reads] });
  };
}

export const LIMITS = { maxSteps: 20, timeoutMs: 120_000 };

export type Mode = 'react' | 'react-steady' | 'plan-execute';

/** `react-steady` is the control: the same ReAct model that never wanders. */
export function agentFor(
  task: PlanningTask,
  mode: Mode,
  meter: Meter,
  counter: { calls: number },
): Agent<string, string> {
  const reply = mode === 'plan-execute' ? planReply(task) : reactReply(task, mode === 'react' ? WANDER : 0);
  return defineAgent({
    name: mode === 'plan-execute' ? 'planning_agent' : 'react_agent',
    description: 'Answers questions about services',
    instructions: INSTRUCTIONS,
    model: meteredModel(`bench-${mode}`, meter, reply),
    tools: toolsFor(task, counter),
    limits: LIMITS,
    // The same 20-step bound for a plan as for the ReAct loop.
    ...(mode === 'plan-execute'
      ? { planner: 'plan-execute' as const, planning: { maxSteps: LIMITS.maxSteps } }
      : {}),
  });
}
