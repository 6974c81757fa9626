import {
  type Finding,
  type ResearchFindings,
  type ResearchRequest,
  researchRequestSchema,
  type SourceRef,
} from '../../contracts.js';
import { clip, countWord, isStopWord, keywords, sentences, tokenize, wordCount } from '../../text.js';
import { READ_DOCUMENT, SEARCH_CORPUS } from '../../tools/corpus-tools.js';
import { WEB_SEARCH } from '../../tools/web-search.js';
import { findInput, okResults, taskText } from '../conversation.js';
import { finalAnswer, OFFLINE_LABEL, type OfflineTurn, type TurnContext } from '../turn.js';
import { researchPlan } from './researcher-plan.js';

const MAX_QUERIES = 5;
const MAX_READS = 5;
const MAX_FINDINGS = 8;
const PER_DOCUMENT = 2;
/** Hits whose combined relative score is below this are not worth reading unless a query ranks them first. */
const RELEVANT_WEIGHT = 0.3;
/** Documents at least this relevant (or first for some query) may give two findings. */
const STRONG_WEIGHT = 0.6;

/** One search: the words typed, and how much its ranking counts (topic 1, facet 0.8, question 0.6). */
export interface PlannedQuery {
  query: string;
  weight: number;
}

interface Hit {
  id: string;
  title: string;
  snippet: string;
  /** Sum over queries of the query's weight times the hit's score relative to that query's best hit. */
  weight: number;
  /** True when some query ranked it first. */
  leads: boolean;
}

interface ReadDocument {
  id: string;
  title: string;
  text: string;
}

/**
 * The offline researcher: search the corpus with the topic's keywords (also each facet of a topic
 * that lists several, and each question), read the best documents, then answer with findings that
 * quote the documents' own sentences.
 */
export function researcherTurn(context: TurnContext): OfflineTurn {
  // A plan-execute researcher is first asked for a plan (and for a new one when a step fails).
  if (context.request.responseSchema?.name === 'plan') return researchPlan(context);
  const request = readRequest(context);
  const called = (tool: string) => context.exchanges.some((exchange) => exchange.call.name === tool);
  const plan = searchQueries(request);

  if (context.tools.has(SEARCH_CORPUS) && !called(SEARCH_CORPUS)) {
    const toolCalls: NonNullable<OfflineTurn['toolCalls']> = plan.map(({ query }) => ({
      name: SEARCH_CORPUS,
      args: { query, limit: 5 },
    }));
    if (context.tools.has(WEB_SEARCH) && !called(WEB_SEARCH)) {
      toolCalls.push({ name: WEB_SEARCH, args: { query: request.topic, limit: 3 } });
    }
    return { toolCalls };
  }

  const { hits, leaders } = rankHits(context, plan);
  if (context.tools.has(SEARCH_CORPUS) && hits.length === 0 && searchRounds(context) === 1) {
    // Nothing matched the phrases: try the topic's words one by one before giving up.
    const tried = new Set(plan.map(({ query }) => query));
    const broader = contentWords(request.topic)
      .split(' ')
      .filter((word) => word.length > 2 && !tried.has(word))
      .slice(0, 3);
    if (broader.length > 0) {
      return { toolCalls: broader.map((query) => ({ name: SEARCH_CORPUS, args: { query, limit: 3 } })) };
    }
  }
  if (context.tools.has(READ_DOCUMENT) && !called(READ_DOCUMENT) && hits.length > 0) {
    return {
      toolCalls: pickReads(hits, leaders, plan.length).map((hit) => ({
        name: READ_DOCUMENT,
        args: { id: hit.id },
      })),
    };
  }

  return finalAnswer(context, compose(request, context, hits));
}

function searchRounds(context: TurnContext): number {
  return context.messages.filter(
    (message) =>
      message.role === 'assistant' && message.toolCalls?.some((call) => call.name === SEARCH_CORPUS),
  ).length;
}

export function readRequest(context: TurnContext): ResearchRequest {
  const input = findInput(context.messages, researchRequestSchema, (text) => ({ topic: clip(text, 500) }));
  return input ?? { topic: clip(taskText(context.messages), 500) || 'the task' };
}

/**
 * What a person would type into a search box: the topic's content words; each facet of a topic that
 * lists several ("timeouts, retries and idempotency"); each question.
 */
