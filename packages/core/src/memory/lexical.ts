/**
 * BM25 lexical recall for stores without a search engine of their own (in-memory, NATS KV). MiniSearch
 * because it is small, dependency-free, maintained, ranks with BM25+, tokenizes Unicode text, matches
 * prefixes and typos, and removes documents incrementally — which erasure needs: `remove` drops a
 * document's terms at once, where `discard` would leave them in the index until a vacuum.
 */
import MiniSearch from 'minisearch';

interface LexicalDocument {
  id: string;
  key: string;
  value: string;
}

export interface LexicalMatch {
  id: string;
  /** BM25+ score; comparable within one query only. */
  score: number;
}

// English function words: they match nearly every memory and would let "the" outrank the real subject.
const STOP_WORDS = new Set(
  (
    'a an and are as at be been but by can could did do does for from had has have how i if in into is it its ' +
    'me my of on or our she should so than that the their them then there these they this to us was we were ' +
    'what when where which who whom why will with would you your'
  ).split(' '),
);

function processTerm(term: string): string | null {
  const lower = term.toLocaleLowerCase();
  return STOP_WORDS.has(lower) ? null : lower;
}

/** One index per namespace: BM25 statistics of one user never shift the ranking of another's. */
export class LexicalIndex {
  private readonly index = new MiniSearch<LexicalDocument>({
    fields: ['key', 'value'],
    processTerm,
    searchOptions: {
      boost: { value: 2 },
      combineWith: 'OR',
      // Prefixes of 4+ letters find "prefers" for "prefer"; typos only in long words, where they are rare.
      prefix: (term) => term.length >= 4,
      fuzzy: (term) => (term.length >= 7 ? 0.15 : false),
    },
  });
  private readonly documents = new Map<string, LexicalDocument>();

  get size(): number {
    return this.documents.size;
  }

  has(id: string): boolean {
    return this.documents.has(id);
  }

  /** Indexes `key` and `value` under `id`, replacing what `id` had. */
  set(id: string, key: string, value: string): void {
    this.remove(id);
    const document = { id, key, value };
    this.index.add(document);
    this.documents.set(id, document);
  }

  remove(id: string): boolean {
    const document = this.documents.get(id);
    if (document === undefined) return false;
    this.index.remove(document);
    this.documents.delete(id);
    return true;
  }

  /** Every document sharing a searchable word with `query`, best first. */
  search(query: string): LexicalMatch[] {
    if (query.trim() === '' || this.documents.size === 0) return [];
    return this.index.search(query).map((result) => ({ id: String(result.id), score: result.score }));
  }
}
