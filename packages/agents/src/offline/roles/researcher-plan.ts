import type { Plan } from '@baton/core';
import { READ_DOCUMENT, SEARCH_CORPUS } from '../../tools/corpus-tools.js';
import { WEB_SEARCH } from '../../tools/web-search.js';
import { okResults } from '../conversation.js';
import type { OfflineTurn, TurnContext } from '../turn.js';
import { contentWords, readRequest, searchQueries } from './researcher.js';

/** Documents a plan reads: the topic search's best few (distinct by construction, so no call repeats). */
const READS = 4;
const STEP_CALL = /^plan(\d+)_/;

/**
 * The offline researcher as a planner. First plan: every search of the topic at once (the topic, each
 * facet, each question; the web too when the agent has it), then a read of each of the topic search's
 * best documents, by reference to its results. A re-plan reads what the searches found that is not read
 * yet, by id — or, when they found nothing, searches the topic's words one by one.
 */
export function researchPlan(context: TurnContext): OfflineTurn {
  const request = readRequest(context);
  const number = planNumber(context);
  if (number === 1) return { text: JSON.stringify(firstPlan(context, request)) };
  const read = new Set(
    okResults(context.exchanges, READ_DOCUMENT).map(({ call }) => (call.arguments as { id?: string }).id),
  );
  const found = okResults(context.exchanges, SEARCH_CORPUS).flatMap(
    ({ data }) => (data as { results?: { id: string }[] }).results ?? [],
  );
  const unread = [...new Set(found.map((hit) => hit.id))]
    .filter((id) => !read.has(id))
    .slice(0, READS - read.size);
  const prefix = `p${number}`;
  if (unread.length > 0 || read.size > 0) {
    const steps = unread.map((id, index) => ({
      id: `${prefix}r${index + 1}`,
      use: READ_DOCUMENT,
      input: { id },
      produces: `the full text of ${id}`,
    }));
    // Nothing left to read: one more search of the whole topic, worded differently, keeps the plan useful.
    return {
      text: JSON.stringify({
        goal: request.topic,
        steps: steps.length > 0 ? steps : broader(request.topic, prefix),
      }),
    };
  }
  return { text: JSON.stringify({ goal: request.topic, steps: broader(request.topic, prefix) }) };
}

function firstPlan(context: TurnContext, request: ReturnType<typeof readRequest>): Plan {
  const searches = searchQueries(request).map(({ query }, index) => ({
    id: `s${index + 1}`,
    use: SEARCH_CORPUS,
    input: { query, limit: 5 },
    produces: `the documents that best match "${query}"`,
  }));
  const reads = Array.from({ length: READS }, (_, index) => ({
    id: `r${index + 1}`,
    use: READ_DOCUMENT,
    input: { id: { $ref: `s1.results.${index}.id` } },
    dependsOn: ['s1'],
    produces: `the full text of the topic search's result ${index + 1}, to quote`,
  }));
  const web = context.tools.has(WEB_SEARCH)
    ? [{ id: 'w1', use: WEB_SEARCH, input: { query: request.topic, limit: 3 }, produces: 'web results' }]
    : [];
  return { goal: `Cited findings on ${request.topic}`, steps: [...searches, ...web, ...reads] };
}

function broader(topic: string, prefix: string): Plan['steps'] {
  const words = contentWords(topic)
    .split(' ')
    .filter((word) => word.length > 2)
    .slice(0, 3)
    .map((word, index) => ({
      id: `${prefix}s${index + 1}`,
      use: SEARCH_CORPUS,
      input: { query: word, limit: 3 },
      produces: `documents on "${word}"`,
    }));
  // A topic of short words only: the whole topic again, asking for more results (a different call).
  return words.length > 0
    ? words
    : [
        {
          id: `${prefix}s1`,
          use: SEARCH_CORPUS,
          input: { query: topic.slice(0, 500), limit: 10 },
          produces: 'more documents',
        },
      ];
}

/** Which plan this is: one more than the plans already in the conversation (their calls say so). */
function planNumber(context: TurnContext): number {
  let highest = 0;
  for (const { call } of context.exchanges) {
    const match = STEP_CALL.exec(call.id);
    if (match) highest = Math.max(highest, Number(match[1]));
  }
  return highest + 1;
}
