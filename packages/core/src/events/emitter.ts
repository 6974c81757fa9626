import { EventEmitter } from 'eventemitter3';
import type { RunEvent } from './types.js';

/** Where a run sends its events. A team passes one sink to every member so a UI sees the whole team. */
export interface RunEventSink {
  emit(event: RunEvent): void;
  /** Lets the loop skip work (like streaming deltas) nobody listens to. */
  listens(type: RunEvent['type']): boolean;
}

const ANY = '*';

/**
 * A typed event emitter on eventemitter3. `on('tool.end', fn)` narrows the event type;
 * `on('*', fn)` gets every event.
 */
export class EventHub<E extends { type: string }> {
  private readonly emitter = new EventEmitter();

  on<T extends E['type']>(type: T, listener: (event: Extract<E, { type: T }>) => void): () => void;
  on(type: '*', listener: (event: E) => void): () => void;
  on(type: string, listener: (event: never) => void): () => void {
    const fn = listener as (...args: unknown[]) => void;
    this.emitter.on(type, fn);
    return () => {
      this.emitter.off(type, fn);
    };
  }

  emit(event: E): void {
    this.emitter.emit(event.type, event);
    this.emitter.emit(ANY, event);
  }

  listens(type: E['type']): boolean {
    return this.emitter.listenerCount(type) + this.emitter.listenerCount(ANY) > 0;
  }

  removeAllListeners(): void {
    this.emitter.removeAllListeners();
  }
}

export class RunEvents extends EventHub<RunEvent> implements RunEventSink {}
