import type { Usage } from '../../model/types.js';

/** The wire format of a request, from its route: `/chat/completions` (OpenAI) or `/v1/messages` (Anthropic). */
export type WireFormat = 'openai' | 'anthropic';

export interface ReplyToolCall {
  name: string;
  /** Arguments, sent as JSON text (OpenAI) or as the `tool_use` input (Anthropic). */
  args?: unknown;
  /** Send these characters as the argument text instead (malformed JSON, for instance). */
  rawArguments?: string;
  /** Default `call_<request>_<n>` (OpenAI) or `toolu_<request>_<n>` (Anthropic). */
  id?: string;
}

/** How a stream is cut short, to test a client's behaviour when the connection or the server fails. */
export interface StreamInterrupt {
  /** Events written before the interruption. */
  afterEvents: number;
  /**
   * `reset`: destroy the socket (the client sees a connection reset); `hang`: stop writing and keep the
   * connection open; `end`: end the response cleanly, unfinished; `error`: send the provider's error
   * event (`event: error` / `data: {"error": ...}`), then end.
   */
  mode: 'reset' | 'hang' | 'end' | 'error';
  /** The error of `mode: 'error'`; default an overloaded error. */
  error?: { type: string; message: string };
}

interface Delayed {
  /** Wait this long before answering (ends early if the client disconnects). */
  delayMs?: number;
}

/** A model turn rendered in the request's wire format: JSON, or server-sent events when it asked to stream. */
export interface TurnReply extends Delayed {
  type: 'turn';
  text?: string;
  reasoning?: string;
  /** Anthropic thinking signature; a generated one by default. */
  signature?: string;
  toolCalls?: ReplyToolCall[];
  /** `null`: no usage in the response. Default 10 input and 5 output tokens. */
  usage?: Usage | null;
  /** The wire's own finish reason; default `stop`/`tool_calls` (OpenAI), `end_turn`/`tool_use` (Anthropic). */
  finishReason?: string;
  /** Default: the request's `model`. */
  model?: string;
  id?: string;
  /** Characters per streamed text or argument delta; default 4 (tiny chunks, as real servers send). */
  chunkSize?: number;
  /** Pause between two stream events. */
  eventDelayMs?: number;
  interrupt?: StreamInterrupt;
}

/** An HTTP error in the provider's error format (status, headers such as `retry-after`, body). */
export interface ErrorReply extends Delayed {
  type: 'error';
  status: number;
  headers?: Record<string, string>;
  message?: string;
  /** The provider's error type (`rate_limit_error`, `overloaded_error`, ...); default from the status. */
  errorType?: string;
  /** OpenAI `error.code` (`context_length_exceeded`, `insufficient_quota`, ...). */
  code?: string;
  /** Send this body instead (an object is sent as JSON). */
  body?: unknown;
}

/** A recorded response replayed verbatim (see `loadRecording`). */
export interface RecordingReply extends Delayed {
  type: 'recording';
  /** `chunks`: one JSON payload per line, served as server-sent events; `json`: the body as it is. */
  format: 'chunks' | 'json';
  content: string;
  eventDelayMs?: number;
  interrupt?: StreamInterrupt;
}

/** Destroy the connection without answering. */
export interface ResetReply extends Delayed {
  type: 'reset';
}

/** Never answer (the client's timeout or abort has to end it). */
export interface HangReply {
  type: 'hang';
}

/** One input's verdict in a moderation reply. */
export interface ModerationResultReply {
  /** Default: some score ≥ 0.5. */
  flagged?: boolean;
  /** Scores by category (`harassment`, `violence/graphic`, ...); unlisted categories score 0.0001. */
  categoryScores?: Record<string, number>;
}

/**
 * A `POST /v1/moderations` answer in OpenAI's response shape (`id`, `model`, `results[]` with `flagged`,
 * `categories`, `category_scores`, `category_applied_input_types` over the 13 omni-moderation categories).
 */
export interface ModerationReply extends Delayed {
  type: 'moderation';
  /** One per input; default one unflagged result for each input the request sent. */
  results?: ModerationResultReply[];
  /** Default: the request's `model`, else `omni-moderation-latest`. */
  model?: string;
  id?: string;
}

/**
 * A `POST /v1/embeddings` answer in OpenAI's shape: one vector per input, as floats or base64 float32
 * (whichever the request's `encoding_format` asks for).
 */
export interface EmbeddingsReply extends Delayed {
  type: 'embeddings';
  /** One per input; default `hashedEmbedding(input)`: texts sharing words are near. */
  vectors?: number[][];
  /** Length of the default vectors; default the request's `dimensions`, else 64. */
  dimensions?: number;
  /** Default: the request's `model`. */
  model?: string;
  /** Default: the inputs' word count. */
  promptTokens?: number;
}

export type ProviderReply =
  | TurnReply
  | EmbeddingsReply
  | ErrorReply
  | RecordingReply
  | ResetReply
  | HangReply
  | ModerationReply;

export interface ReceivedRequest {
  /** Position among the requests the server received, from 0. */
  index: number;
  wire: WireFormat | 'unknown';
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The JSON body (`{}` when it was not JSON). */
  body: Record<string, unknown>;
  /** The client asked for a stream (`"stream": true`). */
  stream: boolean;
  /** When the request arrived (`Date.now()`), to measure the gaps a retry policy leaves. */
  receivedAt: number;
  /** The client closed the connection before the response was complete. */
  clientDisconnected: boolean;
}

/** Decides a reply from the request; `undefined` falls back to the queue. */
export type ReplyHandler = (
  request: ReceivedRequest,
) => ProviderReply | undefined | Promise<ProviderReply | undefined>;

export interface ProviderServerOptions {
  /** Replies served in order, one per request. */
  replies?: ProviderReply[];
  /** Decides each reply from the request instead (the queue is used when it returns undefined). */
  handler?: ReplyHandler;
  /** Default 127.0.0.1 and a free port. */
  host?: string;
  port?: number;
}

export interface ProviderServer {
  /** `http://host:port`: the Anthropic SDK's `baseURL`. */
  readonly url: string;
  /** `http://host:port/v1`: the OpenAI SDK's `baseURL`. */
  readonly openaiBaseURL: string;
  /** Every request received, in order. */
  readonly requests: readonly ReceivedRequest[];
  /** Requests whose client went away before the response was complete. */
  readonly disconnects: readonly ReceivedRequest[];
  /** Appends replies to the queue. */
  push(...replies: ProviderReply[]): void;
  /** Resolves with the next client disconnect (or the first one already seen after `since`). */
  waitForDisconnect(options?: { timeoutMs?: number; since?: number }): Promise<ReceivedRequest>;
  /** Ends hanging responses, closes every connection and the server. */
  close(): Promise<void>;
}
