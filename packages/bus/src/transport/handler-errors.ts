import type { BusHandler, BusMessage } from './types.js';

/** Where an error thrown by a subscription handler goes instead of the transport's read loop. */
export type HandlerErrorListener = (error: unknown, subject: string) => void;

/** The default listener of both transports. */
export const logHandlerError: HandlerErrorListener = (error, subject) => {
  console.error(`[baton] handler for "${subject}" threw:`, error);
};

/**
 * Calls `handler`, sending anything it throws to `listener`. A throw that escaped into nats.js would end
 * the subscription's delivery while the subscription still looks alive (and still takes its share of a
 * queue group), so nothing may escape, not even from a listener that throws itself.
 */
export function callHandler(
  handler: BusHandler,
  message: BusMessage,
  listener: HandlerErrorListener,
  subject: string,
): void {
  try {
    handler(message);
  } catch (error) {
    reportHandlerError(listener, error, subject);
  }
}

export function reportHandlerError(listener: HandlerErrorListener, error: unknown, subject: string): void {
  try {
    listener(error, subject);
  } catch {
    // The listener is the last resort; a failing one must not take the subscription with it.
  }
}
