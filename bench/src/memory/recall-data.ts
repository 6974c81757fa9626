/**
 * The synthetic memories and queries of `memory.recall`: seeded, so every backend and every run gets the
 * same texts. The words are the bundled corpus's (real English, with its stop words, stems and shared
 * prefixes), drawn by a Zipf law over their rank in the corpus: a few words in most memories, most words
 * in few, so a query matches from a handful to thousands of records.
 */
import { bundledCorpus } from '@baton/agents';
import { seededRandom } from '@baton/core';

export const prng = seededRandom;

/** The corpus's distinct words, most frequent first (ties alphabetical, so the order is stable). */
function vocabulary(): string[] {
  const counts = new Map<string, number>();
  for (const document of bundledCorpus().documents) {
    for (const word of document.text.toLowerCase().match(/[a-z]+/g) ?? []) {
      counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([word]) => word);
}

/** Draws word ranks with P(rank) ∝ 1 / rank^1.07 (inverse CDF over the precomputed cumulative weights). */
function zipf(random: () => number, size: number): () => number {
  const cumulative = new Float64Array(size);
  let total = 0;
  for (let rank = 0; rank < size; rank++) {
    total += 1 / (rank + 1) ** 1.07;
    cumulative[rank] = total;
  }
  return () => {
    const target = random() * total;
    let low = 0;
    let high = size - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((cumulative[middle] as number) < target) low = middle + 1;
      else high = middle;
    }
    return low;
  };
}

export interface RecallMemory {
  key: string;
  value: string;
}

/** `count` memories of 8 to 20 words, keyed `note-<n>`. */
export function memories(count: number): RecallMemory[] {
  const words = vocabulary();
  const random = prng(11);
  const rank = zipf(random, words.length);
  const out: RecallMemory[] = [];
  for (let n = 0; n < count; n++) {
    const length = 8 + Math.floor(random() * 13);
    const text: string[] = [];
    for (let i = 0; i < length; i++) text.push(words[rank()] as string);
    out.push({ key: `note-${n}`, value: text.join(' ') });
  }
  return out;
}

/**
 * Queries of two to four words drawn from the same law, less its 30 most frequent words (function words):
 * what an agent's recall asks about is content, and a query of stop words alone would be a free search.
 */
export function queries(count: number): string[] {
  const words = vocabulary();
  const random = prng(23);
  const rank = zipf(random, words.length);
  const out: string[] = [];
  for (let n = 0; n < count; n++) {
    const length = 2 + Math.floor(random() * 3);
    const text: string[] = [];
    while (text.length < length) {
      const drawn = rank();
      if (drawn >= 30) text.push(words[drawn] as string);
    }
    out.push(text.join(' '));
  }
  return out;
}
