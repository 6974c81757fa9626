/**
 * An agent with tools from two official MCP reference servers — the filesystem server (a project
 * folder) and the memory server (a knowledge graph) — started over stdio from npm with this Node (no
 * npx, offline). The agent reads the project's changelog, files the release into the knowledge graph,
 * checks it is there, and writes the release notes back to the folder. MCP tools get the same control
 * layer as native ones:
 *
 *   - risk comes from the tool annotations only for the server marked trusted (the filesystem server:
 *     `write_file` is destructive → a person approves it); the untrusted memory server's tools are all
 *     `write`, and after the run read a file (untrusted content) each one needs consent too;
 *   - every MCP call lands in the hash-chained audit log, verified at the end.
 *
 * The model is rule-based (not an LLM), so the run is the same every time. Runs offline, no API key.
 *
 *   npm run example:mcp
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  type ApprovalRequest,
  createAuditLog,
  defineAgent,
  type Message,
  memoryAuditSink,
  parseToolResult,
  type RunResult,
  run,
  splitAuditEntries,
  verifyAudit,
} from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { type McpServerHandle, type McpTransportConfig, mcpServer, withMcpTools } from '@baton/mcp';
import { type ExampleOutput, runExample, writers } from '../support/main.js';

const require = createRequire(import.meta.url);

export const CHANGELOG = `# Changelog

## 1.4.0
- Durable invocations survive a worker crash
- The gateway answers A2A and MCP clients
- Budgets now cover remote members
`;

export interface McpExampleRun {
  status: RunResult['status'];
  result: RunResult<string>;
  /** The tools the agent got from the two servers, with the risk Baton gave each. */
  tools: { name: string; risk: string }[];
  /** What the on-call person was asked (and approved). */
  approvals: Pick<ApprovalRequest, 'tool' | 'risk' | 'reason'>[];
  /** The release notes file the filesystem server wrote. */
  notes: string;
  /** The memory server's own file: the knowledge graph it stored. */
  graph: { type: string; name: string; observations?: string[] }[];
  /** Audit records of the MCP calls, and whether the chain verifies. */
  audited: string[];
  auditValid: boolean;
}

/** A reference server's entry script, started with this Node: works offline, no npx. */
function referenceServer(
  name: 'filesystem' | 'memory',
  args: string[],
  env?: Record<string, string>,
): McpTransportConfig {
  const manifest = require.resolve(`@modelcontextprotocol/server-${name}/package.json`);
  const { bin } = JSON.parse(readFileSync(manifest, 'utf8')) as { bin: Record<string, string> };
  const script = join(dirname(manifest), Object.values(bin)[0] ?? '');
  return { stdio: { command: process.execPath, args: [script, ...args], ...(env ? { env } : {}) } };
}

/** The data of every tool result so far, in order (what the servers answered, as Baton hands it on). */
function toolData(messages: readonly Message[]): unknown[] {
  return messages
    .filter((message) => message.role === 'tool')
    .map((message) => {
      const parsed = parseToolResult(String(message.content));
      return parsed?.result.ok ? parsed.result.data : undefined;
    });
}

/** A text field of a tool's data (`{ content: "…" }` from the filesystem server). */
function textField(data: unknown, field: string): string {
  const value = (data as Record<string, unknown> | undefined)?.[field];
  return typeof value === 'string' ? value : '';
}

/**
 * The rule-based model: one tool call per turn, each decided from what the previous results said —
 * list the folder, read the changelog it found, file the release it read, look it up, write the notes.
 */
function librarianModel(dir: string) {
  return scriptedModel((request) => {
    const seen = toolData(request.messages);
    switch (seen.length) {
      case 0:
        return { toolCalls: [{ name: 'files__list_directory', args: { path: dir } }] };
      case 1: {
        const file = /\[FILE\] (CHANGELOG\.md)/.exec(textField(seen[0], 'content'))?.[1] ?? 'CHANGELOG.md';
        return { toolCalls: [{ name: 'files__read_text_file', args: { path: join(dir, file) } }] };
      }
      case 2: {
        const text = textField(seen[1], 'content');
        const version = /^## (\S+)/m.exec(text)?.[1] ?? 'unknown';
        const changes = [...text.matchAll(/^- (.+)$/gm)].map((match) => match[1] ?? '');
        const entity = { name: `release ${version}`, entityType: 'release', observations: changes };
        return { toolCalls: [{ name: 'memory__create_entities', args: { entities: [entity] } }] };
      }
      case 3:
        return { toolCalls: [{ name: 'memory__search_nodes', args: { query: 'release' } }] };
      case 4: {
        const entities = ((seen[3] as { entities?: unknown[] } | undefined)?.entities ?? []) as {
          name: string;
          observations: string[];
        }[];
        const content = entities
          .map(
            (entity) => `# ${entity.name}\n\n${entity.observations.map((line) => `- ${line}`).join('\n')}\n`,
          )
          .join('\n');
        return {
          toolCalls: [{ name: 'files__write_file', args: { path: join(dir, 'RELEASE_NOTES.md'), content } }],
        };
      }
      default:
        return 'Filed the release in the knowledge graph and wrote RELEASE_NOTES.md.';
    }
  });
}

