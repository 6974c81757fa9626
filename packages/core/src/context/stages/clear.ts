import { z } from 'zod';
import type { Message, ToolMessage } from '../../model/types.js';
import { parseSettings, tokenCount, toolNames, turnCount } from '../settings.js';
import type { ContextStage, ContextView, StageContext, Turn } from '../types.js';

const schema = z.strictObject({
  keep: turnCount(0).default(3),
  exclude: toolNames.default([]),
  triggerTokens: tokenCount('context size from which results are cleared').optional(),
});

export interface ClearToolResultsOptions {
  /** The most recent tool results kept as they are (default 3); older ones are cleared. */
  keep?: number;
  /** Tools whose results are never cleared (and do not count towards `keep`). */
  exclude?: readonly string[];
  /** Clear only when the context holds more than this many tokens (default: always). */
  triggerTokens?: number;
}

/** Starts every placeholder, so a model (or a test) can tell a cleared result from a real one. */
export const CLEARED_PREFIX = '[Tool result cleared to save context:';

/**
 * Replaces all but the `keep` most recent tool results with a short placeholder saying what was cleared
 * (like Anthropic's `clear_tool_uses` context edit). The call and its result message both stay — only
 * the result's text goes — so the pairing every provider checks still holds, and the model still sees
 * which calls it made.
 */
export function clearToolResults(options: ClearToolResultsOptions = {}): ContextStage {
  const settings = parseSettings(schema, options, 'clearToolResults');
  const excluded = new Set(settings.exclude);
  const described: Record<string, unknown> = { keep: settings.keep, exclude: [...settings.exclude] };
  if (settings.triggerTokens !== undefined) described.triggerTokens = settings.triggerTokens;
  // One placeholder per result for the whole run: stable objects, counted once.
  const placeholders = new WeakMap<ToolMessage, ToolMessage>();
  return {
    kind: 'context-stage',
    name: 'clear-tool-results',
    settings: described,
    async apply(view: ContextView, context: StageContext): Promise<ContextView> {
      if (settings.triggerTokens !== undefined && (await context.count(view)) <= settings.triggerTokens) {
        return view;
      }
      const clearable: ToolMessage[] = [];
      for (const turn of view.turns) {
        for (const message of turn.messages) {
          if (message.role === 'tool' && !excluded.has(message.toolName)) clearable.push(message);
        }
      }
      const cleared = new Set(clearable.slice(0, Math.max(0, clearable.length - settings.keep)));
      if (cleared.size === 0) return view;
      let changed = false;
      const turns: Turn[] = [];
      for (const turn of view.turns) {
        const messages: Message[] = [];
        for (const message of turn.messages) {
          if (
            message.role !== 'tool' ||
            !cleared.has(message) ||
            message.content.startsWith(CLEARED_PREFIX)
          ) {
            messages.push(message);
            continue;
          }
          changed = true;
          let placeholder = placeholders.get(message);
          if (!placeholder) {
            placeholder = {
              ...message,
              content: placeholderText(message, turn.index, await context.tokens(message)),
            };
            placeholders.set(message, placeholder);
          }
          messages.push(placeholder);
        }
        turns.push({ index: turn.index, messages });
      }
      return changed ? { ...view, turns } : view;
    },
  };
}

function placeholderText(message: ToolMessage, turn: number, tokens: number): string {
  const outcome = message.isError ? 'an error' : 'a result';
  return `${CLEARED_PREFIX} ${message.toolName} returned ${outcome} of ${tokens} tokens at step ${turn}, no longer shown.]`;
}
