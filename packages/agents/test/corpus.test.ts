import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BUNDLED_CORPUS_URL,
  bundledCorpus,
  corpusDocumentSchema,
  createCorpus,
  loadCorpusDirectory,
  parseCorpusMarkdown,
  readDocumentTool,
  searchCorpusTool,
} from '@baton/agents';
import { BatonError, defineAgent, run, ToolError } from '@baton/core';
import { scriptedModel, toolContext as testToolContext } from '@baton/core/testing';
import { afterAll, describe, expect, it } from 'vitest';

const corpus = bundledCorpus();

function words(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

const toolContext = testToolContext();

describe('bundled corpus', () => {
  it('loads 30–40 valid, original documents of 150–400 words, one file per id', () => {
    const files = readdirSync(fileURLToPath(BUNDLED_CORPUS_URL)).filter((name) => name.endsWith('.md'));
    expect(corpus.size).toBe(files.length);
    expect(corpus.size).toBeGreaterThanOrEqual(30);
    expect(corpus.size).toBeLessThanOrEqual(40);
    for (const document of corpus.documents) {
      expect(corpusDocumentSchema.parse(document)).toEqual(document);
      expect(files).toContain(`${document.id}.md`);
      expect(document.tags.length).toBeGreaterThan(0);
      expect(words(document.text), document.id).toBeGreaterThanOrEqual(150);
      expect(words(document.text), document.id).toBeLessThanOrEqual(400);
    }
    expect(corpus.tags().slice(0, 3)).toEqual(expect.arrayContaining(['multi-agent']));
  });

  it.each([
    ['retry with exponential backoff and jitter', 'retries-and-backoff'],
    ['prompt injection from untrusted tool output', 'prompt-injection'],
    ['dead letter queue', 'dead-letter-queues'],
    ['OpenTelemetry spans', 'tracing-opentelemetry'],
    ['idempotency keys for retried tool calls', 'idempotency'],
    ['NATS queue groups', 'message-buses-nats'],
    ['human approval before destructive actions', 'approval-gates'],
    ['context window summarization', 'context-windows'],
  ])('finds the relevant document for "%s"', (query, expected) => {
    const hits = corpus.search(query, { limit: 3 });
    expect(hits.map((hit) => hit.id)).toContain(expected);
    const top = hits[0];
    expect(top?.score).toBeGreaterThan(0);
    expect(top?.snippet.length).toBeGreaterThan(20);
    expect(top?.snippet.length).toBeLessThanOrEqual(240);
  });

  it('matches prefixes, typos and plurals, and boosts titles', () => {
    expect(corpus.search('idempotncy')[0]?.id).toBe('idempotency');
    expect(corpus.search('budg')[0]?.id).toBe('budgets-and-cost-control');
    expect(corpus.search('timeout').map((hit) => hit.id)).toContain('timeouts-and-cancellation');
    // "debate" is in the title of one document and in the text of several: the title wins.
    expect(corpus.search('debate')[0]?.id).toBe('debate-pattern');
  });

  it('returns the sentence that matches best as the snippet', () => {
    const [hit] = corpus.search('jitter', { limit: 1 });
    expect(hit?.id).toBe('retries-and-backoff');
    expect(hit?.snippet.toLowerCase()).toContain('jitter');
    expect(corpus.get('retries-and-backoff')?.text).toContain(hit?.snippet);
  });
});

describe('search_corpus and read_document', () => {
  const search = searchCorpusTool(corpus);
  const read = readDocumentTool(corpus);

  it('search_corpus returns ids, titles, scores and snippets, limited', async () => {
    const args = search.input.parse({ query: 'loop detection repeated actions', limit: 2 });
    const result = await search.execute(args, toolContext);
    expect(result.results).toHaveLength(2);
    expect(result.results[0]).toMatchObject({
      id: 'loop-detection',
      title: 'Detecting loops and repeated actions',
    });
    expect(search.output?.safeParse(result).success).toBe(true);
  });

  it('search_corpus with nothing matching is an empty result with the topics as a hint', async () => {
    const result = await search.execute(search.input.parse({ query: 'zzqx' }), toolContext);
    expect(result.results).toEqual([]);
    expect(result.note).toContain('No document matches "zzqx"');
    expect(result.note).toContain('multi-agent');
  });

  it('read_document returns the full text', async () => {
    const document = await read.execute({ id: 'approval-gates' }, toolContext);
    expect(document.title).toBe('Approval gates for risky actions');
    expect(document.text).toBe(corpus.get('approval-gates')?.text);
  });

  it('read_document of an unknown id is NOT_FOUND with the closest ids as a hint', async () => {
    const error = await Promise.resolve()
      .then(() => read.execute({ id: 'retry-and-backoff' }, toolContext))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ToolError);
    const toolError = error as ToolError;
    expect(toolError.toolCode).toBe('NOT_FOUND');
    expect(toolError.hint).toMatch(/^Closest ids: retries-and-backoff/);
    expect(toolError.details?.closest).toHaveLength(5);
  });

  it('reaches the model as a NOT_FOUND tool result through the run loop', async () => {
    const model = scriptedModel([
      { toolCalls: [{ name: 'read_document', args: { id: 'dead-letters' } }] },
      'done',
    ]);
    const agent = defineAgent({
      name: 'reader',
      description: 'reads',
      instructions: 'Read.',
      model,
      tools: [read],
    });
    const result = await run(agent, 'read the dead letter document');
    expect(result.status).toBe('completed');
    const record = result.partial.toolResults[0];
    expect(record?.ok).toBe(false);
    expect(record?.error?.code).toBe('NOT_FOUND');
    expect(record?.error?.hint).toContain('dead-letter-queues');
    const toolMessage = model.requests[1]?.messages.find((message) => message.role === 'tool');
    expect(toolMessage?.content).toContain('<untrusted_data source="tool:read_document">');
    expect(toolMessage?.content).toContain('NOT_FOUND');
  });
});

