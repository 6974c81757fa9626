/**
 * Metrics in a scrape format (Prometheus text exposition), collected when asked. `@baton/telemetry`'s
 * `startMetrics({ scrape: true })` makes one; a server mounts it on its own route (`GET /metrics` on
 * `baton serve`) without depending on the metrics SDK.
 */
export interface MetricsScrape {
  /** The response's content type (`text/plain; version=0.0.4; charset=utf-8`). */
  readonly contentType: string;
  /** The current value of every instrument, serialized. */
  collect(): Promise<string>;
}
