/**
 * Secret detectors: API keys by their providers' well-known prefixes, PEM private-key blocks, JWTs,
 * values assigned to secret-named keys (`password=...`, `"api_key": "..."`) and long random-looking
 * tokens by Shannon entropy. Every pattern is linear: bounded quantifiers, or a look-behind that lets a
 * match start only at the beginning of a run, so a 100 KB adversarial string costs a few milliseconds.
 */
import type { GuardFinding } from './types.js';
import { allMatches } from './walk.js';

export type SecretKind = 'api_key' | 'private_key' | 'jwt' | 'secret';

export interface SecretFinding extends GuardFinding {
  kind: SecretKind;
  start: number;
  end: number;
}

/** Where findings go: a list of secrets, or of PII findings (of which secrets are kinds). */
interface SecretSink {
  push(finding: SecretFinding): unknown;
}

/** Provider key formats: `note` names the provider, never the key. Longer prefixes first. */
const PREFIXED: readonly { note: string; pattern: RegExp }[] = [
  { note: 'Anthropic API key', pattern: /(?<![\w-])sk-ant-[A-Za-z0-9]{2,12}-[A-Za-z0-9_-]{20,256}/g },
  {
    note: 'OpenAI API key',
    pattern: /(?<![\w-])sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,256}/g,
  },
  { note: 'OpenAI API key', pattern: /(?<![\w-])sk-[A-Za-z0-9]{20,128}(?![\w-])/g },
  {
    note: 'AWS access key id',
    pattern: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])/g,
  },
  { note: 'GitHub token', pattern: /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,251}(?![A-Za-z0-9_])/g },
  { note: 'GitHub token', pattern: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,255}/g },
  { note: 'GitLab token', pattern: /(?<![\w-])glpat-[A-Za-z0-9_-]{20,64}/g },
  { note: 'Slack token', pattern: /(?<![\w-])xox[abpers]-[A-Za-z0-9-]{10,250}/g },
  {
    note: 'Stripe secret key',
    pattern: /(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,247}(?![A-Za-z0-9_])/g,
  },
  { note: 'Google API key', pattern: /(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])/g },
  { note: 'SendGrid API key', pattern: /(?<![\w.])SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![\w-])/g },
  { note: 'npm token', pattern: /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9_])/g },
  { note: 'Hugging Face token', pattern: /(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{34,40}(?![A-Za-z0-9_])/g },
];

const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,4096}\.eyJ[A-Za-z0-9_-]{8,16384}\.[A-Za-z0-9_-]{0,4096}/g;

const PEM_BEGIN = /-----BEGIN ((?:[A-Z0-9]{1,20} ){0,4})PRIVATE KEY( BLOCK)?-----/;
/** The same, global, for the scan in detectSecrets (made once: a regex per call showed in profiles). */
const PEM_BEGIN_ALL = new RegExp(PEM_BEGIN.source, 'g');

/**
 * A value after a secret-named key: `password: hunter2!x`, `"client_secret": "..."`, `API_KEY=...`.
 * The key must end right before the separator; the value is one token of 6 to 200 characters.
 */
