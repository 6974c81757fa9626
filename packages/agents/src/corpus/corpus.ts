import { BatonError } from '@baton/core';
import MiniSearch from 'minisearch';
import { clip, editDistance, isStopWord, keywords, sentences, stem } from '../text.js';
import { type CorpusDocument, type CorpusDocumentInput, corpusError, validateDocument } from './document.js';

export interface SearchHit {
  id: string;
  title: string;
  /** MiniSearch BM25+ score (title and tags boosted); only comparable within one query. */
  score: number;
  /** The sentence that best matches the query, cut to ~240 characters. */
  snippet: string;
  tags: string[];
}

export interface CorpusSearchOptions {
  /** Most hits returned; default 5. */
  limit?: number;
}

/** A searchable, read-only set of documents. */
export interface Corpus {
  readonly size: number;
  readonly documents: readonly CorpusDocument[];
  has(id: string): boolean;
  get(id: string): CorpusDocument | undefined;
  /** Full-text search: fuzzy and prefix matching, title and tags boosted; best first. */
  search(query: string, options?: CorpusSearchOptions): SearchHit[];
  /** Ids that look like `id` (edit distance, then shared words), for "did you mean" hints. */
  closestIds(id: string, limit?: number): string[];
  /** Every tag, most used first: what the corpus is about. */
  tags(): string[];
}

const SNIPPET_CHARS = 240;

/**
 * Builds a corpus from documents (the bundled ones, or your own). Every document is validated; a
 * duplicate id or an invalid document throws a CONFIG_INVALID BatonError naming it.
 */
export function createCorpus(documents: readonly CorpusDocumentInput[]): Corpus {
  if (!Array.isArray(documents)) {
    throw new BatonError(
      'CONFIG_INVALID',
      'createCorpus(documents): "documents" must be an array of documents',
    );
  }
  const byId = new Map<string, CorpusDocument>();
  for (const [index, input] of documents.entries()) {
    const source = typeof input?.id === 'string' ? `"${input.id}"` : `#${index}`;
    const document = validateDocument(input, source);
    if (byId.has(document.id)) throw corpusError(source, `the id "${document.id}" is used by two documents`);
    byId.set(
      document.id,
      Object.freeze({ ...document, tags: Object.freeze([...document.tags]) as string[] }),
    );
  }
  if (byId.size === 0) {
    throw new BatonError('CONFIG_INVALID', 'createCorpus(documents): a corpus needs at least one document');
  }

  const index = new MiniSearch<CorpusDocument>({
    idField: 'id',
    fields: ['title', 'tags', 'text'],
    extractField: (document, field) => {
      const value = document[field as keyof CorpusDocument];
      return Array.isArray(value) ? value.join(' ') : value;
    },
    processTerm: normalizeTerm,
    searchOptions: {
      boost: { title: 3, tags: 2 },
      prefix: (term) => term.length >= 4,
      fuzzy: (term) => (term.length >= 5 ? 0.2 : false),
      combineWith: 'OR',
    },
  });
  const all = [...byId.values()];
  index.addAll(all);
  const tagCounts = new Map<string, number>();
  for (const document of all)
    for (const tag of document.tags) tagCounts.set(tag, (tagCounts.get(tag) ?? 0) + 1);

  const search = (query: string, options: CorpusSearchOptions = {}): SearchHit[] => {
    const limit = Math.max(1, Math.min(options.limit ?? 5, 50));
    const terms = keywords(query);
    return index
      .search(query)
      .slice(0, limit)
      .map((result) => {
        const document = byId.get(String(result.id)) as CorpusDocument;
        return {
          id: document.id,
          title: document.title,
          score: Math.round(result.score * 1000) / 1000,
          snippet: bestSnippet(document.text, terms),
          tags: [...document.tags],
        };
      });
  };

  return Object.freeze({
    size: byId.size,
    documents: Object.freeze(all),
    has: (id: string) => byId.has(id),
    get: (id: string) => byId.get(id),
    search,
    closestIds: (id: string, limit = 5) => closestIds(id, [...byId.keys()], search, limit),
    tags: () =>
      [...tagCounts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([tag]) => tag),
  });
}

function normalizeTerm(term: string): string | null {
  const lower = term.toLowerCase();
  if (lower.length < 2 || isStopWord(lower)) return null;
  return stem(lower);
}

function bestSnippet(text: string, terms: readonly string[]): string {
  const candidates = sentences(text);
  let best = candidates[0] ?? text;
  let bestScore = 0;
  for (const sentence of candidates) {
    const words = new Set(keywords(sentence));
    let score = 0;
    for (const term of terms)
      if (words.has(term) || [...words].some((word) => word.startsWith(term))) score++;
    if (score > bestScore) {
      best = sentence;
      bestScore = score;
    }
  }
  return clip(best, SNIPPET_CHARS);
}

function closestIds(
  id: string,
  ids: readonly string[],
  search: (query: string, options?: CorpusSearchOptions) => SearchHit[],
  limit: number,
): string[] {
  const wanted = id.toLowerCase().trim();
  const byDistance = ids
    .map((candidate) => ({ candidate, distance: editDistance(wanted, candidate) }))
    .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate));
  const near = byDistance
    .filter(({ distance }) => distance <= Math.max(2, Math.floor(wanted.length * 0.35)))
    .map(({ candidate }) => candidate);
  const related =
    wanted === '' ? [] : search(wanted.replace(/[-_./]+/g, ' '), { limit }).map((hit) => hit.id);
  const rest = byDistance.map(({ candidate }) => candidate);
  return [...new Set([...near, ...related, ...rest])].slice(0, limit);
}
