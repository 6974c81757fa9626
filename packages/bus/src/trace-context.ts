import { packageVersion } from '@baton/core';
import {
  type Attributes,
  type Context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  type SpanOptions,
  SpanStatusCode,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { BusHeaders } from './transport/types.js';

export const HEADER = {
  TRACEPARENT: 'traceparent',
  TRACESTATE: 'tracestate',
  /** Set by a caller that wants the run's events on `baton.<ns>.run.<runId>.events`. */
  EVENTS: 'baton-events',
  /** Durable invocations: where the worker publishes the result. */
  REPLY_TO: 'baton-reply-to',
  /** The caller's own run, so the remote run's events name their parent. */
  PARENT_RUN: 'baton-parent-run',
  /** Where the remote run settles its usage with the caller's ledger, step by step. */
  LEDGER: 'baton-ledger',
  /** The member that handed over the input: the remote run reads it as untrusted data. */
  INPUT_FROM: 'baton-input-from',
  /** A dry run: the remote run executes no write or destructive call. */
  DRY_RUN: 'baton-dry-run',
} as const;

const defaultTracer: Tracer = trace.getTracer(
  '@baton/bus',
  packageVersion(import.meta.url, '../package.json'),
);

export function busTracer(tracer: Tracer | undefined): Tracer {
  return tracer ?? defaultTracer;
}

/** OpenTelemetry messaging attribute names (semantic conventions). */
export const Messaging = {
  SYSTEM: 'messaging.system',
  /** Newer spelling of the system attribute; both are set so either convention finds it. */
  SYSTEM_NAME: 'messaging.system.name',
  DESTINATION: 'messaging.destination.name',
  CONSUMER_GROUP: 'messaging.consumer.group.name',
  OPERATION_TYPE: 'messaging.operation.type',
  OPERATION_NAME: 'messaging.operation.name',
  MESSAGE_ID: 'messaging.message.id',
  CONVERSATION_ID: 'messaging.message.conversation_id',
  BODY_SIZE: 'messaging.message.body.size',
} as const;

/**
 * The messaging spans of one destination: names and constant attributes are made once, so a message
 * costs a span start (a no-op without an SDK) and, only when recording, three attributes.
 */
export class MessagingSpans {
  private readonly name: string;
  private readonly constant: Attributes;
  private readonly options: SpanOptions;

  constructor(operation: 'send' | 'process', system: string, destination: string, consumerGroup?: string) {
    this.name = `${operation} ${destination}`;
    this.constant = {
      [Messaging.SYSTEM]: system,
      [Messaging.SYSTEM_NAME]: system,
      [Messaging.DESTINATION]: destination,
      [Messaging.OPERATION_TYPE]: operation,
      [Messaging.OPERATION_NAME]: operation,
    };
    if (consumerGroup !== undefined) this.constant[Messaging.CONSUMER_GROUP] = consumerGroup;
    // Tracers copy what they keep of the options, so one object serves every span.
    this.options = {
      kind: operation === 'send' ? SpanKind.PRODUCER : SpanKind.CONSUMER,
      attributes: this.constant,
    };
  }

  start(
    tracer: Tracer,
    parent: Context,
    envelope: { id: string; correlationId: string },
    body: { readonly size: number },
  ): Span {
    const span = tracer.startSpan(this.name, this.options, parent);
    if (span.isRecording()) {
      span.setAttribute(Messaging.MESSAGE_ID, envelope.id);
      span.setAttribute(Messaging.CONVERSATION_ID, envelope.correlationId);
      // Read only when recording: a message may count its bytes lazily.
      span.setAttribute(Messaging.BODY_SIZE, body.size);
    }
    return span;
  }
}

export function endSpan(span: Span, errorCode: string | undefined, message?: string): void {
  if (span.isRecording() && errorCode !== undefined) {
    span.setAttribute('error.type', errorCode);
    span.setStatus({ code: SpanStatusCode.ERROR, message: message ?? errorCode });
  }
  span.end();
}

/** True when the application registered a propagator (the API's default one does nothing). */
function hasPropagator(): boolean {
  return propagation.fields().length > 0;
}

/**
 * Writes W3C trace context for `span` into `headers`. The registered propagator is used when there is
 * one; without an OpenTelemetry SDK the traceparent is written by hand, so a downstream process that has
 * an SDK still continues the caller's trace.
 */
export function injectTraceContext(ctx: Context, span: Span, headers: BusHeaders): void {
  const spanContext = span.spanContext();
  if (!isSpanContextValid(spanContext)) return;
  if (hasPropagator()) propagation.inject(trace.setSpan(ctx, span), headers);
  if (headers[HEADER.TRACEPARENT] === undefined) {
    const flags = (spanContext.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? '01' : '00';
    headers[HEADER.TRACEPARENT] = `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
  }
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/** The remote parent carried by `headers`, or the root context when there is none. */
export function extractTraceContext(headers: BusHeaders | undefined): Context {
  if (!headers) return ROOT_CONTEXT;
  const traceparent = headers[HEADER.TRACEPARENT];
  if (traceparent === undefined) return ROOT_CONTEXT;
  if (hasPropagator()) {
    const extracted = propagation.extract(ROOT_CONTEXT, headers);
    if (trace.getSpanContext(extracted)) return extracted;
  }
  // By hand, as the W3C propagator would: version ff is invalid, all-zero ids are invalid.
  const match = TRACEPARENT.exec(traceparent);
  if (!match || match[1] === 'ff') return ROOT_CONTEXT;
  const traceId = match[2] as string;
  const spanId = match[3] as string;
  if (traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId,
    spanId,
    traceFlags: Number.parseInt(match[4] as string, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  });
}
