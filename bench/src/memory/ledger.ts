/**
 * The scripted long task of `memory.p6`: reconcile twelve accounts, one long statement per step (~600
 * tokens, one balance each), then report every balance. The model is rule-based and reads only what it
 * is sent; it notes each balance as it goes. Success: the report has all twelve balances — the first ones
 * found eleven steps before the answer.
 */
import {
  defineTool,
  type Message,
  type ModelRequest,
  type ModelResponse,
  parseToolResult,
  SCRATCHPAD_TOOL,
  type ToolCall,
  unwrapUntrusted,
} from '@baton/core';
import { z } from 'zod';

export const ACCOUNTS = 12;
const FETCH = 'fetch_statement';

/** The balance of account `n`: what the final report must still know. */
export const balanceOf = (account: number) =>
  `$${(1_000 + account * 7_919) % 100_000}.${String(account * 13).padStart(2, '0')}`;

const LINES = ['card payment', 'transfer in', 'standing order', 'fee', 'refund', 'interest', 'direct debit'];

/** `fetch_statement({ account })`: a month of transactions (~600 tokens) and, on one line, the closing balance. */
export const fetchStatement = defineTool({
  name: FETCH,
  description: 'Fetches the monthly statement of an account (every transaction and the closing balance).',
  input: z.object({ account: z.number().int().min(0) }),
  execute: ({ account }) => {
    const lines = Array.from({ length: 40 }, (_, day) => {
      const amount = ((account + 3) * (day + 11) * 37) % 900;
      return `2024-12-${String((day % 28) + 1).padStart(2, '0')} ${LINES[(day + account) % LINES.length]} ${amount}.${day % 10}0`;
    });
    lines.splice(23, 0, `Closing balance of account A-${account}: ${balanceOf(account)}`);
    return { account: `A-${account}`, month: '2024-12', lines };
  },
});

const BALANCE = /Closing balance of account (A-\d+): (\$[\d.]+)/;
const NOTE = /^(A-\d+) closes at (\$[\d.]+)$/;

/** Balances in view: from notes (tool calls, the re-injected scratchpad) and from statements still shown. */
function balancesIn(messages: readonly Message[]): Map<string, string> {
  const found = new Map<string, string>();
  const add = (text: string) => {
    const match = NOTE.exec(text) ?? BALANCE.exec(text);
    if (match) found.set(match[1] as string, match[2] as string);
  };
  for (const message of messages) {
    if (message.role === 'assistant') {
      for (const call of message.toolCalls ?? []) {
        if (call.name === SCRATCHPAD_TOOL) add(String((call.arguments as { note?: unknown }).note));
      }
    } else if (message.role === 'user') {
      const value = unwrapUntrusted(
        message.content.slice(Math.max(0, message.content.indexOf('<untrusted_data'))),
      )?.value;
      if (Array.isArray(value)) for (const note of value) add(String(note));
    } else if (message.role === 'tool' && message.toolName === FETCH) {
      const data = parseToolResult(message.content)?.result;
      if (data?.ok) for (const line of (data.data as { lines: string[] }).lines) add(line);
    }
  }
  return found;
}

/** One step: note the balance just fetched and fetch the next account; after the last, report. */
export function ledgerTurn(request: ModelRequest): Pick<ModelResponse, 'text' | 'toolCalls'> {
  const messages = request.messages;
  const last = messages.findLast((message) => message.role === 'assistant');
  if (last?.role !== 'assistant') return { text: '', toolCalls: [fetch(0)] };
  const fetched = last.toolCalls?.find((call) => call.name === FETCH);
  if (!fetched) {
    const report = [...balancesIn(messages)].sort(([a], [b]) => Number(a.slice(2)) - Number(b.slice(2)));
    return {
      text: `Closing balances: ${report.map(([account, value]) => `${account} ${value}`).join('; ')}`,
      toolCalls: [],
    };
  }
  const calls: ToolCall[] = [];
  const result = messages.find((message) => message.role === 'tool' && message.toolCallId === fetched.id);
  const balance = result && BALANCE.exec(result.content);
  if (balance)
    calls.push({
      id: '',
      name: SCRATCHPAD_TOOL,
      arguments: { note: `${balance[1]} closes at ${balance[2]}` },
    });
  const next = (fetched.arguments as { account: number }).account + 1;
  if (next < ACCOUNTS) calls.push(fetch(next));
  return calls.length > 0 ? { text: '', toolCalls: calls } : { text: 'Nothing to note.', toolCalls: [] };
}

const fetch = (account: number): ToolCall => ({ id: '', name: FETCH, arguments: { account } });

/** Balances the report states correctly. */
export function reconciled(output: unknown): number {
  const text = typeof output === 'string' ? output : '';
  let correct = 0;
  for (let account = 0; account < ACCOUNTS; account++) {
    if (text.includes(`A-${account} ${balanceOf(account)}`)) correct++;
  }
  return correct;
}
