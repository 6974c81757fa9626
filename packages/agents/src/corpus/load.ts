import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatonError } from '@baton/core';
import { type Corpus, createCorpus } from './corpus.js';
import { type CorpusDocument, parseCorpusMarkdown } from './document.js';

/**
 * Where the bundled documents live. Resolved against this module, so it works from `src/corpus/`
 * (tests, tsx) and from `dist/corpus/` (the published package ships `corpus/` beside both).
 */
export const BUNDLED_CORPUS_URL: URL = new URL('../../corpus/', import.meta.url);

/**
 * Reads every `*.md` file of a directory as a corpus document (sorted by file name, so the corpus is
 * the same on every machine). A missing directory or a broken document throws a CONFIG_INVALID
 * BatonError that names the file and the problem.
 */
export function loadCorpusDirectory(directory: string | URL): Corpus {
  const path = typeof directory === 'string' ? directory : fileURLToPath(directory);
  let files: string[];
  try {
    files = readdirSync(path)
      .filter((name) => name.endsWith('.md'))
      .sort();
  } catch (error) {
    throw new BatonError('CONFIG_INVALID', `Corpus directory ${path} cannot be read`, {
      cause: error,
      hint: 'Pass a directory of Markdown documents, or build a corpus in memory with createCorpus(documents).',
      details: { directory: path },
    });
  }
  if (files.length === 0) {
    throw new BatonError('CONFIG_INVALID', `Corpus directory ${path} holds no Markdown (*.md) documents`, {
      details: { directory: path },
    });
  }
  const documents: CorpusDocument[] = files.map((name) => {
    const document = parseCorpusMarkdown(readFileSync(join(path, name), 'utf8'), name);
    if (`${document.id}.md` !== name) {
      throw new BatonError(
        'CONFIG_INVALID',
        `Corpus document ${name} has id "${document.id}": the file must be named ${document.id}.md`,
        {
          details: { source: name, directory: path },
        },
      );
    }
    return document;
  });
  return createCorpus(documents);
}

let bundled: Corpus | undefined;

/**
 * The documents Baton ships with: a few dozen short, original notes on running AI agents in production
 * (budgets, timeouts, retries, idempotency, tracing, prompt injection, NATS, team patterns, ...).
 * Loaded once, on first use.
 */
export function bundledCorpus(): Corpus {
  bundled ??= loadCorpusDirectory(BUNDLED_CORPUS_URL);
  return bundled;
}
