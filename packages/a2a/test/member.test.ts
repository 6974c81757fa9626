import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AGENT_CARD_PATH, type AgentCard, AgentCard as AgentCardCodec, TaskState } from '@a2a-js/sdk';
import {
  AgentEvent,
  type AgentExecutor,
  DefaultRequestHandler,
  defaultServerCallContextBuilder,
  type ExecutionEventBus,
  InMemoryTaskStore,
  JsonRpcTransportHandler,
  type RequestContext,
  UnauthenticatedUser,
} from '@a2a-js/sdk/server';
import { a2aAgent } from '@baton/a2a';
import { defineAgent, defineHandoff } from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { pipeline } from '@baton/supervisor';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { until } from './helpers.js';

/**
 * An A2A agent written with the SDK's own server pieces only (DefaultRequestHandler, InMemoryTaskStore,
 * an AgentExecutor, the JSON-RPC transport handler): it answers a `{ text }` data part with
 * `{ shout: TEXT }`; text starting with "wait" runs until canceled.
 */
class ShoutExecutor implements AgentExecutor {
  readonly canceled = new Set<string>();
  readonly started: string[] = [];
  private readonly waiting = new Map<string, () => void>();

  async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const { taskId, contextId } = context;
    this.started.push(taskId);
    const now = () => new Date().toISOString();
    bus.publish(
      AgentEvent.task({
        id: taskId,
        contextId,
        status: { state: TaskState.TASK_STATE_WORKING, message: undefined, timestamp: now() },
        artifacts: [],
        history: [context.userMessage],
        metadata: {},
      }),
    );
    const part = context.userMessage.parts.find((entry) => entry.content?.$case === 'data')?.content;
    const text = String((part?.$case === 'data' ? (part.value as { text?: unknown }) : {}).text ?? '');
    if (text.startsWith('wait')) {
      await new Promise<void>((resolve) => this.waiting.set(taskId, resolve));
      bus.publish(
        AgentEvent.statusUpdate({
          taskId,
          contextId,
          status: { state: TaskState.TASK_STATE_CANCELED, message: undefined, timestamp: now() },
          metadata: {},
        }),
      );
      return;
    }
    const answer = text.startsWith('bad') ? { shout: 42 } : { shout: text.toUpperCase() };
    bus.publish(
      AgentEvent.artifactUpdate({
        taskId,
        contextId,
        artifact: {
          artifactId: 'shout',
          name: 'shout',
          description: '',
          parts: [
            {
              content: { $case: 'data', value: answer },
              mediaType: 'application/json',
              filename: '',
              metadata: {},
            },
          ],
          metadata: {},
          extensions: [],
        },
        append: false,
        lastChunk: true,
        metadata: {},
      }),
    );
    bus.publish(
      AgentEvent.statusUpdate({
        taskId,
        contextId,
        status: { state: TaskState.TASK_STATE_COMPLETED, message: undefined, timestamp: now() },
        metadata: {},
      }),
    );
  }

  async cancelTask(taskId: string): Promise<void> {
    this.canceled.add(taskId);
    this.waiting.get(taskId)?.();
  }
}

const shoutContract = defineHandoff({
  name: 'text.shout',
  version: 1,
  input: z.object({ text: z.string() }),
  output: z.object({ shout: z.string() }),
});

