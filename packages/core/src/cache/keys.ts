import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ModelRequest } from '../model/types.js';
import type { AnyTool } from '../tools/define.js';
import { canonicalJson } from '../util/canonical.js';

/** Every cached tool result is under this prefix: `clear(TOOL_CACHE_PREFIX)` drops them all. */
export const TOOL_CACHE_PREFIX = 'tool/';
/** Every cached model response is under this prefix. */
export const MODEL_CACHE_PREFIX = 'model/';

/** The prefix of one tool's cached results: clear it when the data behind the tool changed. */
export function toolCachePrefix(toolName: string): string {
  return `${TOOL_CACHE_PREFIX}${toolName}/`;
}

/**
 * A collision-resistant hash of a value's canonical JSON (sha256, base64url). A cache key must never
 * let one call read another's result, so the short digest used for progress detection will not do.
 */
export function cacheDigest(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value), 'utf8').digest('base64url');
}

const toolHashes = new WeakMap<AnyTool, string>();

/**
 * What a tool's cached results depend on besides the call: its input and output schemas and its declared
 * cache version. A deploy that changes the schema or bumps `cache.version` never reads older entries.
 */
function toolBehaviourHash(tool: AnyTool): string {
  let hash = toolHashes.get(tool);
  if (hash === undefined) {
    let output: unknown = null;
    if (tool.output) {
      try {
        output = z.toJSONSchema(tool.output, { unrepresentable: 'any' });
      } catch {
        output = 'unrepresentable';
      }
    }
    hash = cacheDigest({ input: tool.spec.parameters, output, version: tool.cache?.version ?? null });
    toolHashes.set(tool, hash);
  }
  return hash;
}

/**
 * The key of one tool call: the tool, its schemas and version, the tenant, the user (unless the tool
 * declared its data user-independent with `cache: { scope: 'tenant' }`) and the canonical arguments —
 * hashed, so no argument or id appears in the store's keys.
 */
export function toolCacheKey(
  tool: AnyTool,
  args: unknown,
  tenantId: string | undefined,
  userId: string | undefined,
): string {
  const scope = tool.cache?.scope ?? 'user';
  const user = scope === 'tenant' ? null : (userId ?? null);
  // The scope is part of the key: a user-scoped result of a run with no user is not a tenant-wide one.
  const digest = cacheDigest({ tool: toolBehaviourHash(tool), scope, tenant: tenantId ?? null, user, args });
  return `${toolCachePrefix(tool.name)}${digest}`;
}

/**
 * The key of one model call: provider, model, tenant (and user for a user-scoped cache) and the whole
 * request that shapes the answer — messages, tools, tool choice, response schema, sampling and role.
 * The abort signal is not part of it; everything else is, so only an exact repeat is a hit.
 */
export function modelCacheKey(
  model: { id: string; provider: string },
  request: ModelRequest,
  tenantId: string | undefined,
  userId: string | undefined,
): string {
  const { signal: _signal, ...shape } = request;
  const digest = cacheDigest({
    provider: model.provider,
    model: model.id,
    tenant: tenantId ?? null,
    user: userId ?? null,
    request: shape,
  });
  return `${MODEL_CACHE_PREFIX}${digest}`;
}

/** The hash part of a key, the only part events and spans carry. */
export function keyHashOf(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}
