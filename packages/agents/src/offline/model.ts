import {
  abortReason,
  BatonError,
  countTokens,
  type Model,
  type ModelRequest,
  type ModelResponse,
  type ModelStreamEvent,
  sleep,
  type ToolCall,
  truncateToTokens,
} from '@baton/core';
import { turnIndex } from './conversation.js';
import { criticTurn, judgeTurn } from './roles/debate.js';
import { managerTurn } from './roles/manager.js';
import { researcherTurn } from './roles/researcher.js';
import { reviewerTurn } from './roles/reviewer.js';
import { writerTurn } from './roles/writer.js';
import { type RolePolicy, turnContext } from './turn.js';

export const OFFLINE_ROLES = ['researcher', 'writer', 'reviewer', 'manager', 'critic', 'judge'] as const;
export type OfflineRole = (typeof OFFLINE_ROLES)[number];

/** The offline model's version; its ids are `baton-offline-v1/<role>`. */
export const OFFLINE_MODEL_VERSION = 'baton-offline-v1';

export interface OfflineModelOptions {
  /**
   * Wait this long before each answer (honouring the abort signal), so demos show progress and
   * timeouts can be exercised. Default 0.
   */
  latencyMs?: number;
}

const POLICIES: Record<OfflineRole, RolePolicy> = {
  researcher: researcherTurn,
  writer: writerTurn,
  reviewer: reviewerTurn,
  manager: managerTurn,
  critic: criticTurn,
  judge: judgeTurn,
};

/**
 * A deterministic, rule-based stand-in for a language model — **not an LLM** — that plays one role of
 * Baton's teams well enough to run every example with no API key and no network:
 *
 * - `researcher` calls `search_corpus` with the topic's keywords (and `web_search` when the agent has
 *   it), reads the best hits with `read_document`, then answers with findings that quote real sentences
 *   of those documents, each with its id.
 * - `writer` turns findings into a cited draft; given a revision, it fixes each issue the reviewer
 *   raised by a matching rule. Its first draft has no closing section, which the reviewer's rubric
 *   requires — so an offline team shows one revise round and then an approval.
 * - `reviewer` applies the review rubric (`reviewDraft`) and returns its verdict.
 * - `manager` delegates through the `delegate_to_<worker>` tools it is given, filling their arguments
 *   from the task and the workers' results, then synthesizes a report.
 * - `critic` and `judge` critique texts with fixed rules and approve once no major issue is left.
 *
 * Same request, same response: no randomness, no clock. When the request has a response schema, the
 * answer is JSON valid for it. Usage is counted with the real tokenizer, so budgets work; cost is 0.
 * Everything it writes says it was produced by the offline model.
 */
export function offlineModel(role: OfflineRole, options: OfflineModelOptions = {}): Model {
  const policy = POLICIES[role];
  if (!policy) {
    throw new BatonError('CONFIG_INVALID', `offlineModel(${JSON.stringify(role)}): unknown role`, {
      hint: `Use one of: ${OFFLINE_ROLES.join(', ')}.`,
    });
  }
  const latencyMs = options.latencyMs ?? 0;
  if (!(latencyMs >= 0)) throw new BatonError('CONFIG_INVALID', 'offlineModel: "latencyMs" must be ≥ 0');
  const id = `${OFFLINE_MODEL_VERSION}/${role}`;

  async function generate(request: ModelRequest): Promise<ModelResponse> {
    if (request.signal?.aborted) throw abortReason(request.signal);
    if (latencyMs > 0) await sleep(latencyMs, request.signal);
    let turn: ReturnType<RolePolicy>;
    try {
      turn = policy(turnContext(request));
    } catch (error) {
      throw new BatonError(
        'INTERNAL',
        `The offline ${role} could not answer: ${(error as Error)?.message ?? error}`,
        {
          cause: error,
        },
      );
    }
    const step = turnIndex(request.messages);
    const toolCalls: ToolCall[] = (turn.toolCalls ?? []).map((call, index) => ({
      id: `offline_${step}_${index}`,
      name: call.name,
      arguments: call.args,
    }));
    let text = toolCalls.length > 0 ? '' : (turn.text ?? '');
    let outputTokens = await countTokens(
      text + toolCalls.map((call) => call.name + JSON.stringify(call.arguments)).join(''),
    );
    let finishReason: ModelResponse['finishReason'] = toolCalls.length > 0 ? 'tool-calls' : 'stop';
    if (
      request.maxOutputTokens !== undefined &&
      outputTokens > request.maxOutputTokens &&
      toolCalls.length === 0
    ) {
      text = (await truncateToTokens(text, request.maxOutputTokens)).text;
      outputTokens = request.maxOutputTokens;
      finishReason = 'length';
    }
    if (request.signal?.aborted) throw abortReason(request.signal);
    return {
      model: id,
      provider: 'offline',
      text,
      toolCalls,
      finishReason,
      usage: { inputTokens: await countTokens(promptText(request)), outputTokens },
      costUsd: 0,
    };
  }

  return {
    id,
    provider: 'offline',
    generate,
    async *stream(request: ModelRequest): AsyncIterable<ModelStreamEvent> {
      const response = await generate(request);
      for (const piece of response.text.match(/\S+\s*|\s+/g) ?? []) yield { type: 'text-delta', text: piece };
      for (const [index, call] of response.toolCalls.entries()) {
        yield { type: 'tool-call-start', index, id: call.id, name: call.name };
        yield { type: 'tool-call-delta', index, argumentsDelta: JSON.stringify(call.arguments) };
      }
      yield { type: 'response', response };
    },
  };
}

/** Everything a provider would bill as input: messages, tool definitions and the response schema. */
function promptText(request: ModelRequest): string {
  const parts = request.messages.map((message) => {
    if (message.role === 'assistant') {
      return `assistant: ${message.content}${(message.toolCalls ?? []).map((call) => ` ${call.name}${JSON.stringify(call.arguments)}`).join('')}`;
    }
    return `${message.role}: ${message.content}`;
  });
  if (request.tools?.length) parts.push(JSON.stringify(request.tools));
  if (request.responseSchema) parts.push(JSON.stringify(request.responseSchema));
  return parts.join('\n');
}
