import { BatonError } from '@baton/core';
import type { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

type ExportCallback = Parameters<SpanExporter['export']>[1];
type ExportResult = Parameters<ExportCallback>[0];

/** The OTLP transports Baton exports spans with; `http/protobuf` is the OpenTelemetry default. */
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

/** Where and how spans go, as the OTEL_EXPORTER_OTLP_* variables say. */
export interface OtlpSettings {
  protocol: OtlpProtocol;
  /** The full traces URL (`…/v1/traces`). */
  url: string;
}

type Env = Record<string, string | undefined>;

/**
 * Reads the OTLP trace settings from the environment, with the specification's precedence: the
 * `_TRACES_` variables win over the general ones, a general endpoint gets `/v1/traces` appended, a
 * traces endpoint is used as given. Undefined when no endpoint is set (no OTLP export).
 *
 * An unsupported protocol (`grpc`) is a CONFIG_INVALID error rather than a warning: the user asked for
 * spans at a collector, and sending nothing while the run looks fine is worse than a clear stop. The
 * gRPC exporter is not shipped to keep the install small; every collector also speaks OTLP/HTTP.
 */
export function otlpSettings(env: Env = process.env): OtlpSettings | undefined {
  const tracesEndpoint = value(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const endpoint = value(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (tracesEndpoint === undefined && endpoint === undefined) return undefined;
  const variable = value(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL')
    ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
    : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const given = value(env, variable) ?? 'http/protobuf';
  const protocol = OTLP_PROTOCOLS.find((candidate) => candidate === given.toLowerCase());
  if (protocol === undefined) {
    throw new BatonError(
      'CONFIG_INVALID',
      `${variable}=${given} is not supported: Baton exports spans with ${OTLP_PROTOCOLS.join(' or ')}`,
      {
        hint: `Set ${variable}=http/protobuf (or http/json) and point the endpoint at the collector's OTLP/HTTP port (usually 4318)`,
        details: { variable, value: given, supported: [...OTLP_PROTOCOLS] },
      },
    );
  }
  const url = tracesEndpoint ?? `${(endpoint as string).replace(/\/+$/, '')}/v1/traces`;
  return { protocol, url };
}

export interface OtlpExporterOptions {
  /** Where to read OTEL_* from; default `process.env`. */
  env?: Env;
  /** Where the export-failure warning goes; default a line on `process.stderr`. */
  warn?: (line: string) => void;
}

/**
 * The official OTLP trace exporter for the configured protocol (`@opentelemetry/exporter-trace-otlp-proto`
 * or `-http`), wrapped so a failing collector is noticed once. Endpoint, headers, timeout and compression
 * come from the given environment (the exporters would read `process.env` only). Undefined when no
 * endpoint is set.
 */
export async function createOtlpSpanExporter(
  options: OtlpExporterOptions = {},
): Promise<WarnOnceSpanExporter | undefined> {
  const settings = otlpSettings(options.env ?? process.env);
  if (settings === undefined) return undefined;
  const config = exporterConfig(settings, options.env ?? process.env);
  const inner: SpanExporter =
    settings.protocol === 'http/json'
      ? new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter(config)
      : new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter(config);
  return new WarnOnceSpanExporter(inner, {
    endpoint: settings.url,
    protocol: settings.protocol,
    warn: options.warn ?? stderrLine,
  });
}

/** What an exporter has delivered and not, since it started. */
export interface ExportStats {
  exportedSpans: number;
  failedSpans: number;
  failedExports: number;
}

/**
 * Delegates to an exporter and reports the first failed export as one line — naming the endpoint and
 * the error — instead of failing silently (the SDK only logs through a diag logger nobody installs) or
 * once per batch (a down collector would flood stderr). Later failures are counted; a successful export
 * ends the outage, so the next one warns again.
 */
export class WarnOnceSpanExporter implements SpanExporter {
  readonly endpoint: string;
  readonly protocol: OtlpProtocol;
  private readonly warn: (line: string) => void;
  private failing = false;
  private readonly counts: ExportStats = { exportedSpans: 0, failedSpans: 0, failedExports: 0 };

  constructor(
    private readonly inner: SpanExporter,
    options: { endpoint: string; protocol: OtlpProtocol; warn: (line: string) => void },
  ) {
    this.endpoint = options.endpoint;
    this.protocol = options.protocol;
    this.warn = options.warn;
  }

  get stats(): ExportStats {
    return { ...this.counts };
  }

  export(spans: ReadableSpan[], done: ExportCallback): void {
    let answered = false;
    const settle = (result: ExportResult) => {
      if (answered) return;
      answered = true;
      this.record(spans.length, result);
      done(result);
    };
    try {
      this.inner.export(spans, settle);
    } catch (thrown) {
      settle({ code: 1, error: thrown instanceof Error ? thrown : new Error(String(thrown)) });
    }
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }

  private record(count: number, result: ExportResult): void {
    if (result.code === 0) {
      this.counts.exportedSpans += count;
      this.failing = false;
      return;
    }
    this.counts.failedSpans += count;
    this.counts.failedExports++;
    if (this.failing) return;
    this.failing = true;
    try {
      this.warn(
        `baton: warning: OTLP export to ${this.endpoint} (${this.protocol}) failed: ${describe(result.error)}` +
          ' (further failures are counted, not printed, until an export succeeds)',
      );
    } catch {
      // A broken warning sink must not break the export pipeline.
    }
  }
}

type ExporterConfig = NonNullable<ConstructorParameters<typeof OTLPTraceExporter>[0]>;
type Compression = NonNullable<ExporterConfig['compression']>;

function exporterConfig(settings: OtlpSettings, env: Env): ExporterConfig {
  const config: ExporterConfig = { url: settings.url };
  const pick = (name: string) =>
    value(env, `OTEL_EXPORTER_OTLP_TRACES_${name}`) ?? value(env, `OTEL_EXPORTER_OTLP_${name}`);
  const headers = {
    ...parseHeaders(value(env, 'OTEL_EXPORTER_OTLP_HEADERS')),
    ...parseHeaders(value(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS')),
  };
  if (Object.keys(headers).length > 0) config.headers = headers;
  const timeout = Number(pick('TIMEOUT'));
  if (Number.isFinite(timeout) && timeout > 0) config.timeoutMillis = timeout;
  const compression = pick('COMPRESSION')?.toLowerCase();
  // The exporters' CompressionAlgorithm enum has exactly these string values.
  if (compression === 'gzip' || compression === 'none') config.compression = compression as Compression;
  return config;
}

/** `key=value,key2=value2`, values URL-encoded (the OTLP exporter specification); bad pairs are skipped. */
function parseHeaders(raw: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of raw?.split(',') ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    try {
      headers[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      // A malformed escape: that header is skipped, like the SDK does.
    }
  }
  return headers;
}

function describe(error: Error | undefined): string {
  if (error === undefined) return 'unknown error';
  const code = (error as { code?: unknown }).code;
  const message = error.message || error.name;
  return typeof code === 'string' || typeof code === 'number'
    ? message.includes(String(code))
      ? message
      : `${message} (${code})`
    : message;
}

function value(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw ? raw : undefined;
}

function stderrLine(line: string): void {
  process.stderr.write(`${line}\n`);
}
