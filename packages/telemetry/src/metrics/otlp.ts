import { BatonError } from '@baton/core';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';

type Env = Record<string, string | undefined>;

/** Where metrics go over OTLP, from the standard variables; undefined when no endpoint is set. */
export function otlpMetricsUrl(env: Env): string | undefined {
  const own = env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT?.trim();
  if (own) return own;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  // The shared endpoint is a base: each signal adds its own path (OTLP/HTTP specification).
  return base ? `${base.replace(/\/+$/, '')}/v1/metrics` : undefined;
}

/** `k=v,k2=v2` (values URL-encoded) as the OTLP variables give headers. */
export function otlpHeaders(env: Env): Record<string, string> {
  const raw = env.OTEL_EXPORTER_OTLP_METRICS_HEADERS ?? env.OTEL_EXPORTER_OTLP_HEADERS ?? '';
  const headers: Record<string, string> = {};
  for (const part of raw.split(',')) {
    const at = part.indexOf('=');
    if (at <= 0) continue;
    const name = part.slice(0, at).trim();
    try {
      headers[name] = decodeURIComponent(part.slice(at + 1).trim());
    } catch {
      headers[name] = part.slice(at + 1).trim();
    }
  }
  return headers;
}

/** `http/protobuf` (the default) or `http/json`; gRPC is not bundled and said so. */
export function otlpProtocol(env: Env): 'http/protobuf' | 'http/json' {
  const raw = (env.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? '').trim();
  if (raw === '' || raw === 'http/protobuf') return 'http/protobuf';
  if (raw === 'http/json') return 'http/json';
  throw new BatonError(
    'CONFIG_INVALID',
    `OTEL_EXPORTER_OTLP_PROTOCOL "${raw}" is not supported for metrics`,
    {
      hint: 'Use http/protobuf (default) or http/json; for gRPC, send to a collector over HTTP',
      details: { protocol: raw },
    },
  );
}

/** The OTLP metric exporter for the protocol the environment asks for (loaded on demand). */
export async function otlpMetricExporter(env: Env, url: string): Promise<PushMetricExporter> {
  const config = { url, headers: otlpHeaders(env) };
  if (otlpProtocol(env) === 'http/json') {
    const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-http');
    return new OTLPMetricExporter(config);
  }
  const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-proto');
  return new OTLPMetricExporter(config);
}
