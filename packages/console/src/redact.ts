/**
 * What the console shows of tool arguments, results and payloads: secrets replaced, long text cut.
 * The browser is another place data goes (screens get shared, screenshots pasted into tickets), so
 * values under a secret-looking key and strings shaped like credentials never leave the server.
 */
const SECRET_KEY =
  /(pass(word|wd|phrase)?|secret|token|api[-_]?key|apikey|auth(orization)?|cookie|session[-_]?id|credential|private[-_]?key|signature)$/i;
const SECRET_VALUE: readonly RegExp[] = [
  /\b(sk|pk|rk)-[A-Za-z0-9_-]{16,}\b/g,
  /\bBearer\s+[A-Za-z0-9._~+/-]{12,}=*/gi,
  /\b(ghp|gho|ghs|github_pat)_[A-Za-z0-9_]{20,}\b/g,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g,
  /\bAKIA[0-9A-Z]{16}\b/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g,
];

export const REDACTED = '[redacted]';

export interface RedactOptions {
  /** Strings longer than this are cut (default 4,000 characters). */
  maxString?: number;
  /** Deeper structures are summarized (default 8 levels). */
  maxDepth?: number;
  /** Arrays longer than this keep their first items (default 200). */
  maxItems?: number;
}

export function redact(value: unknown, options: RedactOptions = {}): unknown {
  return walk(value, 0, {
    maxString: options.maxString ?? 4_000,
    maxDepth: options.maxDepth ?? 8,
    maxItems: options.maxItems ?? 200,
  });
}

export function redactText(text: string, maxString = 4_000): string {
  let out = text;
  for (const pattern of SECRET_VALUE) out = out.replace(pattern, REDACTED);
  return out.length > maxString
    ? `${out.slice(0, maxString)}… (${out.length - maxString} more characters)`
    : out;
}

function walk(value: unknown, depth: number, limits: Required<RedactOptions>): unknown {
  if (typeof value === 'string') return redactText(value, limits.maxString);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= limits.maxDepth) return Array.isArray(value) ? `[${value.length} items]` : '{…}';
  if (Array.isArray(value)) {
    const items = value.slice(0, limits.maxItems).map((item) => walk(item, depth + 1, limits));
    if (value.length > limits.maxItems) items.push(`… ${value.length - limits.maxItems} more items`);
    return items;
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    out[key] =
      SECRET_KEY.test(key) && item !== null && item !== undefined && item !== ''
        ? REDACTED
        : walk(item, depth + 1, limits);
  }
  return out;
}