export async function main(options: ExampleOutput & { dir?: string } = {}): Promise<McpExampleRun> {
  const { out, progress } = writers(options);
  const temporary = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'baton-mcp-example-'));
  writeFileSync(join(dir, 'CHANGELOG.md'), CHANGELOG);
  const graphFile = join(dir, 'memory.jsonl');
  rmSync(graphFile, { force: true });
  rmSync(join(dir, 'RELEASE_NOTES.md'), { force: true });

  let files: McpServerHandle | undefined;
  let memory: McpServerHandle | undefined;
  try {
    progress('Starting the filesystem and memory MCP reference servers…');
    [files, memory] = await Promise.all([
      // Our own folder server: its annotations (read-only, destructive) are believed.
      mcpServer({ name: 'files', transport: referenceServer('filesystem', [dir]), trusted: true }).connect(),
      // A third-party server: not trusted, so every tool of it is at least `write`.
      mcpServer({
        name: 'memory',
        transport: referenceServer('memory', [], { MEMORY_FILE_PATH: graphFile }),
      }).connect(),
    ]);
    const used = [
      'files__list_directory',
      'files__read_text_file',
      'files__write_file',
      'memory__create_entities',
      'memory__search_nodes',
    ];
    const tools = [...files.tools(), ...memory.tools()]
      .filter((tool) => used.includes(tool.name))
      .map((tool) => ({ name: tool.name, risk: tool.risk }));
    out(
      `MCP tools (risk as Baton sees it): ${tools.map((tool) => `${tool.name} (${tool.risk})`).join(', ')}`,
    );

    const agent = withMcpTools(
      defineAgent({
        name: 'librarian',
        description: 'Files a project release into the knowledge graph and writes its notes',
        instructions: 'Read the changelog, remember the release, then write RELEASE_NOTES.md.',
        model: librarianModel(dir),
        limits: { maxSteps: 8 },
      }),
      [files, memory],
    );
    const sink = memoryAuditSink();
    const audit = createAuditLog({ sink });
    const approvals: McpExampleRun['approvals'] = [];
    const result = (await run(agent.current(), 'Publish the release notes of the latest release', {
      audit,
      // The on-call person: sees each call that needs consent, and approves it.
      approve: (request) => {
        approvals.push({ tool: request.tool, risk: request.risk, reason: request.reason });
        progress(`  approval: ${request.tool} (${request.risk}, ${request.reason ?? 'risk'}) → approved`);
        return { decision: 'approve' };
      },
    })) as RunResult<string>;

    for (const record of result.partial.toolResults) out(`  ${record.ok ? 'ok ' : 'ERR'} ${record.tool}`);
    out(
      `Approvals asked: ${approvals.map((entry) => `${entry.tool} (${entry.reason})`).join(', ') || 'none'}`,
    );
    const notes = readFileSync(join(dir, 'RELEASE_NOTES.md'), 'utf8');
    out(`RELEASE_NOTES.md, written through the filesystem server:\n${notes}`);
    const graph = readFileSync(graphFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as McpExampleRun['graph'][number]);
    out(
      `Knowledge graph file of the memory server: ${graph.map((entry) => `${entry.type} "${entry.name}"`).join(', ')}`,
    );
    const audited = sink.lines
      .map((line) => JSON.parse(line) as { kind: string; tool?: string })
      .filter((record) => record.kind === 'tool.call' && record.tool !== undefined)
      .map((record) => record.tool as string);
    const { records, heads } = splitAuditEntries(sink.lines.map((line) => JSON.parse(line) as unknown));
    const verification = verifyAudit(records, heads);
    out(`Audit log: ${audited.length} MCP calls recorded, chain ${verification.ok ? 'verified' : 'BROKEN'}`);
    out(`→ ${result.status}: ${result.output ?? result.partial.summary}`);
    return {
      status: result.status,
      result,
      tools,
      approvals,
      notes,
      graph,
      audited,
      auditValid: verification.ok,
    };
  } finally {
    await Promise.all([files?.close(), memory?.close()]);
    if (temporary) rmSync(dir, { recursive: true, force: true });
  }
}

runExample(import.meta.url, 'with-mcp', () => main());
