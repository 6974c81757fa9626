import {
  type Attributes,
  type Context,
  context,
  createContextKey,
  isSpanContextValid,
  type Span,
  type SpanKind,
  type SpanOptions,
  SpanStatusCode,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { BatonError } from '../errors.js';
import { randomHex } from '../util/ids.js';
import { GenAI } from './attributes.js';
import { packageVersion } from './scope.js';

// Each package reports its own instrumentation scope: name and version of the package that made the span.
const defaultTracer: Tracer = trace.getTracer(
  '@baton/core',
  packageVersion(import.meta.url, '../../package.json'),
);

/** The session (conversation) of the run a context belongs to: every span under it carries the id. */
const CONVERSATION = createContextKey('baton.conversation.id');

export function tracerFor(tracer: Tracer | undefined): Tracer {
  return tracer ?? defaultTracer;
}

/**
 * Starts a span under `parent`. With no OpenTelemetry SDK installed and no incoming trace, the API hands
 * back an invalid (all-zero) span context; the run then gets random ids of its own so results, events and
 * remote calls still correlate by trace id, and a downstream process with an SDK continues the same trace.
 */
export function startSpan(
  tracer: Tracer,
  name: string,
  parent: Context,
  attributes?: Attributes,
  /** `SpanKind.CLIENT` for a call to a model provider (a `chat` span); internal by default. */
  kind?: SpanKind,
): Span {
  const conversation = parent.getValue(CONVERSATION);
  const all =
    typeof conversation === 'string' ? { ...attributes, [GenAI.CONVERSATION_ID]: conversation } : attributes;
  const options: SpanOptions = {};
  if (all) options.attributes = all;
  if (kind !== undefined) options.kind = kind;
  const span = tracer.startSpan(name, options, parent);
  if (isSpanContextValid(span.spanContext())) return span;
  return trace.wrapSpanContext({
    traceId: randomHex(16),
    spanId: randomHex(8),
    traceFlags: TraceFlags.NONE,
  });
}

export function failSpan(span: Span, error: BatonError): void {
  if (!span.isRecording()) return;
  span.setAttribute('error.type', error.code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
}

/**
 * `parent` with `span` active. With a `conversationId` (the run's session), every span started under the
 * returned context carries it as `gen_ai.conversation.id`, the way backends group a conversation's calls.
 */
export function contextWithSpan(parent: Context, span: Span, conversationId?: string): Context {
  const withSpan = trace.setSpan(parent, span);
  return conversationId ? withSpan.setValue(CONVERSATION, conversationId) : withSpan;
}

export function activeContext(): Context {
  return context.active();
}

/** Runs `fn` with `ctx` active, so spans made by user code (HTTP clients in a tool...) nest correctly. */
export function withContext<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
}
