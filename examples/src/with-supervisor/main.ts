/**
 * A manager agent delegates to the researcher, writer and reviewer through typed delegation tools and
 * writes the final report; it decides the order itself and sends a draft back when the reviewer asks.
 * Runs offline with no API key (the offline manager is rule-based); a real model plans when configured.
 *
 *   npm run build && node examples/dist/with-supervisor/main.js "prompt injection defenses"
 */
import { EventHub } from '@baton/core';
import type { TeamResult } from '@baton/supervisor';
import {
  DEFAULT_TOPIC,
  formatTeamResult,
  modelSetup,
  printTeamProgress,
  researchSupervisorTeam,
  type TeamRunEvent,
} from '@baton/teams';
import { batonCommand, type ExampleOutput, runExample, writers } from '../support/main.js';

export interface SupervisorExampleOptions extends ExampleOutput {
  topic?: string;
}

export async function main(options: SupervisorExampleOptions = {}): Promise<TeamResult<string>> {
  const { out, progress } = writers(options);
  const team = researchSupervisorTeam();
  const events = new EventHub<TeamRunEvent>();
  printTeamProgress(events, { write: progress });

  // A supervisor team takes its task as text: the manager reads it and plans.
  const result = await team.run(options.topic ?? DEFAULT_TOPIC, { events });
  out(
    formatTeamResult(result, {
      model: modelSetup().line,
      traceHint: `${batonCommand()} trace ${result.traceId}`,
    }),
  );
  return result;
}

runExample(import.meta.url, 'with-supervisor', () => main({ topic: process.argv[2] ?? DEFAULT_TOPIC }));
