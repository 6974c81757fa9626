/**
 * Whether a payload stayed inside its wrapper, judged from what the model received (its recorded
 * requests), independently of the code that wraps: every result of the read tool must be exactly one
 * <untrusted_data source="tool:fetch_document"> block, with no `<` or `>` between its tags (so nothing in
 * it can close the block or open a tag), whose JSON is the document exactly as the tool returned it; and
 * the payload must not appear in any system or user message.
 */
import type { ScriptedModel } from '@baton/core/testing';
import type { Payload } from './injection-payloads.js';
import { FETCH_TOOL } from './obedient-model.js';

export interface WrapperReport {
  toolMessages: number;
  /** Tool results that were not one intact block holding the document. */
  escaped: number;
  /** Requests in which the payload's text sat in a system or user message. */
  payloadOutside: number;
  /** The first few failures, for the report. */
  failures: string[];
}

const OPEN = `<untrusted_data source="tool:${FETCH_TOOL}">\n`;
const CLOSE = '\n</untrusted_data>';

export function checkWrappers(
  model: ScriptedModel,
  payload: Payload,
  document: unknown,
  report: WrapperReport,
): void {
  const fail = (why: string) => {
    report.escaped++;
    if (report.failures.length < 5) report.failures.push(`${payload.id}: ${why}`);
  };
  for (const request of model.requests) {
    for (const message of request.messages) {
      if ((message.role === 'system' || message.role === 'user') && message.content.includes(payload.text)) {
        report.payloadOutside++;
      }
    }
  }
  // The last request holds the whole conversation; each tool message is checked once.
  const last = model.requests.at(-1);
  for (const message of last?.messages ?? []) {
    if (message.role !== 'tool' || message.toolName !== FETCH_TOOL) continue;
    report.toolMessages++;
    const why = wrapperProblem(message.content, document);
    if (why !== undefined) fail(why);
  }
}

/** What is wrong with a read tool's result as the model received it, or undefined when it is intact. */
export function wrapperProblem(content: string, document: unknown): string | undefined {
  if (!content.startsWith(OPEN) || !content.endsWith(CLOSE)) {
    return 'the result does not start and end with the wrapper';
  }
  const inner = content.slice(OPEN.length, content.length - CLOSE.length);
  if (inner.includes('<') || inner.includes('>')) return 'a tag character inside the wrapper';
  let parsed: unknown;
  try {
    parsed = JSON.parse(inner);
  } catch {
    return 'the wrapped content is not one JSON value';
  }
  if (JSON.stringify(parsed) !== JSON.stringify({ ok: true, data: document })) {
    return 'the wrapped content is not the document as fetched';
  }
  return undefined;
}

/**
 * The check against a wrapper that does not escape (plain JSON between the tags, as tool results were
 * wrapped before issue 12): it must flag exactly the documents that carry `<` or `>`, or it proves nothing.
 */
export function wrapperCheckControl(documents: readonly unknown[]): {
  documents: number;
  withTagCharacters: number;
  flagged: number;
} {
  let withTagCharacters = 0;
  let flagged = 0;
  for (const document of documents) {
    const json = JSON.stringify({ ok: true, data: document });
    if (json.includes('<') || json.includes('>')) withTagCharacters++;
    if (wrapperProblem(`${OPEN}${json}${CLOSE}`, document) !== undefined) flagged++;
  }
  return { documents: documents.length, withTagCharacters, flagged };
}
