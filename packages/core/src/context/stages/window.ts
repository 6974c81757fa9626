import { z } from 'zod';
import { parseSettings, tokenCount, turnCount } from '../settings.js';
import type { ContextStage, ContextView, StageContext, Turn } from '../types.js';
import { messagesTokens, viewTokens } from '../view.js';

const schema = z
  .strictObject({
    maxTurns: turnCount(1).optional(),
    maxTokens: tokenCount('most tokens of the whole context').optional(),
  })
  .refine((value) => value.maxTurns !== undefined || value.maxTokens !== undefined, {
    error: 'needs a limit: give maxTurns, maxTokens or both',
    path: ['maxTurns'],
  });

export interface SlidingWindowOptions {
  /** Keep at most this many of the most recent turns. */
  maxTurns?: number;
  /**
   * Keep the most recent turns that fit, with the preamble and the notes, in this many tokens. The last
   * turn is always kept, even alone over the limit: a turn is never cut in half.
   */
  maxTokens?: number;
}

/**
 * Keeps the most recent turns and drops older ones whole (a turn is a model answer with its tool
 * results, so a call never loses its result). A note says which turns are no longer shown; put a
 * `scratchpad` after it so what the agent noted survives.
 */
export function slidingWindow(options: SlidingWindowOptions): ContextStage {
  const settings = parseSettings(schema, options, 'slidingWindow');
  const described: Record<string, unknown> = {};
  if (settings.maxTurns !== undefined) described.maxTurns = settings.maxTurns;
  if (settings.maxTokens !== undefined) described.maxTokens = settings.maxTokens;
  return {
    kind: 'context-stage',
    name: 'sliding-window',
    settings: described,
    async apply(view: ContextView, _context: StageContext): Promise<ContextView> {
      let kept: readonly Turn[] = view.turns.slice(-(settings.maxTurns ?? view.turns.length));
      if (settings.maxTokens !== undefined && kept.length > 1) {
        let budget = settings.maxTokens - (await viewTokens({ ...view, turns: [] }));
        let first = kept.length;
        while (first > 0) {
          const cost = await messagesTokens((kept[first - 1] as Turn).messages);
          if (cost > budget && first < kept.length) break;
          budget -= cost;
          first--;
        }
        kept = kept.slice(first);
      }
      const dropped = view.turns.length - kept.length;
      if (dropped === 0) return view;
      const from = view.turns[0]?.index ?? 1;
      const to = view.turns[dropped - 1]?.index ?? from;
      const text =
        `[Turns ${from === to ? from : `${from}–${to}`} of this run (${dropped} model step${dropped === 1 ? '' : 's'} ` +
        'and their tool results) are no longer shown: the context keeps only the most recent turns.]';
      return { ...view, notes: [...view.notes, { kind: 'omitted', text }], turns: kept };
    },
  };
}
