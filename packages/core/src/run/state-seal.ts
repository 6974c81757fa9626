import { createHmac, timingSafeEqual } from 'node:crypto';
import { BatonError } from '../errors.js';
import { isPlanWave } from '../planning/agent-plan.js';
import { canonicalJson } from '../util/canonical.js';
import type { RunState } from './types.js';

/** The key that signs RunStates: the run's option, else BATON_STATE_KEY, else none (unsigned). */
export function stateKeyOf(option: string | undefined): string | undefined {
  const key = option ?? process.env.BATON_STATE_KEY;
  return key === undefined || key === '' ? undefined : key;
}

export function signState(state: RunState, key: string): string {
  const { signature: _ignored, ...rest } = state;
  return createHmac('sha256', key).update(canonicalJson(rest)).digest('base64url');
}

/**
 * With a key, a state must carry a valid signature (a hand-edited state is refused); a signed state
 * without a key to check it is refused too, rather than trusted.
 */
export function verifyState(state: RunState, key: string | undefined): void {
  if (key === undefined) {
    if (state.signature !== undefined) {
      throw invalid('the state is signed, but no state key is configured to check it (set BATON_STATE_KEY)');
    }
    return;
  }
  if (state.signature === undefined) throw invalid('the state is not signed, and a state key is configured');
  const expected = Buffer.from(signState(state, key));
  const given = Buffer.from(state.signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw invalid('its signature does not match: the state was changed after it was issued');
  }
}

/**
 * What must hold in any state, signed or not: the calls waiting for a decision are exactly the last
 * step's calls that have no result yet, with the arguments the model gave — editing a pending call's
 * arguments by hand is refused (a person edits through an `edit` decision, which is recorded).
 */
export function checkConsistency(state: RunState): void {
  // A plan's later steps run without a model call of their own: their messages are not model answers.
  const assistants = state.messages.filter((message) => message.role === 'assistant' && !isPlanWave(message));
  if (assistants.length > state.step) {
    throw invalid(`it has ${assistants.length} model answers for ${state.step} step(s)`);
  }
  const pending = state.pending;
  if (!pending) return;
  const last = state.messages.findLast((message) => message.role === 'assistant');
  const calls = last?.role === 'assistant' ? (last.toolCalls ?? []) : [];
  const answered = new Set(
    state.messages.flatMap((message) => (message.role === 'tool' ? [message.toolCallId] : [])),
  );
  for (const call of pending.toolCalls) {
    const original = calls.find((candidate) => candidate.id === call.id);
    if (!original) throw invalid(`pending call ${call.id} is not one the model made`);
    if (original.name !== call.name || canonicalJson(original.arguments) !== canonicalJson(call.arguments)) {
      throw invalid(`pending call ${call.id} does not match what the model asked for`);
    }
    if (answered.has(call.id)) throw invalid(`pending call ${call.id} already has a result`);
  }
  const ids = new Set(pending.toolCalls.map((call) => call.id));
  for (const awaiting of pending.awaiting) {
    if (!ids.has(awaiting.replace(/~rerun$/, ''))) throw invalid(`it waits for an unknown call ${awaiting}`);
  }
}

function invalid(why: string): BatonError {
  return new BatonError('STATE_INVALID', `Cannot resume: ${why}`);
}
