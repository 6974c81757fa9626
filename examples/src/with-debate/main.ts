/**
 * A debate: a drafter writes, two critics with different perspectives (evidence, the reader) critique
 * in parallel, a judge decides — round after round until approved, converged, or the round limit.
 * Runs offline with no API key (critics and judge apply fixed rules); real models judge from their
 * perspectives when configured.
 *
 *   npm run build && node examples/dist/with-debate/main.js "dead-letter queues"
 */
import { EventHub } from '@baton/core';
import type { TeamResult } from '@baton/supervisor';
import {
  DEFAULT_TOPIC,
  debateTeam,
  formatTeamResult,
  modelSetup,
  printTeamProgress,
  type TeamRunEvent,
} from '@baton/teams';
import { batonCommand, type ExampleOutput, runExample, writers } from '../support/main.js';

export interface DebateExampleOptions extends ExampleOutput {
  topic?: string;
}

export async function main(options: DebateExampleOptions = {}): Promise<TeamResult> {
  const { out, progress } = writers(options);
  const team = debateTeam({ maxRounds: 3 });
  const events = new EventHub<TeamRunEvent>();
  printTeamProgress(events, { write: progress });

  const result = await team.run({ task: options.topic ?? DEFAULT_TOPIC }, { events });
  // Each round, in one line: what every critic and the judge said.
  for (const handoff of result.transcript) {
    if (handoff.to === 'drafter' || handoff.output === undefined) continue;
    const said = handoff.output as { approve?: boolean; issues?: string[]; reason?: string };
    const verdict = said.approve ? 'approve' : 'revise';
    const detail = said.reason ?? said.issues?.[0] ?? '';
    out(`round ${handoff.round} · ${handoff.to}: ${verdict}${detail ? ` — ${detail}` : ''}`);
  }
  out('');
  out(
    formatTeamResult(result, {
      model: modelSetup().line,
      traceHint: `${batonCommand()} trace ${result.traceId}`,
    }),
  );
  return result;
}

runExample(import.meta.url, 'with-debate', () => main({ topic: process.argv[2] ?? DEFAULT_TOPIC }));
