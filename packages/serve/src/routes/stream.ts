import { EventHub } from '@baton/core';
import type { Context } from 'hono';
import { type SSEMessage, streamSSE } from 'hono/streaming';
import type { GatewayEnv } from '../auth.js';
import { type RunRecord, toView } from '../runs/record.js';
import type { GatewayEvent } from '../runs/target.js';
import type { GatewayServices } from '../services.js';

/**
 * JSON for one event. Events carry tool arguments and results, which a tool may fill with anything:
 * a value JSON cannot hold becomes a marker instead of ending the stream.
 */
export function eventJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, item: unknown) => {
      if (typeof item === 'bigint') return item.toString();
      if (item instanceof Error) return { name: item.name, message: item.message };
      return item;
    });
  } catch {
    const type = (value as { type?: unknown })?.type;
    return JSON.stringify({ type: typeof type === 'string' ? type : 'unknown', unserializable: true });
  }
}

/**
 * `stream: true`: Server-Sent Events. First `run.accepted` (the id, to cancel or poll), then one event per
 * run event as it happens — `event:` is its type (`team.start`, `step.start`, `tool.start`, `model.delta`,
 * …), `data:` its JSON — then `result` with the run as GET shows it. Events are written in order by one
 * writer, so a slow client slows its own stream and nothing else; one that disconnects before the end
 * cancels the run.
 */
export function streamRun(
  c: Context<GatewayEnv>,
  services: GatewayServices,
  record: RunRecord,
  input: unknown,
): Response {
  c.header('Cache-Control', 'no-cache');
  // Proxies such as nginx buffer responses unless told not to; SSE must arrive as it is written.
  c.header('X-Accel-Buffering', 'no');
  return streamSSE(
    c,
    async (stream) => {
      const queue: SSEMessage[] = [];
      let wake: (() => void) | undefined;
      let final: RunRecord | undefined;
      let seq = 0;
      const push = (message: SSEMessage) => {
        queue.push(message);
        wake?.();
      };
      const events = new EventHub<GatewayEvent>();
      events.on('*', (event) => push({ event: event.type, data: eventJson(event), id: String(++seq) }));
      const hungUp = new AbortController();
      stream.onAbort(() => {
        hungUp.abort();
        wake?.();
      });
      const clientSignal = AbortSignal.any([hungUp.signal, c.req.raw.signal]);

      await stream.writeSSE({
        event: 'run.accepted',
        data: JSON.stringify({ id: record.id, url: `/v1/runs/${record.id}` }),
        id: String(seq),
      });
      // Let the first event reach the socket before the run starts: a run that never waits on I/O would
      // otherwise hold the event loop until its end, and every event would arrive at once.
      await new Promise((resolve) => setImmediate(resolve));
      const drive = services.executor.start(record, input, { events, clientSignal });
      void drive.settled.then((settled) => {
        final = settled;
        wake?.();
      });
      for (;;) {
        while (queue.length > 0 && !stream.aborted) await stream.writeSSE(queue.shift() as SSEMessage);
        if (final || stream.aborted) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (queue.length > 0 || final || stream.aborted) resolve();
        });
        wake = undefined;
      }
      if (final && !stream.aborted) {
        await stream.writeSSE({ event: 'result', data: eventJson(toView(final)), id: String(++seq) });
      }
    },
    async () => {
      // A client gone mid-write: its run was cancelled with its connection; nothing left to tell anyone.
    },
  );
}
