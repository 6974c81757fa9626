/**
 * When to plan. One agent two ways — the researcher step by step (ReAct) and plan-first (plan-execute:
 * a typed plan, validated before anything runs, its independent steps at once) — then plan-and-execute
 * as a team, where one step delegates to a whole team (writer ⇄ reviewer) with a budget of its own drawn
 * from the team's ledger. Runs offline with no API key (the offline model, and a rules-based planner);
 * with OPENAI_API_KEY, ANTHROPIC_API_KEY or OPENAI_BASE_URL set, real models plan and work.
 *
 *   npm run build && node examples/dist/with-planning/main.js "retries, timeouts and budgets"
 */
import {
  draftSchema,
  type ResearchFindings,
  researcher,
  reviewContract,
  reviewer,
  verdictSchema,
  writeContract,
  writeRequestSchema,
  writer,
} from '@baton/agents';
import { defineHandoff, EventHub, modelFromEnv, type RunResult, run } from '@baton/core';
import { pipeline, planExecute, type TeamResult } from '@baton/supervisor';
import {
  DEFAULT_TEAM_BUDGET,
  DEFAULT_TOPIC,
  memberTable,
  modelSetup,
  printTeamProgress,
  renderTable,
  type TeamRunEvent,
} from '@baton/teams';
import { z } from 'zod';
import { type ExampleOutput, runExample, writers } from '../support/main.js';
import { rulesPlanner } from './rules-planner.js';

export interface PlanningExampleOptions extends ExampleOutput {
  topic?: string;
}

export interface PlanningExampleResult {
  status: string;
  react: RunResult<ResearchFindings>;
  planned: RunResult<ResearchFindings>;
  team: TeamResult;
}

/** What the drafting team takes (the research) and gives back (its last draft and the reviewer's verdict). */
const draftingContract = defineHandoff({
  name: 'drafting.report',
  version: 1,
  input: writeRequestSchema,
  output: z.object({ draft: draftSchema, verdict: verdictSchema.optional() }),
});

export async function main(options: PlanningExampleOptions = {}): Promise<PlanningExampleResult> {
  const { out, progress } = writers(options);
  const topic = options.topic ?? DEFAULT_TOPIC;
  const events = new EventHub<TeamRunEvent>();
  printTeamProgress(events, { write: progress });
  const refused: string[] = [];
  events.on('plan.validated', (event) => {
    if (!event.valid) refused.push(`${event.agent}: ${event.violations.map((v) => v.code).join(', ')}`);
  });
  out(modelSetup().line);

  // 1. One agent, two strategies, the same task.
  const react = await run(researcher(), { topic }, { events });
  const planned = await run(researcher({ planner: 'plan-execute' }), { topic }, { events });
  const row = (label: string, result: RunResult<ResearchFindings>) => [
    label,
    result.status,
    String(result.steps),
    (result.usage.inputTokens + result.usage.outputTokens).toLocaleString('en-US'),
    String(result.partial.toolResults.length),
    String(result.output?.findings.length ?? 0),
  ];
  out('\nThe researcher, step by step and plan-first:');
  out(
    renderTable(
      [
        { header: 'strategy' },
        { header: 'status' },
        { header: 'model steps', align: 'right' },
        { header: 'tokens', align: 'right' },
        { header: 'tool calls', align: 'right' },
        { header: 'findings', align: 'right' },
      ],
      [row('ReAct', react), row('plan-execute', planned)],
    ),
  );

  // 2. Plan-and-execute as a team; the drafting step is a whole team with its own budget.
  const drafting = pipeline({
    name: 'drafting',
    stages: [
      {
        agent: writer(),
        contract: writeContract,
        // After a "revise" verdict the writer gets the same request with the reviewer's issues.
        input: ({ input, outputs, round }) => {
          const verdict = outputs.reviewer as { issues: unknown[] } | undefined;
          if (round === 1 || !verdict) return input;
          return {
            ...(input as object),
            revision: { round: round - 1, issues: verdict.issues, previousDraft: outputs.writer },
          };
        },
      },
      {
        agent: reviewer(),
        contract: reviewContract,
        input: ({ outputs, input }) => {
          const request = input as z.infer<typeof writeRequestSchema>;
          return {
            draft: outputs.writer,
            sources: request.sources,
            findings: request.findings,
            topic: request.topic,
          };
        },
      },
    ],
    loop: {
      after: 'reviewer',
      to: 'writer',
      when: (verdict) => (verdict as { decision: string }).decision === 'revise',
      maxRounds: 2,
    },
    output: ({ outputs }) => ({ draft: outputs.writer, verdict: outputs.reviewer }),
  });
  const team = planExecute({
    name: 'planned-research',
    planner: modelFromEnv({ fallback: rulesPlanner }),
    members: [
      researcher(),
      {
        team: drafting,
        name: 'drafting',
        description: 'Writes a cited report from findings, has it reviewed, and revises it',
        contract: draftingContract,
        limits: { maxTokens: 100_000 },
      },
    ],
    budget: DEFAULT_TEAM_BUDGET,
  });
  const result = await team.run(topic, { events });
  const plan = result.plan;
  out(`\nThe plan-and-execute team: ${result.status} (${result.stopReason.message})`);
  out(`Plans refused by validation before anything ran: ${refused.join('; ') || 'none'}`);
  out(
    `Plans: ${plan?.plans.length ?? 0} valid, re-plans: ${plan?.replans ?? 0}; steps done: ${Object.keys(plan?.outputs ?? {}).join(', ') || 'none'}`,
  );
  const report = result.output as z.infer<typeof draftingContract.output> | undefined;
  if (report) {
    out(
      `Report: ${report.draft.title} — ${report.verdict ? `${report.verdict.decision} (score ${report.verdict.score}/10)` : 'not reviewed'}`,
    );
  }
  out(memberTable(result));
  out(
    `Team ledger: ${result.budget.used.tokens.toLocaleString('en-US')} tokens, ${result.budget.used.steps} steps (the drafting team's included)`,
  );
  const ok = react.status === 'completed' && planned.status === 'completed' && result.status === 'completed';
  return { status: ok ? 'completed' : 'failed', react, planned, team: result };
}

runExample(import.meta.url, 'with-planning', () => main({ topic: process.argv[2] ?? DEFAULT_TOPIC }));
