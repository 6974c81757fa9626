import type { EventHub } from '@baton/core';
import { describeTeamEvent, type TeamRunEvent } from '@baton/teams';
import type { Io } from './io.js';

export interface ProgressOptions {
  /** A spinner on stderr between lines (only worth it on a terminal). */
  spinner: boolean;
  /** Also every step, and the text the models stream, as text. */
  verbose?: boolean;
}

/**
 * Progress lines on stderr from the team's typed events (member runs, forwarded remote runs, handoffs),
 * with an `ora` spinner showing the latest one when stderr is a terminal. Returns a function that stops.
 */
export async function showProgress(
  events: EventHub<TeamRunEvent>,
  io: Io,
  options: ProgressOptions,
): Promise<() => void> {
  const verbose = options.verbose ?? false;
  if (!options.spinner) {
    const text = new StreamedText((line) => io.err(line));
    const off = events.on('*', (event) => {
      for (const line of progressLines(event, verbose, text)) io.err(line);
    });
    return () => {
      off();
      text.flushAll();
    };
  }
  const { default: ora } = await import('ora');
  const spinner = ora({ stream: process.stderr, text: 'starting', discardStdin: false }).start();
  const print = (line: string) => {
    spinner.clear();
    io.err(line);
    const width = Math.max(20, (process.stderr.columns ?? 80) - 4);
    spinner.text = line.length > width ? `${line.slice(0, width - 1)}…` : line;
    spinner.render();
  };
  const text = new StreamedText(print);
  const off = events.on('*', (event) => {
    for (const line of progressLines(event, verbose, text)) print(line);
  });
  return () => {
    off();
    text.flushAll();
    spinner.stop();
  };
}

/**
 * The lines one event adds. Streamed text is not a line per chunk (a chunk is a few tokens): it is
 * gathered per run and printed a line of text at a time, each prefixed by its agent, so members that
 * stream at once still read apart; what is left of a line is printed when anything else of that run
 * happens (its step ends, a tool starts, it ends).
 */
export function progressLines(event: TeamRunEvent, verbose: boolean, text: StreamedText): string[] {
  if (event.type === 'model.delta') {
    if (verbose && event.kind === 'text') text.add(event.runId, event.agent, event.text);
    return [];
  }
  if ('runId' in event && typeof event.runId === 'string') text.flush(event.runId);
  if (event.type === 'team.end') text.flushAll();
  const line = describeTeamEvent(event, verbose);
  return line === undefined ? [] : [line];
}

/** Streamed text of the runs in flight, written out a whole line at a time. */
export class StreamedText {
  private readonly open = new Map<string, { agent: string; text: string }>();

  constructor(private readonly write: (line: string) => void) {}

  add(runId: string, agent: string, chunk: string): void {
    const entry = this.open.get(runId) ?? { agent, text: '' };
    entry.text += chunk;
    const lines = entry.text.split('\n');
    entry.text = lines.pop() ?? '';
    this.open.set(runId, entry);
    for (const line of lines) this.emit(agent, line);
  }

  flush(runId: string): void {
    const entry = this.open.get(runId);
    if (!entry) return;
    this.open.delete(runId);
    this.emit(entry.agent, entry.text);
  }

  flushAll(): void {
    for (const runId of [...this.open.keys()]) this.flush(runId);
  }

  private emit(agent: string, line: string): void {
    if (line.trim() === '') return;
    this.write(`[${agent}] ${line.trimEnd()}`);
  }
}
