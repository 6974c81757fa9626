import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { JsonlSpanExporter } from './file-exporter.js';
import { defaultTraceDir } from './records.js';

export interface TracingOptions {
  /** `service.name` of this process's spans (`baton-cli`, `baton-worker-researcher`, ...). */
  serviceName: string;
  /** Trace files directory; default `.baton/traces` in the working directory. */
  dir?: string;
  /** Where to read OTEL_* from; default `process.env`. */
  env?: Record<string, string | undefined>;
}

export interface Tracing {
  /** Where this process writes its trace files. */
  readonly dir: string;
  /** True when spans also go to an OTLP/HTTP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`). */
  readonly otlp: boolean;
  /** Exports what is buffered and stops; gives up after `timeoutMs` (default 5 s) so exit never hangs. */
  shutdown(timeoutMs?: number): Promise<void>;
}

/**
 * Starts the OpenTelemetry Node SDK for this process: spans go to local JSON-lines files (read by
 * `baton trace`) and, when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) is set, to that
 * OTLP/HTTP endpoint too — Jaeger, Langfuse, Phoenix or any collector, with no code change. The SDK
 * also registers the W3C trace-context propagator and an AsyncLocalStorage context manager, so one
 * trace follows a team across processes over the bus.
 *
 * The SDK is loaded here, on demand: commands that never run an agent don't pay for it.
 */
export async function startTracing(options: TracingOptions): Promise<Tracing> {
  const env = options.env ?? process.env;
  const dir = options.dir ?? defaultTraceDir();
  const otlp = Boolean(
    env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim(),
  );
  const [{ NodeSDK }, { BatchSpanProcessor }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/sdk-trace-base'),
  ]);
  // A short delay keeps the files current for `baton trace` while a worker keeps running.
  const processors: SpanProcessor[] = [
    new BatchSpanProcessor(new JsonlSpanExporter({ dir }), { scheduledDelayMillis: 200 }),
  ];
  if (otlp) {
    // Reads the endpoint, headers and timeout from the OTEL_EXPORTER_OTLP_* variables itself.
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter()));
  }
  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    spanProcessors: processors,
    // Traces only: no metrics or logs pipelines (the SDK would otherwise default them to OTLP).
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  let stopping: Promise<void> | undefined;
  return {
    dir,
    otlp,
    shutdown(timeoutMs = 5_000) {
      stopping ??= new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        timer.unref();
        sdk.shutdown().then(
          () => {
            clearTimeout(timer);
            resolve();
          },
          () => {
            clearTimeout(timer);
            resolve();
          },
        );
      });
      return stopping;
    },
  };
}
