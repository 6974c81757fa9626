import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileMemoryStore } from '@baton/core';
import { afterAll, describe, expect, it } from 'vitest';
import type { LoggedRequest } from '../src/with-memory/assistant.js';
import { main } from '../src/with-memory/main.js';
import { WHO } from '../src/with-memory/session.js';
import { capture } from './capture.js';

describe('examples/with-memory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-example-memory-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Three sessions and two CLI calls, each a new Node process: seconds each on a loaded machine.
  it('remembers across processes, redacts the email, forgets on request', { timeout: 300_000 }, async () => {
    const io = capture();
    const run = await main({ dir, out: io.out, progress: io.progress });
    expect(run.claims.filter((claim) => !claim.held)).toEqual([]);
    expect(run.status).toBe('completed');
    const { one, two, three } = run.sessions;

    // Session 1 saved three facts with the tool, then its episode and recap; the email was redacted.
    expect(one.recalled).toBeUndefined();
    expect(one.saved.map((saved) => `${saved.via}:${saved.key}`)).toEqual([
      'tool:diet',
      'tool:units',
      'tool:contact',
      `episode:episode:${one.runId}`,
      'summary:summary:s1',
    ]);
    expect(run.onDisk.afterOne.find((record) => record.key === 'contact')?.value).toBe(
      'Send shopping lists to [EMAIL]',
    );
    expect(one.output).toBe(
      'Noted: diet, units, contact. Tonight: mushroom risotto — 300 g arborio rice, 250 g mushrooms, 1 l vegetable stock.',
    );

    // Session 2, in another process, started with the facts, the recap and the episode of session 1.
    expect(new Set([process.pid, one.pid, two.pid, three.pid]).size).toBe(4);
    expect(two.recalled).toMatchObject({ count: 5, untrusted: 5 });
    expect([...(two.recalled?.kinds ?? [])].sort()).toEqual(['episode', 'fact', 'fact', 'fact', 'summary']);
    expect(two.output).toBe(
      'Last time I suggested mushroom risotto, so something different tonight: chickpea curry — 400 g chickpeas, 200 ml coconut milk, 150 g spinach.',
    );

    // The side channel, read here again: what each session's model was sent.
    const requests = readFileSync(join(dir, 'model-requests.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as LoggedRequest);
    const system = (session: string) => requests.find((request) => request.session === session)?.system ?? '';
    // Written by a model, so the memories reach the next model as data inside the untrusted wrapper.
    expect(system('s2')).toMatch(
      /<untrusted_data source="memory">[\s\S]*The user is vegetarian[\s\S]*<\/untrusted_data>/,
    );
    expect(system('s2')).not.toContain('ada.lovelace@example.com');
    expect(system('s3')).not.toContain('Memory from earlier sessions');

    // The CLI's forget erased all seven records (3 facts, 2 episodes, 2 recaps); the store agrees.
    expect(run.cli.forget).toBe(
      'Forgot 7 records of user ada in tenant recipes-app (every scope, with their history).\n',
    );
    expect(run.onDisk.afterForget).toEqual([]);
    expect(three.output).toBe('Tonight: chicken stir-fry — 1 lb chicken breast, 8 oz egg noodles.');
    // Session 3 starts a new memory: its own episode and recap, nothing of before.
    const left = await fileMemoryStore({ dir: join(dir, 'memory') }).exportSubject(WHO);
    expect(left.map((record) => record.key).sort()).toEqual([`episode:${three.runId}`, 'summary:s3']);
    const files = readdirSync(join(dir, 'memory')).map((name) =>
      readFileSync(join(dir, 'memory', name), 'utf8'),
    );
    expect(files.join('\n')).not.toMatch(/vegetarian|metric units|ada\.lovelace/);

    // What a person reads.
    const report = io.stdout();
    expect(report).toContain('The model is rule-based (not an LLM)');
    expect(report).toContain('saved fact contact (via tool, redacted by piiGuard)');
    expect(report).toContain("5 memories put into the model's context (3 fact, 1 summary, 1 episode)");
    expect(report).toMatch(
      /episode episode:s1-\S+: … Answer: Noted: diet, units, contact\. Tonight: mushroom/,
    );
    expect(report).toMatch(
      /\$ .*(?:baton|bin\.[jt]s) memory forget --tenant recipes-app --user ada --dir \S+/,
    );
    expect(report).toMatch(/default\s+diet\s+fact\s+1\s+agent/);
    expect(report).toContain('on disk: 0 records of ada');
    expect(report).not.toContain('FAIL');
  });
});
