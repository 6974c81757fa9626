import { defineTool, type Tool, ToolError } from '@baton/core';
import { z } from 'zod';
import type { Corpus } from '../corpus/corpus.js';

export const SEARCH_CORPUS = 'search_corpus';
export const READ_DOCUMENT = 'read_document';

const searchInput = z.object({
  query: z.string().trim().min(1).max(500).describe('Keywords or a short question'),
  limit: z.number().int().min(1).max(20).default(5).describe('Most results to return (1–20)'),
});

const hitSchema = z.object({
  id: z.string(),
  title: z.string(),
  score: z.number(),
  snippet: z.string(),
  tags: z.array(z.string()),
});

const searchOutput = z.object({
  query: z.string(),
  results: z.array(hitSchema),
  note: z.string().optional(),
});
export type SearchCorpusInput = z.input<typeof searchInput>;
export type SearchCorpusOutput = z.output<typeof searchOutput>;

/**
 * `search_corpus`: full-text search (MiniSearch, fuzzy and prefix matching, titles boosted) returning
 * ids, titles, scores and the best-matching sentence of each document. No match is an empty result
 * with a note listing the corpus's topics, so the model can broaden its query.
 */
export function searchCorpusTool(corpus: Corpus): Tool<z.output<typeof searchInput>, SearchCorpusOutput> {
  const topics = corpus.tags().slice(0, 20).join(', ');
  return defineTool({
    name: SEARCH_CORPUS,
    description:
      'Search the document corpus. Returns the best-matching documents (id, title, score, a matching sentence). ' +
      'Use a few specific keywords; then call read_document with an id to read a document in full before citing it.',
    input: searchInput,
    output: searchOutput,
    risk: 'read',
    timeoutMs: 5_000,
    // The corpus reads the same for every user: one cached result serves the whole tenant.
    cache: { ttlMs: 60_000, max: 200, scope: 'tenant' },
    execute: ({ query, limit }) => {
      const results = corpus.search(query, { limit });
      if (results.length === 0) {
        // A search that ran and found nothing succeeded: say so plainly, with a way forward.
        return {
          query,
          results,
          note: `No document matches "${query}". Try fewer or broader keywords. The corpus covers: ${topics}.`,
        };
      }
      return { query, results };
    },
  });
}

const readInput = z.object({
  id: z.string().trim().min(1).max(200).describe('A document id from search_corpus results'),
});

const readOutput = z.object({
  id: z.string(),
  title: z.string(),
  tags: z.array(z.string()),
  text: z.string(),
});
export type ReadDocumentOutput = z.output<typeof readOutput>;

/**
 * `read_document`: the full text of one document. An unknown id is a NOT_FOUND tool error whose hint
 * lists the closest ids, so a mistyped id costs one step, not a new search.
 */
export function readDocumentTool(corpus: Corpus): Tool<z.output<typeof readInput>, ReadDocumentOutput> {
  return defineTool({
    name: READ_DOCUMENT,
    description:
      'Read one document of the corpus in full, by the id that search_corpus returned. Read a document before citing it.',
    input: readInput,
    output: readOutput,
    risk: 'read',
    timeoutMs: 5_000,
    cache: { ttlMs: 60_000, max: 200, scope: 'tenant' },
    execute: ({ id }) => {
      const document = corpus.get(id);
      if (!document) {
        const closest = corpus.closestIds(id, 5);
        throw new ToolError('NOT_FOUND', `No document has the id "${id}".`, {
          hint: `Closest ids: ${closest.join(', ')}. Use an id exactly as search_corpus returned it.`,
          details: { id, closest },
        });
      }
      return { id: document.id, title: document.title, tags: [...document.tags], text: document.text };
    },
  });
}
