/**
 * The research workload of `memory.p6`: the researcher agent of @baton/agents (its instructions, tools,
 * output contract and required tool) researching ten questions over the bundled corpus, one search and
 * one read per question — 20+ model steps. The model playing it is rule-based and deterministic (not an
 * LLM) and reads only what it is sent: what it knows at the end is what survived in its context.
 */
import {
  type Corpus,
  READ_DOCUMENT,
  type ResearchFindings,
  type ResearchRequest,
  researchRequestSchema,
  SEARCH_CORPUS,
} from '@baton/agents';
import {
  type Message,
  type ModelRequest,
  type ModelResponse,
  parseToolResult,
  SCRATCHPAD_TOOL,
  type ToolCall,
  unwrapUntrusted,
} from '@baton/core';
import { bestSentence, keywords, sentencesOf } from './meter.js';

export const RESEARCH_REQUEST: ResearchRequest = {
  topic: 'Running AI agents in production',
  questions: [
    'How should approval gates treat risky tool actions?',
    'What belongs in a dead-letter queue?',
    'How are deadlines propagated across processes?',
    'Why do tool calls need idempotency keys?',
    'What does a kill switch stop?',
    'How should untrusted tool output be handled against prompt injection?',
    'How do retries use exponential backoff and jitter?',
    'How are loops and repeated actions detected?',
    'Which spans and attributes should tracing with OpenTelemetry record?',
    'How are tokens counted to price model calls?',
  ],
};

/** What each question should be answered with: the document its search leads to and the fact in it. */
export interface PlannedAnswer {
  question: string;
  id: string;
  title: string;
  fact: string;
}

export const queryOf = (question: string) => keywords(question).join(' ');

/**
 * The answers a model that forgets nothing gives: per question, the first search hit not read yet, and
 * the sentence of that document that best answers the question. Found at steps 2, 4, 6, …: a final
 * answer that has them all kept facts from its earliest steps.
 */
export function plannedAnswers(corpus: Corpus, request: ResearchRequest = RESEARCH_REQUEST): PlannedAnswer[] {
  const read = new Set<string>();
  const answers: PlannedAnswer[] = [];
  for (const question of request.questions ?? []) {
    const hit = corpus.search(queryOf(question), { limit: 5 }).find((candidate) => !read.has(candidate.id));
    const document = hit && corpus.get(hit.id);
    if (!document) continue;
    read.add(document.id);
    const fact = bestSentence(document.text, question);
    if (fact) answers.push({ question, id: document.id, title: document.title, fact });
  }
  return answers;
}

/** A fact as the model keeps it, in a note or a summary line: `Q<n> | <id> | <title> | <sentence>`. */
const FACT_LINE = /^Q(\d+) \| ([^|]+) \| ([^|]+) \| (.+)$/;
const factLine = (question: number, id: string, title: string, sentence: string) =>
  `Q${question} | ${id} | ${title} | ${sentence}`;

interface Seen {
  request: ResearchRequest;
  /** Fact lines from notes (tool calls in view, the re-injected scratchpad) and from summaries. */
  facts: string[];
  /** Documents whose full text is in view, by id. */
  documents: Map<string, { title: string; text: string }>;
  /** Question number → document read for it, as the model's own step texts say. */
  readFor: Map<number, string>;
  last: { text: string; calls: ToolCall[]; results: Map<string, unknown> } | undefined;
}

function see(messages: readonly Message[]): Seen {
  const firstUser = messages.find((message) => message.role === 'user')?.content ?? '{}';
  const request = researchRequestSchema.parse(JSON.parse(firstUser));
  const facts: string[] = [];
  const documents = new Map<string, { title: string; text: string }>();
  const readFor = new Map<number, string>();
  let last: Seen['last'];
  for (const message of messages) {
    if (message.role === 'user') {
      // The pipeline's notes: the scratchpad (a list of notes) and the summary (lines of text).
      for (const block of message.content.split('<untrusted_data').slice(1)) {
        const value = unwrapUntrusted(`<untrusted_data${block}`)?.value;
        if (Array.isArray(value)) facts.push(...value.map(String));
        else if (typeof value === 'string') facts.push(...value.split('\n'));
      }
    } else if (message.role === 'assistant') {
      last = { text: message.content, calls: message.toolCalls ?? [], results: new Map() };
      const reading = /^Question (\d+): reading (\S+)\.$/.exec(message.content);
      if (reading) readFor.set(Number(reading[1]), reading[2] as string);
      for (const call of message.toolCalls ?? []) {
        if (call.name === SCRATCHPAD_TOOL) facts.push(String((call.arguments as { note?: unknown }).note));
      }
    } else if (message.role === 'tool') {
      const result = parseToolResult(message.content)?.result;
      if (!result?.ok) continue;
      last?.results.set(message.toolCallId, result.data);
      if (message.toolName === READ_DOCUMENT) {
        const data = result.data as { id: string; title: string; text: string };
        documents.set(data.id, { title: data.title, text: data.text });
      }
    }
  }
  for (const line of facts) {
    const match = FACT_LINE.exec(line.trim());
    if (match) readFor.set(Number(match[1]), (match[2] as string).trim());
  }
  return { request, facts, documents, readFor, last };
}

type Turn = Pick<ModelResponse, 'text' | 'toolCalls'>;

/** A tool call; its id is minted by the metered model that sends it (see meteredModel). */
const call = (name: string, args: unknown): ToolCall => ({ id: '', name, arguments: args });

/**
 * One step of the long researcher. `notes`: after reading, it notes the fact it found (`scratchpad_write`)
 * as it searches for the next question; without, it keeps nothing but its context.
 */
