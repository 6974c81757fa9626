/**
 * The provider-neutral model interface. Every provider (OpenAI, Anthropic, any OpenAI-compatible server,
 * the scripted test model, the offline model) implements `Model`; the loop only ever sees these types.
 */

export type JsonSchema = Record<string, unknown>;

export interface SystemMessage {
  role: 'system';
  content: string;
}

export interface UserMessage {
  role: 'user';
  content: string;
}

/**
 * Reasoning a model produced. Anthropic requires thinking blocks to be sent back unchanged (with their
 * signature) when tool use continues, so the provider-specific fields are kept verbatim.
 */
export interface ReasoningPart {
  text: string;
  /** Anthropic thinking signature. */
  signature?: string;
  /** Anthropic redacted thinking payload. */
  redactedData?: string;
  /** The provider that produced it: reasoning is only replayed to the same provider. */
  provider?: string;
}

export interface ToolCall {
  /** The provider's call id; tool results are paired with their call by it. */
  id: string;
  name: string;
  /** Parsed JSON arguments (`{}` when the model sent none). */
  arguments: unknown;
  /** Set when the model's argument text was not valid JSON; the tool then reports TOOL_INPUT_INVALID. */
  argumentsError?: string;
}

export interface AssistantMessage {
  role: 'assistant';
  content: string;
  toolCalls?: ToolCall[];
  reasoning?: ReasoningPart[];
}

export interface ToolMessage {
  role: 'tool';
  toolCallId: string;
  toolName: string;
  content: string;
  isError?: boolean;
}

export type Message = SystemMessage | UserMessage | AssistantMessage | ToolMessage;

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: JsonSchema;
  /** True when the schema satisfies OpenAI strict mode (every property required, no extra keys). */
  strict?: boolean;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

/** What a step is for; `route()` picks a model per role (a cheap one for tool selection, a strong one for synthesis). */
export type StepRole = 'planning' | 'tool-selection' | 'extraction' | 'synthesis';

export interface ModelRequest {
  messages: Message[];
  tools?: ToolSpec[];
  toolChoice?: ToolChoice;
  /** Ask for a final answer that matches this JSON Schema. */
  responseSchema?: { name: string; schema: JsonSchema };
  maxOutputTokens?: number;
  temperature?: number;
  signal?: AbortSignal;
  role?: StepRole;
}

/**
 * Token counts of one call or a sum of calls. `inputTokens` is every input token, cached and cache-written
 * ones included (Anthropic reports those apart; its adapter adds them in), so totals compare across providers.
 */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** Input tokens served from the provider's prompt cache (a subset of inputTokens). */
  cachedInputTokens?: number;
  /** Input tokens written to the provider's prompt cache (Anthropic). */
  cacheCreationInputTokens?: number;
  reasoningTokens?: number;
}

export type FinishReason = 'stop' | 'tool-calls' | 'length' | 'content-filter' | 'error' | 'other';

export interface ModelResponse {
  /** The provider's response id, when it sent one. */
  id?: string;
  /** The model that answered, as the provider reported it. */
  model: string;
  provider: string;
  text: string;
  /** Reasoning text, kept apart from the answer text. */
  reasoning?: string;
  reasoningParts?: ReasoningPart[];
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  /** The provider's own finish/stop reason string. */
  finishReasonRaw?: string;
  /** Absent when the provider did not report usage: unknown, not zero. */
  usage?: Usage;
  /** Cost in USD from the price table; absent when the model has no known price or usage is unknown. */
  costUsd?: number;
  /** Set by combinators (withFallback) to say which model actually answered and why. */
  servedBy?: { model: string; provider: string; fallbackFrom?: string[] };
}

export type ModelStreamEvent =
  | { type: 'text-delta'; text: string }
  | { type: 'reasoning-delta'; text: string }
  | { type: 'tool-call-start'; index: number; id: string; name: string }
  | { type: 'tool-call-delta'; index: number; argumentsDelta: string }
  /** Always the last event of a successful stream: the full, normalized response. */
  | { type: 'response'; response: ModelResponse };

export interface Model {
  /** The model id requested, e.g. `gpt-4.1-mini` or `claude-sonnet-4-5`. */
  readonly id: string;
  /** `openai`, `anthropic`, `openai-compatible`, `scripted`, `offline`, ... (the GenAI `gen_ai.provider.name`). */
  readonly provider: string;
  generate(request: ModelRequest): Promise<ModelResponse>;
  /** Streams deltas and ends with a `response` event carrying the same result `generate` would give. */
  stream(request: ModelRequest): AsyncIterable<ModelStreamEvent>;
}