const ASSIGNED =
  /(?<![A-Za-z0-9])(?:pass(?:word|wd|phrase)?|pwd|secret|client[_-]?secret|api[_-]?key|apikey|access[_-]?key|secret[_-]?key|private[_-]?key|auth[_-]?token|access[_-]?token|refresh[_-]?token|token|bearer)["']?[ \t]{0,4}(?:[:=]|=>)[ \t]{0,4}["']?([^\s"'`,;<>{}()[\]]{6,200})/gi;
/**
 * What every ASSIGNED match holds, with the same flags: one of the key names' stems. A far smaller regex,
 * so the costly one runs only on text that names a secret (tool arguments and JSON have `:` and `=`).
 */
const SECRET_NAME = /pass|pwd|secret|key|token|bearer/i;
const BEARER = /(?<![A-Za-z0-9])Bearer[ \t]{1,4}([A-Za-z0-9._~+/-]{16,2048}=*)/g;

/** Placeholder values after a secret-named key that are not secrets. */
const PLACEHOLDER =
  /^(?:\*+|x+|\.+|null|none|nil|undefined|true|false|redacted|hidden|masked|secret|password|changeme|example|placeholder|string|required|optional|empty|\$\w+|%\w+%?|\[\w+\])$/i;

const CAMEL_WORD = /[A-Z]?[a-z]{3,}/g;

/** Characters of a candidate random token (base64, base64url, hex). */
const TOKEN = /(?<![A-Za-z0-9+/_=-])[A-Za-z0-9+/_-]{20,1024}={0,2}(?![A-Za-z0-9+/_=-])/g;

/**
 * The entropy threshold for a token of `length` characters: 0.82 × log2(min(length, 64)) bits per
 * character (20 chars: 3.54 bits, 32: 4.10, 40: 4.36, 64 and more: 4.92). The empirical entropy of a
 * random base62 string is below log2(length) for short strings, so the threshold grows with the length:
 * it sits just under the 1st percentile measured on 20,000 random base62 strings per length (3.65 bits
 * at 20, 4.20 at 32, 4.45 at 40, 4.90 at 64). With the class rules of `looksRandom`, 96.7% of random
 * 20-character base62 tokens are flagged (the rest lack a digit or a case), 98–99.7% from 24 to 64
 * characters, all at 128; English-like identifiers (≈ 3.4–4.0 bits at those lengths) mostly are not.
 */
export function entropyThreshold(length: number): number {
  return 0.82 * Math.log2(Math.min(Math.max(length, 2), 64));
}

/** Shannon entropy of `text`, in bits per character. */
export function shannonEntropy(text: string): number {
  if (text.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bits = 0;
  const total = text.length;
  for (const count of counts.values()) {
    const p = count / total;
    bits -= p * Math.log2(p);
  }
  return bits;
}

function classOf(code: number): number {
  if (code >= 48 && code <= 57) return 0;
  if (code >= 65 && code <= 90) return 1;
  if (code >= 97 && code <= 122) return 2;
  return 3;
}

/**
 * A long token that looks random, not like a word, an identifier, a hash or a UUID:
 * - 20 to 1,024 characters of base64/base64url;
 * - upper case, lower case and digits all present; not hexadecimal only (git hashes, SHA digests and
 *   UUIDs are not flagged by entropy: a hex secret is caught through its key name or prefix);
 * - the character class changes between at least 30% of neighbouring characters (≈ 62% for random
 *   base62), and less than 75% of it is camelCase words (`[A-Z]?[a-z]{3,}` runs: identifiers);
 * - entropy ≥ `entropyThreshold(length)`.
 */
export function looksRandom(token: string): boolean {
  const body = token.replace(/=+$/, '');
  if (body.length < 20) return false;
  let upper = false;
  let lower = false;
  let digit = false;
  let nonHex = false;
  let switches = 0;
  let previous = -1;
  for (let index = 0; index < body.length; index++) {
    const code = body.charCodeAt(index);
    const cls = classOf(code);
    if (cls === 0) digit = true;
    else if (cls === 1) upper = true;
    else if (cls === 2) lower = true;
    if (!((code >= 48 && code <= 57) || (code >= 97 && code <= 102) || (code >= 65 && code <= 70))) {
      nonHex = true;
    }
    if (previous !== -1 && cls !== previous) switches++;
    previous = cls;
  }
  if (!(upper && lower && digit && nonHex)) return false;
  if (switches / (body.length - 1) < 0.3) return false;
  // camelCase words (`getUserAccountSettingsById2`): random base62 keeps under 0.75 of its characters
  // in such runs 99.9% of the time at 20 characters (median 0.2); identifiers sit at 0.8 and above.
  let wordy = 0;
  for (const match of allMatches(CAMEL_WORD, body)) wordy += match[0].length;
  if (wordy / body.length >= 0.75) return false;
  return shannonEntropy(body) >= entropyThreshold(body.length);
}

/**
 * The random-looking parts of a token. A token with a `/` that has a word-like segment (`com/join/<id>`
 * in a URL) is judged segment by segment; otherwise as a whole (base64 keys contain `/` too).
 */
function randomSpans(token: string): [number, number][] {
  const segments = token.split('/');
  if (segments.length > 1 && segments.some((segment) => /^(?:[a-z]{1,16}|\d{1,16}|)$/.test(segment))) {
    const spans: [number, number][] = [];
    let offset = 0;
    for (const segment of segments) {
      if (looksRandom(segment)) spans.push([offset, offset + segment.length]);
      offset += segment.length + 1;
    }
    return spans;
  }
  return looksRandom(token) ? [[0, token.length]] : [];
}

function pemEnd(text: string, from: number, label: string): number {
  const marker = `-----END ${label}PRIVATE KEY`;
  const end = text.indexOf(marker, from);
  if (end !== -1) {
    const close = text.indexOf('-----', end + marker.length);
    return close === -1 || close > end + marker.length + 12 ? end + marker.length : close + 5;
  }
  // No END line (cut off): the key runs over the base64 lines that follow.
  const body = /[A-Za-z0-9+/=\r\n\t :-]*/y;
  body.lastIndex = from;
  body.exec(text);
  return body.lastIndex;
}

/** Characters of TOKEN's class (base64, base64url): every key, JWT and token is a run of them. */
export function isTokenChar(code: number): boolean {
  return (
    (code >= 48 && code <= 57) ||
    (code >= 65 && code <= 90) ||
    (code >= 97 && code <= 122) ||
    code === 43 ||
    code === 45 ||
    code === 47 ||
    code === 95
  );
}

/** The longest run of TOKEN characters in `text`. */
function longestTokenRun(text: string): number {
  let longest = 0;
  let run = 0;
  for (let index = 0; index < text.length; index++) {
    if (isTokenChar(text.charCodeAt(index))) {
      run++;
      if (run > longest) longest = run;
    } else run = 0;
  }
  return longest;
}

/**
 * Secrets in `text`, possibly overlapping (the caller resolves overlaps). A detector is skipped when the
 * text lacks what every one of its matches contains (its literal start, a separator, a long enough run of
 * key characters: the shortest prefixed key is 15 of them, `xoxb-` and 10 more; a JWT 11, `eyJ` and 8;
 * an entropy token 20), so short texts cost a few comparisons instead of eighteen regex searches.
 */
export function detectSecrets(text: string): SecretFinding[] {
  const findings: SecretFinding[] = [];
  collectSecrets(text, findings, longestTokenRun(text), text.includes(':') || text.includes('='));
  return findings;
}

/**
 * `detectSecrets`, appending to `out`, for a caller that has read the text already: `run` is its longest
 * run of key characters (`isTokenChar`), `separator` whether it has a `:` or a `=`.
 */
export function collectSecrets(text: string, findings: SecretSink, run: number, separator: boolean): void {
  if (text.includes('-----BEGIN ')) detectPem(text, findings);
  if (run >= 15) {
    for (const { note, pattern } of PREFIXED) {
      for (const match of allMatches(pattern, text)) {
        findings.push({ kind: 'api_key', start: match.index, end: match.index + match[0].length, note });
      }
    }
  }
  if (run >= 11) {
    for (const match of allMatches(JWT, text)) {
      findings.push({
        kind: 'jwt',
        start: match.index,
        end: match.index + match[0].length,
        note: 'JSON Web Token',
      });
    }
  }
  if (separator && SECRET_NAME.test(text)) {
    for (const match of allMatches(ASSIGNED, text)) {
      const value = match[1] ?? '';
      if (PLACEHOLDER.test(value) || /^https?:/i.test(value)) continue;
      const end = match.index + match[0].length;
      findings.push({ kind: 'secret', start: end - value.length, end, note: 'value of a secret-named key' });
    }
  }
  if (text.includes('Bearer')) {
    for (const match of allMatches(BEARER, text)) {
      const value = match[1] ?? '';
      const end = match.index + match[0].length;
      findings.push({ kind: 'secret', start: end - value.length, end, note: 'bearer token' });
    }
  }
  if (run >= 20) {
    for (const match of allMatches(TOKEN, text)) {
      for (const [start, end] of randomSpans(match[0])) {
        findings.push({
          kind: 'secret',
          start: match.index + start,
          end: match.index + end,
          note: 'high-entropy token',
        });
      }
    }
  }
}

function detectPem(text: string, findings: SecretSink): void {
  const begin = PEM_BEGIN_ALL;
  begin.lastIndex = 0;
  for (let match = begin.exec(text); match; match = begin.exec(text)) {
    const start = match.index;
    const end = pemEnd(text, start + match[0].length, match[1] ?? '');
    findings.push({ kind: 'private_key', start, end, note: 'PEM private key block' });
    // The next block starts after this one (a BEGIN inside a block is part of it).
    begin.lastIndex = Math.max(end, start + match[0].length);
  }
  begin.lastIndex = 0;
}
