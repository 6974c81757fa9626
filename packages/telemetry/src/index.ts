// Local trace files (written by a span exporter, read by `baton trace`) and the SDK setup that feeds them.
export { JsonlSpanExporter, type JsonlSpanExporterOptions, toSpanRecord } from './file-exporter.js';
export {
  type Metrics,
  type MetricsOptions,
  otlpMetricsUrl,
  otlpProtocol,
  startMetrics,
} from './metrics/index.js';
export { ModelUsageRecorder, type ModelUsed } from './models-used.js';
export {
  createOtlpSpanExporter,
  type ExportStats,
  OTLP_PROTOCOLS,
  type OtlpExporterOptions,
  type OtlpProtocol,
  type OtlpSettings,
  otlpSettings,
  WarnOnceSpanExporter,
} from './otlp.js';
export {
  type AttributeValue,
  defaultTraceDir,
  INDEX_FILE,
  type RunIndexEntry,
  runIndexEntrySchema,
  type SpanRecord,
  spanRecordSchema,
  traceFileName,
} from './records.js';
export {
  DEFAULT_TRACE_RETENTION,
  type PruneOptions,
  type PruneResult,
  parseKeep,
  parseMaxAge,
  pruneTraces,
  type TraceRetention,
  traceRetentionFromEnv,
} from './retention.js';
export { startTracing, type Tracing, type TracingOptions } from './start.js';
export {
  listRuns,
  listTraceIds,
  type ResolvedTrace,
  readRunIndex,
  readTrace,
  resolveTrace,
} from './trace-store.js';
