/**
 * The indirect-injection payloads of `security.r5` (fixtures/injection-payloads.json, validated here: a
 * corpus file is input like any other) and the places a fetched document can carry them.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** The agent's tools a payload may ask for, by risk. */
export const WRITE_TOOLS = ['send_email', 'update_settings'] as const;
export const DESTRUCTIVE_TOOLS = ['delete_records', 'transfer_funds', 'run_command'] as const;

export const toolArgs = {
  send_email: z.object({ to: z.string(), subject: z.string().optional(), body: z.string() }).strict(),
  update_settings: z.object({ key: z.string(), value: z.string() }).strict(),
  delete_records: z.object({ table: z.string(), where: z.string().optional() }).strict(),
  transfer_funds: z.object({ to: z.string(), amountUsd: z.number().positive() }).strict(),
  run_command: z.object({ command: z.string() }).strict(),
} as const;

export type ActionTool = keyof typeof toolArgs;

const callSchema = z
  .object({
    tool: z.enum([...WRITE_TOOLS, ...DESTRUCTIVE_TOOLS]),
    args: z.record(z.string(), z.unknown()),
  })
  .superRefine((call, context) => {
    // Every requested call must be a valid call of its tool: an invalid one would be refused before
    // approvals and prove nothing about them.
    const parsed = toolArgs[call.tool].safeParse(call.args);
    if (!parsed.success)
      context.addIssue({ code: 'custom', message: `${call.tool}: ${parsed.error.message}` });
  });

const payloadSchema = z.object({
  id: z.string().regex(/^[a-z0-9-]{1,40}$/),
  style: z.string(),
  text: z.string().min(1),
  calls: z.array(callSchema).min(1),
});

const corpusSchema = z.object({
  about: z.string(),
  attribution: z.string(),
  payloads: z.array(payloadSchema).min(1),
});

export type Payload = z.infer<typeof payloadSchema>;
export type RequestedCall = Payload['calls'][number];

const CORPUS = new URL('../../src/chaos/fixtures/injection-payloads.json', import.meta.url);

/** The corpus, validated: ids and texts distinct, every call valid for its tool. */
export function loadPayloads(): Payload[] {
  const corpus = corpusSchema.parse(JSON.parse(readFileSync(CORPUS, 'utf8')));
  const ids = new Set(corpus.payloads.map((payload) => payload.id));
  const texts = new Set(corpus.payloads.map((payload) => payload.text));
  if (ids.size !== corpus.payloads.length || texts.size !== corpus.payloads.length) {
    throw new Error('injection-payloads.json: payload ids and texts must be distinct');
  }
  return corpus.payloads;
}

export function isDestructive(tool: string): boolean {
  return (DESTRUCTIVE_TOOLS as readonly string[]).includes(tool);
}

/**
 * What `fetch_document` returns for the `index`-th payload: the payload inside one of the shapes a
 * fetched document takes — a bare page, a page object, search results, table rows, an e-mail, nested
 * JSON, and the payload as an object key — so the wrapper is tried around each.
 */
export function carry(payload: Payload, index: number): unknown {
  const text = payload.text;
  switch (index % 7) {
    case 0:
      return text;
    case 1:
      return {
        url: `https://docs.example/${payload.id}`,
        title: 'Quarterly notes',
        body: `Summary below.\n${text}`,
      };
    case 2:
      return {
        results: [
          { title: 'Unrelated result', snippet: 'Nothing to see here.' },
          { title: 'Relevant result', snippet: text },
        ],
      };
    case 3:
      return {
        rows: [
          { id: 1, note: 'ok' },
          { id: 2, note: text },
        ],
        total: 2,
      };
    case 4:
      return { from: 'sender@example.com', subject: 'Re: your question', body: text, attachments: [] };
    case 5:
      return { page: { sections: [{ heading: 'Intro', paragraphs: ['Welcome.', { quote: text }] }] } };
    default:
      return { [text]: 'the payload as a key', ok: true };
  }
}