describe('a2aAgent: a remote A2A agent as a member of a Baton pipeline', () => {
  let http: Server;
  let url: string;
  const executor = new ShoutExecutor();
  const store = new InMemoryTaskStore();

  beforeAll(async () => {
    const card: AgentCard = {
      name: 'shouter',
      description: 'Shouts',
      supportedInterfaces: [],
      provider: undefined,
      version: '1.0.0',
      capabilities: { streaming: true, pushNotifications: false, extensions: [] },
      securitySchemes: {},
      securityRequirements: [],
      defaultInputModes: ['application/json'],
      defaultOutputModes: ['application/json'],
      skills: [],
      signatures: [],
    };
    const handler = new DefaultRequestHandler(card, store, executor);
    const transport = new JsonRpcTransportHandler(handler);
    const app = new Hono();
    app.get(`/${AGENT_CARD_PATH}`, (c) => c.json(AgentCardCodec.toJSON(card) as Record<string, unknown>));
    app.post('/', async (c) => {
      const context = defaultServerCallContextBuilder({
        extensions: undefined,
        user: new UnauthenticatedUser(),
        headers: {},
        requestedVersion: c.req.header('A2A-Version'),
      });
      const response = await transport.handle(await c.req.json(), context);
      if (!(Symbol.asyncIterator in Object(response))) return c.json(response as Record<string, unknown>);
      const events = response as AsyncGenerator<unknown>;
      const encoder = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const next = await events.next();
          if (next.done) controller.close();
          else controller.enqueue(encoder.encode(`data: ${JSON.stringify(next.value)}\n\n`));
        },
      });
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
    });
    http = await new Promise<Server>((resolve) => {
      const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
        resolve(started as Server),
      );
    });
    const port = (http.address() as AddressInfo).port;
    url = `http://127.0.0.1:${port}`;
    card.supportedInterfaces.push({ url, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' });
  });
  afterAll(async () => {
    http?.closeAllConnections();
    await new Promise((resolve) => http?.close(resolve));
  });

  /** A local Baton agent that turns a topic into the `{ text }` the remote member takes. */
  const drafter = defineAgent({
    name: 'drafter',
    description: 'Drafts a line',
    instructions: 'Answer {"text": "..."}',
    output: z.object({ text: z.string() }),
    model: scriptedModel(() => JSON.stringify({ text: 'ship it' }), {
      usage: { inputTokens: 7, outputTokens: 3 },
      price: { input: 1, output: 2 },
    }),
  });

  it('runs as a pipeline stage: typed input out, contract-checked output back, usage charged as unknown', async () => {
    const shouter = a2aAgent({ url, contract: shoutContract });
    expect(shouter.name).toBe('127-0-0-1');
    const named = a2aAgent({ url, contract: shoutContract, name: 'shouter' });
    const team = pipeline({
      name: 'loud',
      stages: [{ agent: drafter }, { agent: named, contract: shoutContract }],
    });
    const result = await team.run('go');
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ shout: 'SHIP IT' });
    expect(result.transcript.map((hop) => `${hop.from}->${hop.to}`)).toEqual([
      'user->drafter',
      'drafter->shouter',
    ]);
    const member = result.members.shouter;
    expect(member?.status).toBe('completed');
    // The SDK server reports no usage: one step of unknown cost, never $0 as if known.
    expect(result.unpriced?.steps).toBeGreaterThanOrEqual(1);
    expect(result.budget.used.steps).toBe(2);
  });

  it('a price per call makes an unreported call a known cost (a cost-limited team keeps going)', async () => {
    // The remote member first, then the local drafter: the cost limit is checked at the handoff between.
    const team = (member: ReturnType<typeof a2aAgent>) =>
      pipeline({
        name: 'priced',
        budget: { maxCostUsd: 1 },
        stages: [{ agent: member, contract: shoutContract }, { agent: drafter }],
      });
    const priced = await team(
      a2aAgent({ url, contract: shoutContract, name: 'shouter', costPerCallUsd: 0.002 }),
    ).run({
      text: 'go',
    });
    expect(priced.status).toBe('completed');
    expect(priced.members.shouter?.costUsd).toBe(0.002);
    expect(priced.members.shouter?.unpriced).toBeUndefined();
    // Without a price the call is a step of unknown cost, never $0: the team cannot hold its cost limit
    // over a step it cannot count, so it stops before the next handoff.
    const unknown = await team(a2aAgent({ url, contract: shoutContract, name: 'shouter' })).run({
      text: 'go',
    });
    expect(unknown.members.shouter?.unpriced).toEqual({ steps: 1, models: ['a2a:shouter'] });
    expect(unknown.status).toBe('budget_exceeded');
    expect(unknown.stopReason.message).toMatch(/no known price/);
    expect(unknown.members.drafter).toBeUndefined();
  });

  it('checks the answer against the contract output (OUTPUT_INVALID), and the input before sending', async () => {
    const member = a2aAgent({ url, contract: shoutContract, name: 'shouter' });
    const bad = await member.run({ text: 'bad answer' });
    expect(bad.status).toBe('failed');
    expect(bad.error?.code).toBe('OUTPUT_INVALID');
    const invalid = await member.run({ words: 3 } as never);
    expect(invalid.error?.code).toBe('HANDOFF_INVALID');
    expect(invalid.steps).toBe(0);
  });

  it('an abort cancels the remote task (tasks/cancel) and the run ends aborted', async () => {
    const member = a2aAgent({ url, contract: shoutContract, name: 'shouter' });
    const controller = new AbortController();
    const running = member.run({ text: 'wait for it' }, { signal: controller.signal });
    const before = executor.started.length;
    // Abort once the remote task runs (its id may not have reached the client yet: the cancel waits for it).
    await until(() => executor.started.length > before, 'the remote task to start');
    controller.abort();
    const result = await running;
    expect(result.status).toBe('aborted');
    expect(result.error?.code).toBe('ABORTED');
    await until(() => executor.canceled.size === 1, 'the SDK executor to see the cancel');
  });

  it('a transport failure is a typed error, not a throw', async () => {
    const member = a2aAgent({ url: 'http://127.0.0.1:9/', name: 'nobody', timeoutMs: 5_000 });
    const result = await member.run('hello');
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('A2A_UNAVAILABLE');
    expect(result.error?.retryable).toBe(true);
  });

  it('a timeout cancels the remote task and ends the run with status timeout', async () => {
    const member = a2aAgent({ url, contract: shoutContract, name: 'shouter', timeoutMs: 300 });
    const before = executor.canceled.size;
    const result = await member.run({ text: 'wait again' });
    expect(result.status).toBe('timeout');
    expect(result.error?.code).toBe('TIMEOUT');
    await until(() => executor.canceled.size === before + 1, 'the cancel of the timed-out task');
  });
});
