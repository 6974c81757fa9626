import { createNoopMeter, type Meter, type MeterProvider, metrics } from '@opentelemetry/api';

const VERSION = '0.1.0';

/**
 * Instruments made once per meter provider, lazily, and `undefined` while the global provider is the
 * API's no-op one. A caller on a hot path asks for them and returns at once when there are none, so a
 * process without a metrics SDK pays one global lookup and one comparison, and allocates nothing. A
 * provider registered later (or a test swapping providers) gets instruments of its own on its first use.
 */
export function lazyInstruments<T>(scope: string, build: (meter: Meter) => T): () => T | undefined {
  let provider: MeterProvider | undefined;
  let built: T | undefined;
  return () => {
    const current = metrics.getMeterProvider();
    if (current !== provider) {
      provider = current;
      const meter = current.getMeter(scope, VERSION);
      built = meter === createNoopMeter() ? undefined : build(meter);
    }
    return built;
  };
}

/** True while a real MeterProvider is registered (the check the recording sites make). */
export function metricsEnabled(): boolean {
  return metrics.getMeterProvider().getMeter('@baton/core', VERSION) !== createNoopMeter();
}
