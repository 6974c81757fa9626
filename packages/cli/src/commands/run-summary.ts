import { modelSetup } from '@baton/teams';
import type { ModelUsed, Tracing } from '@baton/telemetry';
import { flushOutput } from '../io.js';

/**
 * The one model line of a run's summary: the models the members' `chat` spans really called in this
 * process, with the agents that called each. With no call recorded (members on workers, or nothing
 * reached a model), what the environment sets up, or that the workers chose.
 */
export function modelLine(used: readonly ModelUsed[], remote: boolean): string {
  if (used.length === 0) {
    return remote
      ? 'Model: chosen by each worker (its environment decides: a real provider, or the offline model)'
      : modelSetup().line;
  }
  if (used.every((entry) => entry.provider === 'offline')) {
    const setup = modelSetup();
    // The offline line also says how to use a real model.
    if (setup.offline) return setup.line;
  }
  const named = used.map(
    (entry) =>
      `${entry.provider} ${entry.model}${entry.agents.length > 0 ? ` (${entry.agents.join(', ')})` : ''}`,
  );
  return `${used.length === 1 ? 'Model' : 'Models'}: ${named.join('; ')}`;
}

/** Where the spans went: the local files, and the OTLP collector with its protocol. */
export function tracingLine(tracing: Tracing): string {
  const otlp = tracing.otlpEndpoint
    ? ` (also sent to ${tracing.otlpEndpoint} as ${tracing.otlpProtocol})`
    : '';
  return `Trace files: ${tracing.dir}${otlp}`;
}

/** A second Ctrl-C: flush what tracing holds (bounded to a second), then exit with `code`. */
export function flushTracingAndExit(tracing: Promise<Tracing> | undefined, code: number): void {
  const flushed = tracing
    ? tracing.then((started) => started.shutdown(1_000)).catch(() => undefined)
    : Promise.resolve();
  void flushed.then(flushOutput).finally(() => process.exit(code));
}
