import { describe, expect, it } from 'vitest';
import { main } from '../src/with-mcp/main.js';
import { capture } from './capture.js';

describe('examples/with-mcp', () => {
  it('uses the filesystem and memory reference servers under approvals and the audit log — offline', async () => {
    const io = capture();
    const run = await main({ out: io.out, progress: io.progress });
    expect(run.status).toBe('completed');

    // Risk from annotations for the trusted folder server only; the memory server's tools are `write`.
    expect(run.tools).toEqual(
      expect.arrayContaining([
        { name: 'files__read_text_file', risk: 'read' },
        { name: 'files__write_file', risk: 'destructive' },
        { name: 'memory__search_nodes', risk: 'write' },
        { name: 'memory__create_entities', risk: 'write' },
      ]),
    );
    expect(run.result.partial.toolResults.map((record) => `${record.tool}:${record.ok}`)).toEqual([
      'files__list_directory:true',
      'files__read_text_file:true',
      'memory__create_entities:true',
      'memory__search_nodes:true',
      'files__write_file:true',
    ]);
    // After reading a file, the untrusted server's calls needed consent; the destructive write needed a person.
    expect(run.approvals).toEqual([
      { tool: 'memory__create_entities', risk: 'write', reason: 'untrusted_context' },
      { tool: 'memory__search_nodes', risk: 'write', reason: 'untrusted_context' },
      { tool: 'files__write_file', risk: 'destructive', reason: 'risk' },
    ]);

    // Side channels: the memory server's own file, and the notes the filesystem server wrote.
    expect(run.graph).toEqual([
      {
        type: 'entity',
        name: 'release 1.4.0',
        entityType: 'release',
        observations: [
          'Durable invocations survive a worker crash',
          'The gateway answers A2A and MCP clients',
          'Budgets now cover remote members',
        ],
      },
    ]);
    expect(run.notes).toBe(
      '# release 1.4.0\n\n- Durable invocations survive a worker crash\n- The gateway answers A2A and MCP clients\n- Budgets now cover remote members\n',
    );
    expect(run.audited).toEqual([
      'files__list_directory',
      'files__read_text_file',
      'memory__create_entities',
      'memory__search_nodes',
      'files__write_file',
    ]);
    expect(run.auditValid).toBe(true);

    const report = io.stdout();
    expect(report).toContain('files__write_file (destructive)');
    expect(report).toContain('Audit log: 5 MCP calls recorded, chain verified');
    expect(report).toMatch(/→ completed: Filed the release/);
    expect(io.lines.filter((line) => line.includes('approval:'))).toHaveLength(3);
  });
});
