export { lazyInstruments, metricsEnabled } from './instruments.js';
export { BatonMetric, Buckets, MetricAttr } from './names.js';
export {
  type ModelCacheLookup,
  recordApproval,
  recordModelCacheLookup,
  recordRunEnd,
  recordStepStart,
  recordToolCall,
  withTeam,
} from './run.js';
export type { MetricsScrape } from './scrape.js';
