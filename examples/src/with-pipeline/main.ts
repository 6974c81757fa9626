/**
 * research → write → review, with a revise loop: the reviewer's "revise" verdict sends the draft back
 * to the writer with its issues (at most twice). Runs offline with no API key; with OPENAI_API_KEY,
 * ANTHROPIC_API_KEY or OPENAI_BASE_URL set, the same team uses the real model.
 *
 *   npm run build && node examples/dist/with-pipeline/main.js "idempotency and retries"
 */
import { EventHub } from '@baton/core';
import type { TeamResult } from '@baton/supervisor';
import {
  DEFAULT_TOPIC,
  formatTeamResult,
  modelSetup,
  printTeamProgress,
  type ResearchReport,
  researchTeam,
  type TeamRunEvent,
} from '@baton/teams';
import { batonCommand, type ExampleOutput, runExample, writers } from '../support/main.js';

export interface PipelineExampleOptions extends ExampleOutput {
  topic?: string;
}

export async function main(options: PipelineExampleOptions = {}): Promise<TeamResult<ResearchReport>> {
  const { out, progress } = writers(options);
  // The team: three local specialists in a pipeline (see teams/research.ts for the composition).
  const team = researchTeam({ maxRevisions: 2 });

  // Progress lines come from typed events, not logs: every member's run events and the team's handoffs.
  const events = new EventHub<TeamRunEvent>();
  printTeamProgress(events, { write: progress });

  const result = await team.run({ topic: options.topic ?? DEFAULT_TOPIC }, { events });
  out(
    formatTeamResult(result, {
      model: modelSetup().line,
      traceHint: `${batonCommand()} trace ${result.traceId}`,
    }),
  );
  return result;
}

runExample(import.meta.url, 'with-pipeline', () => main({ topic: process.argv[2] ?? DEFAULT_TOPIC }));
