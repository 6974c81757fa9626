import { z } from 'zod';
import { canonicalJson } from '../util/canonical.js';
import type { Bundle } from './bundle.js';

/** One field that differs between two bundles: its JSON path, and its value on each side (absent = undefined). */
export interface BundleChange {
  path: string;
  change: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

/**
 * The fields that differ between two bundles, as paths into what they cover (`instructions`,
 * `tools[search].parameters.properties.query`, `members.writer.hash`...). Arrays of named things (tools,
 * guards, stages) are compared by name, so adding one tool lists that tool, not every index after it.
 * Equal hashes give no changes.
 */
export function diffBundles(
  a: Pick<Bundle, 'hash' | 'covers'>,
  b: Pick<Bundle, 'hash' | 'covers'>,
): BundleChange[] {
  if (a.hash === b.hash) return [];
  const changes: BundleChange[] = [];
  walk(a.covers, b.covers, '', changes);
  return changes;
}

function walk(before: unknown, after: unknown, path: string, out: BundleChange[]): void {
  if (canonicalJson(before) === canonicalJson(after)) return;
  if (before === undefined) {
    out.push({ path: path || '(root)', change: 'added', after });
    return;
  }
  if (after === undefined) {
    out.push({ path: path || '(root)', change: 'removed', before });
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const left = byName(before);
    const right = byName(after);
    if (left && right) {
      const mark = out.length;
      for (const name of union(Object.keys(left), Object.keys(right))) {
        walk(left[name], right[name], `${path}[${name}]`, out);
      }
      // Same names, other order: the order is part of the behaviour (guards, stages run in order).
      const order = (list: unknown[]) => list.map((item) => (item as { name: string }).name).join(',');
      if (order(before) !== order(after) && out.length === mark) {
        out.push({ path: `${path}(order)`, change: 'changed', before: order(before), after: order(after) });
      }
      return;
    }
  }
  if (isRecord(before) && isRecord(after)) {
    for (const key of union(Object.keys(before), Object.keys(after))) {
      walk(before[key], after[key], path ? `${path}.${key}` : key, out);
    }
    return;
  }
  out.push({ path: path || '(root)', change: 'changed', before, after });
}

function byName(list: unknown[]): Record<string, unknown> | undefined {
  const named: Record<string, unknown> = {};
  for (const item of list) {
    const name = isRecord(item) && typeof item.name === 'string' ? item.name : undefined;
    if (name === undefined || name in named) return undefined;
    named[name] = item;
  }
  return named;
}

function union(a: string[], b: string[]): string[] {
  return [...new Set([...a, ...b])].sort();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A bundle as `baton bundle show --json` writes it (checked when read back from a file). */
export const bundleJsonSchema = z.object({
  hash: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  kind: z.enum(['agent', 'team']),
  name: z.string(),
  covers: z.record(z.string(), z.unknown()),
});