export function searchQueries(request: ResearchRequest): PlannedQuery[] {
  const facets = request.topic.split(/,|;|\/|\band\b|&|\bvs\.?\b|\bversus\b/i);
  const planned: PlannedQuery[] = [
    { query: contentWords(request.topic), weight: 1 },
    ...(facets.length > 1 ? facets.map((facet) => ({ query: contentWords(facet), weight: 0.8 })) : []),
    ...(request.questions ?? []).map((question) => ({ query: contentWords(question), weight: 0.6 })),
  ];
  const seen = new Set<string>();
  return planned
    .filter(({ query }) => {
      if (query === '' || seen.has(query)) return false;
      seen.add(query);
      return true;
    })
    .slice(0, MAX_QUERIES);
}

export function contentWords(text: string): string {
  return tokenize(text)
    .filter((word) => word.length > 1 && !isStopWord(word))
    .join(' ');
}

type SearchData = { results?: { id: string; title: string; score: number; snippet: string }[] };

/** Hits by combined relevance, and the first hit of each query in query order. */
function rankHits(context: TurnContext, plan: readonly PlannedQuery[]): { hits: Hit[]; leaders: Hit[] } {
  const weights = new Map(plan.map(({ query, weight }) => [query, weight]));
  const hits = new Map<string, Hit>();
  const leaders: string[] = [];
  for (const { call, data } of okResults(context.exchanges, SEARCH_CORPUS)) {
    const query = (call.arguments as { query?: unknown }).query;
    const weight = typeof query === 'string' ? (weights.get(query) ?? 0.6) : 0.6;
    const results = (data as SearchData).results ?? [];
    const best = Math.max(...results.map((result) => result.score), Number.EPSILON);
    for (const [index, result] of results.entries()) {
      const hit = hits.get(result.id) ?? { ...pickHit(result), weight: 0, leads: false };
      hit.weight += (weight * result.score) / best;
      if (index === 0) {
        hit.leads = true;
        leaders.push(hit.id);
      }
      hits.set(result.id, hit);
    }
  }
  const ranked = [...hits.values()].sort((a, b) => b.weight - a.weight || a.id.localeCompare(b.id));
  return { hits: ranked, leaders: [...new Set(leaders)].map((id) => hits.get(id) as Hit) };
}

function pickHit(result: {
  id: string;
  title: string;
  snippet: string;
}): Pick<Hit, 'id' | 'title' | 'snippet'> {
  return { id: result.id, title: result.title, snippet: result.snippet };
}

/** Each query's best hit, then the most relevant of the rest, up to four (five with several queries). */
function pickReads(hits: readonly Hit[], leaders: readonly Hit[], queries: number): Hit[] {
  const wanted = Math.min(MAX_READS, Math.max(4, queries));
  const picked = [...leaders].slice(0, wanted);
  for (const hit of hits) {
    if (picked.length >= wanted) break;
    if (!picked.includes(hit) && hit.weight >= RELEVANT_WEIGHT) picked.push(hit);
  }
  return picked;
}

interface Quote {
  rank: number;
  position: number;
  claim: string;
  source: string;
}

