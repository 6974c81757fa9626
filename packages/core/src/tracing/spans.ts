import {
  type Attributes,
  type Context,
  context,
  isSpanContextValid,
  type Span,
  SpanStatusCode,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { BatonError } from '../errors.js';
import { randomHex } from '../util/ids.js';

const defaultTracer: Tracer = trace.getTracer('@baton/core', '0.1.0');

export function tracerFor(tracer: Tracer | undefined): Tracer {
  return tracer ?? defaultTracer;
}

/**
 * Starts a span under `parent`. With no OpenTelemetry SDK installed and no incoming trace, the API hands
 * back an invalid (all-zero) span context; the run then gets random ids of its own so results, events and
 * remote calls still correlate by trace id, and a downstream process with an SDK continues the same trace.
 */
export function startSpan(tracer: Tracer, name: string, parent: Context, attributes?: Attributes): Span {
  const span = tracer.startSpan(name, attributes ? { attributes } : {}, parent);
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

export function contextWithSpan(parent: Context, span: Span): Context {
  return trace.setSpan(parent, span);
}

export function activeContext(): Context {
  return context.active();
}

/** Runs `fn` with `ctx` active, so spans made by user code (HTTP clients in a tool...) nest correctly. */
export function withContext<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
}
