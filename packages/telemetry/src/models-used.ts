import { GenAI, GenAIOperation } from '@baton/core';
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';

/** A model this process called, and the agents that called it. */
export interface ModelUsed {
  provider: string;
  model: string;
  /** The agents whose `chat` spans used it, in the order they first did. */
  agents: string[];
  calls: number;
}

/**
 * Remembers, from the spans as they end, which models the `chat` spans of this process called and for
 * which agent (the `invoke_agent` span above each): what a run summary names as "the model", rather than
 * what the environment suggests. The response model wins over the requested one (a provider may route).
 */
export class ModelUsageRecorder implements SpanProcessor {
  private readonly chats: { parent: string | undefined; provider: string; model: string }[] = [];
  private readonly agents = new Map<string, string>();

  onStart(_span: Span, _context: Context): void {}

  onEnd(span: ReadableSpan): void {
    const attributes = span.attributes;
    const operation = attributes[GenAI.OPERATION_NAME];
    if (operation === GenAIOperation.INVOKE_AGENT) {
      const name = attributes[GenAI.AGENT_NAME];
      if (typeof name === 'string') this.agents.set(span.spanContext().spanId, name);
      return;
    }
    if (operation !== GenAIOperation.CHAT) return;
    const model = attributes[GenAI.RESPONSE_MODEL] ?? attributes[GenAI.REQUEST_MODEL];
    if (typeof model !== 'string') return;
    const provider = attributes[GenAI.PROVIDER_NAME];
    this.chats.push({
      parent: span.parentSpanContext?.spanId,
      provider: typeof provider === 'string' ? provider : 'unknown',
      model,
    });
  }

  /** Every model called so far, most called first. */
  used(): ModelUsed[] {
    const byModel = new Map<string, ModelUsed>();
    for (const chat of this.chats) {
      const key = `${chat.provider}\u0000${chat.model}`;
      const entry = byModel.get(key) ?? { provider: chat.provider, model: chat.model, agents: [], calls: 0 };
      entry.calls++;
      const agent = chat.parent === undefined ? undefined : this.agents.get(chat.parent);
      if (agent !== undefined && !entry.agents.includes(agent)) entry.agents.push(agent);
      byModel.set(key, entry);
    }
    return [...byModel.values()].sort((a, b) => b.calls - a.calls);
  }

  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {}
}
