import {
  bundledCorpus,
  draftSchema,
  fitToSchema,
  OFFLINE_ROLES,
  offlineModel,
  researchFindingsSchema,
  verdictSchema,
  writeRequestSchema,
} from '@baton/agents';
import { BatonError, countTokens, type Message, type ModelRequest, type ModelStreamEvent } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io: 'output',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return rest;
}

const corpus = bundledCorpus();
const retries = corpus.get('retries-and-backoff')!;
const idempotency = corpus.get('idempotency')!;

const writeInput = writeRequestSchema.parse({
  topic: 'retries and idempotency',
  findings: [
    { claim: 'Retry only what can succeed on a second attempt.', sources: [retries.id] },
    {
      claim:
        'Add random jitter to every delay so that many clients that failed at the same moment do not all retry at the same moment too.',
      sources: [retries.id],
    },
    { claim: 'The standard technique is an idempotency key.', sources: [idempotency.id] },
  ],
  sources: [
    { id: retries.id, title: retries.title },
    { id: idempotency.id, title: idempotency.title },
  ],
});

function request(messages: Message[], schema?: z.ZodType, extra: Partial<ModelRequest> = {}): ModelRequest {
  return {
    messages,
    ...(schema ? { responseSchema: { name: 'output', schema: jsonSchemaOf(schema) } } : {}),
    ...extra,
  };
}

const writerRequest = request(
  [
    { role: 'system', content: 'You are a writer.' },
    { role: 'user', content: JSON.stringify(writeInput) },
  ],
  draftSchema,
);

