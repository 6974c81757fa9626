/**
 * Baton over A2A (the Agent2Agent protocol, v1.0, through the official @a2a-js/sdk), both ways:
 *
 *   1. a Baton team served as an A2A server — the research team (researcher → writer → reviewer) gets an
 *      agent card, `message/stream` and `tasks/get` — and called by the SDK's own client, which watches
 *      the task work (each step, tool call and handoff is a status update) and reads the report back;
 *   2. a Baton pipeline with an A2A member: the same research pipeline, but its reviewer is a remote
 *      agent reached over A2A (here a Baton reviewer behind `serveA2a`; any framework's A2A agent fits).
 *      The handoff contract is checked on both sides, and the remote usage lands in the team's ledger.
 *
 * Runs offline with no API key (the offline model); with OPENAI_API_KEY, ANTHROPIC_API_KEY or
 * OPENAI_BASE_URL set, the same teams use the real model.
 *
 *   npm run example:a2a
 */
import { randomUUID } from 'node:crypto';
import { type Message, Role, type StreamResponse, type Task, TaskState } from '@a2a-js/sdk';
import { ClientFactory } from '@a2a-js/sdk/client';
import { a2aAgent, serveA2a } from '@baton/a2a';
import { type Draft, reviewContract, type Verdict } from '@baton/agents';
import type { TeamResult } from '@baton/supervisor';
import { DEFAULT_TOPIC, localMembers, type ResearchReport, researchTeam } from '@baton/teams';
import { type ExampleOutput, runExample, writers } from '../support/main.js';

export interface A2aExampleRun {
  status: 'completed' | 'failed';
  served: {
    cardName: string;
    protocolVersion: string | undefined;
    streaming: boolean;
    /** The status lines the SDK client saw while the team worked, in order. */
    progress: string[];
    /** The task as `tasks/get` returned it after the stream ended. */
    task: Task;
    report: ResearchReport | undefined;
  };
  pipeline: TeamResult<ResearchReport>;
}

function userMessage(text: string): Message {
  return {
    messageId: randomUUID(),
    contextId: '',
    taskId: '',
    role: Role.ROLE_USER,
    parts: [{ content: { $case: 'text', value: text }, mediaType: 'text/plain', filename: '', metadata: {} }],
    metadata: {},
    extensions: [],
    referenceTaskIds: [],
  };
}

export async function main(options: ExampleOutput & { topic?: string } = {}): Promise<A2aExampleRun> {
  const { out, progress } = writers(options);
  const topic = options.topic ?? DEFAULT_TOPIC;

  // 1. The research team as an A2A server on a free port (tasks in memory; pass `nats` to share them).
  const team = await serveA2a(researchTeam({ maxRevisions: 1 }), { fromText: (text) => ({ topic: text }) });
  // The reviewer alone, as another A2A server: the remote member of part 2.
  const reviewer = await serveA2a(localMembers('reviewer'), { contract: reviewContract });
  try {
    out(`A2A server for the research team: ${team.cardUrl}`);
    const client = await new ClientFactory().createFromUrl(team.url);
    const card = await client.getAgentCard();
    const version = card.supportedInterfaces[0]?.protocolVersion;
    out(
      `Agent card: "${card.name}" — A2A ${version}, streaming ${card.capabilities?.streaming ? 'on' : 'off'}`,
    );
    out(`  skill: ${card.skills[0]?.description.split('\n')[0]}`);

    const lines: string[] = [];
    let taskId = '';
    for await (const event of client.sendMessageStream({
      tenant: '',
      message: userMessage(topic),
      configuration: undefined,
      metadata: {},
    })) {
      const payload = (event as StreamResponse).payload;
      if (payload?.$case === 'task') taskId = payload.value.id;
      if (payload?.$case === 'statusUpdate') {
        const part = payload.value.status?.message?.parts[0]?.content;
        const state = TaskState[payload.value.status?.state ?? TaskState.TASK_STATE_UNSPECIFIED];
        const line = part?.$case === 'text' ? `${state}: ${part.value}` : state;
        lines.push(line);
        progress(`  [a2a] ${line}`);
      }
    }
    const task = await client.getTask({ id: taskId, tenant: '', historyLength: 0 });
    const data = task.artifacts[0]?.parts.find((part) => part.content?.$case === 'data')?.content;
    const report = data?.$case === 'data' ? (data.value as ResearchReport) : undefined;
    out(`tasks/get ${taskId}: ${TaskState[task.status?.state ?? TaskState.TASK_STATE_UNSPECIFIED]}`);
    out(
      `  ${lines.length} status updates while it worked, e.g. "${lines.find((line) => line.includes('→')) ?? lines[0]}"`,
    );
    out(
      `  report: "${(report?.draft as Draft | undefined)?.title ?? '(none)'}" — ${report?.sources.length ?? 0} sources, verdict ${(report?.verdict as Verdict | undefined)?.decision ?? '(none)'}`,
    );
    out('');

    // 2. The same pipeline with its reviewer over A2A.
    out(`A pipeline whose reviewer is an A2A agent at ${reviewer.url}`);
    const remoteReviewer = a2aAgent({ url: reviewer.url, name: 'reviewer', contract: reviewContract });
    const pipeline = researchTeam({
      maxRevisions: 1,
      members: (name) => (name === 'reviewer' ? remoteReviewer : localMembers(name)),
    });
    const result = await pipeline.run({ topic });
    out(`  handoffs: ${result.transcript.map((hop) => `${hop.from}→${hop.to}`).join(', ')}`);
    const member = result.members.reviewer;
    out(
      `  reviewer (A2A): ${member?.status}, ${member?.steps ?? 0} steps reported back into the team ledger`,
    );
    out(
      `  verdict: ${result.output?.verdict?.decision ?? '(none)'} — team ${result.status}, ${result.budget.used.steps} steps, ${result.budget.used.tokens} tokens`,
    );
    const completed = task.status?.state === TaskState.TASK_STATE_COMPLETED && result.status === 'completed';
    return {
      status: completed ? 'completed' : 'failed',
      served: {
        cardName: card.name,
        protocolVersion: version,
        streaming: card.capabilities?.streaming === true,
        progress: lines,
        task,
        report,
      },
      pipeline: result,
    };
  } finally {
    await team.close({ graceMs: 0 });
    await reviewer.close({ graceMs: 0 });
  }
}

runExample(import.meta.url, 'with-a2a', () => main({ topic: process.argv[2] ?? DEFAULT_TOPIC }));
