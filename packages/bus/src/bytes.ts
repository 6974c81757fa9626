import type { BusHeaders, BusMessage, BusPayload } from './transport/types.js';

const decoder = new TextDecoder();

/** UTF-8 bytes of a string (a Buffer, which is a Uint8Array). */
export function encodeUtf8(text: string): Uint8Array {
  return Buffer.from(text, 'utf8');
}

export function decodeUtf8(data: Uint8Array): string {
  return Buffer.isBuffer(data) ? data.toString('utf8') : decoder.decode(data);
}

/** Size in bytes of a payload as it travels. */
export function payloadSize(payload: BusPayload): number {
  return typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.byteLength;
}

/**
 * True when a payload is over `max` bytes. A UTF-16 unit takes at most 3 UTF-8 bytes, so text that
 * short cannot exceed the limit and is not counted: counting every message was 8% of a round trip.
 */
export function exceedsBytes(payload: BusPayload, max: number): boolean {
  if (typeof payload !== 'string') return payload.byteLength > max;
  if (payload.length > max) return true;
  return payload.length * 3 > max && Buffer.byteLength(payload, 'utf8') > max;
}

/**
 * A message over bytes or text; each form is made from the other only when asked for, once.
 */
export class PayloadMessage implements BusMessage {
  private bytes: Uint8Array | undefined;
  private text: string | undefined;
  private knownSize: number | undefined;

  constructor(
    readonly subject: string,
    payload: BusPayload,
    size: number | undefined,
    readonly headers: BusHeaders | undefined,
    readonly reply: string | undefined,
  ) {
    if (typeof payload === 'string') this.text = payload;
    else this.bytes = payload;
    this.knownSize = size;
  }

  /** Bytes on the wire; counted on first use (most messages are never asked). */
  get size(): number {
    this.knownSize ??= this.bytes ? this.bytes.byteLength : Buffer.byteLength(this.text as string, 'utf8');
    return this.knownSize;
  }

  get data(): Uint8Array {
    this.bytes ??= encodeUtf8(this.text as string);
    return this.bytes;
  }

  string(): string {
    this.text ??= decodeUtf8(this.bytes as Uint8Array);
    return this.text;
  }
}

/** A message made from bytes received outside a Bus (JetStream, KV). */
export function messageOf(subject: string, payload: BusPayload, headers?: BusHeaders): BusMessage {
  return new PayloadMessage(subject, payload, payloadSize(payload), headers, undefined);
}
