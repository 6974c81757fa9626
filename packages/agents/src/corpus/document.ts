import { BatonError } from '@baton/core';
import { z } from 'zod';

/** Lower-case words joined by hyphens: stable, readable ids that models copy without mistakes. */
export const DOCUMENT_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export const corpusDocumentSchema = z.object({
  id: z
    .string()
    .regex(DOCUMENT_ID, 'an id is lower-case words joined by "-" (e.g. "retries-and-backoff")')
    .max(80),
  title: z.string().trim().min(1).max(200),
  tags: z.array(z.string().trim().min(1).max(40)).max(20).default([]),
  text: z.string().trim().min(1, 'a document needs a body'),
});

/** One document of a corpus: what `read_document` returns. */
export type CorpusDocument = z.output<typeof corpusDocumentSchema>;
/** What `createCorpus` accepts (tags optional). */
export type CorpusDocumentInput = z.input<typeof corpusDocumentSchema>;

const FRONT_MATTER = /^---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;

/**
 * Reads a Markdown document with a small front-matter block:
 *
 * ```md
 * ---
 * id: retries-and-backoff
 * title: Retries with exponential backoff and jitter
 * tags: [retries, backoff]
 * ---
 * Body text…
 * ```
 *
 * Only `key: value` lines and `[a, b]` lists are understood (the corpus needs no more of YAML).
 */
export function parseCorpusMarkdown(markdown: string, source = 'document'): CorpusDocument {
  const match = FRONT_MATTER.exec(markdown.replace(/^\uFEFF/, ''));
  if (!match) {
    throw corpusError(
      source,
      'it does not start with a front-matter block ("---" lines around id, title, tags)',
    );
  }
  const fields: Record<string, unknown> = {};
  for (const [index, rawLine] of (match[1] as string).split(/\r?\n/).entries()) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const pair = /^([A-Za-z_][\w-]*)\s*:\s*(.*)$/.exec(line);
    if (!pair)
      throw corpusError(
        source,
        `front-matter line ${index + 1} is not "key: value": ${JSON.stringify(line)}`,
      );
    const key = pair[1] as string;
    if (key in fields) throw corpusError(source, `front-matter key "${key}" appears twice`);
    fields[key] = parseValue(pair[2] as string);
  }
  const known = new Set(['id', 'title', 'tags']);
  const unknown = Object.keys(fields).filter((key) => !known.has(key));
  if (unknown.length > 0) {
    throw corpusError(
      source,
      `unknown front-matter key(s): ${unknown.join(', ')} (allowed: id, title, tags)`,
    );
  }
  return validateDocument({ ...fields, text: markdown.slice(match[0].length + (match.index ?? 0)) }, source);
}

export function validateDocument(value: unknown, source: string): CorpusDocument {
  const parsed = corpusDocumentSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map(
    (issue) => `${issue.path.join('.') || '(document)'}: ${issue.message}`,
  );
  throw corpusError(source, issues.join('; '), { issues });
}

function parseValue(raw: string): unknown {
  const value = raw.trim();
  if (value.startsWith('[') && value.endsWith(']')) {
    const inner = value.slice(1, -1).trim();
    return inner === '' ? [] : inner.split(',').map((item) => unquote(item.trim()));
  }
  return unquote(value);
}

function unquote(value: string): string {
  const quoted = /^(['"])(.*)\1$/.exec(value);
  return quoted ? (quoted[2] as string) : value;
}

export function corpusError(
  source: string,
  problem: string,
  details: Record<string, unknown> = {},
): BatonError {
  return new BatonError('CONFIG_INVALID', `Corpus document ${source} is invalid: ${problem}`, {
    hint: 'Each document is Markdown with a front-matter block giving id, title and tags, then a non-empty body.',
    details: { source, ...details },
  });
}
