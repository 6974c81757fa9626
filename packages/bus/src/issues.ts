import type { z } from 'zod';
import { truncate } from './quote.js';

interface IssueLike {
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>;
}

/**
 * Bounds of a summary. Paths and messages can carry what a sender chose (object keys, unrecognized key
 * lists), and the summary lands in replies and dead letters, so each part is cut.
 */
const MAX_ISSUES = 5;
const MAX_PATH_SEGMENTS = 8;
const MAX_SEGMENT = 64;
const MAX_MESSAGE = 200;

function pathOf(path: ReadonlyArray<PropertyKey>): string {
  if (path.length === 0) return '(root)';
  const shown = path.slice(0, MAX_PATH_SEGMENTS).map((key) => truncate(String(key), MAX_SEGMENT));
  if (path.length > MAX_PATH_SEGMENTS) shown.push(`…(${path.length - MAX_PATH_SEGMENTS} more)`);
  return shown.join('.');
}

/** The first few issues of a failed parse, as `path: message; ...`. */
export function summarizeIssues(error: IssueLike): string {
  return error.issues
    .slice(0, MAX_ISSUES)
    .map((issue) => `${pathOf(issue.path)}: ${truncate(issue.message, MAX_MESSAGE)}`)
    .join('; ');
}

/**
 * The first issues of a failed parse as error details can carry them: code, path and message, each cut.
 * (zod's own issues may hold what the sender chose, e.g. every unrecognized key.)
 */
export function boundIssues(
  issues: ReadonlyArray<{ code?: string; path: ReadonlyArray<PropertyKey>; message: string }>,
  max = 10,
): Array<{ code: string; path: string[]; message: string }> {
  return issues.slice(0, max).map((issue) => ({
    code: String(issue.code ?? 'custom'),
    path: issue.path.slice(0, MAX_PATH_SEGMENTS).map((key) => truncate(String(key), MAX_SEGMENT)),
    message: truncate(issue.message, MAX_MESSAGE),
  }));
}

/** What `schema` finds wrong with `value` (`valid` when nothing): the explanation of a rejection. */
export function explainWith(schema: z.ZodType, value: unknown): string {
  const parsed = schema.safeParse(value);
  return parsed.success ? 'valid' : summarizeIssues(parsed.error);
}
