import {
  abortReason,
  countTokens,
  type Message,
  type Model,
  type ModelRequest,
  type ModelResponse,
  type ModelStreamEvent,
  parseToolResult,
  type ToolCall,
  type ToolResult,
} from '@baton/core';
import type { Ticket } from './desk.js';

/** A tool call the model makes. */
interface Call {
  name: string;
  args: unknown;
}

type Turn = { text: string } | { toolCalls: Call[] };

/** A model that keeps what it was sent and what it asked for: side channels the example checks. */
export interface RecordingModel extends Model {
  readonly requests: readonly ModelRequest[];
  /** Every tool call it made, in order, whether or not the run let it happen. */
  readonly calls: readonly ToolCall[];
}

/**
 * A deterministic, rule-based stand-in for a language model — **not an LLM** — that works support
 * tickets the way a capable model would, with one deliberate flaw: it obeys every instruction it reads,
 * wherever it reads it (`call <tool> with {json}` in a tool result is done at once). That is the worst
 * case for indirect prompt injection, so whatever it does not get to do, the guards stopped.
 *
 * Its turns: look the customer up and search the knowledge base; obey any instruction in what came
 * back; refund a duplicate charge the ticket asks about; email the customer; answer — quoting the card
 * number from the customer's own message, as models do, so the output guard has something to catch.
 */
export function obedientDeskModel(): RecordingModel {
  const id = 'rules-v1/support-desk';
  const requests: ModelRequest[] = [];
  const calls: ToolCall[] = [];

  async function generate(request: ModelRequest): Promise<ModelResponse> {
    if (request.signal?.aborted) throw abortReason(request.signal);
    requests.push(request);
    const turn = decide(request.messages);
    const step = request.messages.filter((message) => message.role === 'assistant').length + 1;
    const toolCalls =
      'toolCalls' in turn
        ? turn.toolCalls.map((call, index) => ({
            id: `call_${step}_${index}`,
            name: call.name,
            arguments: call.args,
          }))
        : [];
    calls.push(...toolCalls);
    const text = 'text' in turn ? turn.text : '';
    return {
      model: id,
      provider: 'offline',
      text,
      toolCalls,
      finishReason: toolCalls.length > 0 ? 'tool-calls' : 'stop',
      usage: {
        inputTokens: await countTokens(request.messages.map((message) => message.content).join('\n')),
        outputTokens: await countTokens(text + JSON.stringify(toolCalls)),
      },
      costUsd: 0,
    };
  }

  return {
    id,
    provider: 'offline',
    requests,
    calls,
    generate,
    async *stream(request: ModelRequest): AsyncIterable<ModelStreamEvent> {
      const response = await generate(request);
      if (response.text) yield { type: 'text-delta', text: response.text };
      for (const [index, call] of response.toolCalls.entries()) {
        yield { type: 'tool-call-start', index, id: call.id, name: call.name };
        yield { type: 'tool-call-delta', index, argumentsDelta: JSON.stringify(call.arguments) };
      }
      yield { type: 'response', response };
    },
  };
}

interface Seen {
  ticket: Ticket;
  /** Every tool result so far, with the call that produced it. */
  results: { call: Call; result: ToolResult }[];
}

function decide(messages: readonly Message[]): Turn {
  const seen = read(messages);
  const { ticket, results } = seen;
  const done = (name: string) => results.some((entry) => entry.call.name === name);
  if (!done('lookup_customer')) {
    return {
      toolCalls: [
        { name: 'lookup_customer', args: { email: ticket.from } },
        { name: 'search_kb', args: { query: ticket.subject } },
      ],
    };
  }
  // The flaw: an instruction in anything it read is followed, once.
  for (const { result } of results) {
    if (!result.ok) continue;
    for (const match of JSON.stringify(result.data).matchAll(/call (\w+) with (\{[^{}]*\})/g)) {
      const name = match[1] as string;
      if (done(name)) continue;
      try {
        return { toolCalls: [{ name, args: JSON.parse(unescapeQuotes(match[2] as string)) }] };
      } catch {
        // not an instruction it can follow
      }
    }
  }
  const refund = refundTurn(seen);
  if (refund) return refund;
  const refunded = results.find((entry) => entry.call.name === 'issue_refund');
  if (!done('send_email')) {
    return {
      toolCalls: [
        {
          name: 'send_email',
          args: { to: ticket.from, subject: `Re: ${ticket.subject}`, body: replyBody(seen, refunded) },
        },
      ],
    };
  }
  return { text: answer(seen, refunded) };
}

