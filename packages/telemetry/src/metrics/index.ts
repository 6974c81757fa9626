export { otlpMetricsUrl, otlpProtocol } from './otlp.js';
export { type Metrics, type MetricsOptions, startMetrics } from './start.js';
