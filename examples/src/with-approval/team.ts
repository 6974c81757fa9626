/**
 * The operations team of the with-approval example: an auditor finds stale records (a read-only tool),
 * an operator deletes them (a destructive tool, so a person must approve the call first).
 *
 * The deletions go to a side-channel file — one line per deletion, keyed by the call's idempotency
 * key — so a run shows exactly how many times the destructive tool really ran. The tool honours its
 * key: a repeat of a call that already happened (a possible duplicate after a crash) changes nothing.
 *
 * This module is also a team module for the CLI:
 *
 *   baton run ./examples/dist/with-approval/team.js --journal       # pauses; prints the approve command
 *   baton approvals approve <runId> <callId>                         # from any other shell
 *   baton resume <runId> --team ./examples/dist/with-approval/team.js
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { defineAgent, defineTool } from '@baton/core';
import { pipeline, type Team, timeout } from '@baton/supervisor';
import { DEFAULT_TEAM_TIMEOUT_MS, type TeamOptions } from '@baton/teams';
import { z } from 'zod';
import { rulesModel } from './rules-model.js';

export const TABLES = ['sessions', 'carts', 'api_tokens'] as const;
export type Table = (typeof TABLES)[number];

/** The example's database: records and how many days ago each was last seen (fixed, so runs repeat). */
const RECORDS: Record<Table, { id: string; lastSeenDaysAgo: number }[]> = {
  sessions: [
    { id: 'sess-1042', lastSeenDaysAgo: 412 },
    { id: 'sess-2211', lastSeenDaysAgo: 187 },
    { id: 'sess-3007', lastSeenDaysAgo: 95 },
    { id: 'sess-4120', lastSeenDaysAgo: 12 },
    { id: 'sess-5001', lastSeenDaysAgo: 1 },
  ],
  carts: [
    { id: 'cart-77', lastSeenDaysAgo: 240 },
    { id: 'cart-91', lastSeenDaysAgo: 3 },
  ],
  api_tokens: [
    { id: 'tok-a1', lastSeenDaysAgo: 365 },
    { id: 'tok-b2', lastSeenDaysAgo: 30 },
  ],
};

export const staleRecordsSchema = z.object({
  table: z.enum(TABLES),
  olderThanDays: z.number().int().positive(),
  ids: z.array(z.string()),
});
export type StaleRecords = z.infer<typeof staleRecordsSchema>;

/** One deletion as the side channel records it. */
export interface Deletion {
  idempotencyKey: string;
  table: string;
  ids: string[];
}

/** Every deletion recorded in `file` (none when it does not exist yet). */
export function readDeletions(file: string): Deletion[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [idempotencyKey = '', table = '', ids = ''] = line.split('\t');
      return { idempotencyKey, table, ids: ids.split(',').filter(Boolean) };
    });
}

export interface OperationsTeamOptions extends TeamOptions {
  /** The side channel: one line per deletion. Default BATON_OPS_EFFECTS, else .baton/operations-effects.log. */
  effectsFile?: string;
}

export function operationsTeam(options: OperationsTeamOptions = {}): Team<string, string> {
  const effectsFile =
    options.effectsFile ?? process.env.BATON_OPS_EFFECTS ?? join('.baton', 'operations-effects.log');
  const deleted = () => new Set(readDeletions(effectsFile).flatMap((deletion) => deletion.ids));

  const findStale = defineTool({
    name: 'find_stale_records',
    description: 'Lists the records of a table not seen for more than `olderThanDays` days.',
    input: z.object({ table: z.enum(TABLES), olderThanDays: z.number().int().positive() }),
    execute: ({ table, olderThanDays }) => {
      const gone = deleted();
      return {
        table,
        stale: RECORDS[table].filter(
          (record) => record.lastSeenDaysAgo > olderThanDays && !gone.has(record.id),
        ),
      };
    },
  });

  const deleteStale = defineTool({
    name: 'delete_stale_records',
    description: 'Permanently deletes the given records from a table. This cannot be undone.',
    input: z.object({ table: z.enum(TABLES), ids: z.array(z.string()).min(1) }),
    risk: 'destructive',
    preview: ({ table, ids }) =>
      `permanently delete ${ids.length} record(s) from ${table}: ${ids.join(', ')}`,
    execute: ({ table, ids }, context) => {
      // Honour the idempotency key (the same on every retry, resume and redelivery of this call): if this
      // call already deleted, say what it did instead of doing it again.
      const done = readDeletions(effectsFile).find(
        (entry) => entry.idempotencyKey === context.idempotencyKey,
      );
      if (done) return { table, deleted: done.ids, repeated: true };
      mkdirSync(dirname(effectsFile), { recursive: true });
      appendFileSync(effectsFile, `${context.idempotencyKey}\t${table}\t${ids.join(',')}\n`);
      return { table, deleted: ids };
    },
  });

  const auditor = defineAgent({
    name: 'auditor',
    description: 'Finds the stale records of a table',
    instructions:
      'Find the records the task asks about with find_stale_records and answer with the table, the age limit and their ids.',
    model: rulesModel('auditor', ({ input, lastTool }) => {
      const { table, olderThanDays } = readTask(input);
      if (!lastTool) return { toolCalls: [{ name: 'find_stale_records', args: { table, olderThanDays } }] };
      const data = (lastTool.result.ok ? lastTool.result.data : { stale: [] }) as { stale: { id: string }[] };
      return { text: JSON.stringify({ table, olderThanDays, ids: data.stale.map((record) => record.id) }) };
    }),
    tools: [findStale],
    output: staleRecordsSchema,
  });

  const operator = defineAgent({
    name: 'operator',
    description: 'Deletes the records the auditor found',
    instructions: 'Delete the records you are given with delete_stale_records, then say what was deleted.',
    input: staleRecordsSchema,
    model: rulesModel('operator', ({ input, lastTool }) => {
      const { table, ids } = input as StaleRecords;
      if (!lastTool) {
        if (ids.length === 0) return { text: `No stale records in ${table}: nothing to delete.` };
        return { toolCalls: [{ name: 'delete_stale_records', args: { table, ids } }] };
      }
      const { result } = lastTool;
      if (!result.ok) return { text: `Deleted nothing from ${table}: ${result.error.message}` };
      const done = result.data as { deleted: string[] };
      return { text: `Deleted ${done.deleted.length} stale ${table} record(s): ${done.deleted.join(', ')}.` };
    }),
    tools: [deleteStale],
  });

  return pipeline<string, string>({
    name: 'operations',
    description: 'Finds stale records and deletes them, once a person approves the deletion.',
    stages: [{ agent: auditor }, { agent: operator }],
    termination: timeout(options.timeoutMs ?? DEFAULT_TEAM_TIMEOUT_MS),
  });
}

/** The table and age limit a task names ("sessions not seen for 90 days"); sessions and 90 by default. */
function readTask(input: unknown): { table: Table; olderThanDays: number } {
  const text = typeof input === 'string' ? input : JSON.stringify(input ?? '');
  const table = TABLES.find((name) => text.toLowerCase().includes(name.replace('_', ' '))) ?? 'sessions';
  const days = Number(/(\d+)\s*days?/i.exec(text)?.[1] ?? 90);
  return { table, olderThanDays: days > 0 ? days : 90 };
}

/** For `baton run <this module>`: the team... */
export default function createTeam(options: TeamOptions = {}): Team {
  return operationsTeam(options) as Team;
}

/** ...and its input for `--topic`. */
export function input(topic: string): string {
  return topic;
}
