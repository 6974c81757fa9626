import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { appendFile, readFile, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatonError, fileApprovals, fileJournal, memoryApprovals, memoryJournal } from '@baton/core';
import { approvalsConformance, journalConformance } from '@baton/core/testing';
import { afterAll, describe, expect, it } from 'vitest';

describe('journal conformance: memoryJournal', () => {
  for (const testCase of journalConformance) it(testCase.name, () => testCase.run(memoryJournal()));
});

describe('approvals conformance: memoryApprovals', () => {
  for (const testCase of approvalsConformance) it(testCase.name, () => testCase.run(memoryApprovals()));
});

const dirs: string[] = [];
const children: ChildProcess[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'baton-journal-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('journal conformance: fileJournal', () => {
  for (const testCase of journalConformance) {
    it(testCase.name, () => testCase.run(fileJournal({ dir: tempDir() })));
  }
});

describe('approvals conformance: fileApprovals', () => {
  for (const testCase of approvalsConformance) {
    it(testCase.name, () => testCase.run(fileApprovals({ dir: tempDir() })));
  }
});

const step = (n: number) => ({
  type: 'model.step' as const,
  at: Date.now(),
  elapsedMs: n,
  step: n,
  response: { text: `step ${n}`, toolCalls: [], model: 'm', finishReason: 'stop' },
});

describe('fileJournal: the files themselves', () => {
  it('a hand-edited line is JOURNAL_INVALID naming the file and the line', async () => {
    const dir = tempDir();
    const journal = fileJournal({ dir });
    const writer = await journal.open('edited', 'w');
    for (const n of [1, 2, 3]) await writer.append(step(n));
    const file = join(dir, 'edited.jsonl');
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines[1] = (lines[1] as string).replace('"step":2', '"step":"two"');
    await writeFile(file, lines.join('\n'));
    const error = await journal.read('edited').catch((caught: unknown) => caught);
    expect(BatonError.is(error, 'JOURNAL_INVALID')).toBe(true);
    expect((error as BatonError).message).toContain(`${file} line 2`);
    // Writing after the edit is refused too: the writer's view of the file no longer holds.
    await expect(writer.append(step(4))).rejects.toMatchObject({ code: 'JOURNAL_INVALID' });
  });

  it('a line moved from another run, or out of order, is refused', async () => {
    const dir = tempDir();
    const journal = fileJournal({ dir });
    for (const runId of ['a', 'b']) {
      const writer = await journal.open(runId, 'w');
      await writer.append(step(1));
      await writer.append(step(2));
    }
    const [a, b] = await Promise.all(['a', 'b'].map((id) => readFile(join(dir, `${id}.jsonl`), 'utf8')));
    await writeFile(
      join(dir, 'a.jsonl'),
      `${(a as string).split('\n')[0]}\n${(b as string).split('\n')[1]}\n`,
    );
    await expect(journal.read('a')).rejects.toMatchObject({ code: 'JOURNAL_INVALID' });
    const lines = (b as string).split('\n');
    await writeFile(join(dir, 'b.jsonl'), `${lines[1]}\n${lines[0]}\n`);
    await expect(journal.read('b')).rejects.toThrow(/b\.jsonl line 1/);
  });

  it('an unterminated last line (an append cut short) is not a record, and the next open cuts it off', async () => {
    const dir = tempDir();
    const journal = fileJournal({ dir });
    const writer = await journal.open('torn', 'w');
    await writer.append(step(1));
    await appendFile(join(dir, 'torn.jsonl'), '{"v":1,"runId":"torn","seq":2,"rec');
    expect(await journal.read('torn')).toHaveLength(1);
    const next = await journal.open('torn', 'w2');
    expect(next.existing).toHaveLength(1);
    await next.append(step(2));
    expect((await journal.read('torn')).map((entry) => entry.record.type)).toEqual([
      'model.step',
      'run.opened',
      'model.step',
    ]);
  });

  it('refuses run ids that are not safe file names', async () => {
    const journal = fileJournal({ dir: tempDir() });
    for (const runId of ['../etc/passwd', 'a/b', '', '.hidden', 'x'.repeat(200)]) {
      await expect(journal.open(runId, 'w')).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    }
  });

  it('deletes runs past their retention when the journal is opened', async () => {
    const dir = tempDir();
    const journal = fileJournal({ dir });
    for (const runId of ['old', 'fresh']) await (await journal.open(runId, 'w')).append(step(1));
    const longAgo = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
    await utimes(join(dir, 'old.jsonl'), longAgo, longAgo);
    const reopened = fileJournal({ dir, retentionMs: 24 * 60 * 60 * 1000 });
    expect(await reopened.runs()).toEqual(['fresh']);
    expect(existsSync(join(dir, 'old.writer'))).toBe(false);
  });
});

