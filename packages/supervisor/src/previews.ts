import type { RunResult } from '@baton/core';
import { z } from 'zod';
import type { TeamCallPreview } from './types.js';

/**
 * One dry-run preview as a member's result carries it. A remote member's result comes off the wire,
 * checked only for the fields the team accounts with, so its previews are checked here.
 */
const callPreviewSchema = z.object({
  toolCallId: z.string(),
  tool: z.string(),
  args: z.unknown(),
  preview: z.unknown(),
});

/**
 * The previews of one member invocation, stamped with the member and its run. An entry that is not a
 * preview is left out rather than failing the team: the dry run executed nothing either way, and the
 * member's own result still holds what it sent.
 */
export function memberPreviews(member: string, result: RunResult): TeamCallPreview[] {
  const given: unknown = result.previews;
  if (!Array.isArray(given)) return [];
  const previews: TeamCallPreview[] = [];
  for (const entry of given) {
    const parsed = callPreviewSchema.safeParse(entry);
    if (parsed.success) previews.push({ ...parsed.data, member, runId: result.runId });
  }
  return previews;
}
