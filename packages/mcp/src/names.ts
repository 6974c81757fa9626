import { createHash } from 'node:crypto';

const MAX_NAME = 64;
const VALID = /^[a-zA-Z0-9_-]+$/;
const HASH_CHARS = 6;

/**
 * The Baton (and provider) name of an MCP tool: `<server>__<tool>`, within `^[a-zA-Z0-9_-]{1,64}$`.
 *
 * A name that fits as it is stays readable. One that needs changing (dots, spaces, too long) gets a short
 * hash of the original: the result depends only on that tool's own name, never on which other tools
 * the server lists, so a tool keeps its name across list changes and reconnects — journals, approvals
 * and audit records refer to calls by it.
 */
export function batonToolName(server: string, tool: string): string {
  const plain = `${server}__${tool}`;
  if (VALID.test(tool) && plain.length <= MAX_NAME) return plain;
  const hash = createHash('sha256').update(tool).digest('hex').slice(0, HASH_CHARS);
  const room = MAX_NAME - server.length - 2 - 1 - HASH_CHARS;
  const cleaned = tool.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, Math.max(0, room));
  return cleaned === '' ? `${server}__${hash}` : `${server}__${cleaned}_${hash}`;
}
