import { countTokens } from '@baton/core';

/**
 * Shrinks a handoff to at most `maxTokens` tokens (of its JSON) while keeping its shape: the longest text
 * fields are cut first, each marked with an ellipsis, so a typed handoff stays valid for its contract and
 * the next member gets the gist of everything instead of the whole of some of it.
 */
export async function fitToTokens<T>(
  value: T,
  maxTokens: number,
): Promise<{ value: T; compacted: boolean; tokens: number }> {
  let tokens = await countTokens(JSON.stringify(value) ?? '');
  if (tokens <= maxTokens) return { value, compacted: false, tokens };
  let current: unknown = structuredClone(value);
  for (let attempt = 0; attempt < 24 && tokens > maxTokens; attempt++) {
    const longest = longestString(current);
    if (!longest || longest.length <= 16) break;
    const keep = Math.max(16, Math.floor(longest.length * Math.min(0.7, maxTokens / tokens)));
    current = replaceString(current, longest, `${longest.slice(0, keep - 1).trimEnd()}…`);
    tokens = await countTokens(JSON.stringify(current) ?? '');
  }
  return { value: current as T, compacted: true, tokens };
}

function longestString(value: unknown): string | undefined {
  let best: string | undefined;
  const visit = (node: unknown): void => {
    if (typeof node === 'string') {
      if (best === undefined || node.length > best.length) best = node;
    } else if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') Object.values(node).forEach(visit);
  };
  visit(value);
  return best;
}

function replaceString(value: unknown, target: string, replacement: string): unknown {
  if (value === target) return replacement;
  if (Array.isArray(value)) return value.map((item) => replaceString(item, target, replacement));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, replaceString(item, target, replacement)]),
    );
  }
  return value;
}
