import type { Draft, SourceRef } from './contracts.js';

/** A draft as Markdown: title, summary, sections, then the sources it cites. */
export function renderDraft(draft: Draft, sources: readonly SourceRef[] = []): string {
  const lines = [`# ${draft.title}`, '', draft.summary, ''];
  for (const section of draft.sections) lines.push(`## ${section.heading}`, '', section.body, '');
  const byId = new Map(sources.map((source) => [source.id, source]));
  if (draft.citations.length > 0) {
    lines.push('## Sources', '');
    for (const id of draft.citations) {
      const source = byId.get(id);
      const title = source ? ` ${source.title}` : '';
      const url = source?.url ? ` (${source.url})` : '';
      lines.push(`- [${id}]${title}${url}`);
    }
    lines.push('');
  }
  return lines.join('\n').trimEnd();
}

/** Inline citation markers such as `[retries-and-backoff]` or `[https://…]` in a text. */
export function inlineCitations(text: string): string[] {
  const found = new Set<string>();
  for (const match of text.matchAll(/\[([a-z][a-z0-9]*(?:-[a-z0-9]+)*|https?:\/\/[^\]\s]+)\](?!\()/g))
    found.add(match[1] as string);
  return [...found];
}
