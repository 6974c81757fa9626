import { BatonError } from '@baton/core';
import { defaultTraceDir, readTrace, resolveTrace } from '@baton/telemetry';
import { CliError, EXIT } from '../errors.js';
import type { Io } from '../io.js';
import { renderTraceTree } from '../trace-tree.js';

export interface TraceFlags {
  dir?: string;
  json?: boolean;
}

/** `baton trace <runId|traceId|last>`: a run's spans, from every process that wrote them, as a tree. */
export async function traceCommand(reference: string, flags: TraceFlags, io: Io): Promise<number> {
  const dir = flags.dir ?? defaultTraceDir();
  let resolved: ReturnType<typeof resolveTrace>;
  try {
    resolved = resolveTrace(dir, reference);
  } catch (error) {
    if (error instanceof BatonError) throw new CliError(error.message, EXIT.USAGE, error.hint);
    throw error;
  }
  const spans = readTrace(dir, resolved.traceId);
  if (spans.length === 0) {
    throw new CliError(
      `Trace ${resolved.traceId} is in the index but none of its spans are in ${dir}`,
      EXIT.USAGE,
      'Its process may still be running: spans are written a moment after they end',
    );
  }
  if (flags.json) {
    io.out(JSON.stringify({ traceId: resolved.traceId, run: resolved.run, spans }, null, 2));
    return EXIT.OK;
  }
  const run = resolved.run;
  if (run)
    io.out(
      `Run ${run.runId} · ${run.kind === 'workflow' ? 'team' : 'agent'} ${run.name}${run.status ? ` · ${run.status}` : ''}`,
    );
  io.out(renderTraceTree(spans));
  return EXIT.OK;
}
