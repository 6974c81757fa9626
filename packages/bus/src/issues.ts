import type { z } from 'zod';

interface IssueLike {
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>;
}

/** The first few issues of a failed parse, as `path: message; ...`. */
export function summarizeIssues(error: IssueLike): string {
  return error.issues
    .slice(0, 5)
    .map(
      (issue) => `${issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`,
    )
    .join('; ');
}

/** What `schema` finds wrong with `value` (`valid` when nothing): the explanation of a rejection. */
export function explainWith(schema: z.ZodType, value: unknown): string {
  const parsed = schema.safeParse(value);
  return parsed.success ? 'valid' : summarizeIssues(parsed.error);
}