export function researchTurn(request: ModelRequest, notes: boolean): Turn {
  const seen = see(request.messages);
  const questions = seen.request.questions ?? [];
  const search = (question: number): ToolCall =>
    call(SEARCH_CORPUS, { query: queryOf(questions[question - 1] as string), limit: 5 });
  const last = seen.last;
  if (!last) return { text: 'Question 1: searching.', toolCalls: [search(1)] };
  const current = Number(/^Question (\d+)/.exec(last.text)?.[1] ?? questions.length);
  const searched = last.calls.find((each) => each.name === SEARCH_CORPUS);
  if (searched) {
    const hits = (last.results.get(searched.id) as { results?: { id: string }[] } | undefined)?.results ?? [];
    const read = new Set(seen.readFor.values());
    const hit = hits.find((candidate) => !read.has(candidate.id));
    if (hit) {
      return {
        text: `Question ${current}: reading ${hit.id}.`,
        toolCalls: [call(READ_DOCUMENT, { id: hit.id })],
      };
    }
  }
  const readCall = last.calls.find((each) => each.name === READ_DOCUMENT);
  if (readCall) {
    const calls: ToolCall[] = [];
    const document = last.results.get(readCall.id) as { id: string; title: string; text: string } | undefined;
    const fact = document && bestSentence(document.text, questions[current - 1] as string);
    if (notes && document && fact) {
      calls.push(call(SCRATCHPAD_TOOL, { note: factLine(current, document.id, document.title, fact) }));
    }
    if (current < questions.length) {
      calls.push(search(current + 1));
      return { text: `Question ${current + 1}: searching.`, toolCalls: calls };
    }
    if (calls.length > 0) return { text: 'All questions covered.', toolCalls: calls };
  }
  return { text: JSON.stringify(compose(seen)), toolCalls: [] };
}

/** The final answer: per question, the best sentence of the document read for it that is still in view. */
function compose(seen: Seen): ResearchFindings {
  const questions = seen.request.questions ?? [];
  const findings: ResearchFindings['findings'] = [];
  const sources = new Map<string, string>();
  for (const [position, question] of questions.entries()) {
    const number = position + 1;
    const id = seen.readFor.get(number);
    if (!id) continue;
    const candidates: { sentence: string; title: string }[] = [];
    const document = seen.documents.get(id);
    if (document) {
      for (const sentence of sentencesOf(document.text)) candidates.push({ sentence, title: document.title });
    }
    for (const line of seen.facts) {
      const match = FACT_LINE.exec(line.trim());
      if (match && (match[2] as string).trim() === id) {
        candidates.push({ sentence: (match[4] as string).trim(), title: (match[3] as string).trim() });
      }
    }
    const best = bestSentence(candidates.map((candidate) => candidate.sentence).join('\n\n'), question);
    const chosen = candidates.find((candidate) => candidate.sentence === best);
    if (!chosen) continue;
    findings.push({ claim: chosen.sentence, sources: [id] });
    sources.set(id, chosen.title);
  }
  return {
    topic: seen.request.topic,
    summary: `Bench long-research model (rule-based, not an LLM): ${findings.length} of ${questions.length} questions answered from the documents read.`,
    findings,
    sources: [...sources].map(([id, title]) => ({ id, title })),
  };
}

/**
 * An extractive summarizer (rule-based, not an LLM) that follows the default summary instructions — keep
 * what the agent found and may need for its final answer — the way a good model would: it keeps the
 * earlier summary's lines and, for every document a new turn read, the sentence that best answers the
 * question the agent said it was reading it for, plus the one sentence most relevant to the task as a
 * whole, as fact lines. Everything else of the turns (search results, the rest of each document) goes.
 */
export function extractiveSummary(request: ModelRequest): string {
  const material = request.messages.at(-1)?.content ?? '';
  const task = researchRequestSchema.safeParse(safeJson(/The agent's task:\n(.*)/.exec(material)?.[1] ?? ''));
  const questions = task.success ? (task.data.questions ?? []) : [];
  const wanted = keywords(task.success ? [task.data.topic, ...questions].join(' ') : '');
  const previous =
    /Summary of the earlier turns so far:\n([\s\S]*?)\n\nTurns to add/.exec(material)?.[1] ?? '';
  const lines = previous === '(none yet)' ? [] : previous.split('\n').filter((line) => line.trim() !== '');
  for (const turn of material.split(/\n## Turn \d+\n/).slice(1)) {
    const question = Number(/^assistant: Question (\d+): reading/m.exec(turn)?.[1] ?? 0);
    const wrapped = /read_document returned: (<untrusted_data[\s\S]*?<\/untrusted_data>)/.exec(turn)?.[1];
    const result = wrapped ? parseToolResult(wrapped)?.result : undefined;
    if (!question || !result?.ok) continue;
    const document = result.data as { id: string; title: string; text: string };
    const answer = bestSentence(document.text, questions[question - 1] ?? '');
    const relevant = sentencesOf(document.text)
      .map((sentence, position) => {
        const have = new Set(keywords(sentence));
        return { sentence, position, score: wanted.filter((word) => have.has(word)).length };
      })
      .filter((candidate) => candidate.sentence !== answer)
      .sort((a, b) => b.score - a.score || a.position - b.position)[0]?.sentence;
    for (const sentence of [answer, relevant]) {
      if (sentence) lines.push(factLine(question, document.id, document.title, sentence));
    }
  }
  return lines.join('\n') || 'Nothing found yet.';
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** How many planned answers a final output holds, exactly (the fact, cited to its document). */
export function answered(output: unknown, planned: readonly PlannedAnswer[]): number {
  const findings = (output as ResearchFindings | undefined)?.findings ?? [];
  return planned.filter((answer) =>
    findings.some((finding) => finding.claim === answer.fact && finding.sources.includes(answer.id)),
  ).length;
}
