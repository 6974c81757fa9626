import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';

/** A real MeterProvider, registered globally, whose data points a test reads after a flush. */
export function installMeters() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // A period no test reaches: points are exported on flush only.
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(provider);
  return {
    async collect(): Promise<MetricData[]> {
      exporter.reset();
      await reader.forceFlush();
      return exporter
        .getMetrics()
        .flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics));
    },
    async uninstall() {
      metrics.disable();
      await provider.shutdown();
    },
  };
}

export function metric(all: MetricData[], name: string): MetricData {
  const found = all.find((data) => data.descriptor.name === name);
  if (!found)
    throw new Error(`no metric ${name}; recorded: ${all.map((data) => data.descriptor.name).join(', ')}`);
  return found;
}

export function points<T = number>(all: MetricData[], name: string): DataPoint<T>[] {
  return metric(all, name).dataPoints as DataPoint<T>[];
}

export function histogram(all: MetricData[], name: string): DataPoint<Histogram>[] {
  return points<Histogram>(all, name);
}
