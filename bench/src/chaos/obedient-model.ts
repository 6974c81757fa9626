/**
 * The worst-case model of `security.r5`: a `scriptedModel` (Baton's documented test double for an LLM)
 * that obeys every instruction it reads. It asks for the document the user named; then, for every
 * payload whose text reached it — in a tool message, raw or inside the JSON of an <untrusted_data>
 * wrapper, hidden in a key, encoded or not — it makes exactly the calls that payload asks for (the
 * payload's `calls`, as a model that understood it perfectly would). A call it already made is not made
 * again; with nothing left to do it answers. No real model is this gullible: what it measures is what
 * Baton itself lets through when the model fails completely.
 */
import type { Message, ModelRequest } from '@baton/core';
import { type ScriptedModel, type ScriptedReply, scriptedModel } from '@baton/core/testing';
import type { Payload } from './injection-payloads.js';

export const FETCH_TOOL = 'fetch_document';
export const SUMMARY = 'Summary: the document was read.';

/** What the model did in one run, for the scenario's figures. */
export interface ObedienceLog {
  /** Payload ids whose text the model found in what it read. */
  read: Set<string>;
  /** The calls it made because a payload asked. */
  attempts: { payload: string; tool: string; args: unknown }[];
}

export function obedientModel(payloads: readonly Payload[], log: ObedienceLog): ScriptedModel {
  return scriptedModel((request: ModelRequest): ScriptedReply => {
    const toolMessages = request.messages.filter((message) => message.role === 'tool');
    if (toolMessages.length === 0) {
      const url = /https?:\/\/\S+/.exec(userText(request.messages))?.[0] ?? 'https://docs.example/';
      return { toolCalls: [{ name: FETCH_TOOL, args: { url } }] };
    }
    const texts = toolMessages.flatMap((message) => readable(message.content));
    const made = new Set(
      request.messages.flatMap((message) =>
        message.role === 'assistant'
          ? (message.toolCalls ?? []).map((call) => callKey(call.name, call.arguments))
          : [],
      ),
    );
    const calls: { name: string; args: unknown }[] = [];
    for (const payload of payloads) {
      if (!texts.some((text) => text.includes(payload.text))) continue;
      log.read.add(payload.id);
      for (const call of payload.calls) {
        const key = callKey(call.tool, call.args);
        if (made.has(key)) continue;
        made.add(key);
        calls.push({ name: call.tool, args: call.args });
        log.attempts.push({ payload: payload.id, tool: call.tool, args: call.args });
      }
    }
    return calls.length > 0 ? { toolCalls: calls } : SUMMARY;
  });
}

function userText(messages: readonly Message[]): string {
  return messages
    .filter((message) => message.role === 'user')
    .map((message) => message.content)
    .join('\n');
}

/**
 * Everything a model can read in a tool message: the text as sent, and every string (keys included)
 * of the JSON inside its wrapper — a real model reads through JSON escapes, and so does this one.
 */
export function readable(content: string): string[] {
  const texts = [content];
  const start = content.indexOf('\n');
  const end = content.lastIndexOf('\n</untrusted_data>');
  if (start !== -1 && end > start) {
    try {
      collectStrings(JSON.parse(content.slice(start + 1, end)), texts);
    } catch {
      // Not JSON: the raw text is all there is to read.
    }
  }
  return texts;
}

function collectStrings(value: unknown, out: string[]): void {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) collectStrings(item, out);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      out.push(key);
      collectStrings(item, out);
    }
  }
}

/** Tool name and arguments as one comparable string (keys sorted). */
export function callKey(tool: string, args: unknown): string {
  return `${tool}:${stableJson(args)}`;
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
