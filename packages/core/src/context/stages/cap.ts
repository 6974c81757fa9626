import { z } from 'zod';
import type { Message, ToolMessage } from '../../model/types.js';
import { countTokens, truncateToTokens } from '../../tokens.js';
import { parseSettings, tokenCount, toolNames } from '../settings.js';
import type { ContextStage, ContextView, StageContext, Turn } from '../types.js';

const schema = z.strictObject({
  maxTokens: tokenCount('most tokens a tool result keeps'),
  exclude: toolNames.default([]),
});

export interface CapToolResultsOptions {
  /** Most tokens a tool result keeps in the context; longer ones are cut with a note. */
  maxTokens: number;
  /** Tools whose results are never cut. */
  exclude?: readonly string[];
}

const OPEN = /^<untrusted_data source="[a-zA-Z0-9:_.-]+">\n/;
const CLOSE = '\n</untrusted_data>';

/**
 * Cuts every tool result longer than `maxTokens` (about: the note saying so is a few tokens more). A
 * result wrapped as untrusted data is cut inside its wrapper, so the wrapper still closes. Unlike a tool's
 * own `maxResultTokens`, this applies to what is sent, not to what the run recorded: a later stage, or a
 * summarizer, may still read the rest in the transcript.
 */
export function capToolResults(options: CapToolResultsOptions): ContextStage {
  const settings = parseSettings(schema, options, 'capToolResults');
  const excluded = new Set(settings.exclude);
  // The same result is cut the same way at every step: cut once, and the cut message (a stable object)
  // keeps its token count cached too.
  const cut = new WeakMap<ToolMessage, ToolMessage>();
  return {
    kind: 'context-stage',
    name: 'cap-tool-results',
    settings: { maxTokens: settings.maxTokens, exclude: [...settings.exclude] },
    async apply(view: ContextView, context: StageContext): Promise<ContextView> {
      let changed = false;
      const turns: Turn[] = [];
      for (const turn of view.turns) {
        const messages: Message[] = [];
        for (const message of turn.messages) {
          if (message.role !== 'tool' || excluded.has(message.toolName)) {
            messages.push(message);
            continue;
          }
          let capped = cut.get(message);
          if (!capped) {
            capped = await capMessage(message, settings.maxTokens, context);
            cut.set(message, capped);
          }
          if (capped !== message) changed = true;
          messages.push(capped);
        }
        turns.push({ index: turn.index, messages });
      }
      return changed ? { ...view, turns } : view;
    },
  };
}

async function capMessage(
  message: ToolMessage,
  maxTokens: number,
  context: StageContext,
): Promise<ToolMessage> {
  const tokens = await context.tokens(message);
  if (tokens <= maxTokens) return message;
  const content = message.content;
  const open = OPEN.exec(content)?.[0];
  const close = content.lastIndexOf(CLOSE);
  if (open === undefined || close < open.length) {
    const kept = await truncateToTokens(content, maxTokens);
    return { ...message, content: `${kept.text}\n${note(maxTokens, tokens)}` };
  }
  // Inside the wrapper: the wrapper and what follows it (a tool's own truncation note) stay whole.
  const inner = content.slice(open.length, close);
  const tail = content.slice(close);
  const overhead = tokens - (await countTokens(inner));
  const kept = await truncateToTokens(inner, Math.max(1, maxTokens - overhead));
  return { ...message, content: `${open}${kept.text}${tail}\n${note(maxTokens, tokens)}` };
}

function note(kept: number, of: number): string {
  return `[cut by the context pipeline: about ${kept} of ${of} tokens of this result are shown]`;
}
