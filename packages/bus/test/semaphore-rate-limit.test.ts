import {
  type AgentWorker,
  NatsBus,
  natsSemaphore,
  remoteAgent,
  type Semaphore,
  semaphoreModel,
  serveAgent,
} from '@baton/bus';
import { type NatsServer, sleep, startNatsServer } from '@baton/bus/testing';
import { defineAgent, defineHandoff, type Model, openai, type RunResult } from '@baton/core';
import { type ProviderServer, startProviderServer } from '@baton/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

/**
 * The seed's scaling problem, end to end: 20 workers (each its own NATS connection, as separate
 * processes would have) serving 10 runs at once each, all calling one provider that allows N requests
 * in flight and answers 429 above that — a local HTTP server speaking the OpenAI Chat Completions API,
 * called through the official `openai` SDK with retries off, so every 429 surfaces.
 */
const WORKERS = 20;
const PER_WORKER = 10;
const LIMIT = 4;

const askContract = defineHandoff({
  name: 'test.ask',
  version: 1,
  input: z.object({ question: z.string() }),
  output: z.string(),
});

let nats: NatsServer;
let provider: ProviderServer;
let inFlight = 0;
let mostInFlight = 0;
let rateLimited = 0;

beforeAll(async () => {
  nats = await startNatsServer({ jetstream: true });
  provider = await startProviderServer({
    handler: async () => {
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      try {
        if (inFlight > LIMIT) {
          rateLimited++;
          return { type: 'error', status: 429, message: 'Rate limit reached: too many requests in flight' };
        }
        await sleep(25);
        return { type: 'turn', text: 'an answer' };
      } finally {
        inFlight--;
      }
    },
  });
}, 30_000);

afterAll(async () => {
  await provider?.close();
  await nats?.stop();
});

/** 20 workers × 10 concurrent runs against the provider; the model of each worker made by `modelFor`. */
async function fleetRun(
  namespace: string,
  modelFor: (bus: NatsBus) => { model: Model; semaphore?: Semaphore },
): Promise<RunResult[]> {
  const buses: NatsBus[] = [];
  const workers: AgentWorker[] = [];
  const semaphores: Semaphore[] = [];
  try {
    for (let index = 0; index < WORKERS; index++) {
      const bus = await NatsBus.connect({ servers: nats.url, name: `worker-${index}` });
      buses.push(bus);
      const { model, semaphore } = modelFor(bus);
      if (semaphore) semaphores.push(semaphore);
      const agent = defineAgent({
        name: 'asker',
        description: 'Answers questions',
        instructions: 'Answer briefly.',
        input: askContract.input,
        model,
      });
      workers.push(
        await serveAgent(bus, agent, {
          contract: askContract,
          namespace,
          concurrency: PER_WORKER,
          heartbeatMs: 0,
        }),
      );
    }
    const caller = await NatsBus.connect({ servers: nats.url, name: 'caller' });
    buses.push(caller);
    const remote = remoteAgent(caller, {
      name: 'asker',
      contract: askContract,
      namespace,
      timeoutMs: 60_000,
    });
    return await Promise.all(
      Array.from({ length: WORKERS * PER_WORKER }, (_, index) => remote.run({ question: `q${index}` })),
    );
  } finally {
    await Promise.all(workers.map((worker) => worker.drain()));
    await Promise.all(semaphores.map((semaphore) => semaphore.close()));
    await Promise.all(buses.map((bus) => bus.close()));
  }
}

const rawModel = () => openai('gpt-test', { baseURL: provider.openaiBaseURL, apiKey: 'test', maxRetries: 0 });

const rateLimitErrors = (results: RunResult[]) =>
  results.filter((result) => result.error?.code === 'PROVIDER_RATE_LIMIT').length;

describe(`the LLM semaphore: ${WORKERS} workers × ${PER_WORKER} runs against a provider that allows ${LIMIT} in flight`, () => {
  it('without it, the fleet hits the rate limit', async () => {
    rateLimited = 0;
    const results = await fleetRun('nosem', () => ({ model: rawModel() }));
    expect(results).toHaveLength(WORKERS * PER_WORKER);
    expect(rateLimited).toBeGreaterThan(0);
    expect(rateLimitErrors(results)).toBeGreaterThan(0);
  }, 120_000);

  it(`with the semaphore at ${LIMIT}: no 429 at all, every run completes`, async () => {
    rateLimited = 0;
    mostInFlight = 0;
    const results = await fleetRun('withsem', (bus) => {
      const semaphore = natsSemaphore(bus, { name: 'gpt-test', limit: LIMIT, namespace: 'withsem' });
      return { model: semaphoreModel(rawModel(), semaphore), semaphore };
    });
    expect(rateLimited).toBe(0);
    expect(rateLimitErrors(results)).toBe(0);
    expect(mostInFlight).toBeLessThanOrEqual(LIMIT);
    const statuses = results.map(
      (result) => `${result.status}${result.error ? ` ${result.error.code}` : ''}`,
    );
    expect(statuses.filter((status) => status !== 'completed')).toEqual([]);
    expect(results.every((result) => result.output === 'an answer')).toBe(true);
  }, 120_000);
});
