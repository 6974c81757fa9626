// Real run data for the console's tests: teams run with the offline and scripted models, traced into
// trace files by the real exporter and journaled by the real file journal.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConsoleRunner } from '@baton/console';
import { defineAgent, defineTool, fileApprovals, fileJournal } from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { pipeline, resumeTeam, type Team } from '@baton/supervisor';
import { catalogueTeam } from '@baton/teams';
import { JsonlSpanExporter } from '@baton/telemetry';
import type { Tracer } from '@opentelemetry/api';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { z } from 'zod';

export interface StateDir {
  dir: string;
  traceDir: string;
  journalDir: string;
  approvalsDir: string;
  tracer: Tracer;
  provider: BasicTracerProvider;
}

export function stateDir(): StateDir {
  const dir = mkdtempSync(join(tmpdir(), 'baton-console-'));
  const traceDir = join(dir, 'traces');
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(new JsonlSpanExporter({ dir: traceDir }))],
  });
  return {
    dir,
    traceDir,
    journalDir: join(dir, 'journal'),
    approvalsDir: join(dir, 'approvals'),
    tracer: provider.getTracer('console-test'),
    provider,
  };
}

/** A one-member team whose member wants to drop a table: a destructive call that waits for a person. */
export function cleanupTeam(): Team<string, string> {
  const dropTable = defineTool({
    name: 'drop_table',
    description: 'Drops a table. This cannot be undone.',
    input: z.object({ table: z.enum(['sessions', 'carts']), cascade: z.boolean() }),
    risk: 'destructive',
    preview: ({ table }) => `drop the table ${table}`,
    execute: ({ table, cascade }) => ({ dropped: table, cascade }),
  });
  const dba = defineAgent({
    name: 'dba',
    description: 'Drops the table it is told to',
    instructions: 'Drop the table with drop_table, then say what you did.',
    model: scriptedModel((request) => {
      const result = request.messages.find((message) => message.role === 'tool');
      if (!result)
        return { toolCalls: [{ name: 'drop_table', args: { table: 'sessions', cascade: false } }] };
      return { text: `done: ${typeof result.content === 'string' ? result.content.slice(0, 200) : 'ok'}` };
    }),
    tools: [dropTable],
  });
  return pipeline<string, string>({ name: 'cleanup', stages: [{ agent: dba }] });
}

/** Starts catalogue teams (and the cleanup team) traced and journaled into `state`, like `baton view`'s runner. */
export function testRunner(state: StateDir): ConsoleRunner {
  const journal = fileJournal({ dir: state.journalDir });
  const approvals = fileApprovals({ dir: state.approvalsDir });
  let count = 0;
  return {
    teams: () => [
      {
        name: 'research',
        description: 'research → write → review',
        members: ['researcher', 'writer', 'reviewer'],
      },
      { name: 'cleanup', description: 'drops a table once approved', members: ['dba'] },
    ],
    async start(request) {
      const runId = `${request.team}-test-${++count}-${Date.now().toString(36)}`;
      const team = request.team === 'cleanup' ? (cleanupTeam() as Team) : catalogueTeam('research').create();
      const input =
        request.team === 'cleanup' ? request.topic : catalogueTeam('research').input(request.topic);
      const options = { journal, approvals, runId, userId: request.user, tracer: state.tracer };
      const done = (async () => {
        let result = await team.run(input, options);
        while (result.status === 'awaiting_approval') {
          const { waitForDecisions } = await import('@baton/core');
          await waitForDecisions(
            approvals,
            (result.pending ?? []).map((call) => ({ runId: call.runId, toolCallId: call.toolCallId })),
          );
          result = await resumeTeam(team, runId, options);
        }
        return { status: result.status };
      })();
      return { runId, done };
    },
  };
}
