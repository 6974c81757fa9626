import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatonError, fileMemoryStore, MEMORY_FILE, type MemorySubject } from '@baton/core';
import { type MemoryStoreFactory, memoryStoreConformance } from '@baton/core/testing';
import { afterAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'baton-file-memory-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `store-${++dirs}`);

interface StoredEntry {
  current: { namespace: { tenant: string; user?: string; scope: string }; key: string; version: number };
  history: { version: number }[];
  embedding?: number[];
}

/** The snapshot file parsed with plain JSON, not through the store: what is on disk. */
function onDisk(dir: string): { entries: StoredEntry[]; optedOut: MemorySubject[] } {
  let text: string;
  try {
    text = readFileSync(join(dir, MEMORY_FILE), 'utf8');
  } catch {
    return { entries: [], optedOut: [] };
  }
  return JSON.parse(text.split('\n')[1] ?? '{}');
}

/**
 * Everything the directory still holds of a subject: the snapshot's records, earlier versions and
 * vectors, and any other file (a leftover temporary file) that names the user. The opt-out marker is not residue.
 */
function residueIn(dir: string, subject: MemorySubject): string[] {
  const found: string[] = [];
  for (const { current, history, embedding } of onDisk(dir).entries) {
    const ns = current.namespace;
    if (ns.tenant !== subject.tenant || ns.user !== subject.user) continue;
    found.push(`record ${ns.scope} ${current.key} v${current.version}`);
    for (const old of history) found.push(`history ${ns.scope} ${current.key} v${old.version}`);
    if (embedding) found.push(`vector ${ns.scope} ${current.key}`);
  }
  for (const name of readdirSync(dir)) {
    if (name === MEMORY_FILE || name.endsWith('.lock')) continue;
    const text = readFileSync(join(dir, name), 'utf8');
    if (text.includes(JSON.stringify(subject.tenant))) found.push(`file ${name}`);
  }
  return found;
}

const factory: MemoryStoreFactory = {
  name: 'fileMemoryStore',
  vectors: true,
  async open() {
    const dir = freshDir();
    const store = fileMemoryStore({ dir });
    return { store, residue: async (subject) => residueIn(dir, subject), close: () => store.close() };
  },
};

describe('memory conformance: fileMemoryStore', () => {
  for (const testCase of memoryStoreConformance) it(testCase.name, () => testCase.run(factory));
});

describe('fileMemoryStore', () => {
  const ns = { tenant: 'acme', user: 'ada' };

  it('another instance on the directory (another process) sees every write and every erasure', async () => {
    const dir = freshDir();
    const one = fileMemoryStore({ dir });
    const two = fileMemoryStore({ dir });
    await one.put(ns, 'units', 'prefers metric units', { provenance: { source: 'user', trusted: true } });
    await one.put(ns, 'units', 'prefers metric units, °C');
    const seen = await two.get(ns, 'units');
    expect(seen).toMatchObject({ value: 'prefers metric units, °C', version: 2 });
    expect((await two.history(ns, 'units')).map((record) => record.provenance)).toEqual([
      { source: 'user', trusted: true },
    ]);
    expect((await two.search(ns, 'metric')).map((hit) => hit.record.key)).toEqual(['units']);
    // Writes from both sides interleave without losing any.
    await Promise.all([
      ...Array.from({ length: 5 }, (_, i) => one.put(ns, 'shared', `one ${i}`)),
      ...Array.from({ length: 5 }, (_, i) => two.put(ns, 'shared', `two ${i}`)),
    ]);
    expect((await one.get(ns, 'shared'))?.version).toBe(10);
    expect(await two.forgetSubject(ns)).toBe(2);
    expect(await one.get(ns, 'units')).toBeUndefined();
    expect(residueIn(dir, ns)).toEqual([]);
    expect(readFileSync(join(dir, MEMORY_FILE), 'utf8')).not.toContain('metric');
    await one.setOptOut(ns, true);
    await expect(two.put(ns, 'units', 'again')).rejects.toMatchObject({ code: 'MEMORY_OPTED_OUT' });
  });

  it('the directory and the file are the owner’s only', async () => {
    const dir = freshDir();
    await fileMemoryStore({ dir }).put(ns, 'k', 'v');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, MEMORY_FILE)).mode & 0o777).toBe(0o600);
  });

  it('a temporary file left by a crashed writer is swept by the next write', async () => {
    const dir = freshDir();
    const store = fileMemoryStore({ dir });
    await store.put(ns, 'diet', 'vegetarian');
    const leftover = join(dir, `${MEMORY_FILE}.deadbeef0000.tmp`);
    writeFileSync(leftover, readFileSync(join(dir, MEMORY_FILE)));
    expect(await store.forgetSubject(ns)).toBe(1);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(residueIn(dir, ns)).toEqual([]);
  });

  describe('a damaged or edited file is refused with MEMORY_INVALID and left as it is', () => {
    const cases: [string, (text: string) => string][] = [
      ['not JSON at all', () => 'garbage\n'],
      ['truncated', (text) => text.slice(0, Math.floor(text.length / 2))],
      ['a value edited by hand', (text) => text.replace('vegetarian', 'carnivore!')],
      ['a header of another format', (text) => text.replace('"baton-memory"', '"other"')],
      [
        'valid JSON and checksum, but not records',
        () => {
          const body = JSON.stringify({ entries: [{ current: { key: 'x' }, history: [] }], optedOut: [] });
          const sha = createHash('sha256').update(body).digest('hex');
          return `${JSON.stringify({ format: 'baton-memory', v: 1, sha256: sha })}\n${body}\n`;
        },
      ],
    ];
    for (const [name, damage] of cases) {
      it(name, async () => {
        const dir = freshDir();
        await fileMemoryStore({ dir }).put(ns, 'diet', 'vegetarian');
        const file = join(dir, MEMORY_FILE);
        const damaged = damage(readFileSync(file, 'utf8'));
        writeFileSync(file, damaged);
        const store = fileMemoryStore({ dir });
        for (const work of [
          () => store.get(ns, 'diet'),
          () => store.list(ns),
          () => store.put(ns, 'other', 'value'),
          () => store.forgetSubject(ns),
        ]) {
          const error = await work().then(
            () => undefined,
            (caught: unknown) => caught,
          );
          expect(BatonError.is(error, 'MEMORY_INVALID'), String(error)).toBe(true);
          expect((error as BatonError).message).toContain(file);
        }
        expect(readFileSync(file, 'utf8')).toBe(damaged);
      });
    }
  });

  it('an unwritable directory is MEMORY_UNAVAILABLE, not a crash', async () => {
    const file = join(root, 'not-a-directory');
    writeFileSync(file, 'x');
    const store = fileMemoryStore({ dir: join(file, 'memory') });
    await expect(store.put(ns, 'k', 'v')).rejects.toMatchObject({ code: 'MEMORY_UNAVAILABLE' });
    await expect(store.get(ns, 'k')).rejects.toMatchObject({ code: 'MEMORY_UNAVAILABLE' });
  });

  it('a bad configuration is CONFIG_INVALID', () => {
    expect(() => fileMemoryStore({ dir: '' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
