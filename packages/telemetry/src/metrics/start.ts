import type { Server } from 'node:http';
import { BatonError, type MetricsScrape } from '@baton/core';
import { metrics } from '@opentelemetry/api';
import type { MetricReader } from '@opentelemetry/sdk-metrics';
import { otlpMetricExporter, otlpMetricsUrl } from './otlp.js';

export interface MetricsOptions {
  /** `service.name` of this process's metrics (`baton-serve`, `baton-worker-researcher`, ...). */
  serviceName: string;
  /** Where to read OTEL_* from; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Serve a Prometheus scrape endpoint on this port (`GET /metrics`); 0 picks a free port. */
  prometheusPort?: number;
  /** Host the scrape endpoint listens on; default all interfaces (`0.0.0.0`). */
  prometheusHost?: string;
  /**
   * Make an in-process scrape (`Metrics.scrape`) for a server that has its own HTTP endpoint — the
   * gateway mounts it at `/metrics`.
   */
  scrape?: boolean;
  /** OTLP export period, ms; default `OTEL_METRIC_EXPORT_INTERVAL` or 60 s. */
  exportIntervalMs?: number;
}

export interface Metrics {
  /** True when a MeterProvider was registered (some exporter is configured): Baton records from now on. */
  readonly enabled: boolean;
  /** The OTLP endpoint metrics are pushed to, when one is set. */
  readonly otlp: string | undefined;
  /** The scrape endpoint's URL, when `prometheusPort` was given. */
  readonly prometheus: string | undefined;
  /** The in-process scrape, when `scrape` was asked for. */
  readonly scrape: MetricsScrape | undefined;
  /** Pushes what is pending now (OTLP). */
  flush(): Promise<void>;
  /** Exports what is pending, closes the scrape endpoint and unregisters the provider; bounded by `timeoutMs`. */
  shutdown(timeoutMs?: number): Promise<void>;
}

const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Starts OpenTelemetry metrics for this process: a MeterProvider (registered globally, so the runtime's
 * `@opentelemetry/api` instruments record into it) with an OTLP exporter when `OTEL_EXPORTER_OTLP_ENDPOINT`
 * (or `..._METRICS_ENDPOINT`) is set — protobuf by default, JSON with `OTEL_EXPORTER_OTLP_PROTOCOL=http/json`
 * — and/or a Prometheus scrape endpoint. With nothing configured nothing is registered, and the runtime's
 * recording sites stay no-ops. The SDK loads here, on demand.
 */
export async function startMetrics(options: MetricsOptions): Promise<Metrics> {
  const env = options.env ?? process.env;
  const otlp = otlpMetricsUrl(env);
  const port = options.prometheusPort;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    throw new BatonError('CONFIG_INVALID', `The metrics port must be 0–65535, not ${port}`, {
      details: { field: 'prometheusPort', value: port },
    });
  }
  if (otlp === undefined && port === undefined && !options.scrape) return disabled();

  const [{ MeterProvider, PeriodicExportingMetricReader }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-metrics'),
    import('@opentelemetry/resources'),
  ]);
  const readers: MetricReader[] = [];
  if (otlp !== undefined) {
    const interval = options.exportIntervalMs ?? positive(env.OTEL_METRIC_EXPORT_INTERVAL) ?? 60_000;
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: await otlpMetricExporter(env, otlp),
        exportIntervalMillis: interval,
        exportTimeoutMillis: Math.min(interval, positive(env.OTEL_METRIC_EXPORT_TIMEOUT) ?? 30_000),
      }),
    );
  }
  let prometheus: string | undefined;
  let scrape: MetricsScrape | undefined;
  let server: Server | undefined;
  if (port !== undefined || options.scrape) {
    const { PrometheusExporter, PrometheusSerializer } = await import('@opentelemetry/exporter-prometheus');
    // One pull reader for both: the scrape a server mounts and this process's own endpoint.
    const reader = new PrometheusExporter({ preventServerStart: true });
    const serializer = new PrometheusSerializer();
    // The exporter pins its own patch of sdk-metrics: the same reader contract, declared twice.
    readers.push(reader as unknown as MetricReader);
    scrape = {
      contentType: PROMETHEUS_CONTENT_TYPE,
      async collect() {
        const { resourceMetrics } = await reader.collect();
        return serializer.serialize(resourceMetrics);
      },
    };
    if (port !== undefined) {
      const host = options.prometheusHost ?? '0.0.0.0';
      server = await serveScrape(scrape, port, host);
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : port;
      prometheus = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${bound}/metrics`;
    }
    if (!options.scrape) scrape = undefined;
  }
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    readers,
  });
  if (!metrics.setGlobalMeterProvider(provider)) {
    await provider.shutdown().catch(() => {});
    throw new BatonError('CONFIG_INVALID', 'A global MeterProvider is already registered in this process', {
      hint: 'Call startMetrics once per process, or register your own MeterProvider instead',
    });
  }
  let stopping: Promise<void> | undefined;
  return {
    enabled: true,
    otlp,
    prometheus,
    scrape,
    flush: () => provider.forceFlush(),
    shutdown(timeoutMs = 5_000) {
      stopping ??= bounded(
        Promise.all([
          provider.shutdown().finally(() => metrics.disable()),
          new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
        ]),
        timeoutMs,
      );
      return stopping;
    },
  };
}

function disabled(): Metrics {
  return {
    enabled: false,
    otlp: undefined,
    prometheus: undefined,
    scrape: undefined,
    flush: async () => {},
    shutdown: async () => {},
  };
}

/**
 * `GET /metrics` on its own HTTP server (port 0 picks a free one). A port in use is a typed error, not an
 * unhandled one; any other path is a 404.
 */
async function serveScrape(scrape: MetricsScrape, port: number, host: string): Promise<Server> {
  const { createServer } = await import('node:http');
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: GET /metrics\n');
      return;
    }
    scrape.collect().then(
      (text) => response.writeHead(200, { 'content-type': scrape.contentType }).end(text),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(
        new BatonError('CONFIG_INVALID', `Cannot serve metrics on ${host}:${port}: ${error.message}`, {
          details: { port, host },
          hint: 'Pick a free port with --metrics-port (0 picks one)',
        }),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  // A scrape endpoint never keeps the process alive on its own.
  server.unref();
  return server;
}

function positive(raw: string | undefined): number | undefined {
  const value = Number(raw);
  return raw !== undefined && Number.isFinite(value) && value > 0 ? value : undefined;
}

function bounded(work: Promise<unknown>, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref();
    work.then(
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
}
