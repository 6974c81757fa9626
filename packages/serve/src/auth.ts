import { BatonError } from '@baton/core';
import type { MiddlewareHandler } from 'hono';
import { type RateLimit, type ResolvedKey, sha256Hex } from './config.js';
import { TokenBuckets } from './rate-limit.js';

/** Who is calling: the key (by its id, never its secret) and the tenant its runs belong to. */
export interface Caller {
  keyId: string;
  tenant: string;
  /** Undefined in open mode (loopback only, no keys): nothing to share fairly. */
  rateLimit: RateLimit | undefined;
}

export interface GatewayEnv {
  Variables: { caller: Caller };
}

/** The key of a request: `Authorization: Bearer <key>`, or `x-api-key: <key>`. */
function presentedKey(authorization: string | undefined, header: string | undefined): string | undefined {
  const bearer = authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  return bearer ?? (header?.trim() || undefined);
}

/**
 * Resolves the caller from its API key, then charges its token bucket. Keys are looked up by their
 * SHA-256, so the comparison never runs over the secret itself. With no keys configured every request
 * is the open tenant (the gateway then listens on loopback only).
 */
export function authenticate(
  keys: readonly ResolvedKey[],
  openTenant: string,
): MiddlewareHandler<GatewayEnv> {
  const byDigest = new Map(keys.map((key) => [key.digest, key]));
  const buckets = new TokenBuckets();
  const open = keys.length === 0;
  return async (c, next) => {
    let caller: Caller;
    if (open) {
      caller = { keyId: 'open', tenant: openTenant, rateLimit: undefined };
    } else {
      const presented = presentedKey(c.req.header('authorization'), c.req.header('x-api-key'));
      if (!presented) {
        c.header('WWW-Authenticate', 'Bearer realm="baton"');
        throw new BatonError('UNAUTHORIZED', 'An API key is required', {
          hint: 'Send it as "Authorization: Bearer <key>" or "x-api-key: <key>"',
        });
      }
      const key = byDigest.get(sha256Hex(presented));
      if (!key) {
        c.header('WWW-Authenticate', 'Bearer realm="baton", error="invalid_token"');
        throw new BatonError('UNAUTHORIZED', 'The API key is not valid');
      }
      caller = { keyId: key.id, tenant: key.tenant, rateLimit: key.rateLimit };
    }
    if (caller.rateLimit) {
      const taken = buckets.take(caller.keyId, caller.rateLimit);
      c.header('RateLimit-Limit', String(caller.rateLimit.burst));
      if (!taken.ok) {
        const seconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
        c.header('Retry-After', String(seconds));
        c.header('RateLimit-Remaining', '0');
        throw new BatonError('RATE_LIMITED', `Rate limit of key "${caller.keyId}" reached`, {
          details: { retryAfterMs: taken.retryAfterMs, limit: caller.rateLimit },
          hint: `Retry after ${seconds} s`,
        });
      }
      c.header('RateLimit-Remaining', String(taken.remaining));
    }
    c.set('caller', caller);
    await next();
  };
}