async function collect(events: AsyncIterable<ModelStreamEvent>): Promise<ModelStreamEvent[]> {
  const all: ModelStreamEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

describe('offlineModel', () => {
  it('names itself as the offline provider, one id per role', () => {
    for (const role of OFFLINE_ROLES) {
      const model = offlineModel(role);
      expect(model.provider).toBe('offline');
      expect(model.id).toBe(`baton-offline-v1/${role}`);
    }
    expect(() => offlineModel('poet' as never)).toThrow(BatonError);
  });

  it('is deterministic: the same request gives the same response', async () => {
    const first = await offlineModel('writer').generate(writerRequest);
    const second = await offlineModel('writer').generate(structuredClone(writerRequest));
    expect(second).toEqual(first);
  });

  it('answers with JSON valid for the response schema, labelled as the offline model', async () => {
    const response = await offlineModel('writer').generate(writerRequest);
    const draft = draftSchema.parse(JSON.parse(response.text));
    expect(draft.summary).toContain('Baton offline model');
    expect(draft.summary).toContain('not an LLM');
    expect(new Set(draft.citations)).toEqual(new Set([retries.id, idempotency.id]));
    expect(response.finishReason).toBe('stop');
    expect(response.costUsd).toBe(0);
  });

  it('counts usage with the tokenizer so budgets work', async () => {
    const response = await offlineModel('writer').generate(writerRequest);
    expect(response.usage?.outputTokens).toBe(await countTokens(response.text));
    expect(response.usage?.inputTokens).toBeGreaterThan(await countTokens(JSON.stringify(writeInput)));
  });

  it('streams the same response it generates', async () => {
    const events = await collect(offlineModel('writer').stream(writerRequest));
    const last = events.at(-1);
    expect(last?.type).toBe('response');
    const text = events.map((event) => (event.type === 'text-delta' ? event.text : '')).join('');
    const generated = await offlineModel('writer').generate(writerRequest);
    expect(text).toBe(generated.text);
    expect(last?.type === 'response' && last.response).toEqual(generated);
    expect(events.filter((event) => event.type === 'text-delta').length).toBeGreaterThan(10);
  });

  it('streams tool calls as start and argument events', async () => {
    const model = offlineModel('researcher');
    const events = await collect(
      model.stream(
        request([{ role: 'user', content: '{"topic":"dead letter queues"}' }], undefined, {
          tools: [{ name: 'search_corpus', description: 'search', parameters: { type: 'object' } }],
        }),
      ),
    );
    expect(events[0]).toEqual({
      type: 'tool-call-start',
      index: 0,
      id: 'offline_0_0',
      name: 'search_corpus',
    });
    expect(events[1]).toEqual({
      type: 'tool-call-delta',
      index: 0,
      argumentsDelta: JSON.stringify({ query: 'dead letter queues', limit: 5 }),
    });
    const last = events.at(-1);
    expect(last?.type === 'response' && last.response.finishReason).toBe('tool-calls');
  });

  it('honours the abort signal, before and during its latency', async () => {
    const aborted = AbortSignal.abort();
    await expect(
      offlineModel('writer').generate({ ...writerRequest, signal: aborted }),
    ).rejects.toMatchObject({
      code: 'ABORTED',
    });
    const controller = new AbortController();
    // Ten minutes of latency: only the abort can end the call sooner.
    const pending = offlineModel('writer', { latencyMs: 600_000 }).generate({
      ...writerRequest,
      signal: controller.signal,
    });
    const started = Date.now();
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
    // Many times the 20 ms, far below the latency.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('stops at maxOutputTokens with finishReason "length"', async () => {
    const response = await offlineModel('writer').generate({ ...writerRequest, maxOutputTokens: 20 });
    expect(response.finishReason).toBe('length');
    expect(response.usage?.outputTokens).toBe(20);
    expect(await countTokens(response.text)).toBeLessThanOrEqual(20);
  });

  it('reviewer and writer: a deterministic revise verdict, a revision that fixes it, then approval', async () => {
    const draft = draftSchema.parse(JSON.parse((await offlineModel('writer').generate(writerRequest)).text));
    const review = (candidate: unknown) =>
      request(
        [
          {
            role: 'user',
            content: JSON.stringify({
              draft: candidate,
              sources: writeInput.sources,
              findings: writeInput.findings,
            }),
          },
        ],
        verdictSchema,
      );
    const a = await offlineModel('reviewer').generate(review(draft));
    const b = await offlineModel('reviewer').generate(review(structuredClone(draft)));
    expect(a.text).toBe(b.text);
    const verdict = verdictSchema.parse(JSON.parse(a.text));
    expect(verdict.decision).toBe('revise');
    expect(verdict.issues.map((issue) => issue.rule)).toContain('closing-section');

    const revision = { ...writeInput, revision: { round: 1, issues: verdict.issues, previousDraft: draft } };
    const revised = draftSchema.parse(
      JSON.parse(
        (
          await offlineModel('writer').generate(
            request([{ role: 'user', content: JSON.stringify(revision) }], draftSchema),
          )
        ).text,
      ),
    );
    expect(revised.sections.at(-1)?.heading).toBe('Recommendations');
    expect(revised.summary).toMatch(
      /^Revision one .* It addresses two of the three issues the reviewer raised\.$/,
    );
    const second = verdictSchema.parse(
      JSON.parse((await offlineModel('reviewer').generate(review(revised))).text),
    );
    expect(second.decision).toBe('approve');
  });

  it('researcher: findings JSON valid for its schema even with no tools to call', async () => {
    const response = await offlineModel('researcher').generate(
      request([{ role: 'user', content: 'loop detection' }], researchFindingsSchema),
    );
    const findings = researchFindingsSchema.parse(JSON.parse(response.text));
    expect(findings.findings).toEqual([]);
    expect(findings.summary).toContain('not an LLM');
  });

  it('critic and judge answer any response schema with valid JSON', async () => {
    const critiqueSchema = z.object({
      approved: z.boolean(),
      score: z.number().int().min(1).max(5),
      feedback: z.string().min(1),
      points: z.array(z.object({ severity: z.enum(['low', 'high']), text: z.string() })).min(1),
    });
    const text = 'Limits are really very important. They basically stop runs.';
    const critic = await offlineModel('critic').generate(
      request(
        [{ role: 'user', content: JSON.stringify({ task: 'Argue for limits', candidate: text }) }],
        critiqueSchema,
      ),
    );
    const critique = critiqueSchema.parse(JSON.parse(critic.text));
    expect(critique.approved).toBe(false);
    expect(critique.feedback).toContain('conclusion');

    const judgeSchema = z.object({
      winner: z.number().int().min(1),
      decision: z.enum(['accept', 'continue']),
      reason: z.string(),
    });
    const judge = await offlineModel('judge').generate(
      request(
        [
          {
            role: 'user',
            content: JSON.stringify({
              candidates: [
                text,
                `${text.replace(/really |very |basically /g, '')} A step limit ends a run that keeps calling tools, a token limit ends a conversation that keeps growing, and a cost limit protects the budget when an expensive model is routed in by mistake. Each limit ends the run with its own status, so operators can tell them apart.\n\nIn short, set all three limits on every agent and alert when they fire.`,
              ],
            }),
          },
        ],
        judgeSchema,
      ),
    );
    expect(judgeSchema.parse(JSON.parse(judge.text))).toMatchObject({ winner: 2, decision: 'accept' });
  });
});

describe('fitToSchema', () => {
  it('keeps what fits and repairs the rest to a JSON Schema', () => {
    const schema: Record<string, unknown> = {
      type: 'object',
      properties: {
        title: { type: 'string', maxLength: 10 },
        count: { type: 'integer', minimum: 1, maximum: 3 },
        ok: { type: 'boolean' },
        mode: { enum: ['approve', 'revise'] },
        tags: { type: 'array', items: { type: 'string' }, minItems: 2 },
        item: { $ref: '#/$defs/item' },
        either: { anyOf: [{ type: 'number' }, { type: 'null' }] },
      },
      required: ['title', 'count', 'ok', 'mode', 'tags', 'item', 'either'],
      additionalProperties: false,
      $defs: { item: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } },
    };
    const value = fitToSchema(
      schema,
      { title: 'A rather long title', count: 9, ok: 'yes', mode: true, tags: ['x'], extra: 1 },
      (key) => (key === 'either' ? '4.5' : undefined),
    );
    const validator = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
    expect(validator.parse(value)).toEqual(value);
    expect(value).toMatchObject({ count: 3, ok: true, mode: 'approve', either: 4.5 });
    expect((value as { title: string }).title).toBe('A rather…');
  });
});