const CHILD = fileURLToPath(new URL('./fixtures/durable-child.ts', import.meta.url));

interface Child {
  process: ChildProcess;
  ready: Promise<void>;
  send(command: Record<string, unknown>): Promise<Record<string, unknown>>;
  kill(): Promise<void>;
}

/** A Node process running fixtures/durable-child.ts on `dir`, answering one JSON line per command. */
function spawnChild(dir: string): Child {
  const child = spawn(
    process.execPath,
    ['--conditions=@baton/source', '--import', 'tsx', CHILD, JSON.stringify({ dir })],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  children.push(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  const waiting: ((line: string) => void)[] = [];
  let buffer = '';
  let onReady = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    child.once('exit', (code) => reject(new Error(`child exited (${code}): ${stderr}`)));
  });
  ready.catch(() => undefined);
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    buffer += chunk;
    for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
      if (line === 'READY') onReady();
      else waiting.shift()?.(line);
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    process: child,
    ready,
    send(command) {
      return new Promise((resolve) => {
        waiting.push((line) => resolve(JSON.parse(line) as Record<string, unknown>));
        child.stdin?.write(`${JSON.stringify(command)}\n`);
      });
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    },
  };
}

describe('fileJournal and fileApprovals across processes', () => {
  it('a parent that opens the run fences the child: its next append is JOURNAL_CONFLICT', async () => {
    const dir = tempDir();
    const child = spawnChild(dir);
    await child.ready;
    expect(await child.send({ op: 'open', runId: 'shared', writer: 'child' })).toMatchObject({ ok: true });
    expect(await child.send({ op: 'append', step: 1 })).toMatchObject({ ok: true, seq: 1 });
    expect(await child.send({ op: 'append', step: 2 })).toMatchObject({ ok: true, seq: 2 });
    const journal = fileJournal({ dir });
    const parent = await journal.open('shared', 'parent');
    expect(parent.existing.map((entry) => entry.seq)).toEqual([1, 2]);
    expect(await child.send({ op: 'append', step: 3 })).toMatchObject({
      ok: false,
      code: 'JOURNAL_CONFLICT',
    });
    await parent.append(step(3));
    expect((await journal.read('shared')).map((entry) => [entry.seq, entry.record.type])).toEqual([
      [1, 'model.step'],
      [2, 'model.step'],
      [3, 'run.opened'],
      [4, 'model.step'],
    ]);
    await child.kill();
  });

  it('a writer SIGKILLed mid-append (holding the lock) does not block the next open', async () => {
    const dir = tempDir();
    const child = spawnChild(dir);
    await child.ready;
    await child.send({ op: 'open', runId: 'killed', writer: 'child' });
    await child.send({ op: 'appendForever' });
    const journal = fileJournal({ dir });
    for (let tries = 0; (await journal.read('killed')).length < 20 && tries < 500; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const pid = child.process.pid as number;
    await child.kill();
    // Make sure the dead writer's lock is there, whether or not the kill landed inside an append.
    const lock = join(dir, 'killed.lock');
    if (!existsSync(lock)) await writeFile(lock, JSON.stringify({ pid, token: 'dead', at: Date.now() }));
    const started = Date.now();
    const writer = await journal.open('killed', 'resumer');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(writer.existing.length).toBeGreaterThanOrEqual(20);
    await writer.append(step(1_000));
    const read = await journal.read('killed');
    expect(read.map((entry) => entry.seq)).toEqual(read.map((_, index) => index + 1));
    expect(read.at(-2)?.record.type).toBe('run.opened');
  });

  it('ten deciders in ten processes: exactly one wins', async () => {
    const dir = tempDir();
    const store = fileApprovals({ dir });
    await store.request({
      runId: 'contested',
      toolCallId: 'call/with:odd chars',
      agent: 'ops',
      tool: 'drop_table',
      risk: 'destructive',
      args: { table: 'users' },
      reason: 'risk',
      requestedAt: Date.now(),
    });
    const deciders = Array.from({ length: 10 }, () => spawnChild(dir));
    await Promise.all(deciders.map((decider) => decider.ready));
    const results = await Promise.all(
      deciders.map((decider, index) =>
        decider.send({
          op: 'decide',
          runId: 'contested',
          toolCallId: 'call/with:odd chars',
          by: `p${index}`,
        }),
      ),
    );
    const winners = results.filter((result) => result.ok);
    expect(winners).toHaveLength(1);
    expect(results.filter((result) => !result.ok).every((result) => result.code === 'APPROVAL_DECIDED')).toBe(
      true,
    );
    const final = await store.get('contested', 'call/with:odd chars');
    expect(final?.status).toBe('approved');
    expect(final?.decidedBy).toBe(winners[0]?.decidedBy);
    await Promise.all(deciders.map((decider) => decider.kill()));
  }, 60_000);
});
