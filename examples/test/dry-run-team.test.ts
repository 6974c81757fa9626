/**
 * A dry run of the research team with a write tool (issue 12): researcher → writer → reviewer on the
 * offline model, then a publisher whose `publish_report` tool is a `write`. With `dryRun` the read tools
 * run, the publish returns its preview and the team result lists it — and the tool's side channel (a
 * file its execute appends to) stays empty. Without `dryRun` the same team publishes exactly once.
 *
 * The offline model plays fixed roles and never calls a tool it does not know, so the publishing stage
 * is a scripted model that always publishes what it is given.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { offlineModel, type ResearchRequest, renderDraft, researcher, reviewer, writer } from '@baton/agents';
import {
  type AgentLike,
  type ApprovalRequest,
  defineAgent,
  defineTool,
  EventHub,
  parseToolResult,
  type RunEvent,
  unwrapUntrusted,
} from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import type { TeamEvent } from '@baton/supervisor';
import { type ResearchReport, researchTeam } from '@baton/teams';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

const RECIPIENTS = ['research-digest@example.com', 'platform-leads@example.com'];
const topic: ResearchRequest = { topic: 'retries, timeouts and budgets for AI agents in production' };

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A publisher whose tool appends every real publication to `file` — the side channel. */
function publisherAgent(file: string): AgentLike {
  const publishReport = defineTool({
    name: 'publish_report',
    description: 'Publishes a finished report to a mailing list.',
    input: z.object({ title: z.string().min(1), recipients: z.array(z.string()).min(1), body: z.string() }),
    risk: 'write',
    preview: ({ title, recipients, body }) => ({ title, recipients, sizeChars: body.length }),
    execute: async ({ title, recipients }, context) => {
      await appendFile(file, `${JSON.stringify({ key: context.idempotencyKey, title, recipients })}\n`);
      return { published: true, title, recipients: recipients.length };
    },
  });
  return defineAgent({
    name: 'publisher',
    description: 'Publishes the reviewed report',
    instructions: 'Publish the report you are given with publish_report, then say what you did.',
    // Publishes whatever it is handed: the tool, not the model's judgement, is what the dry run stops.
    // Priced at $0 like the offline members: the team's dollar budget refuses steps it cannot price.
    model: scriptedModel(
      (request) => {
        const last = request.messages.at(-1);
        if (last?.role === 'tool') {
          const outcome = parseToolResult(last.content)?.result;
          const data = outcome?.ok ? (outcome.data as { dryRun?: boolean }) : undefined;
          if (!data) return `not published: ${last.content}`;
          return data.dryRun ? 'would publish the report (dry run)' : 'published the report';
        }
        const user = request.messages.find((message) => message.role === 'user')?.content ?? '';
        const report = unwrapUntrusted(user)?.value as ResearchReport;
        const body = renderDraft(report.draft, report.sources);
        return {
          toolCalls: [
            { name: 'publish_report', args: { title: report.draft.title, recipients: RECIPIENTS, body } },
          ],
        };
      },
      { price: { input: 0, output: 0 } },
    ),
    tools: [publishReport],
  });
}

/** The research team on the offline model, whatever the environment's API keys, plus the publisher. */
function team(publications: string) {
  const members: Record<string, () => AgentLike> = {
    researcher: () => researcher({ model: offlineModel('researcher') }),
    writer: () => writer({ model: offlineModel('writer') }),
    reviewer: () => reviewer({ model: offlineModel('reviewer') }),
  };
  return researchTeam({
    members: (name) => (members[name] as () => AgentLike)(),
    publisher: publisherAgent(publications),
  });
}

function sideChannel(): { file: string; lines: () => unknown[] } {
  const dir = mkdtempSync(join(tmpdir(), 'baton-dry-run-team-'));
  dirs.push(dir);
  const file = join(dir, 'publications.jsonl');
  const lines = () =>
    existsSync(file)
      ? readFileSync(file, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as unknown)
      : [];
  return { file, lines };
}

function recorder() {
  const events = new EventHub<RunEvent | TeamEvent>();
  const toolEnds: Extract<RunEvent, { type: 'tool.end' }>[] = [];
  events.on('tool.end', (event) => toolEnds.push(event));
  const requests: ApprovalRequest[] = [];
  const approve = (request: ApprovalRequest) => {
    requests.push(request);
    return { decision: 'approve' as const };
  };
  return { events, toolEnds, requests, approve };
}

describe('a dry run of the research team with a write tool', () => {
  it('runs the read tools, returns the publish preview on the team result, and executes nothing', async () => {
    const channel = sideChannel();
    const seen = recorder();
    const result = await team(channel.file).run(topic, {
      dryRun: true,
      events: seen.events,
      approve: seen.approve,
    });

    expect(result.status).toBe('completed');
    expect(result.transcript.map((handoff) => handoff.to)).toEqual([
      'researcher',
      'writer',
      'reviewer',
      'writer',
      'reviewer',
      'publisher',
    ]);
    // The researcher's read tools really ran, and returned documents.
    const reads = seen.toolEnds.filter((event) => event.agent === 'researcher');
    expect(reads.some((event) => event.tool === 'search_corpus' && event.result.ok)).toBe(true);
    expect(reads.some((event) => event.tool === 'read_document' && event.result.ok)).toBe(true);

    // The write call came back as its preview, and the team result carries it, naming the member.
    const report = result.output as ResearchReport;
    const sizeChars = renderDraft(report.draft, report.sources).length;
    const preview = { title: report.draft.title, recipients: RECIPIENTS, sizeChars };
    const publisherRun = result.transcript.at(-1)?.runId;
    expect(result.previews).toEqual([
      {
        member: 'publisher',
        runId: publisherRun,
        toolCallId: expect.any(String),
        tool: 'publish_report',
        args: expect.objectContaining({ title: report.draft.title, recipients: RECIPIENTS }),
        preview,
      },
    ]);
    const publish = seen.toolEnds.find((event) => event.tool === 'publish_report');
    expect(publish?.result).toEqual({ ok: true, data: { dryRun: true, executed: false, preview } });
    expect(report.publication).toBe('would publish the report (dry run)');

    // Nothing was executed, and nobody was asked to approve what was never going to run.
    expect(existsSync(channel.file)).toBe(false);
    expect(channel.lines()).toEqual([]);
    expect(seen.requests).toEqual([]);
  });

  it('without dryRun, the same team publishes exactly once (after approval: it read untrusted input)', async () => {
    const channel = sideChannel();
    const seen = recorder();
    const result = await team(channel.file).run(topic, { events: seen.events, approve: seen.approve });

    expect(result.status).toBe('completed');
    expect(result.previews).toBeUndefined();
    const report = result.output as ResearchReport;
    expect(report.publication).toBe('published the report');
    const publisherRun = result.transcript.at(-1)?.runId;
    expect(channel.lines()).toEqual([
      { key: expect.stringMatching(`^${publisherRun}:`), title: report.draft.title, recipients: RECIPIENTS },
    ]);
    // The publisher's input is another member's output: untrusted, so the write waited for a person,
    // who was shown the same preview the dry run returned.
    const sizeChars = renderDraft(report.draft, report.sources).length;
    expect(seen.requests).toEqual([
      expect.objectContaining({
        agent: 'publisher',
        tool: 'publish_report',
        reason: 'untrusted_context',
        preview: { title: report.draft.title, recipients: RECIPIENTS, sizeChars },
      }),
    ]);
  });
});
