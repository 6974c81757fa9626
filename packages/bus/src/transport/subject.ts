import { BatonError } from '@baton/core';

/** True when a subscription subject (with `*` / `>` wildcards) matches a concrete subject. */
export function subjectMatches(pattern: string[], subject: string[]): boolean {
  const count = pattern.length;
  for (let index = 0; index < count; index++) {
    const token = pattern[index];
    if (token === '>') return subject.length > index;
    if (index >= subject.length) return false;
    if (token !== '*' && token !== subject[index]) return false;
  }
  return subject.length === count;
}

export function hasWildcard(subject: string): boolean {
  return subject.includes('*') || subject.includes('>');
}

const BAD_CHARS = /[\s\0]/;

/** Concrete subjects already checked: a hot subject is validated once, then looked up. */
const known = new Set<string>();
const KNOWN_LIMIT = 10_000;

/** Subjects are dot-separated non-empty tokens without whitespace; only subscriptions may use wildcards. */
export function checkSubject(subject: string, allowWildcards: boolean): void {
  if (known.has(subject)) return;
  validate(subject, allowWildcards);
  if (!allowWildcards) {
    if (known.size >= KNOWN_LIMIT) known.clear();
    known.add(subject);
  }
}

function validate(subject: string, allowWildcards: boolean): void {
  const fail = (why: string): never => {
    throw new BatonError('CONFIG_INVALID', `Invalid subject ${JSON.stringify(subject)}: ${why}`);
  };
  if (typeof subject !== 'string' || subject.length === 0) fail('empty');
  if (BAD_CHARS.test(subject)) fail('contains whitespace');
  const tokens = subject.split('.');
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index] as string;
    if (token.length === 0) fail('empty token');
    if (token.includes('*') || token.includes('>')) {
      if (!allowWildcards) fail('wildcards are only allowed in subscriptions');
      if (token.length > 1) fail(`"${token}" mixes a wildcard with other characters`);
      if (token === '>' && index !== tokens.length - 1) fail('">" must be the last token');
    }
  }
}