function compose(request: ResearchRequest, context: TurnContext, hits: readonly Hit[]): ResearchFindings {
  const documents: ReadDocument[] = okResults(context.exchanges, READ_DOCUMENT).map(
    ({ data }) => data as ReadDocument,
  );
  // Without read_document (or when every read failed) the snippets are all the model has seen.
  const material: ReadDocument[] =
    documents.length > 0
      ? documents
      : hits.slice(0, 4).map((hit) => ({ id: hit.id, title: hit.title, text: hit.snippet }));
  const topicWords = keywords(request.topic);
  const questionWords = (request.questions ?? []).map(keywords);
  const picks: Quote[] = [];
  const taken = new Set<string>();

  const strong = new Set(hits.filter((hit) => hit.leads || hit.weight >= STRONG_WEIGHT).map((hit) => hit.id));
  for (const [rank, document] of material.entries()) {
    // A document no query ranked first, and only loosely relevant, contributes one sentence.
    // With few documents read, each strong one gives more, so the findings still make a draft.
    const quota = strong.has(document.id) ? Math.max(PER_DOCUMENT, Math.floor(6 / material.length)) : 1;
    const scored = candidateSentences(document.text).map(({ sentence, position }) => ({
      sentence,
      position,
      score:
        overlap(sentence, topicWords) * 2 +
        questionWords.reduce((sum, words) => sum + overlap(sentence, words), 0),
    }));
    const relevant = scored
      .filter((candidate) => candidate.score > 0)
      .sort((a, b) => b.score - a.score || a.position - b.position);
    const chosen = (relevant.length > 0 ? relevant : scored).slice(0, relevant.length > 0 ? quota : 1);
    for (const { sentence, position } of chosen) {
      picks.push({ rank, position, claim: sentence, source: document.id });
      taken.add(sentence);
    }
  }
  // Every question gets its best-matching sentence, even from a document already quoted.
  for (const words of questionWords) {
    let best: Quote | undefined;
    let bestScore = 0;
    for (const [rank, document] of material.entries()) {
      for (const { sentence, position } of candidateSentences(document.text)) {
        const score = overlap(sentence, words);
        if (score > bestScore && !taken.has(sentence)) {
          best = { rank, position, claim: sentence, source: document.id };
          bestScore = score;
        }
      }
    }
    if (best) {
      picks.push(best);
      taken.add(best.claim);
    }
  }
  picks.sort((a, b) => a.rank - b.rank || a.position - b.position);
  const findings: Finding[] = picks
    .slice(0, MAX_FINDINGS)
    .map((pick) => ({ claim: pick.claim, sources: [pick.source] }));
  findings.push(...webFindings(context, findings.length));

  const titles = new Map<string, SourceRef>(
    material.map((document) => [document.id, { id: document.id, title: document.title }]),
  );
  for (const source of webSources(context)) titles.set(source.id, source);
  const cited = [...new Set(findings.flatMap((finding) => finding.sources))];
  const sources = cited.map((id) => titles.get(id) ?? { id, title: id });
  return { topic: request.topic, summary: summarize(request, findings, sources), findings, sources };
}

/** Sentences that stand on their own as a quoted claim. */
function candidateSentences(text: string): { sentence: string; position: number }[] {
  return sentences(text)
    .map((sentence, position) => ({ sentence, position }))
    .filter(({ sentence }) => {
      const words = wordCount(sentence);
      return (
        words >= 8 &&
        words <= 45 &&
        !sentence.endsWith('?') &&
        // A sentence that leans on the one before it ("Most of these failures...") does not stand alone.
        !/^(it|that|they|such|both|here|there)\b/i.test(sentence) &&
        !/^(?:\S+\s+){0,3}(this|these|those)\b/i.test(sentence)
      );
    });
}

function overlap(sentence: string, words: readonly string[]): number {
  const present = new Set(keywords(sentence));
  return words.filter((word) => present.has(word)).length;
}

interface WebResult {
  title: string;
  url: string;
  snippet: string;
}

function webResults(context: TurnContext): WebResult[] {
  return okResults(context.exchanges, WEB_SEARCH).flatMap(
    ({ data }) => (data as { results?: WebResult[] }).results ?? [],
  );
}

function webFindings(context: TurnContext, already: number): Finding[] {
  return webResults(context)
    .filter((result) => result.snippet.trim() !== '')
    .slice(0, Math.max(0, Math.min(2, MAX_FINDINGS + 2 - already)))
    .map((result) => ({
      claim: clip(sentences(result.snippet)[0] ?? result.snippet, 400),
      sources: [result.url],
    }));
}

function webSources(context: TurnContext): SourceRef[] {
  return webResults(context).map((result) => ({ id: result.url, title: result.title, url: result.url }));
}

function summarize(
  request: ResearchRequest,
  findings: readonly Finding[],
  sources: readonly SourceRef[],
): string {
  if (findings.length === 0) {
    return `${OFFLINE_LABEL}: no document in the corpus matched "${request.topic}", so there are no findings. Try other keywords or a corpus that covers the topic.`;
  }
  const lead = sources
    .slice(0, 3)
    .map((source) => `“${source.title}”`)
    .join(', ');
  const parts = [
    `${OFFLINE_LABEL}: ${countWord(findings.length)} finding${findings.length === 1 ? '' : 's'} on "${request.topic}", quoted verbatim from ${countWord(sources.length)} source${sources.length === 1 ? '' : 's'}, led by ${lead}.`,
  ];
  const unanswered = (request.questions ?? []).filter((question) => {
    const words = keywords(question);
    return !findings.some((finding) => overlap(finding.claim, words) > 0);
  });
  if (unanswered.length > 0) parts.push(`No passage matched: ${unanswered.map((q) => `"${q}"`).join(', ')}.`);
  return clip(parts.join(' '), 2000);
}
