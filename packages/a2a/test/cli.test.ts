import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Task, TaskState } from '@a2a-js/sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { client, send, text, until } from './helpers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('baton a2a serve', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  // A new Node process that loads the CLI from its sources: seconds on a loaded machine.
  it('serves a catalogue agent over A2A until SIGTERM', { timeout: 120_000 }, async () => {
    // From the sources (tsx, the @baton/source condition): no build needed.
    child = spawn(
      process.execPath,
      [
        '--conditions=@baton/source',
        '--import',
        'tsx',
        'packages/cli/src/bin.ts',
        'a2a',
        'serve',
        'researcher',
        '--port',
        '0',
      ],
      { cwd: root, env: { ...process.env, OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '', OPENAI_BASE_URL: '' } },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    await until(() => stderr.includes('Ctrl-C to stop'), 'the server to listen', 90_000);
    const url = /on (http:\/\/\S+)/.exec(stderr)?.[1] ?? '';
    expect(stderr).toContain(`Agent card: ${url.replace(/\/$/, '')}/.well-known/agent-card.json`);

    const sdk = await client(url);
    const card = await sdk.getAgentCard();
    expect(card.name).toBe('researcher');
    expect(card.skills[0]?.tags).toContain('research.topic@1');
    const task = (await sdk.sendMessage(send([text('idempotency keys')]))) as Task;
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    const findings = task.artifacts[0]?.parts.find((part) => part.content?.$case === 'data')?.content;
    expect(findings?.$case === 'data' && (findings.value as { topic: string }).topic).toBe(
      'idempotency keys',
    );
    expect(stderr).toMatch(/\[researcher\] task completed in /);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain('A2A server for researcher stopped (SIGTERM)');
  });
});
