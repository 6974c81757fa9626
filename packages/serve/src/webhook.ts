import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { BatonError, sleep } from '@baton/core';

/** Headers of a webhook delivery. */
export const WEBHOOK_HEADERS = {
  /** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` */
  signature: 'baton-signature',
  /** `run.finished` or `run.awaiting_approval`. */
  event: 'baton-event',
  /** The same on every retry of one delivery: receivers drop the duplicates by it. */
  delivery: 'baton-delivery',
} as const;

export type WebhookEvent = 'run.finished' | 'run.awaiting_approval';

export interface WebhookSettings {
  maxAttempts: number;
  timeoutMs: number;
  backoffMs: number;
  maxBackoffMs: number;
}

export interface WebhookOutcome {
  attempts: number;
  delivered: boolean;
  lastStatus?: number;
  lastError?: string;
}

/**
 * The signature header of `body` sent at `timestamp` (unix seconds). The timestamp is signed with the
 * body so a captured delivery cannot be replayed later with a fresh time.
 */
export function signWebhook(secret: string, body: string, timestamp: number): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/**
 * What a receiver calls: true when `header` signs `body` with `secret` and its timestamp is within
 * `toleranceSeconds` of now (default 5 minutes). Compared in constant time.
 */
export function verifyWebhook(
  secret: string,
  body: string,
  header: string | null | undefined,
  options: { toleranceSeconds?: number; now?: number } = {},
): boolean {
  if (!header) return false;
  const parts = new Map(
    header.split(',').map((part) => {
      const at = part.indexOf('=');
      return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const;
    }),
  );
  const timestamp = Number(parts.get('t'));
  const given = parts.get('v1') ?? '';
  if (!Number.isInteger(timestamp) || !/^[0-9a-f]{64}$/.test(given)) return false;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? 300)) return false;
  const expected = signWebhook(secret, body, timestamp).slice(`t=${timestamp},v1=`.length);
  return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(given, 'hex'));
}

/** Throws INPUT_INVALID when a webhook may not go to `url` (not http(s), or a host off the allow-list). */
export function checkWebhookUrl(url: string, allowHosts: readonly string[] | undefined): void {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new BatonError('INPUT_INVALID', 'A webhook URL must be http or https', { details: { url } });
  }
  if (allowHosts && !allowHosts.includes(parsed.hostname)) {
    throw new BatonError('INPUT_INVALID', `Webhooks may not go to ${parsed.hostname}`, {
      details: { host: parsed.hostname, allowed: allowHosts },
      hint: 'The gateway allows only the hosts in webhook.allowHosts',
    });
  }
}

/** Only these failures can succeed on a later attempt; any other 4xx is the receiver's final word. */
function retryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * POSTs `payload` to `url`, signed, with bounded retries: exponential backoff with jitter (honouring a
 * receiver's Retry-After, within `maxBackoffMs`), each attempt bounded by `timeoutMs`. Never throws: the
 * outcome says what happened. `signal` stops the retries (the gateway is shutting down).
 */
export async function deliverWebhook(
  url: string,
  secret: string,
  event: WebhookEvent,
  payload: unknown,
  settings: WebhookSettings,
  signal?: AbortSignal,
): Promise<WebhookOutcome> {
  const body = JSON.stringify(payload);
  const delivery = randomUUID();
  const outcome: WebhookOutcome = { attempts: 0, delivered: false };
  for (let attempt = 1; attempt <= settings.maxAttempts; attempt++) {
    if (signal?.aborted) break;
    outcome.attempts = attempt;
    let retryAfterMs: number | undefined;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'baton-gateway',
          [WEBHOOK_HEADERS.event]: event,
          [WEBHOOK_HEADERS.delivery]: delivery,
          [WEBHOOK_HEADERS.signature]: signWebhook(secret, body, Math.floor(Date.now() / 1000)),
        },
        body,
        redirect: 'manual',
        signal: signal
          ? AbortSignal.any([signal, AbortSignal.timeout(settings.timeoutMs)])
          : AbortSignal.timeout(settings.timeoutMs),
      });
      outcome.lastStatus = response.status;
      delete outcome.lastError;
      await response.body?.cancel().catch(() => undefined);
      if (response.ok) {
        outcome.delivered = true;
        return outcome;
      }
      if (!retryableStatus(response.status)) return outcome;
      const header = Number(response.headers.get('retry-after'));
      if (Number.isFinite(header) && header >= 0) retryAfterMs = header * 1000;
    } catch (error) {
      outcome.lastError = (error as Error)?.message ?? String(error);
    }
    if (attempt === settings.maxAttempts) break;
    const exponential = Math.min(settings.maxBackoffMs, settings.backoffMs * 2 ** (attempt - 1));
    const jittered = exponential / 2 + Math.random() * (exponential / 2);
    const wait = Math.min(settings.maxBackoffMs, Math.max(jittered, retryAfterMs ?? 0));
    try {
      await sleep(wait, signal);
    } catch {
      break;
    }
  }
  return outcome;
}
