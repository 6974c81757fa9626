import { modelForRole, OFFLINE_LABEL } from '@baton/agents';
import type { TeamResult } from '@baton/supervisor';
import { citationLine, teamReport } from './report.js';
import { memberTable } from './table.js';

/** Which model the specialists use in this environment, in one line; `offline` when no provider is set. */
export function modelSetup(env: Record<string, string | undefined> = process.env): {
  offline: boolean;
  line: string;
} {
  try {
    const model = modelForRole('researcher', { env });
    if (model.provider === 'offline') {
      return {
        offline: true,
        line:
          `Model: the ${OFFLINE_LABEL}, because no provider is configured. ` +
          'Set OPENAI_API_KEY, ANTHROPIC_API_KEY, or OPENAI_BASE_URL with BATON_MODEL to use a real model.',
      };
    }
    return { offline: false, line: `Model: ${model.provider} ${model.id} (from the environment)` };
  } catch (error) {
    return { offline: false, line: `Model: not usable: ${(error as Error).message}` };
  }
}

export interface SummaryOptions {
  /** The model line (see `modelSetup`); omitted when undefined. */
  model?: string;
  /** How to show a trace, e.g. `baton trace <id>`; omitted when undefined. */
  traceHint?: string;
}

/**
 * Everything a person wants after a team run, as text: the report, its citations, the verdict, the
 * per-agent table, why it stopped, and the trace id.
 */
export function formatTeamResult(result: TeamResult, options: SummaryOptions = {}): string {
  const report = teamReport(result);
  const lines = [
    report.markdown,
    '',
    '─'.repeat(72),
    citationLine(report.citations),
    `Verdict: ${report.verdict ?? 'none'}`,
    '',
    memberTable(result),
    '',
    `Stopped: ${result.stopReason.kind} — ${result.stopReason.message} (${result.rounds} round${result.rounds === 1 ? '' : 's'})`,
    `Status: ${result.status}`,
    `Trace: ${result.traceId}${options.traceHint ? `  (${options.traceHint})` : ''}`,
  ];
  if (options.model) lines.push(options.model);
  return lines.join('\n');
}