describe('your own documents', () => {
  const directories: string[] = [];
  afterAll(() => {
    for (const directory of directories) rmSync(directory, { recursive: true, force: true });
  });
  function directoryWith(files: Record<string, string>): string {
    const directory = mkdtempSync(join(tmpdir(), 'baton-corpus-'));
    directories.push(directory);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(directory, name), text);
    return directory;
  }

  it('createCorpus indexes documents given in memory', () => {
    const own = createCorpus([
      { id: 'pricing', title: 'Our pricing', text: 'Plans are billed monthly per seat.' },
      {
        id: 'support',
        title: 'Support hours',
        tags: ['help'],
        text: 'Support answers within one business day.',
      },
    ]);
    expect(own.size).toBe(2);
    expect(own.search('billing seats')[0]?.id).toBe('pricing');
    expect(own.get('support')?.tags).toEqual(['help']);
  });

  it('rejects duplicate ids, invalid ids and empty documents with CONFIG_INVALID', () => {
    const duplicate = () =>
      createCorpus([
        { id: 'a-doc', title: 'A', text: 'one' },
        { id: 'a-doc', title: 'B', text: 'two' },
      ]);
    expect(duplicate).toThrow(BatonError);
    expect(duplicate).toThrow(/used by two documents/);
    expect(() => createCorpus([{ id: 'Not An Id', title: 'A', text: 'x' }])).toThrow(/lower-case words/);
    expect(() => createCorpus([{ id: 'empty', title: 'A', text: '  ' }])).toThrow(/needs a body/);
    expect(() => createCorpus([])).toThrow(/at least one document/);
  });

  it('parses front-matter and names the broken part', () => {
    const document = parseCorpusMarkdown('---\nid: x-y\ntitle: "X and Y"\ntags: [a, b]\n---\n\nBody.\n');
    expect(document).toEqual({ id: 'x-y', title: 'X and Y', tags: ['a', 'b'], text: 'Body.' });
    expect(() => parseCorpusMarkdown('no front matter', 'n.md')).toThrow(
      /n\.md is invalid: it does not start/,
    );
    expect(() => parseCorpusMarkdown('---\nid: a\ntitle: A\nauthor: me\n---\nx', 'a.md')).toThrow(
      /unknown front-matter key/,
    );
    expect(() => parseCorpusMarkdown('---\nid: a\n---\nx', 'a.md')).toThrow(/title/);
  });

  it('loadCorpusDirectory reads a folder and fails clearly on a broken document', () => {
    const good = directoryWith({
      'alpha.md': '---\nid: alpha\ntitle: Alpha\ntags: [greek]\n---\nThe first letter.\n',
      'beta.md': '---\nid: beta\ntitle: Beta\n---\nThe second letter.\n',
      'notes.txt': 'ignored',
    });
    expect(loadCorpusDirectory(good).documents.map((d) => d.id)).toEqual(['alpha', 'beta']);

    const broken = directoryWith({ 'alpha.md': '---\nid: alpha\ntitle:\n---\nText\n' });
    let error: unknown;
    try {
      loadCorpusDirectory(broken);
    } catch (caught) {
      error = caught;
    }
    expect(BatonError.is(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as BatonError).message).toContain('alpha.md');
    expect((error as BatonError).message).toContain('title');

    const misnamed = directoryWith({ 'gamma.md': '---\nid: delta\ntitle: Delta\n---\nText\n' });
    expect(() => loadCorpusDirectory(misnamed)).toThrow(/must be named delta\.md/);
    expect(() => loadCorpusDirectory(join(good, 'missing'))).toThrow(/cannot be read/);
  });
});
