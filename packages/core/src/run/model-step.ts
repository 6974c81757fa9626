import { type Attributes, type Context, SpanKind, type Tracer } from '@opentelemetry/api';
import { abortReason, BatonError } from '../errors.js';
import type { RunEventSink } from '../events/emitter.js';
import type { RunEvent } from '../events/types.js';
import type { Model, ModelRequest, ModelResponse } from '../model/types.js';
import { BatonAttr, GenAI, GenAIOperation } from '../tracing/attributes.js';
import { contextWithSpan, failSpan, startSpan, withContext } from '../tracing/spans.js';
import { raceAbort } from '../util/abort.js';
import type { AbortLike } from '../util/run-signal.js';

export interface ModelStepContext {
  model: Model;
  tracer: Tracer;
  /** Context holding the run's invoke_agent span. */
  parent: Context;
  events: RunEventSink | undefined;
  runId: string;
  agent: string;
  step: number;
  signal: AbortLike;
  captureContent: boolean;
}

/** A streamed piece of model text, as the run emits it. */
export type ModelDelta = Extract<RunEvent, { type: 'model.delta' }>;

/**
 * One model call inside a `chat {model}` span. Streams when someone listens for deltas (so a UI can show
 * text as it arrives), otherwise asks for the whole response. The run's signal bounds the call even when a
 * custom model ignores it. Failures come back as BatonError.
 */
export function callModel(
  request: ModelRequest,
  ctx: ModelStepContext,
  /** Extra attributes of the `chat` span (what the context pipeline did to this request). */
  attributes?: Attributes,
  /**
   * Collects the deltas instead of emitting them: the loop releases them once it knows the text may be
   * shown (an answer only after the output guards passed it).
   */
  held?: ModelDelta[],
): Promise<ModelResponse> {
  const { model } = ctx;
  // CLIENT: a chat span is a call out to the model provider (GenAI semantic conventions).
  const span = startSpan(ctx.tracer, `chat ${model.id}`, ctx.parent, undefined, SpanKind.CLIENT);
  const recording = span.isRecording();
  if (recording) {
    span.setAttributes({
      [GenAI.OPERATION_NAME]: GenAIOperation.CHAT,
      [GenAI.PROVIDER_NAME]: model.provider,
      [GenAI.REQUEST_MODEL]: model.id,
      [BatonAttr.RUN_ID]: ctx.runId,
      [BatonAttr.STEP]: ctx.step,
    });
    if (attributes) span.setAttributes(attributes);
    if (request.maxOutputTokens !== undefined)
      span.setAttribute(GenAI.REQUEST_MAX_TOKENS, request.maxOutputTokens);
    if (request.temperature !== undefined) span.setAttribute(GenAI.REQUEST_TEMPERATURE, request.temperature);
    if (ctx.captureContent) span.setAttribute(GenAI.INPUT_MESSAGES, JSON.stringify(request.messages));
  }
  const streaming = ctx.events?.listens('model.delta') ?? false;
  const call = () => (streaming ? consumeStream(request, ctx, held) : model.generate(request));
  let pending: Promise<ModelResponse>;
  try {
    // Active while recording, so combinators (retry, fallback) and HTTP instrumentation record on this span.
    pending = recording ? withContext(contextWithSpan(ctx.parent, span), call) : call();
  } catch (thrown) {
    pending = Promise.reject(thrown);
  }
  // A promise chain rather than an async function: thousands of runs wait here at once, and an
  // async frame per waiting run is heap that buys nothing.
  return raceAbort(pending, ctx.signal).then(
    (response) => {
      if (recording) recordResponse(span, response, ctx.captureContent);
      span.end();
      return response;
    },
    (caught: unknown) => {
      const error = ctx.signal.aborted
        ? abortReason(ctx.signal)
        : BatonError.wrap(caught, 'PROVIDER_RESPONSE_INVALID');
      failSpan(span, error);
      span.end();
      throw error;
    },
  );
}

async function consumeStream(
  request: ModelRequest,
  ctx: ModelStepContext,
  held: ModelDelta[] | undefined,
): Promise<ModelResponse> {
  const events = ctx.events as RunEventSink;
  for await (const event of ctx.model.stream(request)) {
    if (event.type === 'text-delta' || event.type === 'reasoning-delta') {
      const delta: ModelDelta = {
        type: 'model.delta',
        runId: ctx.runId,
        agent: ctx.agent,
        at: Date.now(),
        step: ctx.step,
        kind: event.type === 'text-delta' ? 'text' : 'reasoning',
        text: event.text,
      };
      if (held) held.push(delta);
      else events.emit(delta);
    } else if (event.type === 'response') {
      return event.response;
    }
  }
  throw new BatonError(
    'PROVIDER_RESPONSE_INVALID',
    `Model "${ctx.model.id}" ended its stream without a response`,
  );
}

function recordResponse(span: ReturnType<typeof startSpan>, response: ModelResponse, capture: boolean): void {
  span.setAttribute(GenAI.RESPONSE_MODEL, response.model);
  span.setAttribute(GenAI.RESPONSE_FINISH_REASONS, [response.finishReason]);
  if (response.id !== undefined) span.setAttribute(GenAI.RESPONSE_ID, response.id);
  if (response.usage) {
    span.setAttribute(GenAI.USAGE_INPUT_TOKENS, response.usage.inputTokens);
    span.setAttribute(GenAI.USAGE_OUTPUT_TOKENS, response.usage.outputTokens);
  }
  if (response.costUsd !== undefined) span.setAttribute(BatonAttr.COST_USD, response.costUsd);
  if (response.servedBy) {
    span.setAttribute(GenAI.PROVIDER_NAME, response.servedBy.provider);
    if (response.servedBy.fallbackFrom?.length) {
      span.setAttribute(BatonAttr.FALLBACK_FROM, response.servedBy.fallbackFrom);
    }
  }
  if (capture) {
    span.setAttribute(
      GenAI.OUTPUT_MESSAGES,
      JSON.stringify([{ role: 'assistant', content: response.text, toolCalls: response.toolCalls }]),
    );
  }
}
