import { describePlanningEvent } from '../planning/progress.js';
import type { EventHub } from './emitter.js';
import type { RunEvent } from './types.js';

export interface ProgressOptions {
  /** Where lines go; default stderr, so stdout stays clean for the answer. */
  write?: (line: string) => void;
  /** Also print each step and streamed text. */
  verbose?: boolean;
}

/**
 * Prints what a run (or a whole team) is doing, one line per meaningful event: "Searching… Found 3
 * documents… Writing…". Built on the typed events, never on logs. Returns a function that stops it.
 */
export function printProgress(events: EventHub<RunEvent>, options: ProgressOptions = {}): () => void {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  return events.on('*', (event) => {
    const line = describeEvent(event, options.verbose ?? false);
    if (line !== undefined) write(line);
  });
}

/** The progress line for one event, or undefined when the event is not worth a line. */
export function describeEvent(event: RunEvent, verbose = false): string | undefined {
  const who = `[${event.agent}]`;
  switch (event.type) {
    case 'run.start':
      return `${who} started`;
    case 'run.end': {
      const { result } = event;
      const cost = result.costUsd > 0 ? `, $${result.costUsd.toFixed(4)}` : '';
      const tokens = result.usage.inputTokens + result.usage.outputTokens;
      const steps = `${result.steps} step${result.steps === 1 ? '' : 's'}`;
      const summary = `${steps}, ${tokens} tokens${cost}, ${(result.durationMs / 1000).toFixed(1)} s`;
      return result.status === 'completed'
        ? `${who} done (${summary})`
        : `${who} stopped: ${result.status}${result.error ? ` — ${result.error.message}` : ''} (${summary})`;
    }
    case 'tool.start':
      return `${who} ${event.label ?? `${event.tool}(${brief(event.args)})`}…`;
    case 'tool.end':
      if (!event.result.ok)
        return `${who} ${event.tool} failed: ${event.result.error.code} — ${event.result.error.message.split('\n')[0]}`;
      return event.label
        ? `${who} ${event.label}`
        : verbose
          ? `${who} ${event.tool} ok (${Math.round(event.durationMs)} ms)`
          : undefined;
    case 'limit.warning':
      return `${who} warning: ${event.limit} at ${formatUsed(event.limit, event.used)} of ${formatUsed(event.limit, event.max)}`;
    case 'approval.requested':
      return `${who} waiting for approval of ${event.tool}`;
    case 'approval.resolved':
      return `${who} ${event.tool}: ${event.decision}`;
    case 'step.start':
      return verbose ? `${who} step ${event.step}` : undefined;
    case 'model.delta':
      return verbose && event.kind === 'text' ? `${who} ${event.text}` : undefined;
    case 'memory.compacted':
      // Every call of a long run is compacted: a line each only when asked for.
      return verbose
        ? `${who} context ${event.strategy}: ${event.beforeTokens} → ${event.afterTokens} tokens (step ${event.step})`
        : undefined;
    case 'plan.created':
    case 'plan.validated':
    case 'plan.replanned':
    case 'plan.finished':
    case 'reflection.reviewed':
    case 'grounding.checked':
    case 'tool.recovered':
      return describePlanningEvent(event, verbose);
    default:
      return undefined;
  }
}

function brief(args: unknown): string {
  if (typeof args !== 'object' || args === null) return '';
  return Object.entries(args)
    .map(([key, value]) => `${key}: ${truncate(JSON.stringify(value) ?? '', 40)}`)
    .join(', ');
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function formatUsed(limit: string, value: number): string {
  if (limit === 'cost') return `$${value.toFixed(4)}`;
  if (limit === 'time') return `${(value / 1000).toFixed(1)} s`;
  return String(Math.round(value));
}