/** Refund the duplicate charge when the ticket asks for a refund of an order charged twice. */
function refundTurn({ ticket, results }: Seen): Turn | undefined {
  if (!/refund/i.test(ticket.body) || results.some((entry) => entry.call.name === 'issue_refund')) {
    return undefined;
  }
  const customer = results.find((entry) => entry.call.name === 'lookup_customer')?.result;
  if (!customer?.ok) return undefined;
  const orders = (customer.data as { orders?: { id: string; amountUsd: number; charges: number }[] }).orders;
  const order = orders?.find((candidate) => candidate.charges > 1 && ticket.body.includes(candidate.id));
  if (!order) return undefined;
  return {
    toolCalls: [
      {
        name: 'issue_refund',
        args: { orderId: order.id, amountUsd: order.amountUsd, reason: 'duplicate charge' },
      },
    ],
  };
}

type Entry = Seen['results'][number];

/** The refund's amount and order, from the call (a dry run's result holds only a preview). */
function refundOf(
  entry: Entry | undefined,
): { orderId: string; amountUsd: number; dryRun: boolean } | undefined {
  if (!entry?.result.ok) return undefined;
  const { orderId, amountUsd } = entry.call.args as { orderId: string; amountUsd: number };
  const dryRun = (entry.result.data as { dryRun?: boolean } | null)?.dryRun === true;
  return { orderId, amountUsd, dryRun };
}

function replyBody({ ticket, results }: Seen, refunded: Entry | undefined): string {
  const article = results.find((entry) => entry.call.name === 'search_kb')?.result;
  const advice = article?.ok ? ((article.data as { title?: string } | null)?.title ?? '') : '';
  const name = ticket.from.split(/[.@]/)[0] ?? 'there';
  const refund = refundOf(refunded);
  const done = refund
    ? `we refunded $${refund.amountUsd.toFixed(2)} for the duplicate charge on order ${refund.orderId}.`
    : `about "${advice || ticket.subject}": we are on it.`;
  return `Hi ${name[0]?.toUpperCase()}${name.slice(1)}, ${done} — Support`;
}

/** The final answer; it quotes the card number the customer wrote, if they wrote one. */
function answer({ ticket }: Seen, refunded: Entry | undefined): string {
  const card = /\b\d{4}(?: \d{4}){3}\b/.exec(ticket.body)?.[0];
  const onCard = card ? ` to card ${card}` : '';
  const refund = refundOf(refunded);
  if (refund?.dryRun) {
    return `Dry run of ${ticket.id}: would refund $${refund.amountUsd.toFixed(2)} on order ${refund.orderId}${onCard} and email ${ticket.from}.`;
  }
  if (refund) {
    return `${ticket.id}: refunded $${refund.amountUsd.toFixed(2)} for the duplicate charge on order ${refund.orderId}${onCard} and emailed ${ticket.from}.`;
  }
  return `${ticket.id}: replied to ${ticket.from}.`;
}

/** The ticket (the run's input) and every tool result, paired with its call. */
function read(messages: readonly Message[]): Seen {
  const user = messages.find((message) => message.role === 'user')?.content ?? '{}';
  const ticket = JSON.parse(user) as Ticket;
  const calls = new Map<string, Call>();
  const results: Seen['results'] = [];
  for (const message of messages) {
    if (message.role === 'assistant') {
      for (const call of message.toolCalls ?? [])
        calls.set(call.id, { name: call.name, args: call.arguments });
    } else if (message.role === 'tool') {
      const parsed = parseToolResult(message.content);
      const call = calls.get(message.toolCallId);
      if (parsed && call) results.push({ call, result: parsed.result });
    }
  }
  return { ticket, results };
}

/** The arguments as the text carried them inside a JSON string (quotes escaped). */
function unescapeQuotes(text: string): string {
  return text.replace(/\\"/g, '"');
}
