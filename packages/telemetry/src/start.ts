import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { JsonlSpanExporter } from './file-exporter.js';
import { ModelUsageRecorder, type ModelUsed } from './models-used.js';
import { createOtlpSpanExporter, type ExportStats, type OtlpProtocol } from './otlp.js';
import { defaultTraceDir } from './records.js';
import { type PruneResult, pruneTraces, type TraceRetention, traceRetentionFromEnv } from './retention.js';

export interface TracingOptions {
  /** `service.name` of this process's spans (`baton-cli`, `baton-worker-researcher`, ...). */
  serviceName: string;
  /** Trace files directory; default `.baton/traces` in the working directory. */
  dir?: string;
  /** Where to read OTEL_* and BATON_TRACE_* from; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Where a failing OTLP export is reported (once per outage); default a line on stderr. */
  warn?: (line: string) => void;
  /**
   * Old traces removed from `dir` when tracing starts and after its flush at exit; default from
   * BATON_TRACE_KEEP and BATON_TRACE_MAX_AGE (newest 200, 30 days). `false` keeps everything.
   */
  retention?: TraceRetention | false;
}

export interface Tracing {
  /** Where this process writes its trace files. */
  readonly dir: string;
  /** True when spans also go to an OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`). */
  readonly otlp: boolean;
  /** The OTLP traces URL and protocol, when exporting. */
  readonly otlpEndpoint?: string;
  readonly otlpProtocol?: OtlpProtocol;
  /** What the retention removed when tracing started (it applies again after the flush at exit). */
  readonly pruned?: PruneResult;
  /** The models the `chat` spans of this process called so far, and for which agents. */
  modelsUsed(): ModelUsed[];
  /** What the OTLP exporter delivered and not so far (zeros without OTLP). */
  otlpStats(): ExportStats;
  /**
   * Exports what is buffered and stops; gives up after `timeoutMs` (default 5 s) so exit never hangs.
   * Safe to call more than once: later calls wait for the first.
   */
  shutdown(timeoutMs?: number): Promise<void>;
}

/**
 * Starts the OpenTelemetry Node SDK for this process: spans go to local JSON-lines files (read by
 * `baton trace`) and, when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) is set, to that
 * OTLP endpoint too — Jaeger, Langfuse, Phoenix or any collector, with no code change — as
 * `http/protobuf` (the default) or `http/json` (`OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL`). A failing
 * collector is reported once on stderr. The SDK also registers the W3C trace-context propagator and an
 * AsyncLocalStorage context manager, so one trace follows a team across processes over the bus.
 *
 * The SDK is loaded here, on demand: commands that never run an agent don't pay for it. An unsupported
 * protocol or a malformed retention variable is a CONFIG_INVALID error, before anything starts.
 */
export async function startTracing(options: TracingOptions): Promise<Tracing> {
  const env = options.env ?? process.env;
  const dir = options.dir ?? defaultTraceDir();
  const retention =
    options.retention === false ? undefined : (options.retention ?? traceRetentionFromEnv(env));
  const otlpExporter = await createOtlpSpanExporter({
    env,
    ...(options.warn ? { warn: options.warn } : {}),
  });
  const [{ NodeSDK }, { BatchSpanProcessor }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/sdk-trace-base'),
  ]);
  const limited = retention && (retention.keep !== undefined || retention.maxAgeMs !== undefined);
  // Housekeeping: a directory that cannot be pruned must not stop a run (nor its exit).
  const prune = (): PruneResult | undefined => {
    if (!limited) return undefined;
    try {
      return pruneTraces(dir, retention);
    } catch {
      return undefined;
    }
  };
  // Once now, for a long-lived worker; again after the flush at exit, so the count includes this run.
  const pruned = prune();
  // A short delay keeps the files current for `baton trace` while a worker keeps running.
  const models = new ModelUsageRecorder();
  const processors: SpanProcessor[] = [
    models,
    new BatchSpanProcessor(new JsonlSpanExporter({ dir }), { scheduledDelayMillis: 200 }),
  ];
  if (otlpExporter) processors.push(new BatchSpanProcessor(otlpExporter));
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
  const tracing: Tracing = {
    dir,
    otlp: otlpExporter !== undefined,
    ...(otlpExporter ? { otlpEndpoint: otlpExporter.endpoint, otlpProtocol: otlpExporter.protocol } : {}),
    ...(pruned ? { pruned } : {}),
    modelsUsed: () => models.used(),
    otlpStats: () => otlpExporter?.stats ?? { exportedSpans: 0, failedSpans: 0, failedExports: 0 },
    shutdown(timeoutMs = 5_000) {
      stopping ??= new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        timer.unref();
        const settle = () => {
          clearTimeout(timer);
          prune();
          resolve();
        };
        sdk.shutdown().then(settle, settle);
      });
      return stopping;
    },
  };
  return tracing;
}
