// Local trace files (written by a span exporter, read by `baton trace`) and the SDK setup that feeds them.
export { JsonlSpanExporter, type JsonlSpanExporterOptions, toSpanRecord } from './file-exporter.js';
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
export { startTracing, type Tracing, type TracingOptions } from './start.js';
export { listTraceIds, type ResolvedTrace, readRunIndex, readTrace, resolveTrace } from './trace-store.js';
