import type { RateLimit } from './config.js';

export type Take = { ok: true; remaining: number } | { ok: false; retryAfterMs: number };

interface Bucket {
  tokens: number;
  /** performance.now() of the last refill. */
  at: number;
}

/**
 * Token buckets, one per API key: each holds up to `burst` tokens and gains `perSecond` per second; a
 * request takes one or is refused with the time until the next token. A tiny implementation on
 * purpose: the gateway's keys are a few configured ones (no per-IP explosion to bound), it runs in one
 * process, and the behaviour needs to be exactly this and nothing more. Monotonic time, so a clock
 * change cannot refill or drain a bucket.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  take(key: string, limit: RateLimit): Take {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: limit.burst, at: now };
    const refilled = Math.min(limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * limit.perSecond);
    bucket.at = now;
    if (refilled >= 1) {
      bucket.tokens = refilled - 1;
      this.buckets.set(key, bucket);
      return { ok: true, remaining: Math.floor(bucket.tokens) };
    }
    bucket.tokens = refilled;
    this.buckets.set(key, bucket);
    return { ok: false, retryAfterMs: Math.ceil(((1 - refilled) / limit.perSecond) * 1000) };
  }
}
