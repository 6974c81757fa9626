import { readFileSync } from 'node:fs';
import type { SseEvent } from './render.js';
import type { RecordingReply, WireFormat } from './types.js';

/**
 * Reads a recorded provider response: `*.chunks.txt` (one JSON payload per line, served as server-sent
 * events) or `*.json` (served as the response body, byte for byte).
 */
export function loadRecording(
  path: string,
  options: Omit<RecordingReply, 'type' | 'format' | 'content'> = {},
): RecordingReply {
  const content = readFileSync(path, 'utf8');
  const format = path.endsWith('.json') ? 'json' : 'chunks';
  return { ...options, type: 'recording', format, content };
}

/**
 * The events of a chunk recording, served as the providers do: each non-empty line L becomes
 * `data: L` (OpenAI, then `data: [DONE]`) or `event: <type of L>` + `data: L` (Anthropic, whose SDK
 * ignores data without an event name). Lines are sent verbatim, whitespace included.
 */
export function recordingEvents(content: string, wire: WireFormat): SseEvent[] {
  const lines = content.split('\n').filter((line) => line.trim() !== '');
  if (wire === 'openai') return [...lines.map((data) => ({ data })), { data: '[DONE]' }];
  return lines.map((data) => {
    const type = (JSON.parse(data) as { type?: unknown }).type;
    return { event: typeof type === 'string' ? type : 'message', data };
  });
}
